"""A CLI that answers at once: the light commands import none of the heavy libraries."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from sweeper.backends import open_backend

from .conftest import ROOT

HEAVY = ("torch", "transformers", "scipy", "optuna", "pandas", "matplotlib", "wandb", "sweeps",
         "numpy", "sklearn", "rich", "psycopg")
PROBE = """
import json, sys
from sweeper.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print("\\nMODULES " + json.dumps(sorted(sys.modules)))
"""


def _modules(args: list[str], cwd, env=None) -> set[str]:
    done = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=cwd, capture_output=True,
                          text=True, timeout=60, env=env)
    line = [line for line in done.stdout.splitlines() if line.startswith("MODULES ")]
    assert line, done.stdout + done.stderr
    return {name.split(".")[0] for name in json.loads(line[-1].removeprefix("MODULES "))}


@pytest.fixture(scope="module")
def light_commands(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    storage = str(folder / "db.sqlite")
    backend = open_backend(storage)
    sweep = backend.create_sweep({"name": "s", "program": "x.py", "method": "grid",
                                  "metric": {"name": "loss", "goal": "minimize"},
                                  "parameters": {"x": {"values": [1, 2, 3]}}})
    agent = backend.register_agent(sweep.id, "h", 1, None)
    run = backend.next_run(sweep.id, agent)
    backend.log(run.run_id, [{"loss": 1.0}])
    backend.finish_run(run.run_id, "finished", None, 0)
    from sweeper.cli import cli

    helps = [["--help"]] + [[name, "--help"] for name in cli.commands]
    work = [["validate", str(ROOT / "sweeps/random.yaml")],
            ["explain", str(ROOT / "sweeps/grid.yaml")],
            ["sweeps", "--storage", storage], ["status", "s", "--storage", storage],
            ["pause", "s", "--storage", storage], ["resume", "s", "--storage", storage],
            ["results", "s", "--storage", storage],
            ["stop", "s", "--storage", storage], ["cancel", "s", "--storage", storage]]
    return folder, helps + work


def test_light_commands_import_no_heavy_library(light_commands):
    folder, commands = light_commands
    for args in commands:
        heavy = sorted(set(HEAVY) & _modules(args, folder))
        assert heavy == [], (args, heavy)


def test_the_probe_sees_heavy_imports_where_they_happen(tmp_path):
    """The check can fail: `results --format csv` needs pandas, and the probe notices."""
    storage = str(tmp_path / "db.sqlite")
    backend = open_backend(storage)
    backend.create_sweep({"name": "s", "program": "x.py", "method": "grid",
                          "parameters": {"x": {"values": [1]}}})
    assert "pandas" in _modules(["results", "s", "--storage", storage, "--format", "csv"],
                                tmp_path)

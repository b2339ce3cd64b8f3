"""No run's W&B data is lost, however it ends: a run that hyperband stops, that `cancel` ends,
that times out or that Ctrl-C interrupts leaves a complete offline W&B run (history to its last
step, summary, config, exit code) for `wandb sync`, read back with the SDK's own records."""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sweeper.backends import open_backend

from .conftest import sweeper_process, wait_for
from .wandb_records import read_offline_run

PROGRAM = """
import time
import wandb

run = wandb.init(config={"x": 0.0, "steps": 400, "delay": 0.25})
for step in range(int(run.config.steps)):
    run.log({"loss": float(run.config.x) + 1.0 / (step + 1), "step_seen": step})
    time.sleep(float(run.config.delay))
run.finish()
"""


def _sweep(folder: Path, values: list[float]) -> Path:
    (folder / "train.py").write_text(PROGRAM)
    path = folder / "s.yaml"
    path.write_text(yaml.safe_dump({
        "name": "ends", "program": "train.py", "method": "grid",
        "metric": {"name": "loss", "goal": "minimize"},
        "parameters": {"x": {"values": values}}}))
    return path


_wait = functools.partial(wait_for, timeout=120.0)


def _check_complete(folder: Path, run) -> None:
    (file,) = folder.glob(f"wandb/offline-run-*-{run.id}/run-{run.id}.wandb")
    recorded = read_offline_run(file)
    assert recorded.exit_code is not None, "the W&B run was lost (no exit record)"
    assert recorded.config["x"] == run.params["x"]
    assert len(recorded.history) == run.steps >= 2
    assert [h["step_seen"] for h in recorded.history] == list(range(run.steps))
    assert recorded.summary["loss"] == recorded.history[-1]["loss"]


@pytest.fixture
def env(tmp_path):
    return {"SWEEPER_STORAGE": f"sqlite:///{tmp_path / 'db.sqlite'}", "WANDB_SILENT": "true",
            "SWEEPER_HEARTBEAT_TIMEOUT": "30"}


def test_a_run_hyperband_stops_keeps_its_wandb_run(tmp_path, env):
    (tmp_path / "train.py").write_text(PROGRAM)
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump({
        "name": "ends", "program": "train.py", "method": "grid",
        "metric": {"name": "loss", "goal": "minimize"},
        "early_terminate": {"type": "hyperband", "min_iter": 2, "eta": 2},
        "parameters": {"x": {"values": [0.0, 1.0, 5.0]}, "steps": {"value": 8},
                       "delay": {"value": 0.2}}}))
    done = sweeper_process("run", path, cwd=tmp_path, env=env, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    runs = open_backend(env["SWEEPER_STORAGE"]).runs(
        open_backend(env["SWEEPER_STORAGE"]).find_sweep("ends").id)
    assert [r.state for r in runs] == ["finished", "finished", "stopped"]
    for run in runs:
        _check_complete(tmp_path, run)


@pytest.mark.parametrize("how", ["cancel", "timeout", "ctrl-c"])
def test_a_run_ended_early_keeps_its_wandb_run(tmp_path, env, how):
    path = _sweep(tmp_path, [1.0])
    # The timeout counts from the run's start, wandb.init included, which took over 12 s on a
    # loaded CI machine: 30 s leaves steps to check and still ends well before the program (100 s).
    args = ["run", str(path)] + (["--run-timeout", "30s"] if how == "timeout" else [])
    runner = subprocess.Popen([str(Path(sys.executable).with_name("sweeper")), *args],
                              cwd=tmp_path, env={**os.environ, **env},
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    _wait(lambda: (tmp_path / "db.sqlite").exists())
    backend = open_backend(env["SWEEPER_STORAGE"])
    _wait(lambda: backend.sweeps() and backend.runs(backend.sweeps()[0].id))
    sweep = backend.sweeps()[0]
    if how != "timeout":  # the timeout ends the run by itself, maybe before any step we'd wait for
        _wait(lambda: backend.runs(sweep.id)[0].steps >= 3)
    if how == "cancel":
        assert sweeper_process("cancel", sweep.id, cwd=tmp_path, env=env).returncode == 0
    elif how == "ctrl-c":
        runner.send_signal(signal.SIGINT)
    out, _ = runner.communicate(timeout=120)
    (run,) = backend.runs(sweep.id)
    expected = {"cancel": "killed", "timeout": "stopped", "ctrl-c": "killed"}[how]
    assert run.state == expected, out
    _check_complete(tmp_path, run)

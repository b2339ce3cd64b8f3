"""An absolute interpreter path in `command`, and `${interpreter}`, which W&B's agent resolves
as `python` from PATH."""

from __future__ import annotations

import json
import os
import stat
import sys

from .conftest import run_sweep, sweep_yaml, write

PROGRAM = """
    import json
    import os
    import sys

    import wandb

    with wandb.init() as run:
        run.log({"loss": float(run.config.a)})
    with open(os.environ["SEEN"], "a") as out:
        out.write(json.dumps({"executable": sys.executable, "via": os.environ.get("VIA")}) + "\\n")
    """


def test_an_absolute_interpreter_path_runs_the_program(work):
    write(work, "train.py", PROGRAM)
    path = sweep_yaml(work, {
        "program": "train.py", "command": [sys.executable, "${program}", "${args}"],
        "method": "grid", "metric": {"name": "loss", "goal": "minimize"},
        "parameters": {"a": {"values": [1, 2]}}})
    ran = run_sweep(work, path, env={"SEEN": str(work / "seen.jsonl")})
    assert ran.code == 0, ran.out + ran.err
    assert [(r.state, r.metric_value) for r in ran.runs] == [("finished", 1.0), ("finished", 2.0)]


def test_interpreter_is_python_from_path_as_wandb_agent_has_it(work):
    write(work, "train.py", PROGRAM)
    bin_dir = work / "bin"
    wrapper = write(bin_dir, "python", f"""
        #!/bin/sh
        VIA=wrapper exec {sys.executable} "$@"
        """)
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    path = sweep_yaml(work, {
        "program": "train.py", "command": ["${env}", "${interpreter}", "${program}", "${args}"],
        "method": "grid", "metric": {"name": "loss", "goal": "minimize"},
        "parameters": {"a": {"values": [3]}}})
    seen = work / "seen.jsonl"
    ran = run_sweep(work, path, env={"SEEN": str(seen), "VIRTUAL_ENV": sys.prefix,  # activated
                                     "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"})
    assert ran.code == 0, ran.out + ran.err
    assert [json.loads(line)["via"] for line in seen.read_text().splitlines()] == ["wrapper"]

"""`command: [${env}, ${program}, ${args}]` where the program is an installed console script
(an entry point on PATH), as W&B's agent runs it."""

from __future__ import annotations

import os
import stat
import sys

from .conftest import run_sweep, sweep_yaml, write


def test_a_console_script_on_path_is_the_program(work):
    bin_dir = work / "venv-bin"
    script = write(bin_dir, "train-cli", f"""
        #!{sys.executable}
        import sys

        import wandb

        values = dict(arg.lstrip("-").split("=", 1) for arg in sys.argv[1:])
        with wandb.init(config={{"width": int(values["width"])}}) as run:
            run.log({{"score": run.config.width / 10}})
        """)
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    path = sweep_yaml(work, {
        "program": "train-cli", "command": ["${env}", "${program}", "${args}"],
        "method": "grid", "metric": {"name": "score", "goal": "maximize"},
        "parameters": {"width": {"values": [4, 8]}}})
    env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    ran = run_sweep(work, path, env=env)
    assert ran.code == 0, ran.out + ran.err
    assert "warning" not in ran.out + ran.err  # found on PATH
    assert [(r.state, r.metric_value) for r in ran.runs] == [("finished", 0.4), ("finished", 0.8)]


def test_a_program_that_cannot_start_fails_its_run_with_the_os_reason(work):
    path = sweep_yaml(work, {
        "program": "no-such-train-cli", "command": ["${program}", "${args}"],
        "method": "grid", "parameters": {"width": {"values": [4]}}})
    ran = run_sweep(work, path)
    assert ran.code == 1  # every run failed
    assert [r.state for r in ran.runs] == ["failed"]
    reason = "cannot start 'no-such-train-cli': No such file or directory"
    assert reason in ran.out
    assert reason in open(ran.runs[0].log_path).read()
    assert "Traceback" not in ran.out + ran.err

"""A program that hangs: `--run-timeout` stops it as hyperband would (recorded stopped, with
the reason), and without it the progress line and `status` say it printed nothing for a while,
with the path of its log."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from ..conftest import sweeper_process
from .conftest import run_sweep, sweep_yaml, write

HANGS = """
    import time

    import wandb

    with wandb.init() as run:
        run.log({"loss": 1.0})
        print("training...", flush=True)
        time.sleep(600)  # stuck in a collective, a dead data loader, ...
    """


def test_run_timeout_stops_a_hung_run_and_records_why(work):
    write(work, "train.py", HANGS)
    path = sweep_yaml(work, {
        "program": "train.py", "method": "grid", "metric": {"name": "loss", "goal": "minimize"},
        "parameters": {"a": {"values": [1]}}})
    started = time.monotonic()
    # The timeout counts from the run's start, wandb.init included (seconds on a loaded
    # machine): 15 s leaves the program time to report before it hangs.
    ran = run_sweep(work, path, "--run-timeout", "15s", "--grace", "5")
    assert time.monotonic() - started < 120
    assert ran.code == 0, ran.out + ran.err
    (run,) = ran.runs
    assert (run.state, run.stop_reason) == ("stopped", "run timeout (15s) reached")
    assert run.metric_value == 1.0  # what it reported is kept; stopped runs rank by it
    assert f"run {run.name} stopped (run timeout (15s) reached)" in ran.out


def test_a_silent_run_is_named_in_the_progress_line_and_status(work):
    write(work, "train.py", HANGS)
    path = sweep_yaml(work, {
        "name": "hang", "program": "train.py", "method": "grid",
        "parameters": {"a": {"values": [1]}}})
    runner = subprocess.Popen([str(Path(sys.executable).with_name("sweeper")), "run", str(path)],
                              cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, env={**__import__("os").environ,
                                              "SWEEPER_SILENT_AFTER": "2s"})
    seen = []
    try:
        deadline = time.monotonic() + 120
        for line in runner.stdout:
            seen.append(line)
            if "no output for" in line or time.monotonic() > deadline:
                break
        said = "".join(seen)
        assert "run hang-1: no output for" in said, said
        assert f"(log: {work / '.sweeper/runs'}" in said
        # status says the same once the run has been silent for 2 s by the record's clock (a
        # late line of wandb's own output, under load, starts the 2 s again): poll for it
        deadline = time.monotonic() + 60
        while True:
            status = sweeper_process("status", "hang", cwd=work,
                                     env={"SWEEPER_SILENT_AFTER": "2s"})
            if "run hang-1: no output for" in status.stdout or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert "run hang-1: no output for" in status.stdout, status.stdout
    finally:
        runner.kill()
        runner.wait()

"""A program that crashes on import (a missing module): each run fails with the error's last
line in the agent's output, `sweeper run` exits 1 when every run failed, and its closing lines
say how many failed and where their logs are."""

from __future__ import annotations

from .conftest import run_sweep, sweep_yaml, write


def test_every_run_failing_fails_the_job_and_points_to_the_logs(work):
    write(work, "train.py", """
        import wandb
        import a_module_that_is_not_installed  # noqa: F401

        wandb.init()
        """)
    path = sweep_yaml(work, {
        "program": "train.py", "method": "grid", "metric": {"name": "loss", "goal": "minimize"},
        "parameters": {"a": {"values": [1, 2]}}})
    ran = run_sweep(work, path)
    assert ran.code == 1
    assert [r.state for r in ran.runs] == ["failed", "failed"]
    error = "ModuleNotFoundError: No module named 'a_module_that_is_not_installed'"
    for run in ran.runs:
        assert f"run {run.name} failed in" in ran.out and error in ran.out
        assert f"  {run.name} failed (exit code 1): {run.log_path}" in ran.out
    assert "2 runs: 2 failed" in ran.out
    assert ": failed (" not in ran.out  # the sweep's state is not "failed" but finished
    assert "(grid exhausted, 2 failed)" in ran.out
    assert "Traceback" not in ran.err

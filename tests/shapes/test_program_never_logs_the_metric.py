"""A program that finishes without ever logging the sweep's metric: each run says so, and the
closing summary agrees with `status` and `results` (nothing is ranked, nothing called best)."""

from __future__ import annotations

from ..conftest import sweeper_process
from .conftest import run_sweep, sweep_yaml, write


def test_a_run_without_the_metric_is_named_and_nothing_contradicts(work):
    write(work, "train.py", """
        import wandb

        with wandb.init() as run:
            run.log({"val_loss": 0.5})  # the sweep asks for `loss`
        """)
    path = sweep_yaml(work, {
        "program": "train.py", "method": "grid", "metric": {"name": "loss", "goal": "minimize"},
        "parameters": {"a": {"values": [1, 2]}}})
    ran = run_sweep(work, path)
    assert ran.code == 0, ran.out + ran.err
    for run in ran.runs:
        assert run.state == "finished" and run.metric_value is None
        assert (f"warning: run {run.name} finished without logging the metric 'loss'; see "
                f"{run.log_path}") in ran.out
    assert "no finished run reported the metric" in ran.out
    assert "best" not in ran.out.split("\nsweep ")[-1]
    assert ran.sweep.best_run is None
    results = sweeper_process("results", ran.sweep.id, cwd=work)
    assert "no finished run reported the metric" in results.stdout
    status = sweeper_process("status", ran.sweep.id, cwd=work)
    assert "best:" not in status.stdout

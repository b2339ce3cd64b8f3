"""`wandb.define_metric("acc", summary="max")`: W&B's summary holds {"max": ...} for the metric,
and that is the run's value."""

from __future__ import annotations

from .conftest import run_sweep, sweep_yaml, write


def test_define_metric_max_is_the_runs_value(work):
    write(work, "train.py", """
        import wandb

        run = wandb.init()
        wandb.define_metric("acc", summary="max")
        for acc in [float(x) for x in run.config.curve.split(",")]:
            wandb.log({"acc": acc})
        run.finish()
        """)
    path = sweep_yaml(work, {
        "program": "train.py", "method": "grid", "metric": {"name": "acc", "goal": "maximize"},
        "parameters": {"curve": {"values": ["0.5,0.9,0.6", "0.7,0.8,0.8"]}}})
    ran = run_sweep(work, path)
    assert ran.code == 0, ran.out + ran.err
    first, second = ran.runs
    assert first.summary["acc"] == {"max": 0.9}
    assert (first.metric_value, second.metric_value) == (0.9, 0.8)
    assert ran.sweep.best_run == first.name and ran.sweep.best_value == 0.9

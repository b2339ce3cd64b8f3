"""`wandb.log` with `step=` and `commit=`: the run's rows are the rows W&B's own record holds.
Calls of one step merge into one row, a step below the current one is dropped (W&B warns "Steps
must be monotonically increasing, so this data will be ignored"), and the run's value is the
one W&B's summary shows."""

from __future__ import annotations

from ..wandb_records import read_offline_run
from .conftest import run_sweep, sweep_yaml, write


def test_rows_steps_and_the_runs_value_are_wandbs(work):
    write(work, "train.py", """
        import wandb

        run = wandb.init()
        wandb.log({"loss": 1.0}, step=5)
        wandb.log({"loss": 0.1}, step=3)  # behind: W&B ignores it, so the best is not 0.1
        wandb.log({"acc": 0.5}, step=5)  # the same step: one row with the loss
        wandb.log({"acc": 0.6}, step=6)
        wandb.log({"acc": 0.7})  # no step: ends step 6's row, its acc now 0.7
        wandb.log({"acc": 0.8}, commit=False)
        wandb.log({"loss": 0.9})
        wandb.log({"loss": 0.8}, step=8, commit=True)
        wandb.log({"loss": 0.2}, step=8)  # step 8 was committed: now behind
        run.finish()
        """)
    path = sweep_yaml(work, {"program": "train.py", "method": "grid",
                             "metric": {"name": "loss", "goal": "minimize"},
                             "parameters": {"x": {"value": 1}}})
    ran = run_sweep(work, path, env={"WANDB_MODE": "offline"})
    assert ran.code == 0, ran.out + ran.err
    (run,) = ran.runs
    (record,) = work.glob("wandb/offline-run-*/run-*.wandb")
    wandb_run = read_offline_run(record)

    def scalars(row: dict) -> dict:
        return {k: v for k, v in row.items() if not k.startswith("_")}

    assert [scalars(r) for r in run.history] == [scalars(r) for r in wandb_run.history]
    assert [scalars(r) for r in run.history] == [
        {"loss": 1.0, "acc": 0.5}, {"acc": 0.7}, {"acc": 0.8, "loss": 0.9}, {"loss": 0.8}]
    assert run.metric_value == wandb_run.summary["loss"] == 0.8
    assert run.summary["acc"] == wandb_run.summary["acc"] == 0.8

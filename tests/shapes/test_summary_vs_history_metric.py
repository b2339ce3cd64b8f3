"""A program that sets its summary itself (`run.summary["loss"] = ...`, here the best value of
its history, as many programs do at the end): the run's value is the summary, as on W&B, in
the ranking, `results`, `status` and the run's closing line alike."""

from __future__ import annotations

import json

from ..conftest import sweeper_process
from .conftest import run_sweep, sweep_yaml, write


def test_the_summary_not_the_last_logged_value_ranks_the_run(work):
    write(work, "train.py", """
        import wandb

        with wandb.init() as run:
            losses = [float(x) for x in run.config.curve.split(",")]
            for loss in losses:
                run.log({"loss": loss})
            run.summary["loss"] = min(losses)  # the best epoch, not the last
        """)
    path = sweep_yaml(work, {
        "program": "train.py", "method": "grid", "metric": {"name": "loss", "goal": "minimize"},
        # a: last 0.5, summary 0.1; b: last 0.3, summary 0.3
        "parameters": {"curve": {"values": ["0.9,0.1,0.5", "0.8,0.4,0.3"]}}})
    ran = run_sweep(work, path)
    assert ran.code == 0, ran.out + ran.err
    first, second = ran.runs
    assert (first.metric_value, second.metric_value) == (0.1, 0.3)
    assert ran.sweep.best_run == first.name
    assert f"run {first.name} finished" in ran.out and "loss=0.1" in ran.out
    table = ran.out.split("\n#  run")[1].splitlines()
    assert table[1].split()[:4] == ["1", first.name, "finished", "0.1"]

    results = sweeper_process("results", ran.sweep.id, "--format", "json", cwd=work)
    rows = json.loads(results.stdout)
    assert [(r["name"], r["metric_value"]) for r in rows] == [(first.name, 0.1),
                                                             (second.name, 0.3)]
    status = sweeper_process("status", ran.sweep.id, cwd=work)
    assert f"best: loss = 0.1 (minimize) in {first.name}" in status.stdout

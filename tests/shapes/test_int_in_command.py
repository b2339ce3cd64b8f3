"""Items of `command` that are not text (YAML reads `3` as a number): W&B's agent applies str()
to each, and so does sweeper."""

from __future__ import annotations

from .conftest import run_sweep, sweep_yaml, write


def test_numbers_in_command_are_passed_as_text(work):
    write(work, "train.py", """
        import argparse

        import wandb

        parser = argparse.ArgumentParser()
        parser.add_argument("--epochs", type=int)
        parser.add_argument("--lr", type=float)
        parser.add_argument("--fast", default="no")
        args = parser.parse_args()
        with wandb.init(config=vars(args)) as run:
            for epoch in range(args.epochs):
                run.log({"acc": args.lr * (epoch + 1)})
        """)
    path = sweep_yaml(work, """
        program: train.py
        method: grid
        metric: {name: acc, goal: maximize}
        command:
          - ${env}
          - python
          - ${program}
          - --epochs
          - 3
          - --fast
          - true
          - ${args}
        parameters:
          lr: {values: [0.5]}
        """.replace("\n        ", "\n"))
    checked = run_sweep(work, path)
    assert checked.code == 0, checked.out + checked.err
    (run,) = checked.runs
    assert (run.state, run.steps, run.metric_value) == ("finished", 3, 1.5)

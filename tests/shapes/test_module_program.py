"""`command: [${env}, python, -m, ${program}, ${args}]` with `program: src.main`: a module of
the user's package, run as W&B's agent runs it. No file is named src.main, and none needs to be."""

from __future__ import annotations

from .conftest import run_sweep, sweep_yaml, write


def test_a_module_program_runs_as_wandb_agent_runs_it(work):
    write(work, "src/__init__.py", "")
    write(work, "src/main.py", """
        import argparse

        import wandb

        parser = argparse.ArgumentParser()
        parser.add_argument("--lr", type=float, required=True)
        parser.add_argument("--layers", type=int, default=1)
        args = parser.parse_args()
        run = wandb.init(config=vars(args))
        for step in range(3):
            wandb.log({"val_loss": args.lr * args.layers + 1.0 / (step + 1)})
        run.finish()
        """)
    path = sweep_yaml(work, """
        program: src.main
        command:
          - ${env}
          - python
          - -m
          - ${program}
          - ${args}
        method: grid
        metric: {name: val_loss, goal: minimize}
        parameters:
          lr: {values: [0.1, 0.01]}
          layers: {value: 2}
        """.replace("\n        ", "\n"))
    ran = run_sweep(work, path)
    assert ran.code == 0, ran.out + ran.err
    assert "warning" not in ran.out + ran.err
    assert [(r.state, r.params["lr"], r.steps) for r in ran.runs] == [
        ("finished", 0.1, 3), ("finished", 0.01, 3)]
    assert ran.runs[1].metric_value == 0.01 * 2 + 1 / 3  # the last logged value
    assert ran.sweep.best_run == ran.runs[1].name

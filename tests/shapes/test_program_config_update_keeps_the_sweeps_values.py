"""A program that sets its own values after `wandb.init` (`wandb.config.update(args,
allow_val_change=True)`, `wandb.config.lr = ...`, as argparse scripts and HF's integration
do): under a sweep the sweep's values are locked and win ("Config item 'lr' was locked by
'sweep' (ignored update)"), so the run trains with the values it is recorded with. The same
with WANDB_MODE=disabled (and WANDB_DISABLED), where the SDK itself does not lock them."""

from __future__ import annotations

import pytest

from .conftest import run_sweep, sweep_yaml, write


@pytest.mark.parametrize("mode", ["offline", "disabled"])
def test_the_sweeps_values_win_over_the_programs_own(work, mode):
    write(work, "train.py", """
        import wandb

        run = wandb.init(config={"lr": 0.5, "batch_size": 8})
        wandb.config.update({"lr": 0.9, "batch_size": 16}, allow_val_change=True)
        wandb.config.lr = 0.7
        wandb.config["lr"] = 0.8
        wandb.log({"trained_lr": wandb.config.lr, "batch_size": wandb.config.batch_size})
        run.finish()
        """)
    path = sweep_yaml(work, {"program": "train.py", "method": "grid",
                             "metric": {"name": "trained_lr", "goal": "minimize"},
                             "parameters": {"lr": {"values": [0.1, 0.2]}}})
    ran = run_sweep(work, path, env={"WANDB_MODE": mode})
    assert ran.code == 0, ran.out + ran.err
    assert [r.state for r in ran.runs] == ["finished", "finished"]
    for run in ran.runs:  # the sweep's lr; the program's own batch_size, which is not swept
        assert run.summary["trained_lr"] == run.params["lr"]
        assert run.summary["batch_size"] == 16

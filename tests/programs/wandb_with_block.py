"""An unmodified W&B script that ends its run with a ``with`` block, not ``finish()``."""

import wandb

with wandb.init(config={"lr": 0.5}) as run:
    for step in range(3):
        run.log({"loss": run.config.lr * (3 - step)})
    run.summary["best_loss"] = run.config.lr

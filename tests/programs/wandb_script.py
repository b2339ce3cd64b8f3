"""An unmodified W&B training script: it imports only wandb and the standard library."""

import math
import time

import wandb

run = wandb.init(config={"lr": 0.5, "steps": 4, "delay": 0.0, "label": "default"})
config = wandb.config
for step in range(int(config.steps)):
    loss = (math.log10(config.lr) + 3) ** 2 + 1.0 / (step + 1)
    wandb.log({"loss": loss, "step_seen": step})
    time.sleep(float(config.delay))
run.summary["final_loss"] = loss
wandb.finish()

"""A W&B training script, unchanged for sweeps: reads wandb.config, logs `loss` three times and
records which GPU it saw."""

import os

import wandb

with wandb.init() as run:
    x = float(run.config["x"])
    for step in range(3):
        run.log({"loss": (x - 0.3) ** 2 + 1.0 / (step + 1)})
    run.summary["cuda_visible_devices"] = os.environ.get("CUDA_VISIBLE_DEVICES")

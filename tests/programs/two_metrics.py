"""A W&B program with two metrics that pull apart: accuracy and latency both grow with width.
It saves a 'checkpoint' folder so that a run of the front can be promoted."""

import math
import os
from pathlib import Path

import wandb

run = wandb.init()
width, lr = run.config["width"], run.config["lr"]
accuracy = 1 - 0.5 / math.log2(width) - 0.1 * abs(math.log10(lr) + 2.5)
latency = width / 64
wandb.log({"acc": accuracy, "latency": latency})
folder = Path(os.environ.get("SWEEPER_RUN_DIR", ".")) / "checkpoint"
folder.mkdir(parents=True, exist_ok=True)
(folder / "model.txt").write_text(f"{width} {lr}")
run.summary["checkpoint"] = str(folder.resolve())
wandb.finish()

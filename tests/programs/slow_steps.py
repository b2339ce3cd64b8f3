"""Logs the metric once per step with a pause; the quality depends on `x`.

Writes its pid to $SWEEPER_RUN_DIR/pid so tests can find it.
"""

import os
import time

import wandb

wandb.init(config={"x": 0, "steps": 8, "delay": 0.05})
with open(os.path.join(os.environ["SWEEPER_RUN_DIR"], "pid"), "w") as handle:
    handle.write(str(os.getpid()))
for step in range(int(wandb.config.steps)):
    wandb.log({"loss": float(wandb.config.x) + 1.0 / (step + 1)})
    time.sleep(float(wandb.config.delay))
wandb.finish()

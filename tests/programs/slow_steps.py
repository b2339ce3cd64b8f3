"""Logs the metric once per step with a pause; the quality depends on `x`.

Writes its pid to $SWEEPER_RUN_DIR/pid so tests can find it. With `gate` (a path), it ends
only once that file exists: a test then acts while the run surely still runs.
"""

import os
import time

import wandb

wandb.init(config={"x": 0, "steps": 8, "delay": 0.05, "gate": ""})
with open(os.path.join(os.environ["SWEEPER_RUN_DIR"], "pid"), "w") as handle:
    handle.write(str(os.getpid()))
for step in range(int(wandb.config.steps)):
    wandb.log({"loss": float(wandb.config.x) + 1.0 / (step + 1)})
    time.sleep(float(wandb.config.delay))
while wandb.config.gate and not os.path.exists(wandb.config.gate):
    time.sleep(0.05)
wandb.finish()

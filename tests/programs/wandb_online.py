"""A W&B training script, unchanged for sweeps: reads wandb.config, logs `loss` three times and
records which GPU it saw. With $PID_DIR set it writes its pid there; `delay` (seconds) slows it."""

import os
import time

import wandb

with wandb.init() as run:
    if os.environ.get("PID_DIR"):
        with open(os.path.join(os.environ["PID_DIR"], f"{os.getpid()}.pid"), "w") as handle:
            handle.write(str(os.getpid()))
    x = float(run.config["x"])
    for step in range(3):
        run.log({"loss": (x - 0.3) ** 2 + 1.0 / (step + 1)})
        time.sleep(float(run.config.get("delay", 0)))
    run.summary["cuda_visible_devices"] = os.environ.get("CUDA_VISIBLE_DEVICES")

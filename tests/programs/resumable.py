"""A W&B program that resumes from its own checkpoint, with the README's five lines.

Logs `loss` at steps 0..steps-1 (explicit step numbers), saves its state after each step, and
writes what the agent told each attempt to $SWEEPER_RUN_DIR/attempt-N.json.
"""

import json
import os
import time
from pathlib import Path

import wandb

run = wandb.init(config={"steps": 40, "delay": 0.05})
told = {k: os.environ.get(k) for k in ("SWEEPER_RESUME", "SWEEPER_ATTEMPT", "WANDB_RUN_ID",
                                       "WANDB_RESUME")}
folder = Path(os.environ["SWEEPER_RUN_DIR"])
(folder / f"attempt-{told['SWEEPER_ATTEMPT']}.json").write_text(json.dumps({**told,
                                                                           "run": run.id}))
(folder / "pid").write_text(str(os.getpid()))
# The README's lines, with a JSON file for the state:
state = Path(os.environ.get("SWEEPER_RUN_DIR", ".")) / "state.json"
start = json.loads(state.read_text())["step"] + 1 if os.environ.get("SWEEPER_RESUME") and state.exists() else 0
for step in range(start, int(wandb.config.steps)):
    wandb.log({"loss": 1.0 / (step + 1)}, step=step)
    Path(f"{state}.tmp").write_text(json.dumps({"step": step}))
    os.replace(f"{state}.tmp", state)
    time.sleep(float(wandb.config.delay))
wandb.finish()

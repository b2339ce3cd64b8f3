"""Does nothing but log one metric through wandb (the agent-overhead benchmark's program)."""

import wandb

wandb.init()
wandb.log({"loss": float(wandb.config.get("i", 0))})
wandb.finish()

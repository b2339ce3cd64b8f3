"""Finishes without ever logging the sweep's metric."""

import wandb

wandb.init()
wandb.log({"something_else": 1})
wandb.finish()

"""The W&B backend: the sweep lives on a W&B server (cloud or self-hosted) and W&B's own agent
runs it, so the dashboard shows a real W&B sweep. Sweeps are named ``ENTITY/PROJECT/ID``."""

from ._backend import WandbBackend
from ._reference import SweepPath, is_wandb_reference, parse_reference

__all__ = ["SweepPath", "WandbBackend", "is_wandb_reference", "parse_reference"]

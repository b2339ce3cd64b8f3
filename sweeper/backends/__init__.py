"""Where sweeps live. The CLI, agents and analysis hold a :class:`Backend` and never ask which.

- ``local``: the embedded default, no server and no account (SQLite file or PostgreSQL).
- ``wandb``: a W&B server (cloud or self-hosted); sweeps are named ``ENTITY/PROJECT/ID``.
"""

from __future__ import annotations

from ._base import (
                    SWEEP_STATES,
                    TRANSITIONS,
                    AgentProcess,
                    Assignment,
                    Backend,
                    NoRun,
                    RunInfo,
                    RunQueue,
                    SweepInfo,
)
from ._choose import BACKENDS, open_backend

__all__ = ["BACKENDS", "SWEEP_STATES", "TRANSITIONS", "AgentProcess", "Assignment", "Backend",
           "NoRun", "RunInfo", "RunQueue", "SweepInfo", "open_backend"]

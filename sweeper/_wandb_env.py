"""The W&B switches a user sets in the environment, read one way everywhere.

WANDB_DISABLED is the switch of Hugging Face's W&B integration and of Simple Transformers; the
wandb SDK itself (0.31) ignores it and knows only WANDB_MODE=disabled. sweeper honours both: the
model layer reports nothing, and an agent runs a user's program with WANDB_MODE=disabled.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

_TRUE = ("1", "true", "yes", "on")


def disabled(env: Mapping[str, str] = os.environ) -> bool:
    """Whether the user switched W&B off (WANDB_DISABLED or WANDB_MODE=disabled)."""
    return (env.get("WANDB_DISABLED", "").strip().lower() in _TRUE
            or env.get("WANDB_MODE", "").strip().lower() == "disabled")

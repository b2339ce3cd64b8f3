"""Keeping the W&B API key out of everything sweeper prints and every log it causes."""

from __future__ import annotations

import base64
import os
import sys

# With these on, wandb-core (0.31) logs the settings it receives verbatim, API key included
# (core-debug-*.log and each run's debug-internal.log); see wandb/wandb#12384.
DEBUG_SWITCHES = ("WANDB_DEBUG", "WANDB_CORE_DEBUG")


def disarm_debug_logs(env=os.environ, quiet: bool = False) -> list[str]:
    """Turn off the W&B debug switches that would write the API key into log files, in ``env``
    (this process's, by default: then every agent and run it starts too); say so unless
    ``quiet``. SWEEPER_ALLOW_WANDB_DEBUG=1 keeps them (the logs then hold the key)."""
    if env.get("SWEEPER_ALLOW_WANDB_DEBUG") == "1":
        return []
    removed = [name for name in DEBUG_SWITCHES
               if env.get(name, "").strip().lower() not in ("", "0", "false", "no")]
    for name in DEBUG_SWITCHES:
        env.pop(name, None)
    if removed and not quiet:
        print(f"sweeper: {' and '.join(removed)} turned off: wandb-core's debug logs would hold "
              "the API key (SWEEPER_ALLOW_WANDB_DEBUG=1 keeps them)", file=sys.stderr)
    return removed


def scrub(text: str, key: str) -> str:
    """``text`` with the API key (and the Basic-auth header made from it) blanked out."""
    if not key:
        return text
    for secret in (key, base64.b64encode(f"api:{key}".encode()).decode()):
        text = text.replace(secret, "***")
    return text

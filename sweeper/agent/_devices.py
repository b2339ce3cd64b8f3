"""Which GPUs an agent may use, found without importing torch: CUDA_VISIBLE_DEVICES, nvidia-smi."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from ..errors import BadInput


def detect_gpus() -> list[str]:
    """The GPU ids this process may use ('' when none)."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return [d.strip() for d in visible.split(",") if d.strip() and d.strip() != "-1"]
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return []
    try:
        out = subprocess.run([smi, "--query-gpu=index", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return []
    if out.returncode != 0:
        return []
    return [line.strip() for line in out.stdout.splitlines() if line.strip()]


def plan_slots(gpus: str | None, per_gpu: int = 1, workers: int | None = None,
               available: list[str] | None = None, dry_run: bool = False) -> list[str | None]:
    """One entry per agent: the CUDA_VISIBLE_DEVICES it gets; None for a CPU agent on a machine
    without GPUs, '' for a CPU agent that must not see the GPUs (``--gpus none``).

    ``gpus``: None (every GPU found, else CPU agents), ``all``, ``none`` or ``0,1,3``.
    ``dry_run``: GPUs named but not found here are planned anyway, with a warning (the plan may
    be meant for another machine).

    >>> plan_slots("0,1", per_gpu=2, available=["0", "1"])
    ['0', '0', '1', '1']
    >>> plan_slots(None, workers=2, available=[])
    [None, None]
    """
    found = detect_gpus() if available is None else available
    if per_gpu < 1:
        raise BadInput(f"--per-gpu must be >= 1, got {per_gpu}")
    if workers is not None and workers < 1:
        raise BadInput(f"--workers must be >= 1, got {workers}")
    choice = (gpus or "").strip().lower()
    if choice in ("", "auto"):
        chosen = found
    elif choice == "none":
        chosen = []
    elif choice == "all":
        if not found and dry_run:
            print("warning: --gpus all: no GPU found on this machine; planned as one agent on "
                  "GPU 0 (--dry-run)", file=sys.stderr)
            found = ["0"]
        if not found:
            raise BadInput("--gpus all: no GPU found (CUDA_VISIBLE_DEVICES is unset or empty and "
                           "nvidia-smi lists none); use --gpus none for CPU agents")
        chosen = found
    else:
        chosen = [g.strip() for g in choice.split(",") if g.strip()]
        missing = [g for g in chosen if g not in found]
        if missing and dry_run:
            print(f"warning: --gpus {gpus}: GPU {', '.join(missing)} not present on this "
                  f"machine ({len(found)} GPU{'s' if len(found) != 1 else ''} found); planned "
                  "anyway (--dry-run)", file=sys.stderr)
        elif missing:
            have = f"{len(found)} GPU{'s' if len(found) != 1 else ''}" + (
                f" ({', '.join(found)})" if found else "")
            raise BadInput(f"--gpus {gpus}: GPU {missing[0]} not found; this machine has {have}")
        if len(set(chosen)) != len(chosen):
            raise BadInput(f"--gpus {gpus}: a GPU is named twice; use --per-gpu for several "
                           "agents on one GPU")
    if not chosen:
        hidden = "" if choice == "none" and found else None
        return [hidden] * (workers or 1)
    return [gpu for gpu in chosen for _ in range(per_gpu)]

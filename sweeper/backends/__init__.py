"""Where sweeps live. The CLI, agents and analysis hold a :class:`Backend` and never ask which.

- ``local``: the embedded default, no server and no account (SQLite file or PostgreSQL).
"""

from __future__ import annotations

from ._base import SWEEP_STATES, TRANSITIONS, Assignment, Backend, NoRun, RunInfo, SweepInfo


def open_backend(storage: str | None = None, *, create: bool = True) -> Backend:
    """The backend for a storage URL (default: the local SQLite file)."""
    from .local import LocalBackend

    return LocalBackend(storage, create=create)


__all__ = ["SWEEP_STATES", "TRANSITIONS", "Assignment", "Backend", "NoRun", "RunInfo",
           "SweepInfo", "open_backend"]

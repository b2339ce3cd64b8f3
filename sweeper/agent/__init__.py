"""Agents: pull runs from a sweep and execute them, each as its own process (or, for notebooks,
a function in this process)."""

from __future__ import annotations

from collections.abc import Callable

from ._devices import detect_gpus, plan_slots
from ._function import RunStopped, run_function
from ._launch import check_runnable, run_agents
from ._loop import Agent, AgentReport, TooManyFailures


def agent(sweep_id: str, function: Callable[[], object], count: int | None = None,
          storage: str | None = None) -> int:
    """Run ``function`` for runs of a local sweep in this process, like ``wandb.agent``.

    Returns the number of runs it ran.
    """
    from ..backends import open_backend

    backend = open_backend(storage, create=False)
    return run_function(backend, backend.find_sweep(sweep_id).id, function, count=count)


__all__ = ["Agent", "AgentReport", "RunStopped", "TooManyFailures", "agent", "check_runnable",
           "detect_gpus", "plan_slots", "run_agents", "run_function"]

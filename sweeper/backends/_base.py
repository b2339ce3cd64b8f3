"""The backend protocol: what the CLI, agents and analysis may ask of any backend."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

# Sweep states, with W&B's meaning.
SWEEP_STATES = ("running", "paused", "stopped", "cancelled", "finished")
# What each state change asks for, and the states it may come from.
TRANSITIONS = {
    "pause": ("paused", ("running",)),
    "resume": ("running", ("paused",)),
    "stop": ("stopped", ("running", "paused")),
    "cancel": ("cancelled", ("running", "paused", "stopped")),
}


@dataclass
class SweepInfo:
    id: str
    name: str
    config: dict
    state: str
    created_at: float
    state_reason: str | None = None
    runs_total: int = 0
    runs_active: int = 0
    best_value: float | None = None
    best_run: str | None = None
    location: str = ""  # where it lives: a storage URL, or a W&B sweep path

    @property
    def metric(self) -> dict | None:
        return self.config.get("metric")


@dataclass
class RunInfo:
    id: str
    sweep_id: str
    name: str
    number: int
    params: dict
    state: str
    created_at: float
    agent_id: str | None = None
    started_at: float | None = None
    finished_at: float | None = None
    heartbeat_at: float | None = None
    exit_code: int | None = None
    summary: dict = field(default_factory=dict)
    metric_last: float | None = None
    metric_best: float | None = None
    steps: int = 0
    stop_reason: str | None = None
    log_path: str | None = None
    device: str | None = None
    history: list[dict] | None = None  # loaded on request: one dict per logged step

    @property
    def runtime(self) -> float | None:
        if self.started_at is None:
            return None
        end = self.finished_at if self.finished_at is not None else self.heartbeat_at
        return None if end is None else end - self.started_at


@dataclass
class Assignment:
    """The next run to execute: its id and name in the backend, and its parameters."""

    run_id: str
    name: str
    params: dict
    number: int


@dataclass
class NoRun:
    """Why there is no next run: ``wait`` (paused, try later) or ``done`` (never more)."""

    reason: str
    wait: bool = False


@runtime_checkable
class Backend(Protocol):
    """A place where sweeps live. ``local`` (SQLite or PostgreSQL) and ``wandb`` implement it."""

    name: str

    def create_sweep(self, config: dict, name: str | None = None) -> SweepInfo: ...

    def sweep(self, sweep_id: str) -> SweepInfo: ...

    def sweeps(self) -> list[SweepInfo]: ...

    def register_agent(self, sweep_id: str, host: str, pid: int, devices: str | None) -> str: ...

    def heartbeat(self, agent_id: str) -> None: ...

    def next_run(self, sweep_id: str, agent_id: str) -> Assignment | NoRun: ...

    def log(self, run_id: str, rows: list[dict[str, Any]], log_path: str | None = None
            ) -> str | None:
        """Record logged rows (one dict per step); return why the run must stop, or None."""
        ...

    def finish_run(self, run_id: str, state: str, summary: dict | None = None,
                   exit_code: int | None = None, log_path: str | None = None,
                   stop_reason: str | None = None) -> None: ...

    def stop_reason(self, run_id: str) -> str | None: ...

    def set_state(self, sweep_id: str, action: str) -> SweepInfo: ...

    def runs(self, sweep_id: str, history: bool = False) -> list[RunInfo]: ...

    def finish_agent(self, agent_id: str) -> None: ...

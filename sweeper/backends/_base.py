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
    # A sweep that handed out its last run (run_cap, grid) is finished while runs still run:
    # cancel stops them.
    "cancel": ("cancelled", ("running", "paused", "stopped", "finished")),
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
    # The run's one value of the sweep metric: W&B's summary value (see sweeper.run_value).
    metric_value: float | None = None
    metric_best: float | None = None  # the best value it logged (for information)
    steps: int = 0
    stop_reason: str | None = None
    log_path: str | None = None
    device: str | None = None
    attempt: int = 1
    output_at: float | None = None  # when it last printed or logged anything
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
    attempt: int = 1  # > 1: the run was interrupted before and resumes

    @property
    def resumed(self) -> bool:
        return self.attempt > 1


@dataclass
class NoRun:
    """Why there is no next run: ``wait`` (paused, try later) or ``done`` (never more)."""

    reason: str
    wait: bool = False


@dataclass
class AgentProcess:
    """One agent process to start: its argv and the variables it sets on top of the environment."""

    label: str
    argv: list[str]
    env: dict[str, str]
    shown: dict[str, str] = field(default_factory=dict)  # how to print variables holding secrets


def one_per_slot(argv: list[str], slots: list[str | None],
                 env: dict[str, str] | None = None) -> list[AgentProcess]:
    """``argv`` once per agent slot, labelled ``gpu0``/``cpu1``, each placed on its GPU with
    CUDA_VISIBLE_DEVICES (None: a CPU agent on a machine without GPUs), plus ``env``."""
    processes = []
    for index, device in enumerate(slots):
        label = f"gpu{device}" if device else f"cpu{index}"
        variables = {**(env or {}), "SWEEPER_AGENT_LABEL": label}
        if device is not None:
            variables["CUDA_VISIBLE_DEVICES"] = device
        processes.append(AgentProcess(label, argv, variables))
    return processes


@runtime_checkable
class Backend(Protocol):
    """A place where sweeps live. ``local`` (SQLite or PostgreSQL) and ``wandb`` implement it."""

    name: str
    location: str  # where its sweeps live, for people: a storage URL or a W&B server
    poll_interval_s: float  # how often progress may ask for the sweep and its runs

    def check_config(self, config: dict) -> dict:
        """The config validated for this backend (BadInput naming what it cannot run)."""
        ...

    def create_sweep(self, config: dict, name: str | None = None) -> SweepInfo: ...

    def sweep(self, sweep_id: str) -> SweepInfo: ...

    def find_sweep(self, reference: str) -> SweepInfo:
        """A sweep by what a person typed: an id, a name, a path or a URL."""
        ...

    def sweeps(self) -> list[SweepInfo]: ...

    def set_state(self, sweep_id: str, action: str) -> SweepInfo: ...

    def runs(self, sweep_id: str, history: bool = False, summaries: bool = True
             ) -> list[RunInfo]:
        """The sweep's runs, oldest first. ``history``: with each run's logged rows;
        ``summaries=False``: a backend may leave ``summary`` empty (a reader that needs only
        ``metric_value`` reads faster)."""
        ...

    def agent_processes(self, sweep_id: str, slots: list[str | None], count: int | None,
                        max_failures: int, grace_s: float) -> list[AgentProcess]:
        """The agent processes that run this sweep, one per slot (a CUDA_VISIBLE_DEVICES value,
        None for a CPU agent on a machine without GPUs)."""
        ...

    def run_function(self, sweep_id: str, function: Any, count: int | None = None) -> int:
        """Call ``function`` in this process once per run of the sweep (at most ``count``), as
        ``wandb.agent(sweep_id, function=...)`` does: it calls ``wandb.init()`` and reads
        ``wandb.config``; each run is finished before the next starts. Returns the runs run."""
        ...

    def promote(self, run: dict, name: str, aliases: tuple[str, ...], metadata: dict,
                registry_dir: str | None = None, best: bool = True) -> Any:
        """Make ``run``'s checkpoint (a row of ``analysis.runs()``) a new version of the
        registered model ``name``, with the aliases ``latest``, ``aliases`` and, with
        ``best``, ``best``; return a ``registry.Version``."""
        ...

    def registered(self, name: str, alias: str, registry_dir: str | None = None) -> dict | None:
        """The metadata of the registered version ``name:alias``, or None."""
        ...


@runtime_checkable
class RunQueue(Protocol):
    """A backend whose runs sweeper's own agent executes: it hands out runs and takes reports.
    (On W&B, W&B's agent and server do this.)"""

    def register_agent(self, sweep_id: str, host: str, pid: int, devices: str | None) -> str: ...

    def heartbeat(self, agent_id: str, activity: dict[str, float] | None = None) -> None:
        """The agent is alive; ``activity``: for each run it executes, when the run last printed
        or logged anything."""
        ...

    def next_run(self, sweep_id: str, agent_id: str, device: str | None = None
                 ) -> Assignment | NoRun: ...

    def log(self, run_id: str, rows: list[dict[str, Any]], log_path: str | None = None,
            attempt: int | None = None) -> str | None:
        """Record logged rows (one dict per step); return why the run must stop, or None."""
        ...

    def finish_run(self, run_id: str, state: str, summary: dict | None = None,
                   exit_code: int | None = None, log_path: str | None = None,
                   stop_reason: str | None = None, attempt: int | None = None,
                   requeue: bool = False) -> None:
        """Record how an attempt of a run ended. ``requeue``: it was interrupted (preempted,
        killed by the system): the run goes back in the queue while it has resumes left."""
        ...

    def report_leftovers(self, run_id: str, attempt: int, rows: list[dict[str, Any]]) -> int:
        """Rows an earlier attempt wrote but did not report (its agent died first)."""
        ...

    def attempts(self, run_id: str) -> list[dict]: ...

    def stop_reason(self, run_id: str, attempt: int | None = None) -> str | None: ...

    def finish_agent(self, agent_id: str) -> None: ...

"""Executing one attempt of a run as its own process: start it, relay its metrics, deliver stops,
watch for silence and time-outs, and say how it ended."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .._duration import words
from ..backends import Backend
from ._command import RunFiles
from ._metrics import MetricsTail

POLL_S = 0.02  # how often the run's process and metrics are looked at
STOP_POLL_S = 1.0  # how often the backend is asked for a stop when the run logs nothing

# Why an agent stops a run on its own account.
INTERRUPTED = "agent interrupted"  # the user's Ctrl-C
PREEMPTED = "agent preempted (SIGTERM)"  # the system's notice: the run is requeued
CANCELLED = "sweep cancelled"
SUPERSEDED = "a later attempt of this run took over"


@dataclass
class Outcome:
    state: str  # finished, failed, stopped, killed
    exit_code: int | None
    summary: dict
    stop_reason: str | None = None
    log_tail: str = ""
    metric_missing: list[str] = field(default_factory=list)  # the sweep's metrics it never logged
    requeue: bool = False  # interrupted by the system, not the user: resume it later
    seen: dict = field(default_factory=dict)  # its summary as the backend records it


@dataclass
class Stops:
    """What can ask a running attempt to stop, besides the backend."""

    interrupt: threading.Event  # set by the agent's signal handler
    reason: Callable[[], str] = lambda: INTERRUPTED  # why the interrupt was set
    timeout_s: float | None = None  # --run-timeout


@dataclass
class Activity:
    """When each run last printed or logged anything (the agent's heartbeat reports it)."""

    last: dict[str, float] = field(default_factory=dict)


def tail_of(path: Path, lines: int = 15) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 8192))
            text = handle.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def execute(backend: Backend, run_id: str, argv: list[str], env: dict[str, str],
            files: RunFiles, cwd: Path, stops: Stops, grace_s: float, metrics: list[str], *,
            attempt: int | None = None, activity: Activity | None = None,
            silent_after_s: float | None = None, echo: Callable[[str], None] = print,
            run_name: str = "") -> Outcome:
    """Run ``argv`` to its end; on a stop (hyperband, cancel, time-out, the agent's own
    interrupt) send it SIGTERM, then SIGKILL after ``grace_s``. Its whole output goes to
    ``files.log``."""
    tail = MetricsTail(files.metrics)
    activity = activity or Activity()
    with open(files.log, "ab") as log:
        try:
            proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
        except OSError as exc:
            why = f"cannot start {argv[0]!r}: {exc.strerror or exc}"
            log.write(f"sweeper: {why}\n".encode())
            return Outcome("failed", None, {}, log_tail=why)
    started = time.monotonic()
    activity.last[run_id] = time.time()
    backend.log(run_id, [], log_path=str(files.log), attempt=attempt)
    try:
        return _watch(proc, backend, run_id, files, stops, grace_s, metrics, tail, attempt,
                      activity, silent_after_s, echo, run_name, started)
    finally:
        _signal_group(proc, signal.SIGKILL)  # workers the program left behind end with it
        if proc.poll() is None:  # the agent is failing (its storage is gone): no orphans
            proc.wait()


def _watch(proc, backend, run_id, files, stops, grace_s, metrics, tail, attempt, activity,
           silent_after_s, echo, run_name, started) -> Outcome:
    stop_reason: str | None = None
    kill_at: float | None = None
    next_stop_poll = time.monotonic() + STOP_POLL_S
    log_size = _size(files.log)
    silent_told = 0
    while True:
        try:
            proc.wait(timeout=POLL_S)
            finished = True
        except subprocess.TimeoutExpired:
            finished = False
        rows = tail.read()
        reason = None
        if rows:
            activity.last[run_id] = time.time()
            reason = backend.log(run_id, rows, attempt=attempt)
            next_stop_poll = time.monotonic() + STOP_POLL_S
        elif not finished and time.monotonic() >= next_stop_poll:
            reason = backend.stop_reason(run_id, attempt=attempt)
            next_stop_poll = time.monotonic() + STOP_POLL_S
            size = _size(files.log)
            if size != log_size:
                log_size, silent_told = size, 0
                activity.last[run_id] = time.time()
            silent_told = _tell_silence(activity.last[run_id], silent_after_s, silent_told,
                                        run_name, files, echo)
        if finished:
            break
        if stop_reason is None:
            if stops.timeout_s is not None and time.monotonic() - started > stops.timeout_s:
                reason = f"run timeout ({words(stops.timeout_s)}) reached"
            if reason or stops.interrupt.is_set():
                stop_reason = reason or stops.reason()
                _signal_group(proc, signal.SIGTERM)
                kill_at = time.monotonic() + grace_s
        elif kill_at is not None and time.monotonic() >= kill_at:
            _signal_group(proc, signal.SIGKILL)
            kill_at = None
    if stop_reason is None and stops.interrupt.is_set():  # it ended as the agent was told to
        stop_reason = stops.reason()
    return _outcome(proc.returncode, tail, stop_reason, files, metrics)


def _outcome(code: int, tail: MetricsTail, stop_reason: str | None, files: RunFiles,
             metrics: list[str]) -> Outcome:
    summary = tail.summary or {}
    requeue = False
    if stop_reason is not None:
        state = stopped_state(stop_reason)
        requeue = stop_reason == PREEMPTED
    elif code == 0:
        state = "finished"
    elif code < 0 or code == 128 + signal.SIGTERM:
        # A signal the agent did not send (the OOM killer, a node shutting down); 143 is SIGTERM
        # as the wandb hook ends a run on it (after saving its W&B data).
        state, requeue = "killed", True
        stop_reason = f"killed by {_signal_name(-code if code < 0 else signal.SIGTERM)}"
    else:
        state = "failed"
    missing = [m for m in metrics if not tail.has(m)] if state == "finished" else []
    return Outcome(state, code, summary, stop_reason,
                   log_tail=tail_of(files.log) if state == "failed" else "",
                   metric_missing=missing, requeue=requeue, seen=tail.merged_summary())


def stopped_state(stop_reason: str) -> str:
    """How a run that was told to stop ended: killed when the sweep or the agent ended it, stopped
    when the sweep's search did (hyperband, a target reached, a time-out)."""
    return "killed" if stop_reason in (INTERRUPTED, PREEMPTED, CANCELLED, SUPERSEDED) \
        else "stopped"


def _tell_silence(last: float, after_s: float | None, told: int, run_name: str,
                  files: RunFiles, echo: Callable[[str], None]) -> int:
    """Say once per ``after_s`` of silence that the run printed and logged nothing."""
    if not after_s:
        return told
    silent = time.time() - last
    if silent >= after_s * (told + 1):
        echo(f"run {run_name}: no output for {words(silent)} (log: {files.log})")
        return told + 1
    return told


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return -1


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass

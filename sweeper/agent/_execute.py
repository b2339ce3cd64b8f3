"""Executing one run as its own process: start it, relay its metrics, deliver stops, record the end."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ..backends import Backend
from ._command import RunFiles
from ._metrics import MetricsTail

POLL_S = 0.02  # how often the run's process and metrics are looked at
STOP_POLL_S = 1.0  # how often the backend is asked for a stop when the run logs nothing


@dataclass
class Outcome:
    state: str  # finished, failed, stopped, killed
    exit_code: int | None
    summary: dict
    stop_reason: str | None = None
    log_tail: str = ""
    metric_missing: bool = False


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


def execute(backend: Backend, run_id: str, argv: list[str], env: dict[str, str], files: RunFiles,
            cwd: Path, interrupt: threading.Event, grace_s: float, metric: str | None) -> Outcome:
    """Run ``argv`` to its end; on a stop (hyperband, cancel, the agent's own interrupt) send it
    SIGTERM, then SIGKILL after ``grace_s``. Its whole output goes to ``files.log``."""
    tail = MetricsTail(files.metrics)
    with open(files.log, "ab") as log:
        try:
            proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
        except OSError as exc:
            log.write(f"sweeper: cannot start {argv[0]!r}: {exc.strerror or exc}\n".encode())
            return Outcome("failed", None, {}, log_tail=f"cannot start {argv[0]!r}: "
                                                      f"{exc.strerror or exc}")
    backend.log(run_id, [], log_path=str(files.log))
    stop_reason: str | None = None
    kill_at: float | None = None
    next_stop_poll = time.monotonic() + STOP_POLL_S
    while True:
        try:
            proc.wait(timeout=POLL_S)
            finished = True
        except subprocess.TimeoutExpired:
            finished = False
        rows = tail.read()
        if rows:
            reason = backend.log(run_id, rows)
            next_stop_poll = time.monotonic() + STOP_POLL_S
        elif not finished and time.monotonic() >= next_stop_poll:
            reason = backend.stop_reason(run_id)
            next_stop_poll = time.monotonic() + STOP_POLL_S
        else:
            reason = None
        if finished:
            break
        if stop_reason is None and (reason or interrupt.is_set()):
            stop_reason = reason or "agent interrupted"
            _signal_group(proc, signal.SIGTERM)
            kill_at = time.monotonic() + grace_s
        elif kill_at is not None and time.monotonic() >= kill_at:
            _signal_group(proc, signal.SIGKILL)
            kill_at = None
    code = proc.returncode
    summary = tail.summary or {}
    if stop_reason is not None:
        state = "killed" if stop_reason in ("agent interrupted", "sweep cancelled") else "stopped"
    else:
        state = "finished" if code == 0 else "failed"
    missing = metric is not None and state == "finished" and metric not in summary
    return Outcome(state, code, summary, stop_reason,
                   log_tail=tail_of(files.log) if state == "failed" else "",
                   metric_missing=missing)


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass

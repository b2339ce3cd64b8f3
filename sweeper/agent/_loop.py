"""The agent loop: get the next run, run it, report it, repeat.

One agent runs one run at a time. It heartbeats so that its runs are marked crashed if it dies;
SIGINT/SIGTERM stop its run (recorded as killed) and end it; consecutive failures end it.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..backends import Assignment, Backend
from ..errors import SweeperError
from ..progress import fmt, swept_params_text
from . import _command
from ._execute import Outcome, execute

log = logging.getLogger("sweeper.agent")

WAIT_POLL_S = 1.0  # while the sweep is paused


class TooManyFailures(SweeperError):
    exit_code = 1


@dataclass
class AgentReport:
    runs: int = 0
    failed: int = 0
    stopped: int = 0
    reason: str = ""
    outcomes: list[tuple[str, Outcome]] = field(default_factory=list)


class Agent:
    """Pull runs of one sweep from a backend and execute each as its own process."""

    def __init__(self, backend: Backend, sweep_id: str, *, count: int | None = None,
                 max_failures: int = 5, grace_s: float = 10.0, device: str | None = None,
                 cwd: Path | None = None, runs_dir: Path | None = None,
                 echo: Callable[[str], None] | None = None):
        self.backend = backend
        self.sweep = backend.sweep(sweep_id)
        self.count = count
        self.max_failures = max_failures
        self.grace_s = grace_s
        self.device = device
        self.cwd = Path(cwd or os.getcwd())
        self.runs_dir = Path(runs_dir or self.cwd / ".sweeper" / "runs") / self.sweep.id
        self.echo = echo or (lambda message: log.info(message))
        self.interrupt = threading.Event()
        self._done = threading.Event()
        self.agent_id: str | None = None

    def handle_signals(self) -> None:
        """SIGINT/SIGTERM: stop the current run cleanly, record it, then end."""
        def _on_signal(signum, _frame):
            self.interrupt.set()
        signal.signal(signal.SIGINT, _on_signal)
        signal.signal(signal.SIGTERM, _on_signal)

    def run(self) -> AgentReport:
        report = AgentReport()
        config = self.sweep.config
        program = _command.resolve_program(config, self.cwd)
        metric = (config.get("metric") or {}).get("name")
        self.agent_id = self.backend.register_agent(self.sweep.id, socket.gethostname(),
                                                    os.getpid(), self.device)
        beat = threading.Thread(target=self._heartbeat, daemon=True)
        beat.start()
        consecutive_failures = 0
        try:
            while not self.interrupt.is_set():
                if self.count is not None and report.runs >= self.count:
                    report.reason = f"ran {self.count} runs (--count)"
                    break
                nxt = self.backend.next_run(self.sweep.id, self.agent_id)
                if not isinstance(nxt, Assignment):
                    if nxt.wait:
                        self.interrupt.wait(WAIT_POLL_S)
                        continue
                    report.reason = nxt.reason
                    break
                outcome = self._run_one(nxt, program, metric)
                report.runs += 1
                report.outcomes.append((nxt.name, outcome))
                if outcome.state == "failed":
                    report.failed += 1
                    consecutive_failures += 1
                    if consecutive_failures >= self.max_failures:
                        raise TooManyFailures(
                            f"{consecutive_failures} runs in a row failed; the agent stops. Last "
                            f"failure ({nxt.name}, exit code {outcome.exit_code}):\n"
                            f"{outcome.log_tail}")
                else:
                    consecutive_failures = 0
                    if outcome.state in ("stopped", "killed"):
                        report.stopped += 1
            else:
                report.reason = report.reason or "interrupted"
        finally:
            self._done.set()
            self.backend.finish_agent(self.agent_id)
        return report

    def _run_one(self, run: Assignment, program: str, metric: str | None) -> Outcome:
        files = _command.RunFiles(self.runs_dir / run.name)
        _command.write_params(files, run.params)
        argv = _command.build_argv(self.sweep.config, run.params, files, program)
        env = _command.run_env(dict(os.environ), run_id=run.run_id, run_name=run.name,
                               sweep_id=self.sweep.id, sweep_name=self.sweep.name,
                               project=self.sweep.config.get("project"), files=files,
                               device=self.device)
        self.echo(f"run {run.name} started: {swept_params_text(self.sweep, run.params)}")
        started = time.monotonic()
        outcome = execute(self.backend, run.run_id, argv, env, files, self.cwd, self.interrupt,
                          self.grace_s, metric)
        self.backend.finish_run(run.run_id, outcome.state, outcome.summary, outcome.exit_code,
                                log_path=str(files.log), stop_reason=outcome.stop_reason)
        took = time.monotonic() - started
        result = ""
        if metric and metric in outcome.summary:
            result = f", {metric}={fmt(outcome.summary[metric])}"
        why = f" ({outcome.stop_reason})" if outcome.stop_reason else ""
        self.echo(f"run {run.name} {outcome.state}{why} in {took:.1f}s{result}")
        if outcome.metric_missing:
            self.echo(f"warning: run {run.name} finished without logging the metric {metric!r}; "
                      f"see {files.log}")
        if outcome.state == "failed":
            self.echo(f"run {run.name} failed with exit code {outcome.exit_code}; log: {files.log}")
        return outcome

    def _heartbeat(self) -> None:
        timeout = getattr(self.backend, "heartbeat_timeout", 60.0)
        interval = max(0.05, min(10.0, timeout / 6))
        while not self._done.wait(interval):
            try:
                self.backend.heartbeat(self.agent_id)
            except Exception as exc:  # noqa: BLE001 - a missed beat is retried, never fatal
                log.warning("heartbeat failed: %s", exc)

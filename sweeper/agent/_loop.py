"""The agent loop: get the next run, run it, report it, repeat.

One agent runs one run at a time. It heartbeats so that its runs are marked crashed if it dies.
SIGINT (the user's Ctrl-C) stops its run, recorded as killed, and ends it; SIGTERM (the system's
notice: preemption, a node going down) stops its run too, but the run goes back in the queue to
resume later. Consecutive failures end it; a storage that stays away ends it, with one line.
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

from .. import objectives, workspace
from ..backends import Assignment, Backend
from ..errors import SpecError, SweeperError
from ..progress import fmt, silent_after_s, swept_params_text
from ..run_value import summary_value
from . import _command
from ._execute import INTERRUPTED, PREEMPTED, Activity, Outcome, Stops, execute
from ._metrics import MetricsTail

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
                 echo: Callable[[str], None] | None = None, run_timeout_s: float | None = None):
        self.backend = backend
        self.sweep = backend.sweep(sweep_id)
        self.count = count
        self.max_failures = max_failures
        self.grace_s = grace_s
        self.device = device
        self.cwd = Path(cwd or os.getcwd())
        self.runs_dir = Path(runs_dir or workspace.root(self.cwd) / workspace.FOLDER / "runs"
                             ) / self.sweep.id
        self.echo = echo or (lambda message: log.info(message))
        self.interrupt = threading.Event()
        self.interrupt_reason = INTERRUPTED
        self.run_timeout_s = run_timeout_s
        self.activity = Activity()
        self._done = threading.Event()
        self.agent_id: str | None = None
        self._program: str | None = None

    def handle_signals(self) -> None:
        """SIGINT: the user stops the agent; SIGTERM: the system does (the run is requeued)."""
        def _on_signal(signum, _frame):
            if not self.interrupt.is_set():
                self.interrupt_reason = PREEMPTED if signum == signal.SIGTERM else INTERRUPTED
            self.interrupt.set()
        signal.signal(signal.SIGINT, _on_signal)
        signal.signal(signal.SIGTERM, _on_signal)

    def check(self) -> str:
        """What the sweep needs before any run starts: the program (a warning when it looks
        missing), and for a sweep that names no program, parameters the built-in trainer takes."""
        if self._program is not None:
            return self._program
        config = self.sweep.config
        problems = _command.builtin_trainer_problems(config)
        if problems:
            raise SpecError(problems)
        warning = _command.program_warning(config, self.cwd)
        if warning:
            self.echo(f"warning: {warning}")
        self._program = _command.resolve_program(config, self.cwd)
        return self._program

    def run(self) -> AgentReport:
        report = AgentReport()
        program = self.check()
        metrics = objectives.names(self.sweep.config)
        self.agent_id = self.backend.register_agent(self.sweep.id, socket.gethostname(),
                                                    os.getpid(), self.device)
        beat = threading.Thread(target=self._heartbeat, daemon=True)
        beat.start()
        consecutive_failures = 0
        told_waiting = ""
        try:
            while not self.interrupt.is_set():
                if self.count is not None and report.runs >= self.count:
                    report.reason = f"ran {self.count} runs (--count)"
                    break
                nxt = self.backend.next_run(self.sweep.id, self.agent_id, self.device)
                if not isinstance(nxt, Assignment):
                    if nxt.wait:
                        kind = nxt.reason.split(";")[0]
                        if told_waiting != kind:  # once per kind of wait, not every poll
                            self.echo(f"sweep {self.sweep.name} is paused; waiting for "
                                      f"`sweeper resume {self.sweep.id}`"
                                      if nxt.reason == "sweep is paused" else nxt.reason)
                            told_waiting = kind
                        self.interrupt.wait(WAIT_POLL_S)
                        continue
                    report.reason = nxt.reason
                    break
                told_waiting = ""
                outcome = self._run_one(nxt, program, metrics)
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
                report.reason = report.reason or (
                    "preempted (SIGTERM)" if self.interrupt_reason == PREEMPTED else "interrupted")
        finally:
            self._done.set()
            try:
                self.backend.finish_agent(self.agent_id)
            except SweeperError:
                pass  # the storage is gone: its heartbeat stops, which says the same
        return report

    def _run_one(self, run: Assignment, program: str, metrics: list[str]) -> Outcome:
        files = _command.RunFiles.under(self.runs_dir, run.name, run.run_id, run.attempt)
        resumed = f" (attempt {run.attempt}, resuming)" if run.resumed else ""
        self.echo(f"run {run.name} started{resumed}: {swept_params_text(self.sweep, run.params)}")
        if run.resumed:
            self._hand_in_leftovers(run, files)
        started = time.monotonic()
        try:
            _command.write_params(files, run.params)
        except OSError as exc:
            why = f"cannot write the run's folder {files.folder}: {exc.strerror or exc}"
            self.backend.finish_run(run.run_id, "failed", None, None, stop_reason=why,
                                    attempt=run.attempt)
            self.echo(f"run {run.name} failed: {why}")
            return Outcome("failed", None, {}, why, log_tail=why)
        argv = _command.build_argv(self.sweep.config, run.params, files, program)
        env = _command.run_env(dict(os.environ), run_id=run.run_id, run_name=run.name,
                               sweep_id=self.sweep.id, sweep_name=self.sweep.name,
                               project=self.sweep.config.get("project"), files=files,
                               device=self.device, attempt=run.attempt)
        stops = Stops(self.interrupt, lambda: self.interrupt_reason, self.run_timeout_s)
        try:
            outcome = execute(self.backend, run.run_id, argv, env, files, self.cwd, stops,
                              self.grace_s, metrics, attempt=run.attempt, activity=self.activity,
                              silent_after_s=silent_after_s(), echo=self.echo,
                              run_name=run.name)
        finally:
            self.activity.last.pop(run.run_id, None)
        self.backend.finish_run(run.run_id, outcome.state, outcome.summary, outcome.exit_code,
                                log_path=str(files.log), stop_reason=outcome.stop_reason,
                                attempt=run.attempt, requeue=outcome.requeue)
        self._say_end(run, outcome, files, time.monotonic() - started)
        return outcome

    def _hand_in_leftovers(self, run: Assignment, files: _command.RunFiles) -> None:
        """Rows earlier attempts of the run wrote here but never reported (their agent died
        between a row and its report): reported now, before the run goes on."""
        reported = {a["attempt"]: a["rows_reported"] for a in self.backend.attempts(run.run_id)}
        for attempt in range(1, run.attempt):
            path = files.metrics_of(attempt)
            if attempt not in reported or not path.exists():
                continue
            rows = MetricsTail(path).read()[reported[attempt]:]
            if rows:
                added = self.backend.report_leftovers(run.run_id, attempt, rows)
                self.echo(f"run {run.name}: {added} rows of attempt {attempt} that its agent "
                          "did not report are in the records now")

    def _say_end(self, run: Assignment, outcome: Outcome, files: _command.RunFiles,
                 took: float) -> None:
        values = [(o.name, summary_value(outcome.seen, o.name, o.goal))
                  for o in objectives.of(self.sweep.config)]
        result = "".join(f", {name}={fmt(value)}" for name, value in values if value is not None)
        why = f" ({outcome.stop_reason})" if outcome.stop_reason else ""
        requeued = "; it goes back in the queue to resume" if outcome.requeue else ""
        if outcome.state == "failed":
            last = failure_line(outcome.log_tail)
            code = f"exit code {outcome.exit_code}" if outcome.exit_code is not None else \
                "it did not start"
            self.echo(f"run {run.name} failed in {took:.1f}s ({code}){result}"
                      + (f": {last.strip()}" if last else "") + f"; log: {files.log}")
            return
        self.echo(f"run {run.name} {outcome.state}{why} in {took:.1f}s{result}{requeued}")
        for name in outcome.metric_missing:
            self.echo(f"warning: run {run.name} finished without logging the metric {name!r}; "
                      f"see {files.log}")

    def _heartbeat(self) -> None:
        timeout = getattr(self.backend, "heartbeat_timeout", 60.0)
        interval = max(0.05, min(10.0, timeout / 6))
        while not self._done.wait(interval):
            try:
                self.backend.heartbeat(self.agent_id, dict(self.activity.last))
            except Exception as exc:  # noqa: BLE001 - a missed beat is retried, never fatal
                log.warning("heartbeat failed: %s", exc)


def failure_line(log_tail: str) -> str:
    """The line of a failed run's output that says why: its last, passing over the wandb SDK's
    closing lines ("wandb: Find logs at ...", "wandb: wandb sync ...") printed after the
    program's own error, unless they are all there is or say ERROR."""
    lines = [line.strip() for line in log_tail.splitlines() if line.strip()]
    for line in reversed(lines):
        if not line.startswith("wandb:") or "ERROR" in line:
            return line
    return lines[-1] if lines else ""


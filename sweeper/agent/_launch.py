"""Starting the agents of a sweep: one per GPU slot (each with its own CUDA_VISIBLE_DEVICES), or
CPU agents; in this process when there is one CPU agent, else as child processes."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import threading
import time
from pathlib import Path

from .._keys import disarm_debug_logs
from ..backends import AgentProcess, Backend, RunQueue
from ..errors import SpecError, SweeperError
from ..progress import ProgressReporter, silent_after_s
from . import _command
from ._loop import Agent, TooManyFailures


def describe(process: AgentProcess) -> str:
    """One line a person can paste into a shell: the variables it sets, then its argv (values
    that hold secrets, such as a database password, masked)."""
    variables = [f"{k}={shlex.quote(process.shown.get(k, v))}"
                 for k, v in sorted(process.env.items())]
    return f"{process.label}: " + " ".join([*variables, shlex.join(process.argv)])


def check_runnable(config: dict) -> None:
    """Refuse, before any agent starts, a sweep the built-in trainer cannot run."""
    problems = _command.builtin_trainer_problems(config)
    if problems:
        raise SpecError(problems)


def run_agents(backend: Backend, sweep_id: str, slots: list[str | None], *,
               count: int | None = None, max_failures: int = 5, grace_s: float = 10.0,
               live: bool | None = None, dry_run: bool = False,
               run_timeout_s: float | None = None, config: dict | None = None) -> int:
    """Run the sweep's agents until they end; return the exit code (0 ok, 1 a failure).

    One CPU agent of a backend that sweeper's own agent serves runs in this process; otherwise
    each slot gets its own process (``backend.agent_processes``). ``dry_run`` prints those
    processes instead of starting them.
    """
    if config is not None and isinstance(backend, RunQueue):
        check_runnable(config)
    processes = backend.agent_processes(sweep_id, slots, count, max_failures, grace_s,
                                        run_timeout_s=run_timeout_s)
    if dry_run:
        for process in processes:
            print(describe(process), flush=True)
        return 0
    disarm_debug_logs()  # for the agents and every run they start
    in_process = isinstance(backend, RunQueue) and len(slots) == 1 and not slots[0]
    with ProgressReporter(backend, sweep_id, live=live, interval_s=backend.poll_interval_s,
                          silent_after_s=silent_after_s()) as progress:
        if in_process:
            return _in_process(backend, sweep_id, count, max_failures, grace_s, progress,
                               device=slots[0], run_timeout_s=run_timeout_s)
        return _children(processes, progress)


def _in_process(backend, sweep_id, count, max_failures, grace_s, progress, device,
                run_timeout_s) -> int:
    agent = Agent(backend, sweep_id, count=count, max_failures=max_failures, grace_s=grace_s,
                  device=device, echo=progress.echo, run_timeout_s=run_timeout_s)
    agent.check()
    agent.handle_signals()
    result: dict = {}

    def work():
        try:
            result["report"] = agent.run()
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            result["error"] = exc

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(0.25)
        progress.update()
    progress.update(force=True)
    if "error" in result:
        error = result["error"]
        if isinstance(error, TooManyFailures):
            progress.echo(f"sweeper: error: {error}")
            return 1
        raise error
    report = result["report"]
    progress.echo(f"agent done: {report.runs} runs ({report.reason})")
    return 130 if agent.interrupt.is_set() else 0


def _children(processes: list[AgentProcess], progress: ProgressReporter) -> int:
    procs: list[tuple[str, subprocess.Popen]] = []
    relays = []
    for process in processes:
        proc = subprocess.Popen(process.argv, env={**os.environ, **process.env},
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                bufsize=1, cwd=Path.cwd())
        procs.append((process.label, proc))
        relay = threading.Thread(target=_relay, args=(process.label, proc, progress),
                                 daemon=True)
        relay.start()
        relays.append(relay)
    received: list[int] = []

    def _forward(signum, _frame):
        # The same signal to the agents (Ctrl-C: runs are killed; SIGTERM: preempted, they
        # resume later); a second signal kills the agents.
        received.append(signum)
        sig = signum if len(received) == 1 else signal.SIGKILL
        for _, proc in procs:
            if proc.poll() is None:
                proc.send_signal(sig)

    previous = {s: signal.signal(s, _forward) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        while any(proc.poll() is None for _, proc in procs):
            time.sleep(0.25)
            progress.update()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    for relay in relays:
        relay.join(timeout=5)
    progress.update(force=True)
    codes = [proc.returncode for _, proc in procs]
    if received:
        return 130
    return 0 if all(c == 0 for c in codes) else 1


def _relay(label: str, proc: subprocess.Popen, progress: ProgressReporter) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        progress.echo(f"[{label}] {line.rstrip()}")


def run_worker(backend: Backend, sweep_id: str, count: int | None, max_failures: int,
               grace_s: float, run_timeout_s: float | None = None) -> int:
    """The body of one child agent process (``python -m sweeper.agent``)."""
    agent = Agent(backend, sweep_id, count=count, max_failures=max_failures, grace_s=grace_s,
                  device=os.environ.get("CUDA_VISIBLE_DEVICES"),
                  echo=lambda message: print(message, flush=True), run_timeout_s=run_timeout_s)
    agent.handle_signals()
    try:
        report = agent.run()
    except SpecError as exc:
        for line in exc.lines():
            print(f"sweeper: error: {line}", flush=True)
        return exc.exit_code
    except SweeperError as exc:
        print(f"sweeper: error: {exc}", flush=True)
        return exc.exit_code
    print(f"agent done: {report.runs} runs ({report.reason})", flush=True)
    return 130 if agent.interrupt.is_set() else 0

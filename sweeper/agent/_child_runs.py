"""The programs a function run starts: ``train()`` calling ``os.system("python train.py")`` or
``subprocess.run([...])``, as many W&B sweep scripts do.

Under ``wandb.agent`` such a child joins the run: WANDB_RUN_ID and WANDB_SWEEP_PARAM_PATH are in
its environment, so its ``wandb.init()`` is the sweep's run and what it logs counts. Here the
child gets the same variables and the wandb hook (``sweeper/_inject``), which writes what it logs
to the run's metrics file; ``ChildRelay`` reports those rows to the backend while the function
runs. When the backend says to stop the run (hyperband, cancel), the processes writing that file
get SIGTERM, which the hook turns into a clean end of their W&B run, as W&B's server stops a run
that polls it. The backend says so in its answer to a report, and, while the children log
nothing (a long epoch, a child still loading), when it is asked every ``STOP_POLL_S``.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from pathlib import Path

from ..backends import Backend
from ._metrics import MetricsTail

log = logging.getLogger(__name__)

POLL_S = 0.2  # how often the metrics file is looked at while the function runs
STOP_POLL_S = 1.0  # how often the backend is asked for a stop while the children log nothing


class ChildRelay:
    """Relay the rows that the run's child programs write, in a thread, until the block ends."""

    def __init__(self, backend: Backend, run_id: str, attempt: int, path: Path,
                 poll_s: float = POLL_S):
        self.backend, self.run_id, self.attempt, self.path = backend, run_id, attempt, path
        self.tail = MetricsTail(path)
        self.stopped: str | None = None  # why the backend stopped the run, once it did
        self._unsent: list[dict] = []
        self._done = threading.Event()
        self._poll_s = poll_s
        self._told: set[int] = set()  # the children sent SIGTERM, each once
        self._thread = threading.Thread(target=self._loop, name="sweeper-child-relay",
                                        daemon=True)

    def __enter__(self) -> ChildRelay:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._done.set()
        self._thread.join()
        self.relay()  # what the children wrote last; a backend failure here goes up

    @property
    def summary(self) -> dict:
        """The children's W&B summary over their last logged values ({} if none logged)."""
        return self.tail.merged_summary()

    def relay(self) -> None:
        """Report the rows written since the last call (kept for the next call if it fails)."""
        self._unsent += self.tail.read()
        if not self._unsent:
            return
        rows, self._unsent = self._unsent, []
        try:
            reason = self.backend.log(self.run_id, rows, attempt=self.attempt)
        except BaseException:
            self._unsent = rows + self._unsent
            raise
        if reason:
            self._stop(reason)

    def ask_for_a_stop(self) -> None:
        """Ask the backend whether the run must stop, and stop its children if so (a child
        that started after the first SIGTERM gets its own). The function's own process is no
        child: its stop comes at its next ``wandb.log``, and a run with no child to stop is
        left as it goes on."""
        reason = self.backend.stop_reason(self.run_id, attempt=self.attempt)
        if reason:
            self._stop(reason, only_if_told=True)

    def _stop(self, reason: str, only_if_told: bool = False) -> None:
        told = stop_writers(self.path, skip=self._told)
        self._told |= told
        if told or not only_if_told:
            self.stopped = self.stopped or reason

    def _loop(self) -> None:
        next_ask = time.monotonic() + STOP_POLL_S
        while not self._done.wait(self._poll_s):
            try:
                self.relay()
                if time.monotonic() >= next_ask:
                    self.ask_for_a_stop()
                    next_ask = time.monotonic() + STOP_POLL_S
            except Exception as exc:  # noqa: BLE001 - retried on the next look, and at the end
                log.warning("could not report run %s's rows yet: %s", self.run_id, exc)


def stop_writers(path: Path, skip: set[int] = frozenset()) -> set[int]:
    """Send SIGTERM to each other process that has ``path`` open (the run's programs, whose
    wandb hook holds it), except those in ``skip``; return those told. Linux only
    (``/proc``); elsewhere none."""
    target = str(Path(path).resolve())
    told: set[int] = set()
    try:
        pids = [int(p) for p in os.listdir("/proc")
                if p.isdigit() and int(p) != os.getpid() and int(p) not in skip]
    except OSError:
        return told
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
            if any(os.readlink(f"/proc/{pid}/fd/{fd}") == target for fd in fds):
                os.kill(pid, signal.SIGTERM)
                told.add(pid)
        except OSError:  # gone, or not ours to look at
            continue
    return told

"""Writers of one SQLite file take turns, fairly.

SQLite's busy handler polls for the write lock with sleeps that grow to 100 ms. Agents that hand
out and finish runs in a tight loop (programs that take milliseconds) take the lock back between
two polls, and a process that arrives then (an agent registering, a `sweeper pause`) can wait
past the retry window on a loaded machine. So sweeper's writers first take an exclusive flock on
a file beside the database: a waiter sleeps in the kernel and is woken when the holder lets go.
The turn is held for one write transaction; closing the file gives it up, and so does a process
that dies. Programs that write the file without the gate still meet SQLite's own lock.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SUFFIX = "-writers"  # beside SQLite's own -wal and -shm files


class WriteGate:
    """The turn to write ``database`` (a SQLite file)."""

    def __init__(self, database: Path):
        self.path = Path(f"{database}{SUFFIX}")

    @contextmanager
    def turn(self, timeout_s: float) -> Iterator[bool]:
        """Hold the turn for the ``with`` block; yields whether it was had. After
        ``timeout_s`` (or where the file cannot be made) the block runs without it, on
        SQLite's lock alone."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            yield False
            return
        taken, owned = _take(fd, timeout_s)
        try:
            yield taken
        finally:
            if owned:
                os.close(fd)  # gives the turn up


def _take(fd: int, timeout_s: float) -> tuple[bool, bool]:
    """(whether the turn was taken, whether the caller still owns ``fd``). A wait past the
    timeout is left to a thread, which lets the turn go as soon as it gets it."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True, True
    except BlockingIOError:
        pass
    except OSError:
        return False, True
    done = threading.Event()
    guard = threading.Lock()
    state = {"abandoned": False, "ok": False}

    def wait() -> None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            ok = True
        except OSError:
            ok = False
        with guard:
            if state["abandoned"]:
                os.close(fd)  # the caller went on without its turn: pass it on
                return
            state["ok"] = ok
            done.set()

    threading.Thread(target=wait, name="sweeper-write-gate", daemon=True).start()
    done.wait(timeout_s)
    with guard:
        if done.is_set():
            return state["ok"], True
        state["abandoned"] = True
        return False, False

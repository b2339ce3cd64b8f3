"""Storage errors that pass, retried below the backend protocol.

A SQLite lock held past the busy timeout, a dropped PostgreSQL connection, a server restarting
or down for a while: every transaction is retried from its start with backoff until the storage
answers again, for ``SWEEPER_STORAGE_RETRY_S`` seconds (default: the heartbeat timeout, 60 s).
Only then does the caller see :class:`StorageUnavailable`, one line. Anything else (a bad query,
a full disk, a read-only file) is not retried.
"""

from __future__ import annotations

import random
import sys
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from ..._duration import from_env
from ...errors import SweeperError

T = TypeVar("T")

# Words of the drivers' messages for conditions that pass (SQLite: another writer holds the
# lock; PostgreSQL: the server is away, restarting, or broke the connection).
_PASSING = (
    "database is locked", "database table is locked", "database is busy", "busy",
    "connection refused", "could not connect", "connection to server", "server closed",
    "terminating connection", "the database system is starting up",
    "the database system is shutting down", "the database system is in recovery mode",
    "connection is closed", "connection already closed", "ssl syscall error", "eof detected",
    "connection timeout", "timeout expired", "connection reset", "broken pipe",
    "no connection to the server", "server conn crashed", "admin shutdown",
    "could not serialize access", "deadlock detected", "cannot connect now",
    "consuming input failed", "sending query failed", "lost synchronization",
)

# ... and for conditions that do not pass, though the server's refusal comes on a "connection to
# server" line: a database or role that does not exist, a password or host refused.
_FINAL = ("does not exist", "password authentication failed", "no pg_hba.conf entry",
          "authentication failed", "permission denied")


SLOW_S = 1.0  # an operation that took longer waited for something (a lock): a gap


class StorageUnavailable(SweeperError):
    """The storage did not answer within the retry window."""


def is_passing(exc: BaseException) -> bool:
    """Whether a storage error is one that passes (worth retrying)."""
    if not isinstance(exc, (OperationalError, InterfaceError, DBAPIError)):
        return False
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    text = str(getattr(exc, "orig", None) or exc).lower()
    if "disk is full" in text or "readonly" in text or "read-only" in text:
        return False
    if any(word in text for word in _FINAL):
        return False
    return any(word in text for word in _PASSING)


def retry_window_s(default: float) -> float:
    """How long storage errors that pass are retried (SWEEPER_STORAGE_RETRY_S, else default)."""
    return from_env("SWEEPER_STORAGE_RETRY_S", default)


def first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class Retrying:
    """Runs a storage operation, retrying errors that pass with backoff within a window."""

    def __init__(self, window_s: float, where: str,
                 notify: Callable[[str], None] | None = None,
                 clock: Callable[[], float] = time.time):
        self.window_s = window_s
        self.clock = clock  # the storage's time, against which others' heartbeats are judged
        self.where = where
        self.notify = notify or (lambda message: print(message, file=sys.stderr, flush=True))
        self._local = threading.local()
        self.last_gap: tuple[float, float] | None = None  # (began, ended) of the last wait

    @property
    def since(self) -> float:
        """When the operation now running in this thread was first tried (before any wait for
        a lock or an outage)."""
        return getattr(self._local, "since", None) or self.clock()

    def silence_reference(self, timeout: float) -> float:
        """The time against which another agent's silence is judged: when this process began
        to wait for the storage (a lock, an outage), if it waited in the last ``timeout``
        seconds; the other agents' heartbeats waited just as long."""
        reference = self.since
        gap = self.last_gap
        if gap is not None and gap[1] > self.clock() - timeout:
            reference = min(reference, gap[0])
        return reference

    def __call__(self, operation: Callable[[], T], window_s: float | None = None) -> T:
        """``operation()`` until it succeeds, fails for good, or the window runs out.
        ``self.since`` (per thread) is the wall time of its first try."""
        window = self.window_s if window_s is None else window_s
        self._local.since = self.clock()
        began = time.monotonic()  # how long it took, whatever the clock does meanwhile
        deadline = None
        delay = 0.05
        told = False
        while True:
            try:
                result = operation()
            except Exception as exc:  # noqa: BLE001 - classified just below
                if not is_passing(exc):
                    raise
                now = time.monotonic()
                if deadline is None:
                    deadline = now + window
                if now >= deadline:
                    raise StorageUnavailable(
                        f"storage {self.where} did not answer for {window:.0f} s "
                        f"({first_line(exc)}); set SWEEPER_STORAGE_RETRY_S to wait longer"
                    ) from None
                if not told and now + 2.0 < deadline and delay >= 0.4:
                    self.notify(f"sweeper: storage {self.where}: {first_line(exc)}; retrying "
                                f"for up to {window:.0f} s")
                    told = True
                time.sleep(min(delay * (0.5 + random.random()), max(0.0, deadline - now)))
                delay = min(delay * 2, 2.0)
                continue
            took = time.monotonic() - began
            if deadline is not None or took > SLOW_S:
                self.last_gap = (self._local.since, self._local.since + took)
            if told:
                self.notify(f"sweeper: storage {self.where} answers again")
            return result

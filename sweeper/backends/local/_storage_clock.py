"""The storage's clock: the times a local backend stores, and compares with stored ones.

Agents judge each other by the clock: a run whose agent has not heartbeated for the heartbeat
timeout is reaped and requeued. Agents on several machines write their heartbeats with their own
clocks, so two machines whose clocks disagree by more than the timeout (no NTP, a VM resumed
from a snapshot) would reap each other's live runs, which then run twice. So on PostgreSQL each
process reads the server's clock (on the connection of a transaction, every few minutes) and
keeps its offset from its own: every machine then stores the server's time. A SQLite file lives
on one machine, whose clock it keeps.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import Connection, text

REMEASURE_S = 300.0  # clocks drift, and NTP may step one: read the server's again this often


class StorageClock:
    """This machine's clock plus its offset from the database server's."""

    def __init__(self, local: Callable[[], float] | None = None):
        self._local = local  # this machine's clock (time.time); a test hands in one that is off
        self.offset = 0.0
        self._measured_at: float | None = None

    def local(self) -> float:
        return (self._local or time.time)()

    def now(self) -> float:
        return self.local() + self.offset

    def measure(self, conn: Connection) -> None:
        """Read the server's clock on ``conn`` when it is due (PostgreSQL only)."""
        if conn.dialect.name != "postgresql":
            return
        if self._measured_at is not None and self.local() - self._measured_at < REMEASURE_S:
            return
        before = self.local()
        server = conn.execute(text("SELECT EXTRACT(EPOCH FROM clock_timestamp())")).scalar_one()
        after = self.local()
        self.offset = float(server) - (before + after) / 2
        self._measured_at = after

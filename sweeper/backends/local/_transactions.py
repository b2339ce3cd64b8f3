"""Transactions on a local backend's database: the engine opened on first use, reads and
writes retried whole while the storage fails passingly (see _retry), the per-sweep write lock,
and on a SQLite file, writers taking turns fairly (see _write_gate)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Connection, bindparam, select

from ..._duration import from_env
from ...errors import BadInput, UnknownSweep
from . import _handout
from . import _tables as t
from ._retry import Retrying, retry_window_s
from ._storage import busy_timeout_s, display_url, open_engine, parse_url
from ._storage_clock import StorageClock
from ._write_gate import WriteGate

DEFAULT_HEARTBEAT_TIMEOUT_S = 60.0

T = TypeVar("T")

# Every hand-out and report reads its sweep's row: statements built once (building one took
# longer than running it).
_SWEEP = select(t.sweeps).where(t.sweeps.c.id == bindparam("sweep"))
_SWEEP_LOCKED = _SWEEP.with_for_update()


class Transactions:
    """The database of a local backend: opened on first use, read and written in transactions
    that are retried whole while the storage fails passingly, sweeps locked for writing."""

    def __init__(self, storage: str | None = None, *, create: bool = True,
                 read_only: bool = False, heartbeat_timeout: float | None = None,
                 allow_memory: bool = False, notify: Callable[[str], None] | None = None,
                 clock: Callable[[], float] | None = None):
        parsed = parse_url(storage, allow_memory=allow_memory)
        self.url = parsed.render_as_string(hide_password=False)
        self.location = display_url(self.url)
        self.read_only = read_only
        self._open = lambda: open_engine(storage, create=create, read_only=read_only,
                                         allow_memory=allow_memory)
        self._engine = None
        database = parsed.database
        self._gate = (WriteGate(Path(database).absolute())
                      if parsed.get_backend_name() == "sqlite" and not read_only
                      and database not in (None, "", ":memory:") else None)
        self.heartbeat_timeout = heartbeat_timeout or from_env(
            "SWEEPER_HEARTBEAT_TIMEOUT", DEFAULT_HEARTBEAT_TIMEOUT_S, at_least=0.1)
        # The times stored and compared with stored ones (``clock``: this machine's, time.time)
        self.clock = StorageClock(clock)
        self.retrying = Retrying(retry_window_s(max(self.heartbeat_timeout, 60.0)),
                                 self.location, notify, clock=self.now)
        self._controller_runs = _handout.ControllerRuns()
        self._fit_memory: dict[tuple[str, str], dict] = {}  # gp's last kernel, per agent

    @property
    def engine(self):
        """The database, opened on first use (a dry run plans without touching it)."""
        if self._engine is None:
            self._engine = self._open()
        return self._engine

    def open(self):
        """Open the database now (its problems surface here); returns self."""
        self.engine  # noqa: B018
        return self

    # --- transactions ------------------------------------------------------------------------

    def _write(self, body: Callable[[Connection], T]) -> T:
        """``body`` in one write transaction, retried whole while the storage fails passingly."""
        if self.read_only:
            raise BadInput(f"{self.location} is open read-only")

        def attempt() -> T:
            with self._turn(), \
                    self.engine.connect().execution_options(sqlite_immediate=True) as conn, \
                    conn.begin():
                self.clock.measure(conn)
                return body(conn)

        return self.retrying(attempt)

    def _turn(self):
        """This writer's turn at a SQLite file (nothing to take on PostgreSQL)."""
        if self._gate is None:
            return contextlib.nullcontext()
        return self._gate.turn(busy_timeout_s())

    def _read(self, body: Callable[[Connection], T]) -> T:
        def attempt() -> T:
            with self.engine.connect() as conn, conn.begin():
                self.clock.measure(conn)
                return body(conn)

        return self.retrying(attempt)

    @contextmanager
    def _transaction(self, write: bool = False) -> Iterator[Connection]:
        """One transaction outside the retry, for benchmarks and tests that seed records."""
        options = {"sqlite_immediate": True} if write else {}
        with self._turn() if write else contextlib.nullcontext(), \
                self.engine.connect().execution_options(**options) as conn, conn.begin():
            yield conn

    def _lock_sweep(self, conn: Connection, sweep_id: str):
        row = conn.execute(_SWEEP_LOCKED, {"sweep": sweep_id}).mappings().first()
        if row is None:
            raise UnknownSweep(f"no sweep {sweep_id!r} in {self.location}")
        return row

    def now(self) -> float:
        """The storage's time (see _storage_clock): what every time stored is taken from."""
        return self.clock.now()

    def _deadline(self) -> float:
        return self.now() - self.heartbeat_timeout

    def _sweep_row(self, conn: Connection, sweep_id: str):
        row = conn.execute(_SWEEP, {"sweep": sweep_id}).mappings().first()
        if row is None:
            raise UnknownSweep(f"no sweep {sweep_id!r} in {self.location}")
        return row

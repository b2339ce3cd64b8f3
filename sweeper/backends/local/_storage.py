"""Opening the local backend's database: a storage URL to an engine, with the schema checked.

SQLite by default (``.sweeper/sweeper.db`` under the working directory); PostgreSQL by URL.
Writes take the per-sweep lock: on SQLite every write transaction is ``BEGIN IMMEDIATE`` (one
writer at a time, with a busy timeout), on PostgreSQL the sweep's row is locked ``FOR UPDATE``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DatabaseError, OperationalError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from ...errors import StorageError
from . import _tables as t

DEFAULT_STORAGE = ".sweeper/sweeper.db"
BUSY_TIMEOUT_S = 60


def resolve_url(storage: str | None) -> str:
    """A SQLAlchemy URL for ``--storage`` / ``SWEEPER_STORAGE`` / the default SQLite file.

    A plain path means a SQLite file; ``postgresql://`` uses the psycopg 3 driver.

    >>> resolve_url("runs.db")
    'sqlite:///runs.db'
    >>> resolve_url("postgresql://postgres@127.0.0.1/sweeper")
    'postgresql+psycopg://postgres@127.0.0.1/sweeper'
    """
    storage = storage or os.environ.get("SWEEPER_STORAGE") or DEFAULT_STORAGE
    if "://" not in storage:
        return f"sqlite:///{storage}"
    if re.match(r"^postgres(ql)?://", storage):
        return re.sub(r"^postgres(ql)?://", "postgresql+psycopg://", storage)
    return storage


def display_url(url: str) -> str:
    """The URL with any password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def open_engine(storage: str | None, create: bool = True) -> Engine:
    """An engine on the storage, its schema created or checked; StorageError when unusable."""
    url = resolve_url(storage)
    shown = display_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StorageError(f"storage URL {shown!r} is not a database URL "
                           "(a file path, sqlite:///FILE or postgresql://...)") from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise StorageError(f"storage {shown!r}: only SQLite and PostgreSQL are supported")
    if parsed.get_backend_name() == "sqlite":
        engine = _sqlite_engine(parsed, create)
    else:
        try:
            engine = create_engine(url, pool_pre_ping=True, pool_size=2, max_overflow=4)
        except (SQLAlchemyError, ImportError) as exc:
            raise StorageError(f"cannot open storage {shown}: {_first_line(exc)}") from None
    _check_schema(engine, shown, create)
    return engine


def _sqlite_engine(parsed, create: bool) -> Engine:
    database = parsed.database
    if database and database != ":memory:":
        path = Path(database)
        if path.is_dir():
            raise StorageError(f"storage {database} is a directory, not a database file")
        if not path.exists():
            if not create:
                raise StorageError(f"no sweeper database at {database}; create a sweep first "
                                   "(sweeper create FILE) or point --storage at one")
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StorageError(f"cannot create {path.parent}: {exc.strerror}") from None
    # Pooled connections hold no lock while idle (every transaction commits or rolls back);
    # an in-memory database keeps one connection, or it would vanish between transactions.
    pool = {"poolclass": StaticPool} if database in (None, "", ":memory:") else {"pool_size": 2}
    engine = create_engine(parsed, **pool,
                           connect_args={"timeout": BUSY_TIMEOUT_S, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_S * 1000}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA synchronous = NORMAL")
        # WAL lets readers go on while one writer holds the lock (persistent once set).
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        immediate = conn.get_execution_options().get("sqlite_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _check_schema(engine: Engine, shown: str, create: bool) -> None:
    try:
        with engine.connect() as conn:
            names = set(inspect(conn).get_table_names())
            if t.meta.name in names:
                rows = dict(conn.execute(select(t.meta.c.key, t.meta.c.value)).all())
                if rows.get("app") != t.APP:
                    raise StorageError(f"{shown} is not a sweeper database")
                version = int(rows.get("schema_version", "0"))
                if version != t.SCHEMA_VERSION:
                    raise StorageError(
                        f"{shown} holds sweeper schema version {version}; this sweeper reads "
                        f"version {t.SCHEMA_VERSION} (use a matching sweeper, or a new storage)")
                return
            ours = {table.name for table in t.metadata.sorted_tables}
            if names - ours:
                raise StorageError(f"{shown} is not a sweeper database (it holds other tables: "
                                   f"{', '.join(sorted(names - ours)[:3])})")
        if not create:
            raise StorageError(f"{shown} holds no sweeper database")
        _create(engine)
    except StorageError:
        raise
    except (OperationalError, DatabaseError) as exc:
        raise StorageError(f"cannot open storage {shown}: {_first_line(exc)}") from None


def _create(engine: Engine) -> None:
    with engine.connect().execution_options(sqlite_immediate=True) as conn, conn.begin():
        t.metadata.create_all(conn, checkfirst=True)
        existing = dict(conn.execute(select(t.meta.c.key, t.meta.c.value)).all())
        if not existing:
            conn.execute(t.meta.insert(), [{"key": "app", "value": t.APP},
                                           {"key": "schema_version",
                                            "value": str(t.SCHEMA_VERSION)}])


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__

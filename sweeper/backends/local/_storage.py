"""Opening the local backend's database: a storage URL to an engine, with the schema checked.

SQLite by default (``.sweeper/sweeper.db`` under the working directory); PostgreSQL by URL.
Writes take the per-sweep lock: on SQLite every write transaction is ``BEGIN IMMEDIATE`` (one
writer at a time, with a busy timeout), on PostgreSQL the sweep's row is locked ``FOR UPDATE``.

Readers never write: a read-only open sets no journal mode and creates nothing, and where the
file cannot be written (a read-only file or mount) SQLite opens it read-only, or immutable.
A new database file and its folder are made private (0600, 0700): they hold configs and results.
"""

from __future__ import annotations

import os
import re
import time
import urllib.parse
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect, select, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DatabaseError, OperationalError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from ..._duration import from_env
from ...errors import StorageError
from . import _tables as t
from ._retry import Retrying, StorageUnavailable, first_line, is_passing, retry_window_s

DEFAULT_STORAGE = ".sweeper/sweeper.db"
BUSY_TIMEOUT_S = 30  # SQLite waits this long for another writer's lock, then the retry goes on


def default_storage() -> str:
    """The workspace's SQLite file (``.sweeper/sweeper.db``, see ``sweeper.workspace``)."""
    from ... import workspace

    return str(workspace.folder() / "sweeper.db")


def busy_timeout_s() -> float:
    return from_env("SWEEPER_SQLITE_BUSY_TIMEOUT_S", BUSY_TIMEOUT_S, at_least=0.1)


OPEN_RETRY_S = 10.0  # a storage that does not answer when a command starts: fail soon


def resolve_url(storage: str | None) -> str:
    """A SQLAlchemy URL for ``--storage`` / ``SWEEPER_STORAGE`` / the default SQLite file.

    A plain path means a SQLite file; ``postgresql://`` uses the psycopg 3 driver.

    >>> resolve_url("runs.db")
    'sqlite:///runs.db'
    >>> resolve_url("postgresql://postgres@127.0.0.1/sweeper")
    'postgresql+psycopg://postgres@127.0.0.1/sweeper'
    """
    storage = storage or os.environ.get("SWEEPER_STORAGE") or default_storage()
    if "://" not in storage:
        return f"sqlite:///{storage}"
    if re.match(r"^postgres(ql)?://", storage):
        return re.sub(r"^postgres(ql)?://", "postgresql+psycopg://", storage)
    return storage


def display_url(url: str) -> str:
    """The URL with any password hidden.

    >>> display_url("postgresql+psycopg://me:secret@db/sweeps")
    'postgresql+psycopg://me:***@db/sweeps'
    """
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return re.sub(r"(://[^:/@]*):[^@]*@", r"\1:***@", url)


def parse_url(storage: str | None, *, allow_memory: bool = False) -> URL:
    """The storage as a SQLAlchemy URL; StorageError (bad input) naming what is wrong."""
    url = resolve_url(storage)
    shown = display_url(url)
    try:
        parsed = make_url(url)
        port = parsed.port  # a port that is no number fails here
    except (ArgumentError, ValueError) as exc:
        raise StorageError(f"storage URL {shown!r} is not a database URL ({first_line(exc)}); "
                           "give a file path, sqlite:///FILE or postgresql://USER@HOST/DB"
                           ) from None
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise StorageError(f"storage {shown!r}: only SQLite and PostgreSQL are supported")
    if port is not None and not 0 < port < 65536:
        raise StorageError(f"storage {shown!r}: port {port} is not a TCP port (1-65535)")
    if backend == "sqlite" and parsed.database in (None, "", ":memory:") and not allow_memory:
        raise StorageError(f"storage {shown!r} is an in-memory database, gone when the command "
                           "ends (and invisible to the agents); give a file: a path or "
                           "sqlite:///FILE")
    return parsed


def open_engine(storage: str | None, *, create: bool = True, read_only: bool = False,
                allow_memory: bool = False) -> Engine:
    """An engine on the storage, its schema created, upgraded or checked.

    ``create``: make the database if there is none. ``read_only``: never write (no schema
    change, no journal mode; a file that cannot be written is opened read-only or immutable).
    StorageError when the storage is unusable; StorageUnavailable when it does not answer.
    """
    parsed = parse_url(storage, allow_memory=allow_memory)
    shown = display_url(parsed.render_as_string(hide_password=False))
    if parsed.get_backend_name() == "sqlite":
        engine = _sqlite_engine(parsed, create=create and not read_only, read_only=read_only)
    else:
        try:
            engine = create_engine(parsed, pool_pre_ping=True, pool_size=2, max_overflow=4,
                                   connect_args={"connect_timeout": 10},
                                   hide_parameters=True)
        except (SQLAlchemyError, ImportError) as exc:
            raise StorageError(f"cannot open storage {shown}: {first_line(exc)}") from None
        if read_only:
            @event.listens_for(engine, "connect")
            def _read_only_session(dbapi_connection, _record):
                with dbapi_connection.cursor() as cursor:
                    cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
                dbapi_connection.commit()
    retrying = Retrying(min(OPEN_RETRY_S, retry_window_s(OPEN_RETRY_S)), shown,
                        notify=lambda _message: None)  # one line in the end, if it fails
    try:
        retrying(lambda: _check_schema(engine, shown, create=create and not read_only,
                                       read_only=read_only))
    except StorageUnavailable as exc:
        engine.dispose()
        raise StorageUnavailable(str(exc).replace(f"storage {shown} did not answer",
                                                  f"cannot reach storage {shown}: no answer")
                                 ) from None
    except BaseException:
        engine.dispose()
        raise
    return engine


def _sqlite_engine(parsed: URL, *, create: bool, read_only: bool) -> Engine:
    database = parsed.database
    memory = database in (None, "", ":memory:")
    if not memory:
        _check_sqlite_file(Path(database), create=create)
    busy = busy_timeout_s()
    connect_args = {"timeout": busy, "check_same_thread": False}
    url = parsed
    if read_only and not memory:
        url, connect_args["uri"] = _read_only_uri(Path(database), busy), True
    # Pooled connections hold no lock while idle (every transaction commits or rolls back);
    # an in-memory database keeps one connection, or it would vanish between transactions.
    pool = {"poolclass": StaticPool} if memory else {"pool_size": 2}
    engine = create_engine(url, **pool, connect_args=connect_args)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy * 1000)}")
        cursor.execute("PRAGMA foreign_keys = ON")
        if read_only:
            cursor.execute("PRAGMA query_only = ON")
        else:
            cursor.execute("PRAGMA synchronous = NORMAL")
            # WAL lets readers go on while one writer holds the lock (persistent once set).
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        immediate = conn.get_execution_options().get("sqlite_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate and not read_only else "BEGIN")

    return engine


def _check_sqlite_file(path: Path, *, create: bool) -> None:
    """The database file exists (or is made now, private); an existing empty file is refused."""
    if path.is_dir():
        raise StorageError(f"storage {path} is a directory, not a database file")
    if path.exists():
        _wait_while_being_made(path)
        if path.stat().st_size == 0 and not _made_by_us(path):
            raise StorageError(f"storage {path} is an empty file, not a sweeper database; "
                               "remove it or point --storage at another file")
        return
    if not create:
        raise StorageError(f"no sweeper database at {path}; create a sweep first "
                           "(sweeper create FILE) or point --storage at one")
    try:
        if not path.parent.exists():
            path.parent.mkdir(parents=True, mode=0o700)
        descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        os.close(descriptor)
    except FileExistsError:  # another process made it just now: it is a database being made
        return
    except OSError as exc:
        raise StorageError(f"cannot create {path}: {exc.strerror}") from None
    _MADE.add(str(path.resolve()))


_MADE: set[str] = set()  # database files this process created (empty until the schema is in)


def _made_by_us(path: Path) -> bool:
    return str(path.resolve()) in _MADE


_BEING_MADE_S = 30.0  # a file younger than this may be a database another process is making
_BEING_MADE_WAIT_S = 5.0


def _wait_while_being_made(path: Path) -> None:
    """Wait a little while ``path`` looks like a database another process is making right now
    (young, not ours, no table yet), so that a reader started beside ``sweeper run``
    does not find it empty. An old file is taken as it is."""
    if _made_by_us(path):
        return
    import sqlite3

    deadline = time.monotonic() + _BEING_MADE_WAIT_S
    uri = f"file:{urllib.parse.quote(str(path.resolve()))}?mode=ro"
    while time.monotonic() < deadline:
        try:
            if time.time() - path.stat().st_mtime > _BEING_MADE_S:
                return
            probe = sqlite3.connect(uri, uri=True, timeout=1.0)
            try:
                if probe.execute("SELECT 1 FROM sqlite_master").fetchone():
                    return  # the schema goes in as one transaction: any table means it is in
            finally:
                probe.close()
        except (OSError, sqlite3.Error):
            return  # not a database being made: the checks that follow say what it is
        time.sleep(0.05)


def _read_only_uri(path: Path, busy: float) -> str:
    """A read-only SQLite URI: ``mode=ro`` where SQLite can open the file so (it needs its
    shared-memory file next to a WAL database), else ``immutable=1``: a read-only mount or a
    full disk, where nothing can change the file anyway."""
    import sqlite3

    quoted = urllib.parse.quote(str(path.resolve()))
    plain = f"file:{quoted}?mode=ro"
    try:
        probe = sqlite3.connect(plain, uri=True, timeout=busy)
        try:
            probe.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            probe.close()
        return f"sqlite:///{plain}&uri=true"
    except sqlite3.OperationalError:
        return f"sqlite:///file:{quoted}?immutable=1&uri=true"


def _check_schema(engine: Engine, shown: str, *, create: bool, read_only: bool) -> None:
    try:
        with engine.connect() as conn:
            names = set(inspect(conn).get_table_names())
            if t.meta.name in names:
                rows = dict(conn.execute(select(t.meta.c.key, t.meta.c.value)).all())
                if rows.get("app") != t.APP:
                    raise StorageError(f"{shown} is not a sweeper database")
                version = int(rows.get("schema_version", "0"))
                if version == t.SCHEMA_VERSION:
                    return
                if version in t.MIGRATIONS and not read_only:
                    conn.rollback()
                    _upgrade(engine, version)
                    return
                if read_only and _tables_only(version):
                    return  # what the later versions add are tables that reads never touch
                hint = (" (a command that writes, such as `sweeper agent`, upgrades it)"
                        if version in t.MIGRATIONS else " (use a matching sweeper, or a new storage)")
                raise StorageError(f"{shown} holds sweeper schema version {version}; this "
                                   f"sweeper reads version {t.SCHEMA_VERSION}{hint}")
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
        if is_passing(exc):
            raise
        raise StorageError(f"cannot open storage {shown}: {first_line(exc)}") from None


def _tables_only(version: int) -> bool:
    """Whether the versions after ``version`` only add tables (no statement to run)."""
    steps = range(version, t.SCHEMA_VERSION)
    return all(step in t.MIGRATIONS and not t.MIGRATIONS[step] for step in steps)


def _create(engine: Engine) -> None:
    with engine.connect().execution_options(sqlite_immediate=True) as conn, conn.begin():
        t.metadata.create_all(conn, checkfirst=True)
        existing = dict(conn.execute(select(t.meta.c.key, t.meta.c.value)).all())
        if not existing:
            conn.execute(t.meta.insert(), [{"key": "app", "value": t.APP},
                                           {"key": "schema_version",
                                            "value": str(t.SCHEMA_VERSION)}])


def _upgrade(engine: Engine, version: int) -> None:
    """Bring an older schema to the current one, in one transaction."""
    with engine.connect().execution_options(sqlite_immediate=True) as conn, conn.begin():
        current = conn.execute(select(t.meta.c.value).where(t.meta.c.key == "schema_version")
                               ).scalar_one()
        if int(current) != version:  # another process upgraded it meanwhile
            return
        for step in range(version, t.SCHEMA_VERSION):
            for statement in t.MIGRATIONS[step]:
                conn.execute(text(statement))
        t.metadata.create_all(conn, checkfirst=True)  # tables the new version adds
        conn.execute(t.meta.update().where(t.meta.c.key == "schema_version")
                     .values(value=str(t.SCHEMA_VERSION)))

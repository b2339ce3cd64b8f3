"""Reliability under load and faults: locks held past every timeout, a PostgreSQL outage,
runs that end every possible way, read-only and full storage, storage URLs that are wrong."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from sweeper import spec
from sweeper.backends import Assignment, open_backend
from sweeper.errors import StorageError

from .conftest import ROOT, sweeper_process, wait_for

PROGRAMS = ROOT / "tests" / "programs"


_wait_for = wait_for


class LockHolder(threading.Thread):
    """Holds the sweep's write lock (SQLite: the database's; PostgreSQL: the sweep's row) for
    ``seconds``, from another connection, as a slow or stuck writer would."""

    def __init__(self, storage: str, sweep_id: str, seconds: float):
        super().__init__(daemon=True)
        self.storage, self.sweep_id, self.seconds = storage, sweep_id, seconds
        self.holding = threading.Event()

    def run(self) -> None:
        if self.storage.startswith("sqlite"):
            conn = sqlite3.connect(self.storage.removeprefix("sqlite:///"), isolation_level=None)
            conn.execute("BEGIN IMMEDIATE")
            self.holding.set()
            time.sleep(self.seconds)
            conn.execute("COMMIT")
            conn.close()
        else:
            import psycopg

            with psycopg.connect(self.storage) as conn:
                conn.execute("SELECT 1 FROM sweeper_sweeps WHERE id = %s FOR UPDATE",
                             (self.sweep_id,))
                self.holding.set()
                time.sleep(self.seconds)


def _slow_grid(backend, values, steps=20, delay=0.05, **keys):
    return backend.create_sweep(spec.validate({
        "program": "slow_steps.py", "method": "grid",
        "metric": {"name": "loss", "goal": "minimize"},
        "parameters": {"x": {"values": values}, "steps": {"value": steps},
                       "delay": {"value": delay}}, **keys}))


# --- time is taken after the lock; reaping is by the run's own agent's heartbeats ------------

def test_a_run_is_not_reaped_because_its_agent_waited_for_the_lock(storage, monkeypatch):
    """Agent A heartbeats, then every writer waits behind a lock held past the heartbeat
    timeout. Agent B's hand-out, next in, must not call A's run dead: A's heartbeats waited for
    the same lock."""
    monkeypatch.setenv("SWEEPER_HEARTBEAT_TIMEOUT", "1")
    backend = open_backend(storage)
    sweep = _slow_grid(backend, [1, 2, 3])
    a = backend.register_agent(sweep.id, "a", 1, None)
    first = backend.next_run(sweep.id, a)
    backend.heartbeat(a)
    b = backend.register_agent(sweep.id, "b", 2, None)
    holder = LockHolder(storage, sweep.id, 2.5)
    holder.start()
    holder.holding.wait(10)
    got: list = []
    waiter = threading.Thread(target=lambda: got.append(open_backend(storage).next_run(
        sweep.id, b)))
    waiter.start()
    waiter.join(60)
    holder.join(60)
    assert isinstance(got[0], Assignment) and got[0].run_id != first.run_id
    backend.heartbeat(a)  # A's heartbeat that waited for the lock lands
    run = {r.id: r for r in backend.runs(sweep.id)}[first.run_id]
    assert run.state == "running" and run.attempt == 1
    assert backend.log(first.run_id, [{"loss": 1.0}], attempt=1) is None  # not superseded


def test_a_sqlite_lock_held_past_the_busy_timeout_does_not_kill_the_agent(tmp_path):
    storage = f"sqlite:///{tmp_path / 'db.sqlite'}"
    backend = open_backend(storage)
    sweep = _slow_grid(backend, [1, 2], steps=30, delay=0.05)
    env = {**os.environ, "SWEEPER_STORAGE": storage, "SWEEPER_SQLITE_BUSY_TIMEOUT_S": "0.3",
           "WANDB_SILENT": "true"}
    for program in PROGRAMS.glob("*.py"):
        (tmp_path / program.name).write_text(program.read_text())
    agent = subprocess.Popen([sys.executable, "-m", "sweeper.agent", sweep.id], cwd=tmp_path,
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    _wait_for(lambda: any(r.steps >= 3 for r in backend.runs(sweep.id)), what="steps")
    for _ in range(3):  # three locks of 2 s each, well past the 0.3 s busy timeout
        holder = LockHolder(storage, sweep.id, 2.0)
        holder.start()
        holder.join(60)
    out, _ = agent.communicate(timeout=180)
    assert agent.returncode == 0, out
    assert "Traceback" not in out and "database is locked" not in out.split("retrying")[-1]
    runs = backend.runs(sweep.id, history=True)
    assert [(r.state, r.steps, len(r.history)) for r in runs] == [("finished", 30, 30)] * 2


# --- an outage of the PostgreSQL server ------------------------------------------------------

@pytest.fixture
def private_postgres():
    from .private_postgres import PrivateCluster, binaries

    if binaries() is None:
        if os.environ.get("SWEEPER_REQUIRE_POSTGRES") == "1":
            pytest.fail("PostgreSQL's server binaries are required but not installed")
        pytest.skip("PostgreSQL's server (initdb, pg_ctl) is not installed")
    with PrivateCluster() as cluster:
        yield cluster


@pytest.mark.postgres
def test_agents_ride_out_a_postgresql_outage_longer_than_the_heartbeat_timeout(
        private_postgres, tmp_path):
    """Two agents; the server goes away for 8 s (the heartbeat timeout is 4 s) in the middle of
    their runs. No agent dies, no run is reaped or lost, every step reported is stored."""
    storage = private_postgres.url
    backend = open_backend(storage)
    sweep = _slow_grid(backend, [1, 2, 3], steps=60, delay=0.1)
    for program in PROGRAMS.glob("*.py"):
        (tmp_path / program.name).write_text(program.read_text())
    env = {**os.environ, "SWEEPER_STORAGE": storage, "SWEEPER_HEARTBEAT_TIMEOUT": "4",
           "WANDB_SILENT": "true"}
    agents = subprocess.Popen([str(Path(sys.executable).with_name("sweeper")), "agent",
                               sweep.id, "--workers", "2"], cwd=tmp_path, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    _wait_for(lambda: sum(r.steps for r in backend.runs(sweep.id)) >= 10, what="steps")
    backend.engine.dispose()
    private_postgres.stop()
    time.sleep(8)  # the outage itself
    private_postgres.start()
    out, _ = agents.communicate(timeout=240)
    assert agents.returncode == 0, out
    assert "retrying" in out and "answers again" in out
    runs = open_backend(storage).runs(sweep.id, history=True)
    assert [(r.state, r.attempt, r.steps, len(r.history)) for r in runs] == [
        ("finished", 1, 60, 60)] * 3, out
    for run in runs:
        assert [row["loss"] for row in run.history] == [
            run.params["x"] + 1.0 / (step + 1) for step in range(60)]


# --- whatever way a run ends, what it reported is kept ---------------------------------------

@pytest.mark.parametrize("ending", ["stopped", "crashed", "killed", "failed"])
def test_every_ending_keeps_the_history_and_the_summary(storage, ending):
    backend = open_backend(storage)
    sweep = backend.create_sweep({"program": "x.py", "method": "grid", "metric": {
        "name": "loss", "goal": "minimize"}, "parameters": {"x": {"values": [1, 2]}}},
        max_resumes=0)
    agent = backend.register_agent(sweep.id, "h", 1, None)
    run = backend.next_run(sweep.id, agent)
    backend.log(run.run_id, [{"loss": 3.0, "acc": 0.1}, {"loss": 2.0, "acc": 0.2}])
    if ending == "crashed":  # its agent went silent: a writer reaps it
        quick = open_backend(storage)
        quick.heartbeat_timeout = 0.01
        time.sleep(0.05)
        quick.next_run(sweep.id, quick.register_agent(sweep.id, "other", 2, None))
    elif ending == "stopped":
        backend.finish_run(run.run_id, "stopped", None, -15, stop_reason="hyperband: below")
    else:
        backend.finish_run(run.run_id, ending, None, 1 if ending == "failed" else -9)
    (recorded,) = [r for r in backend.runs(sweep.id, history=True) if r.id == run.run_id]
    assert recorded.state == ending
    assert recorded.steps == 2 and [h["loss"] for h in recorded.history] == [3.0, 2.0]
    assert recorded.summary == {"loss": 2.0, "acc": 0.2} and recorded.metric_value == 2.0
    from sweeper import analysis

    df = analysis.runs(sweep.id, backend=backend)
    row = df[df["name"] == run.name].iloc[0]
    assert row["metric_value"] == 2.0 and row["summary.acc"] == 0.2
    if ending == "stopped":  # stopped runs rank by their summary, as on W&B
        assert list(analysis.rank(df)["mean"]) == [2.0]


# --- reading never writes --------------------------------------------------------------------

def _finished_sweep(folder: Path) -> tuple[str, str]:
    storage = f"sqlite:///{folder / 'db.sqlite'}"
    backend = open_backend(storage)
    sweep = backend.create_sweep({"name": "ro", "program": "x.py", "method": "grid", "metric": {
        "name": "loss", "goal": "minimize"}, "parameters": {"x": {"values": [1, 2, 3]}}})
    agent = backend.register_agent(sweep.id, "h", 1, None)
    for i in range(3):
        run = backend.next_run(sweep.id, agent)
        backend.log(run.run_id, [{"loss": 3.0 - i}])
        backend.finish_run(run.run_id, "finished", None, 0)
    backend.engine.dispose()  # the last connection closed: SQLite folds its WAL back in
    return storage, sweep.id


def _reads_work(folder: Path, storage: str, sweep_id: str) -> None:
    env = {"SWEEPER_STORAGE": storage, "SWEEPER_REGISTRY": str(folder / "registry")}
    plots = Path(os.environ.get("TMPDIR", "/tmp")) / f"plots-{os.getpid()}-{sweep_id}"
    for args in (["status", sweep_id], ["results", sweep_id], ["sweeps"],
                 ["results", sweep_id, "--format", "json"], ["plot", sweep_id, "--out", plots],
                 ["registry", "list"]):
        done = sweeper_process(*args, cwd=folder.parent, env=env)
        assert done.returncode == 0, (args, done.stderr)
        assert "Traceback" not in done.stderr
    status = sweeper_process("status", sweep_id, cwd=folder.parent, env=env)
    assert "runs: 3/3 (3 finished)" in status.stdout and "best: loss = 1" in status.stdout
    paused = sweeper_process("pause", sweep_id, cwd=folder.parent, env=env)
    assert paused.returncode != 0 and paused.stderr.count("\n") == 1  # writing: one line


def _mount_tmpfs(where: Path, size: str = "8m") -> bool:
    where.mkdir(parents=True, exist_ok=True)
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                          capture_output=True).returncode == 0


def _fill_disk(folder: Path) -> None:
    """Fill the file system of ``folder`` to its last byte."""
    try:
        with open(folder / "filler", "wb", buffering=0) as filler:
            while True:
                filler.write(b"\0" * 4096)
    except OSError:
        pass


def test_reading_commands_work_on_a_read_only_mount(tmp_path):
    mount = tmp_path / "ro"
    if not _mount_tmpfs(mount):
        pytest.skip("cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN)")
    try:
        storage, sweep_id = _finished_sweep(mount)
        assert subprocess.run(["mount", "-o", "remount,ro", str(mount)]).returncode == 0
        _reads_work(mount, storage, sweep_id)
    finally:
        subprocess.run(["umount", "-l", str(mount)])


def test_reading_commands_work_on_an_immutable_file(tmp_path):
    folder = tmp_path / "imm"
    folder.mkdir()
    storage, sweep_id = _finished_sweep(folder)
    files = [p for p in folder.iterdir() if p.name.startswith("db.sqlite")]
    if subprocess.run(["chattr", "+i", *map(str, files), str(folder)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot set the immutable attribute here (chattr +i)")
    try:
        _reads_work(folder, storage, sweep_id)
    finally:
        subprocess.run(["chattr", "-i", *map(str, files), str(folder)])


def test_reading_commands_work_on_a_full_disk(tmp_path):
    mount = tmp_path / "full"
    if not _mount_tmpfs(mount, "4m"):
        pytest.skip("cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN)")
    try:
        storage, sweep_id = _finished_sweep(mount)
        _fill_disk(mount)
        _reads_work(mount, storage, sweep_id)
    finally:
        subprocess.run(["umount", "-l", str(mount)])


# --- storage URLs and files -------------------------------------------------------------------

@pytest.mark.parametrize("url,words", [
    ("postgresql://u@localhost:notaport/db", "is not a database URL"),
    ("postgresql://u@localhost:99999/db", "port 99999 is not a TCP port"),
    ("sqlite://", "is an in-memory database"),
    ("sqlite:///:memory:", "is an in-memory database"),
    ("mysql://u@h/db", "only SQLite and PostgreSQL"),
])
def test_a_malformed_storage_url_is_bad_input(run_cli, tmp_path, url, words):
    path = tmp_path / "s.yaml"
    path.write_text("program: x.py\nmethod: grid\nparameters:\n  x: {values: [1]}\n")
    for args in (["create", path], ["status", "abc"], ["sweeps"]):
        done = run_cli(*args, "--storage", url)
        assert done.code == 2, (args, done.err)
        assert done.err.count("\n") == 1 and words in done.err


@pytest.mark.postgres
@pytest.mark.parametrize("what", ["database", "role"])
def test_a_postgresql_database_or_role_that_does_not_exist_fails_at_once(run_cli, tmp_path,
                                                                         postgres_url, what):
    """The server answers, and says no: nothing to wait for (no 10 s of retries), one line."""
    base, database = postgres_url.rsplit("/", 1)
    url = (f"{base}/no_such_database" if what == "database"
           else base.replace("://postgres@", "://no_such_role@") + f"/{database}")
    path = tmp_path / "s.yaml"
    path.write_text("program: x.py\nmethod: grid\nparameters:\n  x: {values: [1]}\n")
    start = time.monotonic()
    done = run_cli("create", path, "--storage", url)
    assert time.monotonic() - start < 5.0
    assert done.code == 2 and done.err.count("\n") == 1, done.err  # the URL is wrong
    assert f'{what} "no_such_{what}" does not exist' in done.err


def test_an_existing_empty_file_never_becomes_a_database(tmp_path, run_cli):
    empty = tmp_path / "notes.db"
    empty.write_bytes(b"")
    an_hour_ago = time.time() - 3600  # a fresh empty file may be a database being made
    os.utime(empty, (an_hour_ago, an_hour_ago))
    path = tmp_path / "s.yaml"
    path.write_text("program: x.py\nmethod: grid\nparameters:\n  x: {values: [1]}\n")
    done = run_cli("create", path, "--storage", str(empty))
    assert done.code == 2 and "is an empty file, not a sweeper database" in done.err
    assert empty.stat().st_size == 0
    with pytest.raises(StorageError, match="empty file"):
        open_backend(str(empty))


def test_a_new_database_and_its_folder_are_private(tmp_path):
    open_backend(str(tmp_path / "fresh" / "sweeper.db")).create_sweep(
        {"program": "x.py", "method": "grid", "parameters": {"x": {"values": [1]}}})
    assert (tmp_path / "fresh").stat().st_mode & 0o777 == 0o700
    for file in (tmp_path / "fresh").iterdir():
        assert file.stat().st_mode & 0o077 == 0, file


def test_a_run_whose_folder_cannot_be_written_fails_with_the_os_reason(tmp_path):
    runs = tmp_path / ".sweeper" / "runs"
    if not _mount_tmpfs(runs, "64k"):
        pytest.skip("cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN)")
    try:
        _fill_disk(runs)
        (tmp_path / "t.py").write_text("print('never started')\n")
        (tmp_path / "s.yaml").write_text("program: t.py\nmethod: grid\n"
                                         "parameters:\n  x: {values: [1]}\n")
        done = sweeper_process("run", tmp_path / "s.yaml", cwd=tmp_path,
                               env={"SWEEPER_STORAGE": f"sqlite:///{tmp_path / 'db.sqlite'}"})
        assert done.returncode == 1, done.stdout + done.stderr
        (run,) = open_backend(f"sqlite:///{tmp_path / 'db.sqlite'}").runs(
            open_backend(f"sqlite:///{tmp_path / 'db.sqlite'}").sweeps()[0].id)
        assert run.state == "failed" and "No space left on device" in run.stop_reason
        assert "No space left on device" in done.stdout
    finally:
        subprocess.run(["umount", "-l", str(runs)])


def _hammer(storage: str, sweep_id: str, stop: str, out) -> None:
    """An agent whose runs take no time: hand out, finish, hand out, ... until ``stop``
    exists; puts how many runs it got."""
    backend = open_backend(storage)
    agent = backend.register_agent(sweep_id, "hammer", os.getpid(), None)
    got = 0
    while not os.path.exists(stop):
        run = backend.next_run(sweep_id, agent)
        if not isinstance(run, Assignment):
            break
        backend.finish_run(run.run_id, "finished", {}, 0)
        got += 1
    out.put(got)


def test_writers_of_a_sqlite_file_take_turns_so_none_starves(tmp_path):
    """Eight agents in a tight loop (programs of no time) and a ninth process writing now and
    then: every one of them gets its turn. (With SQLite's busy handler alone, which polls every
    100 ms, an agent got 1 run while another got 147, and one waited 36 s for its first.)"""
    import multiprocessing

    storage = str(tmp_path / "turns.sqlite")
    backend = open_backend(storage)
    sweep = backend.create_sweep({"method": "grid", "program": "x.py", "parameters": {
        "a": {"values": list(range(100))}, "b": {"values": list(range(100))}}})
    stop = tmp_path / "stop"
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_hammer, args=(storage, sweep.id, str(stop), out))
             for _ in range(8)]
    for p in procs:
        p.start()
    try:
        _wait_for(lambda: backend.sweep(sweep.id).runs_total >= 200, timeout=240,
                  what="the agents under way")
        waits = []
        for _ in range(10):  # a newcomer's writes while the eight hammer
            start = time.monotonic()
            backend.register_agent(sweep.id, "newcomer", 1, None)
            waits.append(time.monotonic() - start)
        before = backend.sweep(sweep.id).runs_total
        _wait_for(lambda: backend.sweep(sweep.id).runs_total >= before + 400, timeout=240,
                  what="400 more runs")
    finally:
        stop.touch()
    got = sorted(out.get(timeout=120) for _ in procs)
    for p in procs:
        p.join(timeout=60)
    assert max(waits) < 20, waits
    assert got[0] >= sum(got) / len(got) / 4, got  # the least served got a fair share

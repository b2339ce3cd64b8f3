"""The local backend: W&B's engine as controller, records in SQLite and PostgreSQL."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections import Counter

import pytest
from sqlalchemy import update

from sweeper.backends import Assignment, NoRun, open_backend
from sweeper.backends.local import _tables
from sweeper.errors import BadInput, StorageError, UnknownSweep

GRID_200 = {"method": "grid", "program": "train.py",
            "parameters": {"a": {"values": list(range(20))}, "b": {"values": list(range(10))}}}


def random_sweep(backend, **keys):
    """A random sweep over one float ``x`` (plus ``keys``), for tests of the run records."""
    return backend.create_sweep({"method": "random", "program": "x.py",
                                 "parameters": {"x": {"min": 0.0, "max": 1.0}}, **keys})


def _pull_all(storage: str, sweep_id: str, out) -> None:
    backend = open_backend(storage)
    agent = backend.register_agent(sweep_id, "test", 0, None)
    got = []
    while True:
        nxt = backend.next_run(sweep_id, agent)
        if not isinstance(nxt, Assignment):
            break
        got.append((nxt.params["a"], nxt.params["b"]))
        backend.finish_run(nxt.run_id, "finished", {}, 0)
    out.put(got)


def test_sixteen_agents_share_a_200_point_grid_with_no_duplicates(storage, monkeypatch):
    # These agents have no heartbeat thread: on a loaded machine one starved 74 s between its
    # hand-out and its report was taken for lost and its run handed out again (by design).
    monkeypatch.setenv("SWEEPER_HEARTBEAT_TIMEOUT", "900")
    backend = open_backend(storage)
    sweep = backend.create_sweep(GRID_200)
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_pull_all, args=(storage, sweep.id, out)) for _ in range(16)]
    for p in procs:
        p.start()
    results = [out.get(timeout=300) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    points = [point for got in results for point in got]
    assert len(points) == 200
    assert Counter(points).most_common(1)[0][1] == 1
    assert set(points) == {(a, b) for a in range(20) for b in range(10)}
    runs = backend.runs(sweep.id)
    assert len(runs) == 200 and sorted(r.number for r in runs) == list(range(1, 201))
    assert backend.sweep(sweep.id).state == "finished"
    assert sum(1 for got in results if got) > 1, "only one agent got work"


def test_run_cap_is_honoured_across_agents(storage):
    backend = open_backend(storage)
    sweep = random_sweep(backend, run_cap=3)
    agents = [backend.register_agent(sweep.id, "h", i, None) for i in range(2)]
    handed = [backend.next_run(sweep.id, agents[i % 2]) for i in range(5)]
    assert [isinstance(h, Assignment) for h in handed] == [True, True, True, False, False]
    assert "run_cap 3 reached" in handed[3].reason
    assert backend.sweep(sweep.id).state == "finished"


def test_reaching_the_target_finishes_the_sweep(storage):
    backend = open_backend(storage)
    sweep = random_sweep(backend, metric={"name": "acc", "goal": "maximize", "target": 0.9})
    agent = backend.register_agent(sweep.id, "h", 1, None)
    run = backend.next_run(sweep.id, agent)
    backend.log(run.run_id, [{"acc": 0.5}, {"acc": 0.95}])
    backend.finish_run(run.run_id, "finished", {"acc": 0.95}, 0)
    info = backend.sweep(sweep.id)
    assert info.state == "finished" and "target 0.9 reached" in info.state_reason
    assert info.best_value == 0.95
    assert isinstance(backend.next_run(sweep.id, agent), NoRun)


def test_pause_resume_stop_and_cancel_have_wandb_meaning(storage):
    backend = open_backend(storage)
    sweep = random_sweep(backend)
    agent = backend.register_agent(sweep.id, "h", 1, None)
    running = backend.next_run(sweep.id, agent)
    backend.set_state(sweep.id, "pause")
    paused = backend.next_run(sweep.id, agent)
    assert isinstance(paused, NoRun) and paused.wait
    assert backend.log(running.run_id, [{"loss": 1.0}]) is None  # running runs go on
    backend.set_state(sweep.id, "resume")
    second = backend.next_run(sweep.id, agent)
    assert isinstance(second, Assignment)
    backend.set_state(sweep.id, "cancel")
    assert backend.stop_reason(running.run_id) == "sweep cancelled"
    assert backend.log(second.run_id, [{"loss": 2.0}]) == "sweep cancelled"
    backend.finish_run(second.run_id, "killed", {}, -15)
    assert {r.name: r.state for r in backend.runs(sweep.id)}[second.name] == "killed"
    done = backend.next_run(sweep.id, agent)
    assert isinstance(done, NoRun) and not done.wait
    with pytest.raises(BadInput, match="cannot resume"):
        backend.set_state(sweep.id, "resume")

    other = random_sweep(backend)
    run = backend.next_run(other.id, agent)
    backend.set_state(other.id, "stop")
    assert backend.stop_reason(run.run_id) is None  # stop lets running runs finish
    assert isinstance(backend.next_run(other.id, agent), NoRun)


def test_runs_of_a_silent_agent_are_marked_crashed(storage):
    backend = open_backend(storage)
    sweep = random_sweep(backend)
    agent = backend.register_agent(sweep.id, "h", 1, None)
    run = backend.next_run(sweep.id, agent)
    backend.heartbeat(agent)
    assert backend.runs(sweep.id)[0].state == "running"
    quick = open_backend(storage)
    quick.heartbeat_timeout = 0.2
    time.sleep(0.4)
    assert quick.sweep(sweep.id).runs_active == 0
    crashed = quick.runs(sweep.id)[0]
    assert crashed.state == "crashed" and crashed.stop_reason == "agent stopped heartbeating"
    assert run.run_id == crashed.id


def test_hyperband_stops_a_run_below_its_bracket(storage):
    backend = open_backend(storage)
    sweep = backend.create_sweep({
        "method": "grid", "program": "x.py", "metric": {"name": "loss", "goal": "minimize"},
        "early_terminate": {"type": "hyperband", "min_iter": 1, "eta": 2},
        "parameters": {"x": {"values": [1, 2, 3, 4]}}})
    agent = backend.register_agent(sweep.id, "h", 1, None)
    good = [backend.next_run(sweep.id, agent) for _ in range(3)]
    for i, run in enumerate(good):
        assert backend.log(run.run_id, [{"loss": 1.0}, {"loss": 0.5 - i * 0.1}]) is None
        backend.finish_run(run.run_id, "finished", {}, 0)
    bad = backend.next_run(sweep.id, agent)
    assert backend.log(bad.run_id, [{"loss": 1.0}]) is None
    reason = backend.log(bad.run_id, [{"loss": 5.0}])
    assert reason and reason.startswith("hyperband")
    backend.finish_run(bad.run_id, "finished", {}, -15)
    assert backend.runs(sweep.id)[-1].state == "stopped"


@pytest.mark.parametrize("method", ["tpe", "gp", "auto", "bayes"])
def test_model_based_methods_learn_from_records(method, tmp_path):
    backend = open_backend(f"sqlite:///{tmp_path / 'db.sqlite'}")
    sweep = backend.create_sweep({"method": method, "program": "x.py", "run_cap": 20,
                                  "metric": {"name": "y", "goal": "minimize"},
                                  "parameters": {"x": {"min": -5.0, "max": 5.0}}})
    agent = backend.register_agent(sweep.id, "h", 1, None)
    values = []
    while isinstance(run := backend.next_run(sweep.id, agent), Assignment):
        y = (run.params["x"] - 2.0) ** 2
        values.append(y)
        backend.finish_run(run.run_id, "finished", {"y": y}, 0)
    assert len(values) == 20
    assert min(values[8:]) < 1.0, values  # it found the valley near x = 2


def test_each_agents_gp_fit_starts_from_its_own_last_kernel(tmp_path):
    """The backend keeps gp's kernel per agent between its hand-outs: an agent's next fit
    starts where its last ended (0.85 of the time at 300 runs), another agent's first fit from
    the defaults. The real fits run; the spy only reads where each one starts and ends."""
    from optuna._gp.gp import GPRegressor

    backend = open_backend(f"sqlite:///{tmp_path / 'db.sqlite'}")
    sweep = backend.create_sweep({"method": "gp", "program": "x.py",
                                  "metric": {"name": "y", "goal": "minimize"},
                                  "parameters": {"x": {"min": -5.0, "max": 5.0}}})
    a, b = (backend.register_agent(sweep.id, name, 0, None) for name in ("a", "b"))
    for _ in range(6):  # gp's 5 random runs, and one fitted
        run = backend.next_run(sweep.id, a)
        backend.finish_run(run.run_id, "finished", {"y": (run.params["x"] - 2.0) ** 2}, 0)
    fits: list[tuple[float, float]] = []
    original = GPRegressor._fit_kernel_params

    def spy(self, *args, **kwargs):
        start = float(self.inverse_squared_lengthscales[0])
        fitted = original(self, *args, **kwargs)
        fits.append((start, float(fitted.inverse_squared_lengthscales[0])))
        return fitted

    GPRegressor._fit_kernel_params = spy
    try:
        for agent in (a, a, b):
            run = backend.next_run(sweep.id, agent)
            assert isinstance(run, Assignment)
            backend.finish_run(run.run_id, "finished", {"y": (run.params["x"] - 2.0) ** 2}, 0)
    finally:
        GPRegressor._fit_kernel_params = original
    (_, a_end), (a_next_start, _), (b_start, _) = fits
    assert a_next_start == a_end != 1.0 and b_start == 1.0, fits


def test_an_agent_never_waits_for_another_agents_fit_and_run_cap_stays_exact(storage,
                                                                              monkeypatch):
    """Agent A's fit is held (it waits on an event inside the real suggestion); agent B, on its
    own connection, is handed both runs of run_cap 2 meanwhile. When A's fit ends, its
    suggestion finds the cap reached: no third run."""
    from sweeper import controller

    backend = open_backend(storage)
    sweep = backend.create_sweep({"method": "tpe", "program": "x.py", "run_cap": 2,
                                  "metric": {"name": "y", "goal": "minimize"},
                                  "parameters": {"x": {"min": -5.0, "max": 5.0}}})
    real_suggest = controller.suggest
    a_fitting, a_may_finish = threading.Event(), threading.Event()

    def suggest(*args, **kwargs):
        if threading.current_thread().name == "agent-a":
            a_fitting.set()
            assert a_may_finish.wait(60), "the test never let A's fit finish"
        return real_suggest(*args, **kwargs)

    monkeypatch.setattr(controller, "suggest", suggest)
    got: dict[str, object] = {}

    def agent_a() -> None:
        a = open_backend(storage)
        got["a"] = a.next_run(sweep.id, a.register_agent(sweep.id, "a", 0, None))

    thread_a = threading.Thread(target=agent_a, name="agent-a")
    thread_a.start()
    try:
        assert a_fitting.wait(60), "agent A never began its fit"
        b = open_backend(storage)
        agent_b = b.register_agent(sweep.id, "b", 0, None)
        first, second = b.next_run(sweep.id, agent_b), b.next_run(sweep.id, agent_b)
        assert thread_a.is_alive(), "A's fit ended before B was served"
    finally:
        a_may_finish.set()
        thread_a.join(60)
    assert isinstance(first, Assignment) and isinstance(second, Assignment)
    assert (first.number, second.number) == (1, 2)
    assert isinstance(got["a"], NoRun) and "run_cap 2" in got["a"].reason
    assert len(backend.runs(sweep.id)) == 2


def test_unknown_sweep_and_run_ids(tmp_path):
    backend = open_backend(f"sqlite:///{tmp_path / 'db.sqlite'}")
    with pytest.raises(UnknownSweep, match="no sweep 'nope'"):
        backend.sweep("nope")
    with pytest.raises(UnknownSweep):
        backend.runs("nope")
    with pytest.raises(BadInput, match="no run"):
        backend.log("nope", [{"a": 1}])


def test_same_name_with_another_config_is_refused_and_nothing_changes(tmp_path):
    backend = open_backend(f"sqlite:///{tmp_path / 'db.sqlite'}")
    config = {"method": "grid", "name": "s", "program": "x.py",
              "parameters": {"a": {"values": [1, 2]}}}
    first = backend.create_sweep(config)
    assert backend.create_sweep(config).id == first.id
    changed = {**config, "parameters": {"a": {"values": [1, 3]}}}
    with pytest.raises(BadInput, match=r"differ at parameters\.a\.values"):
        backend.create_sweep(changed)
    assert len(backend.sweeps()) == 1
    assert backend.sweep(first.id).config["parameters"]["a"]["values"] == [1, 2]


def test_storage_that_is_not_ours_or_of_another_version(tmp_path):
    import sqlite3

    foreign = tmp_path / "foreign.db"
    sqlite3.connect(foreign).execute("create table foo (a)").connection.commit()
    with pytest.raises(StorageError, match="not a sweeper database"):
        open_backend(str(foreign))
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"\x00junk" * 100)
    with pytest.raises(StorageError, match="file is not a database"):
        open_backend(str(junk))
    ours = tmp_path / "ours.db"
    backend = open_backend(str(ours))
    with backend.engine.begin() as conn:
        conn.execute(update(_tables.meta).where(_tables.meta.c.key == "schema_version")
                     .values(value="99"))
    with pytest.raises(StorageError, match="schema version 99"):
        open_backend(str(ours))
    with pytest.raises(StorageError, match="only SQLite and PostgreSQL"):
        open_backend("mysql://x/y")
    with pytest.raises(StorageError, match="is a directory"):
        open_backend(str(tmp_path))


def test_cli_create_prints_the_id_last_and_bad_inputs_exit_2(run_cli, tmp_path):
    from tests.conftest import ROOT

    db = f"sqlite:///{tmp_path / 'cli.db'}"
    created = run_cli("create", ROOT / "sweeps/grid.yaml", "--storage", db)
    assert created.code == 0
    sweep_id = created.out.strip().splitlines()[-1]
    assert len(sweep_id) == 8
    assert open_backend(db).sweep(sweep_id).name == "classification-grid"
    status = run_cli("status", sweep_id, "--storage", db)
    assert status.code == 0 and "runs: 0/12" in status.out
    assert run_cli("pause", sweep_id, "--storage", db).code == 0
    again = run_cli("pause", sweep_id, "--storage", db)
    assert again.code == 2 and again.err.strip() == f"sweeper: error: sweep {sweep_id} is paused; cannot pause it"
    missing = run_cli("status", "nosuchid", "--storage", db)
    assert missing.code == 2 and "no sweep 'nosuchid'" in missing.err
    os.environ["SWEEPER_STORAGE_RETRY_S"] = "1"
    try:
        unreachable = run_cli("status", sweep_id, "--storage", "postgresql://x@127.0.0.1:1/none")
    finally:
        del os.environ["SWEEPER_STORAGE_RETRY_S"]
    assert unreachable.code == 1 and unreachable.err.count("\n") == 1  # a run-time failure
    other = tmp_path / "other.yaml"
    other.write_text((ROOT / "sweeps/grid.yaml").read_text().replace("[16, 32]", "[8, 16]"))
    clash = run_cli("create", other, "--storage", db)
    assert clash.code == 2 and "exists with another config" in clash.err
    assert len(open_backend(db).sweeps()) == 1


def test_a_metric_reported_only_in_the_summary_reaches_the_controller(tmp_path, monkeypatch):
    from sweeper.backends.local import _backend

    seen = []
    real_suggest = _backend.controller.suggest

    def recording_suggest(config, runs, seed_key="", memory=None):  # to the real controller
        seen.append([(r.name, r.metric_history, r.metric_summary) for r in runs])
        return real_suggest(config, runs, seed_key, memory)

    monkeypatch.setattr(_backend.controller, "suggest", recording_suggest)
    backend = open_backend(f"sqlite:///{tmp_path / 'db.sqlite'}")
    sweep = backend.create_sweep({"method": "tpe", "program": "x.py",
                                  "metric": {"name": "y", "goal": "minimize"},
                                  "parameters": {"x": {"min": 0.0, "max": 1.0}}})
    agent = backend.register_agent(sweep.id, "h", 1, None)
    first = backend.next_run(sweep.id, agent)
    backend.finish_run(first.run_id, "finished", {"y": 3.0}, 0)  # no history: summary only
    backend.next_run(sweep.id, agent)
    assert seen[-1] == [(first.name, [], 3.0)]

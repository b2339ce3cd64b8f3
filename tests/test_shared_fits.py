"""gp's agents asking at once share one fit: its batch of points (Kriging believer) waits in the
records for the agents queued behind it, and only while no result arrived since the fit.

The real engine, real SQLite and real agent processes; spies only count the fits made.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from sqlalchemy import inspect, select, text, update

from sweeper import controller, spec
from sweeper.backends import Assignment, open_backend
from sweeper.backends.local import LocalBackend
from sweeper.backends.local import _tables as t
from sweeper.controller import ControllerRun, _fit_slots


def _config(method: str = "gp", **parameters) -> dict:
    return spec.validate({"method": method, "program": "x.py",
                          "metric": {"name": "loss", "goal": "minimize"},
                          "parameters": parameters or {"x": {"min": 0.0, "max": 1.0},
                                                       "y": {"min": 0.0, "max": 1.0},
                                                       "z": {"values": [1, 2, 4, 8]}}},
                         builtin=False)


def _loss(params: dict) -> float:
    return (params["x"] - 0.3) ** 2 + (params["y"] - 0.7) ** 2 + 0.01 * params.get("z", 1)


def _runs(count: int, running: int = 0) -> list[ControllerRun]:
    grid = [{"x": (i * 0.37) % 1, "y": (i * 0.61) % 1, "z": [1, 2, 4, 8][i % 4]}
            for i in range(count + running)]
    return [ControllerRun(name=str(i), params=p, state="finished", metric_summary=_loss(p))
            for i, p in enumerate(grid[:count])] + [
        ControllerRun(name=f"r{i}", params=p, state="running")
        for i, p in enumerate(grid[count:])]


def test_a_batch_starts_with_the_single_suggestion_and_spreads_its_points():
    config, runs = _config(), _runs(20, running=2)
    batch = controller.suggest_batch(config, runs, 6, seed_key="s")
    assert batch[0] == controller.suggest(config, runs, seed_key="s")
    assert len(batch) == 6
    keys = [json.dumps(p, sort_keys=True) for p in batch]
    assert len(set(keys)) == 6  # no point twice
    running = [json.dumps(r.params, sort_keys=True) for r in runs if r.state == "running"]
    assert not set(keys) & set(running)  # nor one in flight
    for point in batch:
        assert 0 <= point["x"] <= 1 and 0 <= point["y"] <= 1 and point["z"] in (1, 2, 4, 8)


def test_a_batch_in_a_small_discrete_space_never_repeats_a_point():
    config = _config(a={"values": [1, 2, 3]}, b={"values": [10, 20, 30]})
    runs = [ControllerRun(name=str(i), params={"a": a, "b": b}, state="finished",
                          metric_summary=(a - 2) ** 2 + (b - 20) ** 2 / 100)
            for i, (a, b) in enumerate([(1, 10), (3, 30), (1, 30), (3, 10), (2, 10), (1, 20)])]
    batch = controller.suggest_batch(config, runs, 12, seed_key="s")
    pairs = [(p["a"], p["b"]) for p in batch]
    assert 1 < len(pairs) <= 9 and len(set(pairs)) == len(pairs)


def test_methods_that_fit_in_milliseconds_give_their_one_point():
    for method in ("tpe", "random", "bayes"):
        assert len(controller.suggest_batch(_config(method), _runs(12), 5, seed_key="s")) == 1


def _seeded_gp_sweep(storage: str, finished: int = 8):
    backend = LocalBackend(storage)
    sweep = backend.create_sweep(_config(), name="shared")
    seeder = backend.register_agent(sweep.id, "host", 1, None)
    for _ in range(finished):  # gp's own hand-outs, one agent asking: no batches
        got = backend.next_run(sweep.id, seeder)
        backend.finish_run(got.run_id, "finished", {"loss": _loss(got.params)}, 0)
    backend.finish_agent(seeder)
    return backend, sweep


def _waiting(backend) -> list[dict]:
    with backend.engine.connect() as conn:
        return [row.params for row in conn.execute(
            select(t.prepared.c.params).order_by(t.prepared.c.position))]


def test_agents_asking_together_take_the_points_of_one_fit_until_a_result_arrives(
        storage, monkeypatch):
    backend, sweep = _seeded_gp_sweep(storage)
    agents = [backend.register_agent(sweep.id, "host", 10 + i, None) for i in range(4)]
    fits: list[int] = []
    original = controller.suggest_batch

    def counting(config, runs, count, *args, **kwargs):
        fits.append(count)
        return original(config, runs, count, *args, **kwargs)

    monkeypatch.setattr(controller, "suggest_batch", counting)
    first = backend.next_run(sweep.id, agents[0])
    assert fits == [4]  # four agents run nothing: one point each
    waiting = _waiting(backend)
    assert len(waiting) == 3 and first.params not in waiting
    second = backend.next_run(sweep.id, agents[1])
    assert fits == [4] and second.params == waiting[0]  # no fit of its own
    assert _waiting(backend) == waiting[1:]
    # A result arrives: the points left were made without it, and go unused.
    backend.finish_run(first.run_id, "finished", {"loss": _loss(first.params)}, 0)
    third = backend.next_run(sweep.id, agents[2])
    assert len(fits) == 2 and third.params not in waiting[1:]
    assert not [p for p in _waiting(backend) if p in waiting]
    params = [json.dumps(r.params, sort_keys=True) for r in backend.runs(sweep.id)]
    assert len(set(params)) == len(params)


ASKER = """
import json, sys, time
from pathlib import Path
from sweeper import controller
from sweeper.backends.local import LocalBackend
storage, sweep_id, gate, out = sys.argv[1:5]
backend = LocalBackend(storage)
agent = backend.register_agent(sweep_id, "host", 1, None)
fits = []
original = controller.suggest_batch
def counting(config, runs, count, *args, **kwargs):
    fits.append(count)
    return original(config, runs, count, *args, **kwargs)
controller.suggest_batch = counting
controller.suggest(backend.sweep(sweep_id).config, [])  # the engine's imports, before the gate
Path(out + ".ready").touch()
deadline = time.monotonic() + 300
while not Path(gate).exists() and time.monotonic() < deadline:
    time.sleep(0.005)
got = backend.next_run(sweep_id, agent)
Path(out).write_text(json.dumps({"params": got.params, "fits": fits}))
"""


@pytest.mark.skipif(_fit_slots.fcntl is None, reason="flock: not on Windows")
def test_eight_agent_processes_asking_at_once_share_one_fit(storage, tmp_path):
    backend, sweep = _seeded_gp_sweep(storage)
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    gate, outs = tmp_path / "gate", [tmp_path / f"asker-{i}.json" for i in range(8)]
    children = [subprocess.Popen([sys.executable, "-c", ASKER, storage, sweep.id,
                                  str(gate), str(out)], env=env) for out in outs]
    try:
        deadline = time.monotonic() + 300
        while not all(out.with_name(out.name + ".ready").exists() for out in outs):
            assert time.monotonic() < deadline and all(c.poll() is None for c in children)
            time.sleep(0.05)
        gate.touch()
        for child in children:
            assert child.wait(timeout=300) == 0
    finally:
        for child in children:
            child.kill()
    answers = [json.loads(out.read_text()) for out in outs]
    assert sorted(len(a["fits"]) for a in answers) == [0] * 7 + [1]  # one fit for all eight
    assert [a["fits"] for a in answers if a["fits"]] == [[8]]
    params = {json.dumps(a["params"], sort_keys=True) for a in answers}
    assert len(params) == 8
    assert _waiting(backend) == []


def test_a_version_2_storage_is_read_as_it_is_and_upgraded_by_a_writer(tmp_path):
    path = tmp_path / "sweeps.db"
    backend, sweep = _seeded_gp_sweep(f"sqlite:///{path}", finished=6)
    with backend.engine.begin() as conn:  # as sweeper's last version left it
        conn.execute(text("DROP TABLE sweeper_prepared"))
        conn.execute(update(t.meta).where(t.meta.c.key == "schema_version").values(value="2"))
    backend.engine.dispose()
    reader = open_backend(str(path), read_only=True)
    assert len(reader.runs(sweep.id)) == 6
    writer = open_backend(str(path))
    with writer.engine.connect() as conn:
        assert "sweeper_prepared" in inspect(conn).get_table_names()
        version = conn.execute(select(t.meta.c.value).where(t.meta.c.key == "schema_version"))
        assert version.scalar() == str(t.SCHEMA_VERSION)
    agent = writer.register_agent(sweep.id, "host", 1, None)
    assert isinstance(writer.next_run(sweep.id, agent), Assignment)

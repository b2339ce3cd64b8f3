"""`sweeper sync`: a local sweep put on W&B as a W&B sweep with every run, against the W&B
stand-in: what the SDK sends attaches each run to the sweep; syncing twice adds nothing."""

from __future__ import annotations

import os
import socket
import time

import yaml

from sweeper.backends import open_backend

from .conftest import sweeper_process
from .test_backend_wandb import KEY, standin, wandb_env  # noqa: F401 - the fixture

CONFIG = {"name": "local-sweep", "program": "train.py", "method": "grid",
          "metric": {"name": "loss", "goal": "minimize"},
          "early_terminate": {"type": "hyperband", "min_iter": 2, "eta": 2},
          "parameters": {"x": {"values": [1, 2, 3, 4, 5]}}}


def _local_sweep(folder):
    storage = f"sqlite:///{folder / 'local.db'}"
    backend = open_backend(storage)
    sweep = backend.create_sweep(CONFIG)
    agent = backend.register_agent(sweep.id, "h", 1, None)
    endings = ["finished", "stopped", "failed", "crashed", "running"]
    for i, ending in enumerate(endings):
        run = backend.next_run(sweep.id, agent)
        backend.log(run.run_id, [{"loss": 3.0 - i - step / 10, "epoch": step}
                                 for step in range(3)])
        if ending != "running":
            backend.finish_run(run.run_id, ending, {"extra": i}, 0 if ending in (
                "finished", "stopped") else 1)
    return storage, sweep


def test_sync_puts_the_sweep_and_every_ended_run_on_wandb_once(standin, tmp_path):  # noqa: F811
    storage, sweep = _local_sweep(tmp_path)
    env = {**wandb_env(standin, tmp_path / "home"), "SWEEPER_STORAGE": storage}
    done = sweeper_process("sync", sweep.id, "--project", "synced", cwd=tmp_path, env=env,
                           timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "4 runs uploaded, 0 already there" in done.stdout
    assert "not yet: local-sweep-5 (running)" in done.stdout
    (sent,) = standin.operations("UpsertSweep")[:1]
    assert sent["projectName"] == "synced"
    local_config = open_backend(storage).find_sweep(sweep.id).config
    assert yaml.safe_load(sent["config"]) == {**local_config, "name": "local-sweep"}
    (w_sweep,) = standin.sweeps.values()
    uploads = [v for v in standin.operations("UpsertBucket") if v.get("sweep")]
    runs = {r.id: r for r in standin.runs.values()}
    local_runs = {r.name: r for r in open_backend(storage).runs(sweep.id)}
    assert {v["sweep"] for v in uploads} == {w_sweep.id}  # every run attached to the sweep
    assert {v["name"] for v in uploads} == {local_runs[f"local-sweep-{i}"].id
                                            for i in range(1, 5)}
    for name, state in (("local-sweep-1", "finished"), ("local-sweep-2", "finished"),
                        ("local-sweep-3", "failed"), ("local-sweep-4", "failed")):
        run = runs[local_runs[name].id]
        assert run.sweep == w_sweep.id and run.state == state, (name, run.state)
        assert [round(h["loss"], 6) for h in run.history] == [
            round(v, 6) for v in [3.0 - int(name[-1]) + 1 - s / 10 for s in range(3)]]
        assert run.summary["sweeper_state"] == local_runs[name].state
        assert run.config["x"]["value"] == local_runs[name].params["x"]
    assert w_sweep.state == "FINISHED"  # as the local sweep: every grid point handed out

    sweeps_sent = len(standin.operations("UpsertSweep"))  # the sweep, and its state
    again = sweeper_process("sync", sweep.id, "--project", "synced", cwd=tmp_path, env=env,
                            timeout=300)
    assert again.returncode == 0, again.stderr
    assert "0 runs uploaded, 4 already there" in again.stdout
    assert len(standin.operations("UpsertSweep")) == sweeps_sent and len(standin.sweeps) == 1
    assert len([v for v in standin.operations("UpsertBucket") if v.get("sweep")]) == len(uploads)


def test_sync_without_credentials_or_network_is_one_line(standin, tmp_path):  # noqa: F811
    storage, sweep = _local_sweep(tmp_path)
    env = {**wandb_env(standin, tmp_path / "home"), "SWEEPER_STORAGE": storage}
    del env["WANDB_API_KEY"]
    done = sweeper_process("sync", sweep.id, "--project", "p", cwd=tmp_path, env=env)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "wandb login" in done.stderr and standin.requests == []
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(4)
    try:
        env = {**env, "WANDB_API_KEY": KEY, "SWEEPER_WANDB_TIMEOUT_S": "3",
               "WANDB_BASE_URL": f"http://127.0.0.1:{silent.getsockname()[1]}"}
        started = time.monotonic()
        done = sweeper_process("sync", sweep.id, "--project", "p", cwd=tmp_path, env=env)
        assert done.returncode == 1 and done.stderr.count("\n") == 1, done.stderr
        assert "no answer from" in done.stderr and time.monotonic() - started < 60
        assert KEY not in done.stdout + done.stderr
    finally:
        silent.close()
    assert os.path.exists(tmp_path / "local.db")

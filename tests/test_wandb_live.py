"""A two-run sweep on real W&B, only when asked for: WANDB_API_KEY and SWEEPER_WANDB_LIVE=1.

Project: SWEEPER_WANDB_LIVE_PROJECT (default sweeper-live-test); entity: SWEEPER_WANDB_LIVE_ENTITY
(default: the key's own). WANDB_BASE_URL points it at a W&B server of your own.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from .conftest import sweeper_process

pytestmark = pytest.mark.skipif(
    not (os.environ.get("WANDB_API_KEY") and os.environ.get("SWEEPER_WANDB_LIVE") == "1"),
    reason="live W&B test: set WANDB_API_KEY and SWEEPER_WANDB_LIVE=1 to run it")

PROGRAM = Path(__file__).parent / "programs" / "wandb_online.py"


def test_a_two_run_sweep_on_real_wandb(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("WANDB_MODE", "WANDB_DISABLED")}
    project = os.environ.get("SWEEPER_WANDB_LIVE_PROJECT", "sweeper-live-test")
    entity = os.environ.get("SWEEPER_WANDB_LIVE_ENTITY")
    file = tmp_path / "live.yaml"
    file.write_text(yaml.safe_dump({
        "name": "sweeper-live", "program": str(PROGRAM), "method": "grid",
        "metric": {"name": "loss", "goal": "minimize"},
        "parameters": {"x": {"values": [0.1, 0.3]}}}))
    where = ["--project", project] + (["--entity", entity] if entity else [])

    def sweeper(*args, timeout=600):
        done = sweeper_process(*args, cwd=tmp_path, env=env, timeout=timeout)
        assert os.environ["WANDB_API_KEY"] not in done.stdout + done.stderr
        return done

    created = sweeper("create", file, "--backend", "wandb", *where)
    assert created.returncode == 0, created.stderr
    path = created.stdout.strip().splitlines()[-1]
    assert path.count("/") == 2 and f"/{project}/sweeps/" in created.stderr
    try:
        ran = sweeper("agent", path, "--gpus", "none", "--count", "2")
        assert ran.returncode == 0, ran.stdout[-2000:] + ran.stderr[-2000:]
        results = sweeper("results", path, "--format", "json")
        assert results.returncode == 0, results.stderr
        rows = json.loads(results.stdout)
        assert sorted(r["config"]["x"] for r in rows) == [0.1, 0.3]
        assert all(r["state"] == "finished" and "loss" in r["summary"] for r in rows)
        assert rows[0]["config"]["x"] == 0.3  # best first: loss = (x - 0.3)**2 + 1/3
    finally:
        sweeper("stop", path)  # refused (exit 2) once W&B has finished the grid: fine

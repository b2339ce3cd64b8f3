"""Preemption-safe sweeps: a run whose agent is killed (SIGKILL) or preempted (SIGTERM) goes
back in the queue, and the next agent resumes it from its last complete checkpoint: the same
run, the same W&B run id, no gap and no restart in its history, no duplicate configuration."""

from __future__ import annotations

import functools
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sweeper.backends import open_backend

from .conftest import ROOT, wait_for

STEPS = 80  # 320 rows, batch 8, 2 epochs


_wait_for = functools.partial(wait_for, timeout=120.0, poll=0.02)


def _sweep(folder: Path, tiny_model: str) -> Path:
    shutil.copytree(ROOT / "agents", folder / "agents")
    texts = ["good movie", "bad movie", "great film", "awful film", "lovely story", "dull plot"]
    pd.DataFrame({"text": (texts * 60)[:320], "labels": ([1, 0] * 160)}).to_csv(
        folder / "train.csv", index=False)
    pd.DataFrame({"text": texts, "labels": [1, 0] * 3}).to_csv(folder / "eval.csv", index=False)
    path = folder / "s.yaml"
    path.write_text(yaml.safe_dump({
        "name": "resume", "program": "agents/train.py", "method": "grid",
        "metric": {"name": "eval/accuracy", "goal": "maximize"},
        "parameters": {
            "model_name_or_path": {"value": tiny_model}, "train_file": {"value": "train.csv"},
            "eval_file": {"value": "eval.csv"}, "num_train_epochs": {"value": 2},
            "train_batch_size": {"value": 8}, "logging_steps": {"value": 1},
            "evaluate_during_training": {"value": True},
            "evaluate_during_training_steps": {"value": 20},  # a checkpoint at each
            "save_best_model": {"value": True}, "save_model_every_epoch": {"value": False},
            "manual_seed": {"value": 1}, "learning_rate": {"values": [1e-3]},
            "silent": {"value": True}}}))
    return path


def _training_steps(run) -> list[int]:
    return [row["train/global_step"] for row in run.history
            if "train/loss" in row and "train/global_step" in row]


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["killed", "preempted"])
def test_an_interrupted_run_resumes_from_its_checkpoint_with_no_gap(tiny_model, tmp_path, sig,
                                                                   monkeypatch):
    monkeypatch.setenv("SWEEPER_HEARTBEAT_TIMEOUT", "2")  # this test's reads judge silence so
    path = _sweep(tmp_path, tiny_model)
    env = {**os.environ, "SWEEPER_STORAGE": f"sqlite:///{tmp_path / 'db.sqlite'}",
           "SWEEPER_HEARTBEAT_TIMEOUT": "2", "WANDB_SILENT": "true"}
    sweeper = str(Path(sys.executable).with_name("sweeper"))
    created = subprocess.run([sweeper, "create", str(path)], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=60)
    sweep_id = created.stdout.strip().splitlines()[-1]
    said = tmp_path / "first_agent.log"  # a file, not a pipe nobody reads until the end
    with said.open("w") as out:
        first = subprocess.Popen([sys.executable, "-m", "sweeper.agent", sweep_id],
                                 cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT)
    metrics = tmp_path / ".sweeper" / "runs" / sweep_id / "resume-1" / "metrics.jsonl"

    def trained_past_a_checkpoint():
        assert first.poll() is None, f"the agent ended early: {said.read_text()[-3000:]}"
        if not metrics.exists():
            return False
        steps = [json.loads(line)["data"].get("train/global_step", 0)
                 for line in metrics.read_text().splitlines() if line.endswith("}")]
        return steps and max(steps) >= 45  # checkpoints at 20 and 40 are written

    # Generous: the agent imports torch and loads the model first, on a loaded machine.
    _wait_for(trained_past_a_checkpoint, timeout=300, what="training past step 45")
    first.send_signal(sig)
    first.wait(timeout=120)
    backend = open_backend(env["SWEEPER_STORAGE"])
    sweep = backend.find_sweep(sweep_id)
    (run,) = backend.runs(sweep.id)
    assert run.state in ("pending", "crashed", "running"), run.state
    interrupted_at = max(_training_steps(backend.runs(sweep.id, history=True)[0]))
    assert interrupted_at < STEPS
    if sig == signal.SIGKILL:  # nobody said goodbye: the run is requeued once it is seen silent
        _wait_for(lambda: backend.runs(sweep.id)[0].state == "crashed", timeout=60,
                  what="the killed agent's run to show as crashed", poll=0.2)
    # A checkpoint half-written when the process died: never loaded.
    output = metrics.parent / "outputs"
    (output / f"checkpoint-{STEPS + 100}").mkdir(parents=True)
    (output / f"checkpoint-{STEPS + 100}" / "model.safetensors").write_bytes(b"half")

    second = subprocess.run([sys.executable, "-m", "sweeper.agent", sweep_id], cwd=tmp_path,
                            env=env, capture_output=True, text=True, timeout=600)
    assert second.returncode == 0, second.stdout[-3000:]
    assert "run resume-1 started (attempt 2, resuming)" in second.stdout
    log = (metrics.parent / "output.log").read_text()
    resumed_from = int(log.split("resuming from ")[1].split("checkpoint-")[1].split()[0])
    assert 40 <= resumed_from <= interrupted_at and resumed_from % 20 == 0

    (run,) = backend.runs(sweep.id, history=True)
    assert (run.state, run.attempt, run.id) == ("finished", 2, run.id)
    assert len(backend.runs(sweep.id)) == 1  # no duplicate
    # The history goes on from the checkpoint: every training step once, in order.
    assert _training_steps(run) == list(range(1, STEPS + 1))
    evaluations = [row["train/global_step"] for row in run.history if "eval/accuracy" in row]
    assert evaluations[:STEPS // 20] == list(range(20, STEPS + 1, 20))
    attempts = backend.attempts(run.id)
    assert [a["state"] for a in attempts] == [
        "crashed" if sig == signal.SIGKILL else "killed", "finished"]
    # Both attempts are the same W&B run.
    env_ids = {p.name.rsplit("-", 1)[-1] for p in (tmp_path / "wandb").glob("offline-run-*")}
    assert env_ids == {run.id}
    # Once finished, the run keeps its best model and no training checkpoint.
    assert not list(output.glob("checkpoint-*"))
    assert (metrics.parent / "best_model" / "config.json").exists()

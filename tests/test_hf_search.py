"""sweeper.hf.hyperparameter_search: HF's Trainer.hyperparameter_search one-liner, with the
trials as a sweeper sweep on the embedded default and on W&B (the stand-in server)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sweeper.errors import BadInput

from .conftest import sweeper_process
from .test_backend_wandb import wandb_env
from .wandb_standin import StandIn

SCRIPT = Path(__file__).parent / "programs" / "hf_search.py"


def search(tiny_model: str, backend: str, n_trials: int, cwd: Path, env: dict,
           *extra: str) -> dict:
    out = cwd / "search.json"
    done = subprocess.run([sys.executable, str(SCRIPT), tiny_model, backend, str(n_trials),
                           str(out), *extra], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads(out.read_text())


def test_a_search_on_the_embedded_default_is_a_sweep_that_status_results_and_promote_see(
        tiny_model, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WANDB_", "SWEEPER_"))}
    env.update({"WANDB_MODE": "offline", "WANDB_SILENT": "true", "HOME": str(tmp_path)})
    got = search(tiny_model, "local", 3, tmp_path, env)
    best, seen = got["best"], got["seen"]
    assert best["type"] == "transformers.trainer_utils.BestRun"
    # Each trial trained with its own parameters, in its own W&B run, opened before the model
    # and finished before the next trial: three runs, three offline run folders.
    runs = json.loads(sweeper_process("results", "hf-search", "--format", "json", cwd=tmp_path,
                                      env=env).stdout)
    assert len(runs) == 3 and {r["state"] for r in runs} == {"finished"}
    assert sorted(seen["trained_lr"]) == sorted(r["config"]["learning_rate"] for r in runs)
    assert sorted(seen["dropout"]) == sorted(r["config"]["dropout"] for r in runs)
    assert len(set(seen["runs_at_init"])) == 3 and None not in seen["runs_at_init"]
    assert len(list((tmp_path / "wandb").glob("offline-run-*"))) == 3
    assert got["run_after"] is False and got["lr_after"] == 5e-5  # the Trainer as it was
    # The best run is the sweep's best, as results ranks it, with its model kept.
    top = runs[0]
    assert best["run_summary"]["run_name"] == top["name"]
    assert best["objective"] == top["metric_value"] == max(r["metric_value"] for r in runs)
    assert best["hyperparameters"] == top["config"]
    assert Path(best["run_summary"]["checkpoint"], "config.json").is_file()
    status = sweeper_process("status", "hf-search", cwd=tmp_path, env=env)
    assert "state: finished (run_cap 3 reached)" in status.stdout
    assert "best: objective = " in status.stdout
    promoted = sweeper_process("promote", "hf-search", "--name", "hf-clf", cwd=tmp_path, env=env)
    assert promoted.returncode == 0, promoted.stderr
    assert (tmp_path / ".sweeper/registry/hf-clf/v1/config.json").is_file()


def test_a_search_on_wandb_runs_each_trial_as_a_finished_run_of_a_wandb_sweep(tiny_model,
                                                                              tmp_path):
    with StandIn() as standin:
        env = wandb_env(standin, tmp_path / "home", WANDB_SILENT="true")
        got = search(tiny_model, "wandb", 2, tmp_path, env)
        sweeps = list(standin.sweeps)
        assert len(sweeps) == 1
        runs = [r for r in standin.runs.values() if r.sweep == sweeps[0]]
        assert sorted(r.state for r in runs) == ["finished", "finished"]
        assert {r.id for r in runs} == set(got["seen"]["runs_at_init"])
        assert got["best"]["run_id"] in {r.id for r in runs}
        assert got["best"]["run_summary"]["sweep"].endswith(f"/proj/{sweeps[0]}")
        assert all("objective" in r.summary for r in runs)


def test_two_directions_search_two_objectives_and_return_the_front(tiny_model, tmp_path):
    """As with HF's Optuna backend: a list of directions and an objective per direction make
    a multi-objective search; the result is the Pareto front, a BestRun per run on it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WANDB_", "SWEEPER_"))}
    env.update({"WANDB_MODE": "offline", "WANDB_SILENT": "true", "HOME": str(tmp_path)})
    front = search(tiny_model, "local", 3, tmp_path, env, "multi")["front"]
    runs = json.loads(sweeper_process("results", "hf-search", "--format", "json", cwd=tmp_path,
                                      env=env).stdout)
    assert len(runs) == 3 and {r["state"] for r in runs} == {"finished"}
    on_front = {r["name"] for r in runs if r["front"] == 1}
    assert {b["run_summary"]["run_name"] for b in front} == on_front
    for best in front:
        run = next(r for r in runs if r["name"] == best["run_summary"]["run_name"])
        assert best["objective"] == [run["metric_values"]["objective_0"],
                                     run["metric_values"]["objective_1"]]
        assert best["hyperparameters"] == run["config"]


def test_a_trainer_without_model_init_or_a_bad_direction_is_one_line(tiny_model):
    from transformers import AutoModelForSequenceClassification, Trainer, TrainingArguments

    import sweeper.hf

    model = AutoModelForSequenceClassification.from_pretrained(tiny_model, num_labels=2)
    trainer = Trainer(model=model, args=TrainingArguments("unused", report_to="none"))
    with pytest.raises(BadInput, match="trainer: build it with model_init"):
        sweeper.hf.hyperparameter_search(trainer, {"parameters": {}}, n_trials=2)
    trainer.model_init = lambda: model
    with pytest.raises(BadInput, match="direction: 'up'; one of minimize, maximize"):
        sweeper.hf.hyperparameter_search(trainer, {"parameters": {}}, direction="up")
    with pytest.raises(BadInput, match="direction: 'down'; one of minimize, maximize"):
        sweeper.hf.hyperparameter_search(trainer, {"parameters": {}},
                                         direction=["maximize", "down"])
    assert sweeper.hf.sweep_config(None, ["maximize", "minimize"], 5, None)["metrics"] == [
        {"name": "objective_0", "goal": "maximize"}, {"name": "objective_1", "goal": "minimize"}]
    with pytest.raises(BadInput, match="hp_space: a W&B sweep config"):
        sweeper.hf.sweep_config(["learning_rate"], "minimize", 2, None)
    assert sweeper.hf.sweep_config(None, "maximize", 5, None)["metric"] == {
        "name": "objective", "goal": "maximize"}

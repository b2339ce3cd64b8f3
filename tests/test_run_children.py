"""A run's own Python children start and finish: only the run's process itself ends with the
agent; what rank 0 of a spawn or torchrun training logs is the run's. A child that
makes W&B runs of its own, as W&B's cross-validation sweep example does, makes them in the mode
of the sweep's run, and they are not taken for the sweep's run."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import sweeper

from .conftest import run_sweep, sweep_yaml, write
from .wandb_records import read_offline_run

INJECT = Path(sweeper.__file__).parent / "_inject"

PROGRAM = """
import subprocess, sys
child = subprocess.run([sys.executable, "-c", "print('child ran')"], capture_output=True, text=True)
print("child rc", child.returncode, child.stdout.strip())
"""


def test_a_python_child_of_a_run_is_not_killed_at_start(tmp_path):
    env = dict(os.environ)
    env["PYTHONPATH"] = f"{INJECT}{os.pathsep}{env.get('PYTHONPATH', '')}"
    env["SWEEPER_METRICS_FILE"] = str(tmp_path / "metrics.jsonl")
    env["SWEEPER_AGENT_PID"] = str(os.getpid())  # this test plays the agent
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "child rc 0 child ran" in done.stdout


# The pattern of W&B's k-fold example (wandb/examples, sweeps-cross-validation): fold workers,
# forked before the sweep's run starts, clear W&B's variables so that their runs are new runs
# (WANDB_MODE goes with them), then each logs one fold's score; the sweep run logs the mean.
# As in the example, the sweep run may also end before the folds train and be resumed by its id
# to log the mean (CV_FINISH_FIRST).
CROSS_VALIDATION = """
import multiprocessing, os, queue
import wandb

FOLDS = 3
FINISH_FIRST = os.environ.get("CV_FINISH_FIRST") == "1"


def _new_run_settings():
    for key in [k for k in os.environ if k.startswith("WANDB_")]:
        if key not in {"WANDB_PROJECT", "WANDB_ENTITY", "WANDB_API_KEY"}:
            del os.environ[key]


def fold(results, tasks):
    _new_run_settings()
    task = tasks.get()
    run = wandb.init(group="cv", job_type=task["parent"], name=f"{task['parent']}-{task['num']}",
                     config=task["config"])
    score = task["config"]["x"] * (task["num"] + 1)
    run.log({"val_accuracy": score})
    run.finish()
    results.put(score)


def result_of(results, proc):
    while True:
        try:
            return results.get(timeout=1)
        except queue.Empty:
            if not proc.is_alive():
                raise SystemExit(f"a fold failed (exit code {proc.exitcode})")


if __name__ == "__main__":
    multiprocessing.set_start_method("fork")
    results = multiprocessing.Queue()
    workers = []
    for num in range(FOLDS):
        tasks = multiprocessing.Queue()
        proc = multiprocessing.Process(target=fold, args=(results, tasks))
        proc.start()
        workers.append((tasks, proc))
    run = wandb.init()
    parent, run_id, config = run.name, run.id, dict(run.config)
    if FINISH_FIRST:
        run.finish()
    scores = []
    for num, (tasks, proc) in enumerate(workers):
        tasks.put({"num": num, "parent": parent, "config": config})
        scores.append(result_of(results, proc))
        proc.join()
    if FINISH_FIRST:
        run = wandb.init(id=run_id, resume=True)
    run.log({"val_accuracy": sum(scores) / len(scores)})
    run.summary["folds"] = len(scores)
    wandb.finish()
"""


@pytest.mark.slow
@pytest.mark.parametrize("finish_first", ["0", "1"], ids=["one-run", "resumed"])
def test_fold_runs_of_a_cross_validation_sweep_are_their_own_offline_runs(work, finish_first):
    write(work, "cv.py", CROSS_VALIDATION)
    path = sweep_yaml(work, {"name": "cv", "program": "cv.py", "method": "grid",
                             "metric": {"name": "val_accuracy", "goal": "maximize"},
                             "parameters": {"x": {"values": [0.25]}}})
    done = run_sweep(work, path, env={"CV_FINISH_FIRST": finish_first}, timeout=180)
    assert done.code == 0, done.out + done.err
    (run,) = done.runs
    assert run.state == "finished", Path(run.log_path).read_text()
    # the sweep run's record holds the mean of the folds, not a fold's score
    assert run.steps == 1 and run.summary["val_accuracy"] == pytest.approx(0.5)
    assert run.summary["folds"] == 3
    recorded = list(map(read_offline_run, work.glob("wandb/offline-run-*/run-*.wandb")))
    sweep_history = [h for r in recorded if r.run_id == run.id for h in r.history]
    assert [h["val_accuracy"] for h in sweep_history] == [pytest.approx(0.5)]
    folds = sorted((r for r in recorded if r.run_id != run.id), key=lambda r: r.name)
    assert [r.name for r in folds] == [f"{run.name}-{n}" for n in range(3)]
    assert [r.history[0]["val_accuracy"] for r in folds] == [0.25, 0.5, 0.75]
    assert all(r.group == "cv" and r.exit_code == 0 for r in folds)


# The two ways a PyTorch program trains on several GPUs: torch.multiprocessing.spawn from the
# program, or the sweep's command starting it under torchrun. Rank 0 alone talks to W&B, in a
# process the run's own process started; what it logs is the sweep run's.
SPAWNED_RANKS = """
import argparse
import torch.multiprocessing as mp
import wandb


def worker(rank, lr):
    if rank == 0:
        wandb.init()
        for step in range(3):
            wandb.log({"loss": lr * (3 - step), "rank": rank})
        wandb.finish()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float)
    mp.spawn(worker, args=(parser.parse_args().lr,), nprocs=2, join=True)
"""

TORCHRUN_RANKS = """
import argparse
import torch.distributed as dist
import wandb

parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float)
lr = parser.parse_args().lr
dist.init_process_group("gloo")
if dist.get_rank() == 0:
    wandb.init()
for step in range(3):
    dist.barrier()
    if dist.get_rank() == 0:
        wandb.log({"loss": lr * (3 - step), "world": dist.get_world_size()})
if dist.get_rank() == 0:
    wandb.finish()
dist.destroy_process_group()
"""


@pytest.mark.slow
@pytest.mark.parametrize("launch", ["spawn", "torchrun"])
def test_what_rank_zero_of_a_multi_process_training_logs_is_the_sweep_runs(work, launch):
    write(work, "train.py", SPAWNED_RANKS if launch == "spawn" else TORCHRUN_RANKS)
    torchrun = {"command": ["torchrun", "--standalone", "--nproc_per_node=2", "${program}",
                            "${args}"]} if launch == "torchrun" else {}
    path = sweep_yaml(work, {"name": launch, "program": "train.py", "method": "grid", **torchrun,
                             "metric": {"name": "loss", "goal": "minimize"},
                             "parameters": {"lr": {"values": [0.5]}}})
    done = run_sweep(work, path)
    assert done.code == 0, done.out + done.err
    (run,) = done.runs
    assert run.state == "finished", Path(run.log_path).read_text()
    assert [row["loss"] for row in run.history] == [1.5, 1.0, 0.5]
    assert run.summary["loss"] == 0.5

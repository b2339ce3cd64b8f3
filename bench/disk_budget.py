"""Benchmark: bytes on disk after the quickstart sweep, with the checkpoint policy of old
(every checkpoint kept, optimizer state included) and the default one (the newest checkpoint
while a run trains; its best model only, no optimizer state, once it has finished).

    python bench/disk_budget.py [--runs 4] [--out bench/results/disk_budget.json]

Both sweeps run side by side in one invocation (one after the other, same machine); the
table shows the bytes under .sweeper/runs and per run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
POLICIES = {
    "keep everything (before)": {"keep_checkpoints": {"value": True},
                                 "save_total_limit": {"value": None}},
    "default (after)": {},
}


def size_of(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def run_sweep(policy: dict, runs: int) -> dict:
    work = Path(tempfile.mkdtemp(prefix="sweeper-disk-"))
    shutil.copytree(ROOT / "agents", work / "agents")
    config = yaml.safe_load((ROOT / "sweeps" / "quickstart.yaml").read_text())
    config["run_cap"] = runs
    config["parameters"].update(policy)
    (work / "sweep.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    env = {**os.environ, "SWEEPER_STORAGE": f"sqlite:///{work / 'sweeper.db'}",
           "WANDB_SILENT": "true"}
    done = subprocess.run([str(Path(sys.executable).with_name("sweeper")), "run", "sweep.yaml"],
                          cwd=work, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(done.stdout[-2000:] + done.stderr[-2000:])
    runs_dir = work / ".sweeper" / "runs"
    total = size_of(runs_dir)
    per_run = sorted(size_of(d) for d in runs_dir.glob("*/*") if d.is_dir())
    shutil.rmtree(work, ignore_errors=True)
    return {"bytes": total, "runs": len(per_run), "bytes_per_run": per_run}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/disk_budget.json")
    args = parser.parse_args()
    results = {label: run_sweep(policy, args.runs) for label, policy in POLICIES.items()}
    before, after = (results[label]["bytes"] for label in POLICIES)
    print(f"{'policy':28} {'runs':>5} {'MB on disk':>11} {'MB per run':>11}")
    for label, row in results.items():
        print(f"{label:28} {row['runs']:5d} {row['bytes'] / 1e6:11.1f} "
              f"{row['bytes'] / 1e6 / max(1, row['runs']):11.1f}")
    print(f"after / before: {after / before:.3f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"runs": args.runs, "results": results,
                                    "ratio": after / before}, indent=2))


if __name__ == "__main__":
    main()

"""Benchmark: how fast sweeper's commands answer, as whole processes, beside `wandb --help` and
`optuna --help` in the same run; and `status`/`results` on a sweep of 10,000 runs x 50 steps.

Each command runs --repeats times (after one warm-up); the table shows the median wall time,
the median peak memory (the process's max RSS) and the ratio to `wandb --help`.

    python bench/cli_latency.py [--repeats 7] [--out bench/results/cli_latency.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

BIN = Path(sys.executable).parent


def measure(argv: list[str], cwd: Path, env: dict, repeats: int) -> tuple[float, float]:
    """Median wall seconds and median peak RSS (MB) of ``argv`` run as a new process.

    GNU time reports the peak: a child forked from this (large) process would count this
    process's pages until it execs."""
    walls, peaks = [], []
    timer = shutil.which("time") or "/usr/bin/time"
    for i in range(repeats + 1):
        done = subprocess.run([timer, "-f", "%e %M", *argv], cwd=cwd, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if done.returncode not in (0, 2):
            raise RuntimeError(f"{' '.join(argv)} failed: {done.stderr[-500:]}")
        wall, peak_kb = done.stderr.strip().splitlines()[-1].split()
        if i:  # the first is a warm-up (file caches)
            walls.append(float(wall))
            peaks.append(float(peak_kb) / 1024)
    return statistics.median(walls), statistics.median(peaks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/cli_latency.json")
    args = parser.parse_args()
    from analysis_runs import seed

    from sweeper.backends.local import LocalBackend

    work = Path(tempfile.mkdtemp(prefix="sweeper-cli-"))
    storage = f"sqlite:///{work / 'sweeper.db'}"
    env = {**os.environ, "SWEEPER_STORAGE": storage}
    backend = LocalBackend(storage)
    small = backend.create_sweep({"name": "small", "program": "x.py", "method": "grid",
                                  "parameters": {"x": {"values": [1, 2, 3]}}}).id
    big = seed(backend, 10_000, 50)
    sweeper = str(BIN / "sweeper")
    commands = {
        "wandb --help": [shutil.which("wandb") or str(BIN / "wandb"), "--help"],
        "optuna --help": [shutil.which("optuna") or str(BIN / "optuna"), "--help"],
        "sweeper --help": [sweeper, "--help"],
        "sweeper run --help": [sweeper, "run", "--help"],
        "sweeper status --help": [sweeper, "status", "--help"],
        "sweeper validate FILE": [sweeper, "validate", str(ROOT / "sweeps/quickstart.yaml")],
        "sweeper explain FILE (random)": [sweeper, "explain", str(ROOT / "sweeps/random.yaml")],
        "sweeper sweeps": [sweeper, "sweeps"],
        "sweeper status SWEEP": [sweeper, "status", small],
        "sweeper pause SWEEP": [sweeper, "pause", small],
        "sweeper resume SWEEP": [sweeper, "resume", small],
        "sweeper status (10,000 runs)": [sweeper, "status", big],
        "sweeper results (10,000 runs)": [sweeper, "results", big, "--top", "10"],
    }
    rows = {}
    for label, argv in commands.items():
        wall, peak = measure(argv, work, env, args.repeats)
        rows[label] = {"wall_s": round(wall, 3), "peak_mb": round(peak, 1)}
    base = rows["wandb --help"]["wall_s"]
    print(f"{'command':34} {'wall s':>8} {'peak MB':>8} {'x wandb --help':>15}")
    for label, row in rows.items():
        print(f"{label:34} {row['wall_s']:8.3f} {row['peak_mb']:8.1f} "
              f"{row['wall_s'] / base:15.2f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"repeats": args.repeats, "python": sys.version.split()[0],
                                    "cpus": os.cpu_count(), "commands": rows}, indent=2))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

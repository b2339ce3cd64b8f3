"""Benchmark: gp fits at 300 runs with the memory a fit frees kept (``sweeper/controller/_heap``)
and given back as glibc does, side by side, each in fresh processes.

Each process fits three times to warm up, then three times with a process taking and giving
back 3 GB (a training run) before each fit; per fit: wall time, kernel time, minor page faults,
and the process's peak memory.

    python bench/fit_memory.py [--pairs 2] [--out bench/results/fit_memory.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

FITS = """
import json, random, resource, subprocess, sys, time
if sys.argv[1] == "glibc":
    from sweeper.controller import _heap
    _heap._set_thresholds = lambda: False
from sweeper import controller, spec
from sweeper.controller import ControllerRun
config = spec.validate({"method": "gp", "program": "x.py",
                        "metric": {"name": "loss", "goal": "minimize"},
                        "parameters": {"x": {"min": -5.0, "max": 10.0},
                                       "y": {"min": 0.0, "max": 15.0}}}, builtin=False)
rng = random.Random(0)
runs = []
for i in range(300):
    loss = rng.random()
    runs.append(ControllerRun(name=str(i), params={"x": rng.uniform(-5, 10),
                                                   "y": rng.uniform(0, 15)},
                              state="finished", metric_history=[loss], metric_summary=loss))

def fit(k):
    before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    controller.suggest(config, runs, seed_key=str(k))
    after = resource.getrusage(resource.RUSAGE_SELF)
    return {"wall_s": time.perf_counter() - start, "kernel_s": after.ru_stime - before.ru_stime,
            "faults": after.ru_minflt - before.ru_minflt}

for k in range(3):
    fit(k)
fits = []
for k in range(3):
    subprocess.run([sys.executable, "-c", "import numpy as np; a = np.ones(3 << 27)"], check=True)
    fits.append(fit(10 + k))
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"fits": fits, "peak_mb": peak}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=2)
    parser.add_argument("--out", default="bench/results/fit_memory.json")
    args = parser.parse_args()
    results: dict[str, list] = {"kept": [], "glibc": []}
    for _ in range(args.pairs):
        for mode in results:
            done = subprocess.run([sys.executable, "-c", FITS, mode], capture_output=True,
                                  text=True, check=True)
            results[mode].append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(f"{'memory':8} {'fit s (median)':>15} {'fit s (range)':>14} {'kernel s':>12} "
          f"{'faults':>14} {'peak MB':>8}")
    summary = {}
    for mode, processes in results.items():
        fits = [f for p in processes for f in p["fits"]]
        walls, kernel = [f["wall_s"] for f in fits], [f["kernel_s"] for f in fits]
        faults = [f["faults"] for f in fits]
        peak = max(p["peak_mb"] for p in processes)
        summary[mode] = {"fit_median_s": statistics.median(walls), "fit_min_s": min(walls),
                         "fit_max_s": max(walls), "kernel_max_s": max(kernel),
                         "kernel_min_s": min(kernel), "faults_min": min(faults),
                         "faults_max": max(faults), "peak_mb": peak}
        print(f"{mode:8} {statistics.median(walls):>15.3f} "
              f"{min(walls):>6.3f}-{max(walls):.3f} {min(kernel):>5.3f}-{max(kernel):.3f} "
              f"{min(faults):>6}-{max(faults):<7} {peak:>8.0f}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"summary": summary, "processes": results}, indent=2))
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()

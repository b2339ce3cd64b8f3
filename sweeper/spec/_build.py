"""Python builders for grid, random and bayes sweeps over the documented task args."""

from __future__ import annotations

from typing import Any

from ._names import BUILTIN_PROGRAM, METHODS, TASK_METRICS

# Sensible ranges for fine-tuning a BERT-sized model (the ranges of the BERT paper's appendix,
# widened a little): a distribution for random/bayes, a short list for grid.
DEFAULT_SPACE: dict[str, dict[str, dict]] = {
    "learning_rate": {
        "search": {"distribution": "log_uniform_values", "min": 1e-5, "max": 2e-4},
        "grid": {"values": [2e-5, 5e-5, 1e-4]},
    },
    "num_train_epochs": {
        "search": {"distribution": "int_uniform", "min": 1, "max": 4},
        "grid": {"values": [2, 3]},
    },
    "train_batch_size": {
        "search": {"values": [8, 16, 32]},
        "grid": {"values": [16, 32]},
    },
    "warmup_ratio": {
        "search": {"distribution": "uniform", "min": 0.0, "max": 0.2},
        "grid": {"values": [0.0, 0.1]},
    },
    "weight_decay": {
        "search": {"distribution": "uniform", "min": 0.0, "max": 0.1},
        "grid": {"values": [0.0, 0.01]},
    },
}


# With hyperband, runs evaluate every this many steps (and at each epoch's end): hyperband's
# first bracket then compares runs after 2 evaluations.
EVAL_STEPS = 100

# A grid multiplies: by default it covers the three args that matter most (12 runs).
GRID_DEFAULT = ("learning_rate", "num_train_epochs", "train_batch_size")


def default_parameters(method: str, names: list[str] | None = None) -> dict:
    """The default search space of the named args (DEFAULT_SPACE; GRID_DEFAULT for a grid)."""
    kind = "grid" if method == "grid" else "search"
    names = names or list(GRID_DEFAULT if method == "grid" else DEFAULT_SPACE)
    unknown = [n for n in names if n not in DEFAULT_SPACE]
    if unknown:
        raise ValueError(f"no default range for {unknown[0]}; choose from "
                         f"{', '.join(DEFAULT_SPACE)}")
    return {name: dict(DEFAULT_SPACE[name][kind]) for name in names}


def build_sweep(
    method: str = "bayes",
    *,
    task: str = "classification",
    parameters: dict | None = None,
    metric: dict | None = None,
    hyperband: bool | None = None,
    run_cap: int | None = None,
    fixed: dict[str, Any] | None = None,
    name: str | None = None,
    program: str = BUILTIN_PROGRAM,
) -> dict:
    """A ready sweep config for the built-in agent.

    Parameters default to :data:`DEFAULT_SPACE`, the metric to the task's own, hyperband early
    termination to on for bayes (with evaluation during training, every :data:`EVAL_STEPS`
    steps, so that runs report the metric as they train), and run_cap to 20 for random and
    bayes (a grid ends by itself).

    >>> sweep = build_sweep("grid", parameters={"learning_rate": {"values": [1e-5, 3e-5]}})
    >>> sweep["method"], sweep["metric"]["name"], sweep["parameters"]["task"]
    ('grid', 'eval/accuracy', {'value': 'classification'})
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; one of {', '.join(METHODS)}")
    if task not in TASK_METRICS:
        raise ValueError(f"unknown task {task!r}; one of {', '.join(TASK_METRICS)}")
    metric_name, goal = TASK_METRICS[task]
    config: dict[str, Any] = {}
    if name:
        config["name"] = name
    config["program"] = program
    config["method"] = method
    config["metric"] = dict(metric) if metric else {"name": metric_name, "goal": goal}
    params: dict[str, Any] = {"task": {"value": task}}
    for key, value in (fixed or {}).items():
        params[key] = {"value": value}
    params.update(parameters if parameters is not None else default_parameters(method))
    config["parameters"] = params
    if hyperband is None:
        hyperband = method == "bayes"
    if hyperband:  # it compares what runs report during training: they must evaluate then
        config["early_terminate"] = {"type": "hyperband", "min_iter": 2, "eta": 2}
        params.setdefault("evaluate_during_training", {"value": True})
        params.setdefault("evaluate_during_training_steps", {"value": EVAL_STEPS})
    if run_cap is None and method != "grid":
        run_cap = 20
    if run_cap is not None:
        config["run_cap"] = run_cap
    return config

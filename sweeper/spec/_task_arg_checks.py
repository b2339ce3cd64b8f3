"""The checks a sweep of the built-in agent gets: every parameter is a documented task arg
(or a task choice), and every value a distribution can draw is valid for that arg."""

from __future__ import annotations

import math

from .. import task_args
from . import _params

Problem = tuple[str, str]


def task_arg_problems(parameters: dict) -> list[Problem]:
    """``(key path, what is wrong)`` for each parameter that is no task arg or a bad value."""
    problems: list[Problem] = []
    for key, spec in parameters.items():
        path = f"parameters.{key}"
        arg = task_args.KNOWN.get(key)
        if arg is None:
            problems.append((path, task_args.unknown_name_message(str(key))))
            continue
        if _params.is_group(spec):
            if arg.kind != task_args.DICT:
                problems.append((path, f"{key} is a single {arg._kind_word()}, not a group of "
                                       "parameters"))
            continue
        if not isinstance(spec, dict):
            continue
        filled = _params.infer(str(key), spec)
        if filled is None:
            continue
        problems += _arg_value_problems(path, arg, filled)
    return problems


def _arg_value_problems(path: str, arg: task_args.TaskArg, spec: dict) -> list[Problem]:
    dist = spec["distribution"]
    if dist == "constant":
        problem = arg.problem(spec["value"])
        return [(f"{path}.value", problem)] if problem else []
    if dist in ("categorical", "categorical_w_probabilities"):
        out = []
        for i, value in enumerate(spec["values"]):
            problem = arg.problem(value)
            if problem:
                out.append((f"{path}.values[{i}]", problem))
        return out
    if not arg.is_numeric:
        return [(path, f"{arg.name} is a {arg._kind_word()}; sweep it with value or values, "
                       f"not a {dist} distribution")]
    if arg.kind == task_args.INT and not _draws_integers(spec):
        return [(path, f"{arg.name} is a whole number, but {dist} draws fractions; use "
                       "int_uniform, values, or q_uniform with a whole q")]
    if dist in _params.UNBOUNDED_BELOW and arg.minimum is not None:
        return [(path, f"a {dist} distribution can draw values below {arg.name}'s minimum "
                       f"({arg.minimum:g}); use a bounded distribution")]
    out = []
    for bound in ("min", "max"):
        if bound not in spec:
            continue
        value = spec[bound]
        shown = value
        if dist in _params.EXPONENT_BOUNDS:
            value = math.exp(value)
            shown = f"{spec[bound]} (e^{spec[bound]} = {value:.3g})"
        problem = arg.problem(value if arg.kind == task_args.FLOAT else int(value))
        if problem:
            out.append((f"{path}.{bound}", f"{problem} for {arg.name}, got {shown}"))
    return out


def _draws_integers(spec: dict) -> bool:
    dist = spec["distribution"]
    if dist in _params.INTEGER_DISTRIBUTIONS:
        return True
    if dist in ("q_uniform", "q_log_uniform_values"):
        q = spec.get("q", 1.0)
        return float(q).is_integer() and all(float(spec[b]).is_integer() for b in ("min", "max"))
    return False


# What each task without built-in data reads (classification falls back to Rotten Tomatoes).
DATA_FORMATS = {
    "multilabel": "a csv, tsv, json or jsonl file with text and a list of 0/1 labels per row",
    "ner": "a csv, tsv, json or jsonl file with one row per word: sentence_id, words, labels "
           "(BIO tags)",
    "qa": "a SQuAD-style json file",
}


def task_data_problems(parameters: dict) -> list[Problem]:
    """A sweep whose task has no built-in data and that names no ``train_file``: every run
    would fail the same way, so it is refused before the first one."""
    if "train_file" in parameters:
        return []
    spec = parameters.get("task")
    if spec is None:
        tasks = [task_args.TASK_CHOICES["task"].default]
    elif isinstance(spec, dict) and "value" in spec:
        tasks = [spec["value"]]
    elif isinstance(spec, dict) and isinstance(spec.get("values"), list):
        tasks = spec["values"]
    else:
        return []
    task = next((t for t in tasks if t in DATA_FORMATS), None)
    if task is None:
        return []
    return [("parameters.train_file", f"the {task} task has no built-in data: set train_file "
                                      f"(and eval_file) to {DATA_FORMATS[task]}")]

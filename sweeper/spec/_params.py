"""Parameters of a sweep: W&B's distributions, how each is inferred, and a walk over nested groups."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

# distribution name -> the schema definition that describes it
DISTRIBUTION_SCHEMAS: dict[str, str] = {
    "constant": "param_single_value",
    "categorical": "param_categorical",
    "categorical_w_probabilities": "param_categorical_w_probabilities",
    "int_uniform": "param_int_uniform",
    "uniform": "param_uniform",
    "q_uniform": "param_quniform",
    "log_uniform": "param_loguniform",
    "log_uniform_values": "param_loguniform_v2",
    "q_log_uniform": "param_qloguniform",
    "q_log_uniform_values": "param_qloguniform_v2",
    "inv_log_uniform": "param_inv_loguniform",
    "inv_log_uniform_values": "param_inv_loguniform_v2",
    "normal": "param_normal",
    "q_normal": "param_qnormal",
    "log_normal": "param_lognormal",
    "q_log_normal": "param_qlognormal",
    "beta": "param_beta",
    "q_beta": "param_qbeta",
}
DISTRIBUTIONS = tuple(DISTRIBUTION_SCHEMAS)

# Distributions a grid can enumerate (W&B's grid engine turns int_uniform and q_uniform into lists).
GRID_DISTRIBUTIONS = ("constant", "categorical", "int_uniform", "q_uniform")
# Distributions whose draws are always whole numbers.
INTEGER_DISTRIBUTIONS = ("int_uniform",)
# Distributions with no upper or lower bound.
UNBOUNDED_BELOW = ("normal", "q_normal")
# min/max given as base-e exponents rather than values.
EXPONENT_BOUNDS = ("log_uniform", "q_log_uniform", "inv_log_uniform")


def schema_for(distribution: str) -> dict:
    from . import _schema

    return _schema.definition(DISTRIBUTION_SCHEMAS[distribution])


def is_group(spec: Any) -> bool:
    """A nested group of parameters: ``{parameters: {...}}``."""
    return isinstance(spec, dict) and "parameters" in spec


def infer(name: str, spec: dict) -> dict | None:
    """The parameter with its distribution and defaults filled in, as W&B's engine fills them.

    None when no W&B distribution matches.

    >>> infer("lr", {"min": 0.0, "max": 1.0})["distribution"]
    'uniform'
    >>> infer("epochs", {"min": 1, "max": 3})["distribution"]
    'int_uniform'
    """
    from . import _schema

    found = _schema.fill_parameter(spec)
    if found is None:
        return None
    filled = found[1]
    if "distribution" not in filled:  # uniform's variants fill it only sometimes
        filled["distribution"] = found[0].replace("param_", "").replace("single_value", "constant")
    return filled


def walk(parameters: dict, prefix: str = "parameters") -> Iterator[tuple[str, str, Any]]:
    """Yield ``(key path, dotted name, spec)`` for every leaf parameter, nested groups included."""
    if not isinstance(parameters, dict):
        return
    for key, spec in parameters.items():
        path = f"{prefix}.{key}"
        if is_group(spec):
            for sub_path, sub_name, sub_spec in walk(spec["parameters"], f"{path}.parameters"):
                yield sub_path, f"{key}.{sub_name}", sub_spec
        else:
            yield path, str(key), spec


def normalise_parameters(parameters: dict) -> dict:
    """Every leaf parameter with its distribution inferred; nested groups kept (W&B drops them)."""
    out: dict = {}
    for key, spec in parameters.items():
        if is_group(spec):
            out[key] = {"parameters": normalise_parameters(spec["parameters"])}
        else:
            out[key] = infer(key, spec) or spec
    return out


def grid_count(spec: dict) -> int:
    """How many values :func:`grid_values` gives, without building them."""
    dist = spec["distribution"]
    if dist == "constant":
        return 1
    if dist == "categorical":
        return len(spec["values"])
    if dist == "int_uniform":
        return max(0, spec["max"] - spec["min"] + 1)
    if dist == "q_uniform":  # numpy.arange's length
        return max(0, math.ceil((spec["max"] - spec["min"]) / spec["q"]))
    raise ValueError(f"{dist} cannot be enumerated by a grid")


def grid_values(spec: dict) -> list:
    """The values a grid enumerates for one normalised parameter, exactly as W&B's engine does."""
    import numpy as np

    dist = spec["distribution"]
    if dist == "constant":
        return [spec["value"]]
    if dist == "categorical":
        return list(spec["values"])
    if dist == "int_uniform":
        return list(range(spec["min"], spec["max"] + 1))
    if dist == "q_uniform":
        return np.arange(spec["min"], spec["max"], spec["q"]).tolist()
    raise ValueError(f"{dist} cannot be enumerated by a grid")

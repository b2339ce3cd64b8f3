"""The sweep definition: load, validate, normalise, explain and build W&B sweep configs.

A sweep file is W&B's own sweep config. Validation uses W&B's schema (the `sweeps` package),
then the checks W&B leaves to run time, then, for sweeps of the built-in trainer, the task args.

The submodules load on first use, so that commands which only read names stay fast.
"""

from __future__ import annotations

import importlib
from typing import Any

from ._names import (
    BUILTIN_PROGRAM,
    LOCAL_METHODS,
    METHODS,
    NEEDS_METRIC,
    TASK_METRICS,
    W_AND_B_METHODS,
)

_LAZY = {
    "DEFAULT_SPACE": "_build", "build_sweep": "_build", "default_parameters": "_build",
    "describe_parameter": "_explain", "explain": "_explain", "grid_size": "_explain",
    "hyperband_bands": "_explain",
    "parse_text": "_load", "read_config": "_load", "read_document": "_load",
    "GRID_LIMIT": "_validate", "find_problems": "_validate", "normalise": "_validate",
    "runs_builtin_trainer": "_validate", "targets_builtin_agent": "_validate",
    "validate": "_validate",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'sweeper.spec' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def load(path) -> dict:
    """Read and validate a sweep file; return the normalised config or raise SpecError."""
    return load_with_warnings(path)[0]


def load_with_warnings(path) -> tuple[dict, list[str]]:
    """Read and validate a sweep file: the normalised config, and each warning as a line
    (``FILE: key.path: warning: ...``) for the caller to show. SpecError on any problem."""
    from ._load import read_document
    from ._validate import find_problems, validate

    config, read_warnings = read_document(path)
    config = validate(config, source=str(path))
    _, warnings = find_problems(config)
    return config, [f"{path}: {key}: warning: {message}" if key else f"{path}: warning: {message}"
                    for key, message in [*read_warnings, *warnings]]


__all__ = ["BUILTIN_PROGRAM", "LOCAL_METHODS", "METHODS", "NEEDS_METRIC", "TASK_METRICS",
           "W_AND_B_METHODS", "load", "load_with_warnings", *_LAZY]

"""The sweep definition: load, validate, normalise, explain and build W&B sweep configs.

A sweep file is W&B's own sweep config. Validation uses W&B's schema (the `sweeps` package),
then the checks W&B leaves to run time, then, for sweeps of the built-in agent, the task args.
"""

from ._build import DEFAULT_SPACE, TASK_METRICS, build_sweep, default_parameters
from ._explain import describe_parameter, explain, grid_size, hyperband_bands
from ._load import parse_text, read_config
from ._validate import (
    BUILTIN_PROGRAM,
    LOCAL_METHODS,
    METHODS,
    W_AND_B_METHODS,
    find_problems,
    normalise,
    targets_builtin_agent,
    validate,
)


def load(path) -> dict:
    """Read and validate a sweep file; return the normalised config or raise SpecError."""
    return validate(read_config(path), source=str(path))


__all__ = [
    "BUILTIN_PROGRAM",
    "DEFAULT_SPACE",
    "LOCAL_METHODS",
    "METHODS",
    "TASK_METRICS",
    "W_AND_B_METHODS",
    "build_sweep",
    "default_parameters",
    "describe_parameter",
    "explain",
    "find_problems",
    "grid_size",
    "hyperband_bands",
    "load",
    "normalise",
    "parse_text",
    "read_config",
    "targets_builtin_agent",
    "validate",
]

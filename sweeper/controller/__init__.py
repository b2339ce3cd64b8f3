"""The controller: a pure function of (sweep config, runs) that picks the next run or the runs
to stop; gp may also carry its kernel in a memory that the caller keeps and hands in. W&B's
engine for grid, random, bayes and hyperband; Optuna for tpe, gp, nsga2 and our auto (gp, then
tpe). No I/O, but for the machine's fit slots (``_fit_slots``: a fit waits for a core that
no other agent process on this machine is fitting on; locked files in the temporary folder).

>>> suggest({"method": "grid", "parameters": {"a": {"values": [1, 2]}}}, [])
{'a': 1}
"""

from __future__ import annotations

from ._runs import (
    ACTIVE,
    TERMINAL,
    WANDB_STATE,
    ControllerRun,
    best_value,
    flatten,
    population_size,
)

OPTUNA_METHODS = ("tpe", "gp", "nsga2", "auto")
# Methods whose suggestion fits a model to the runs so far (seconds at hundreds of runs): backends
# run it outside the sweep's lock. grid and random draw in microseconds.
FITTED_METHODS = ("bayes", *OPTUNA_METHODS)


def load_engines(config: dict) -> None:
    """Import the engines the sweep uses now (a second or more: scipy, optuna), so that a
    caller holding a lock does not import them there."""
    if config["method"] in OPTUNA_METHODS:
        from . import _optuna  # noqa: F401
    if config["method"] not in OPTUNA_METHODS or config.get("early_terminate"):
        from . import _wandb_engine  # noqa: F401


def suggest(config: dict, runs: list[ControllerRun], seed_key: str = "",
            memory: dict | None = None) -> dict | None:
    """The next run's parameters (nested groups as dicts), or None when a grid is exhausted.

    ``memory``: a dict the caller keeps between the hand-outs of one agent to one sweep, where
    gp leaves its fitted kernel and starts its next fit from it (0.85 of the time at 300 runs);
    without it every fit starts from the defaults. The result depends only on the arguments."""
    # The engines load on first use: they import scipy and optuna, which most commands never need.
    if config["method"] in OPTUNA_METHODS:
        from . import _optuna

        params = _optuna.suggest(config, runs, seed_key, memory)
    else:
        from . import _wandb_engine

        params = _wandb_engine.suggest(config, runs)
    return None if params is None else _plain(params)


def _plain(value):
    """Numpy scalars and arrays (the engines draw with numpy) as plain Python values."""
    if isinstance(value, dict):
        return {key: _plain(v) for key, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return value.tolist()
    return value


def to_stop(config: dict, runs: list[ControllerRun]) -> list[str]:
    """Names of the running runs that early termination (W&B's hyperband) says to stop."""
    et = config.get("early_terminate")
    if not et or et.get("type") != "hyperband":
        return []
    from . import _wandb_engine

    return _wandb_engine.to_stop(config, runs)


__all__ = ["ACTIVE", "FITTED_METHODS", "OPTUNA_METHODS", "TERMINAL", "WANDB_STATE", "ControllerRun",
           "best_value", "flatten", "load_engines", "population_size", "suggest", "to_stop"]

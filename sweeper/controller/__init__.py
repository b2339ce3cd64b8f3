"""The controller: a pure function of (sweep config, runs) that picks the next run or the runs
to stop; gp may also carry its kernel in a memory that the caller keeps and hands in. W&B's
engine for grid, random, bayes and hyperband; Optuna for tpe, gp, nsga2 and our auto (gp, then
tpe). No I/O, but for the machine's fit slots (``_fit_slots``: a fit waits for a core that
no other agent process on this machine is fitting on; locked files in the temporary folder) and
``same_fit``, the lock a backend holds while one fit makes points for the agents asking with it
(``suggest_batch``).

>>> suggest({"method": "grid", "parameters": {"a": {"values": [1, 2]}}}, [])
{'a': 1}
"""

from __future__ import annotations

from .. import objectives
from ._auto import engine_of
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


def suggest_batch(config: dict, runs: list[ControllerRun], count: int, seed_key: str = "",
                  memory: dict | None = None) -> list[dict]:
    """``suggest``'s point first, then up to ``count - 1`` more from the same fit, for agents
    asking at the same moment: gp's (Kriging believer, ``_batch``); the other methods give their
    one point. Empty when a grid is exhausted."""
    if config["method"] not in OPTUNA_METHODS:
        params = suggest(config, runs, seed_key, memory)
        return [] if params is None else [params]
    from . import _optuna

    return [_plain(p) for p in _optuna.suggest_batch(config, runs, count, seed_key, memory)]


def makes_batches(config: dict, runs: int) -> bool:
    """Whether the method's next suggestion, with ``runs`` runs recorded, can make a batch of
    points from one fit (``suggest_batch``): gp, and auto while it is gp, on one metric."""
    if config["method"] not in ("gp", "auto") or objectives.is_multi(config):
        return False
    return engine_of(config["method"], runs) == "gp"  # no optuna import: under a read


def same_fit(key: str):
    """A context in which no other process on this machine fits on the runs ``key`` names
    (``_fit_slots.same_fit``): a backend holds it from reading the runs to recording a batch's
    points, so that an agent asking meanwhile finds the batch instead of fitting again."""
    from ._fit_slots import same_fit

    return same_fit(key)


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
           "best_value", "flatten", "load_engines", "makes_batches", "population_size",
           "same_fit", "suggest",
           "suggest_batch", "to_stop"]

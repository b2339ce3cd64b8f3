"""tpe, gp, nsga2 and auto: Optuna's samplers through ask/tell, the study rebuilt from the run
records. auto is ours: gp for the first AUTO_GP_RUNS runs, tpe after.

The records stay the one source of truth: each call builds an in-memory study from the runs so
far (finished ones with their metric, failed ones as failed, running ones as running so that the
samplers' constant liar spreads parallel agents apart) and asks it for one trial. A sweep of
several metrics (``metrics:``) is a multi-objective study: a run counts once it has a value of
every metric. nsga2's generations are the finished runs in the order they were handed out, a
generation of ``population_size(config)`` runs each.

A numeric ``values`` list (``learning_rate: {values: [1e-5, 3e-5, 5e-5]}``, the most common form
in real sweep files) is ordinal, not a set of unrelated labels: the samplers search the position
in the sorted list (an integer), so that neighbouring values share what was learnt about them.
On recorded trainings (``bench/search_quality.py``) this keeps tpe's median regret and halves its
worst case against random's. A ``values`` list of lists or mappings (layer sizes:
``{values: [[64, 64], [128, 128]]}``) is searched by position too, unordered: Optuna's
distributions hold only plain values, and warn on every call otherwise.
"""

from __future__ import annotations

import contextlib
import math
import warnings
import zlib
from typing import Any

import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.trial import TrialState

from .. import objectives
from ..run_value import lookup
from ..spec import _params
from . import _kernel_memory
from ._auto import engine_of
from ._batch import BatchGPSampler
from ._fit_slots import one_fit
from ._quantiles import DISTRIBUTIONS as QUANTILE_DISTRIBUTIONS
from ._quantiles import LOW as QUANTILE_LOW
from ._quantiles import Quantiles
from ._runs import ControllerRun, best_value, population_size

optuna.logging.set_verbosity(optuna.logging.WARNING)


ORDINAL_MIN_VALUES = 3  # two values have no order worth learning


def ordinal_values(values: list) -> list | None:
    """The sorted distinct values of a numeric ``values`` list searched by position, or None."""
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return None
    distinct = sorted(set(values))
    return distinct if len(distinct) >= ORDINAL_MIN_VALUES else None


def _plain(value: Any) -> bool:
    """A value Optuna's categorical distributions hold as it is."""
    return value is None or isinstance(value, (bool, int, float, str))


def distributions(parameters: dict) -> tuple[dict[str, BaseDistribution], dict[str, Any],
                                             dict[str, list], dict[str, Quantiles]]:
    """Optuna distributions for the searchable leaves, the constants, the lists searched by
    position (an ordinal list sorted, searched as an integer; a list of lists or mappings as it
    is, searched as an unordered index) and the parameters searched by their quantile
    (``_quantiles``), by dotted name."""
    searchable: dict[str, BaseDistribution] = {}
    constants: dict[str, Any] = {}
    ordinals: dict[str, list] = {}  # every list searched by position
    quantiles: dict[str, Quantiles] = {}
    for _, name, spec in _params.walk(parameters):
        d = spec["distribution"]
        lo, hi = spec.get("min"), spec.get("max")
        if d in QUANTILE_DISTRIBUTIONS:
            quantiles[name] = Quantiles(name, spec)
            searchable[name] = FloatDistribution(QUANTILE_LOW, 1 - QUANTILE_LOW)
        elif d == "constant":
            constants[name] = spec["value"]
        elif d == "categorical":
            ordinal = ordinal_values(spec["values"])
            if ordinal is None and all(_plain(v) for v in spec["values"]):
                searchable[name] = CategoricalDistribution(spec["values"])
            elif ordinal is None:
                ordinals[name] = list(spec["values"])
                searchable[name] = CategoricalDistribution(list(range(len(ordinals[name]))))
            else:
                ordinals[name] = ordinal
                searchable[name] = IntDistribution(0, len(ordinal) - 1)
        elif d == "int_uniform":
            searchable[name] = IntDistribution(lo, hi)
        elif d == "uniform":
            searchable[name] = FloatDistribution(lo, hi)
        elif d == "q_uniform":
            # W&B draws round(uniform(min, max) / q) * q: the multiples of q from
            # round(min / q) to round(max / q).
            q = spec.get("q", 1.0)
            first, last = round(lo / q), round(hi / q)
            if last <= first:
                constants[name] = first * q
            elif float(q).is_integer():
                searchable[name] = IntDistribution(int(first * q), int(last * q), step=int(q))
            else:
                # rounded to 12 places: Optuna checks the range's divisibility in decimal
                searchable[name] = FloatDistribution(round(first * q, 12), round(last * q, 12),
                                                     step=q)
        elif d == "log_uniform_values":
            searchable[name] = FloatDistribution(lo, hi, log=True)
        elif d == "log_uniform":
            searchable[name] = FloatDistribution(math.exp(lo), math.exp(hi), log=True)
        else:  # no W&B distribution of this name (validation refuses it)
            raise ValueError(f"{name}: the {d} distribution has no Optuna counterpart")
    return searchable, constants, ordinals, quantiles


@contextlib.contextmanager
def _no_experimental_warnings():
    """Optuna warns that gp (before 5.0), tpe's ``multivariate`` and parts of ask are
    experimental: a warning users can do nothing about."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        yield


def _sampler(method: str, seed: int, config: dict, extra: int = 0
             ) -> optuna.samplers.BaseSampler:
    if method == "tpe":
        return optuna.samplers.TPESampler(seed=seed, constant_liar=True, multivariate=True,
                                          n_startup_trials=5)
    if method == "gp":
        return BatchGPSampler(seed=seed, n_startup_trials=5, extra=extra)
    if method == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=seed, population_size=population_size(config))
    raise ValueError(f"no Optuna sampler for method {method!r}")


def suggest(config: dict, runs: list[ControllerRun], seed_key: str = "",
            memory: dict | None = None) -> dict:
    return suggest_batch(config, runs, 1, seed_key, memory)[0]


def suggest_batch(config: dict, runs: list[ControllerRun], count: int, seed_key: str = "",
                  memory: dict | None = None) -> list[dict]:
    """``suggest``'s point, then up to ``count - 1`` more from the same fit (gp, ``_batch``;
    the other samplers give their one point)."""
    searchable, constants, ordinals, quantiles = distributions(config["parameters"])
    goals = [o.goal for o in objectives.of(config)] or ["minimize"]
    several = objectives.is_multi(config)
    seed = (zlib.crc32(seed_key.encode()) + len(runs)) % (2**31)
    method = engine_of(config["method"], len(runs))
    with _no_experimental_warnings():
        sampler = _sampler(method, seed, config, extra=count - 1)
    study = optuna.create_study(directions=goals, sampler=sampler)
    generation_key = f"{optuna.samplers.NSGAIISampler.__name__}:generation"
    size, completed = population_size(config), 0
    for run in runs:
        # by dotted name; a mapping among the values comes back whole, not spread in its keys
        found = {k: lookup(run.params, k, _MISSING) for k in searchable}
        params = {k: _internal(k, v, ordinals, quantiles) for k, v in found.items()
                  if v is not _MISSING}
        if len(params) != len(searchable) or not all(
            _contains(searchable[k], v) for k, v in params.items()
        ):
            continue  # a run from another search space tells this one nothing
        values = _objective_values(run, goals) if several else _metric_value(run, goals[0])
        if run.state in ("finished", "stopped") and values is not None:
            attrs = {generation_key: completed // size} if method == "nsga2" else {}
            completed += 1
            trial = optuna.trial.create_trial(
                params=params, distributions=searchable, system_attrs=attrs,
                values=values if several else [values])
        elif run.state in ("running", "pending"):
            trial = optuna.trial.create_trial(params=params, distributions=searchable,
                                              state=TrialState.RUNNING)
        else:
            trial = optuna.trial.create_trial(params=params, distributions=searchable,
                                              state=TrialState.FAIL)
        study.add_trial(trial)
    # tpe and nsga2 draw in milliseconds: limiting threads (1.6 ms a call) or fits at once
    # would only cost them
    fit = one_fit(torch_too=True) if method == "gp" else contextlib.nullcontext()
    if method == "gp":
        _kernel_memory.restore(sampler, memory, searchable)
    with fit, _no_experimental_warnings():
        trial = study.ask(searchable)
    if method == "gp":
        _kernel_memory.keep(sampler, memory, searchable)
    points = [trial.params, *({**trial.params, **extra}
                              for extra in getattr(sampler, "extra_params", ()))]
    return [_nest({**constants, **{k: ordinals[k][v] if k in ordinals else quantiles[k].value(v)
                                   if k in quantiles else v for k, v in point.items()}})
            for point in points]


_MISSING = object()  # a run without the parameter (None may be one of its values)


def _objective_values(run: ControllerRun, goals: list[str]) -> list[float] | None:
    """A run's value of every metric of a multi-objective sweep, or None when one is missing."""
    found = run.objective_values or ()
    values = [best_value([v] if v is not None else [], goal)
              for v, goal in zip(found, goals, strict=False)]
    return values if len(values) == len(goals) and all(v is not None for v in values) else None


def _internal(name: str, value: Any, ordinals: dict[str, list],
              quantiles: dict[str, Quantiles]) -> Any:
    """A run's value as the study searches it: a position, a quantile, or itself."""
    if name in ordinals:
        return _position(ordinals[name], value)  # None: not in the list, so left out
    if name in quantiles:
        found = quantiles[name].quantile(value)
        return found  # None: a value it cannot draw, so the run is left out
    return value


def _position(values: list, value: Any) -> int | None:
    """Where ``value`` stands in a list searched by position, or None where it is not in it
    (the run is then from another search space, and is left out). A boolean matches only
    itself (True is not 1); numbers match their equals (1 and 1.0, as a record may round-trip),
    lists and mappings theirs."""
    for position, candidate in enumerate(values):
        if isinstance(candidate, bool) or isinstance(value, bool):
            if candidate is value:
                return position
        elif candidate == value:
            return position
    return None


def _contains(distribution: BaseDistribution, value: Any) -> bool:
    try:
        return distribution._contains(distribution.to_internal_repr(value))
    except (ValueError, TypeError):
        return False


def _metric_value(run: ControllerRun, goal: str) -> float | None:
    """The run's one value of the metric: its summary value (sweeper.run_value)."""
    return best_value([run.metric_summary] if run.metric_summary is not None else [], goal)


def _nest(flat: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in flat.items():
        parts = name.split(".")
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return out

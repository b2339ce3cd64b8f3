"""grid, random, bayes and hyperband: W&B's own engine (the `sweeps` package), unchanged."""

from __future__ import annotations

import contextlib
import functools
import warnings
from typing import Any

from sweeps.params import HyperParameterSet

import sweeps
from sweeps import grid_search

from ._fit_slots import one_fit
from ._runs import WANDB_STATE, ControllerRun

_original_yaml_hash = grid_search.yaml_hash


def _fast_yaml_hash(value: Any) -> str:
    """The engine's own hash of a grid value, memoised: the grid engine hashes every value of
    every run on every call, and yaml.dump dominates its time at a thousand runs."""
    if isinstance(value, (bool, int, float, str)) or value is None:
        return _hash_scalar(type(value), value)
    return _original_yaml_hash(value)


@functools.lru_cache(maxsize=65536)
def _hash_scalar(kind: type, value: Any) -> str:
    return _original_yaml_hash(value)


grid_search.yaml_hash = _fast_yaml_hash


def to_sweep_run(run: ControllerRun, metric_name: str | None, with_history: bool = True
                 ) -> sweeps.SweepRun:
    """The run as W&B's engine takes it. Without history, the engine's only value of the metric
    is the run's summary value (what bayes should fit, as on W&B)."""
    config = {key: {"value": value} for key, value in run.params.items()}
    # The grid engine looks nested parameters up by their delimited names; give it those too.
    for key, value in run.params.items():
        if isinstance(value, dict):
            for sub_key, sub_value in _delimited(value, f"{key}{HyperParameterSet.NESTING_DELIMITER}"):
                config[sub_key] = {"value": sub_value}
    history: list[dict] = []
    summary: dict = {}
    if metric_name is not None:
        if with_history:
            history = [{metric_name: v} for v in run.metric_history]
        if run.metric_summary is not None:
            summary = {metric_name: run.metric_summary}
    # By alias: under pydantic 2 the engine's models ignore field names (``history=`` is dropped).
    return sweeps.SweepRun(name=run.name, config=config, state=WANDB_STATE[run.state],
                           sampledHistory=history, summaryMetrics=summary)


def _delimited(value: dict, prefix: str):
    for key, sub in value.items():
        if isinstance(sub, dict):
            yield from _delimited(sub, f"{prefix}{key}{HyperParameterSet.NESTING_DELIMITER}")
        else:
            yield f"{prefix}{key}", sub


def suggest(config: dict, runs: list[ControllerRun]) -> dict | None:
    metric = (config.get("metric") or {}).get("name")
    engine_runs = ([to_sweep_run(r, metric, with_history=False) for r in runs]
                   if config["method"] != "random" else [])
    fit = one_fit() if config["method"] == "bayes" else contextlib.nullcontext()
    with fit, warnings.catch_warnings():
        # The Gaussian process of bayes reports every fit that hits a bound; not the user's concern.
        warnings.simplefilter("ignore")
        suggestion = sweeps.next_run(config, engine_runs)
    if suggestion is None:
        return None
    return {key: spec["value"] for key, spec in suggestion.config.items()}


def to_stop(config: dict, runs: list[ControllerRun]) -> list[str]:
    metric = config["metric"]["name"]
    engine_runs = [to_sweep_run(r, metric) for r in runs]
    return [run.name for run in sweeps.stop_runs(config, engine_runs)]

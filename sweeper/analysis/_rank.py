"""Ranking configurations by the sweep's metric (or its Pareto fronts), seeds grouped, failures
listed apart: ``sweeper.ranking`` in a DataFrame."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .. import objectives as objectives_of
from ..ranking import RANKED_STATES, SEED_PARAMS, Scored, t975, top_two_distinguishable
from ..ranking import rank as rank_configurations
from ._frame import objective_columns, parameter_columns

__all__ = ["RANKED_STATES", "SEED_PARAMS", "failed", "ordered", "rank", "t975"]


def rank(df: pd.DataFrame, metric: str | None = None, goal: str | None = None) -> pd.DataFrame:
    """Configurations best first: runs differing only in seed are one configuration, with its
    ``n``, ``mean``, ``std`` and 95% interval (``ci_low``, ``ci_high``, Student's t).

    Only finished (or hyperband-stopped) runs with a metric are ranked; :func:`failed` lists the
    rest. ``runs`` names the runs of each configuration, stopped ones marked "(stopped)".
    ``ranked.attrs["top_two_distinguishable"]`` says whether the 95% intervals of the first
    two configurations are apart (False when they overlap, None when fewer than two have n >= 2).

    A multi-objective sweep (``metrics:``) ranks by Pareto front: ``front`` (1: no other
    configuration is better on every metric), then per metric its mean (a column named as the
    metric), ``<metric>_std`` and ``<metric>_best``; the front first, each front by its first
    metric. ``metric`` ranks by that one column instead.
    """
    info = df.attrs.get("sweep", {})
    config = info.get("config") or {}
    if metric is None and objectives_of.is_multi(config):
        return _pareto(df, objectives_of.of(config))
    column = metric or "metric_value"
    goal = goal or info.get("goal", "minimize")
    params = [c for c in parameter_columns(df) if c not in SEED_PARAMS]
    target = objectives_of.Objective(info.get("metric") or column, goal)
    ranked = rank_configurations(_scored(df, params, [column]), [target], params)
    frame = pd.DataFrame({
        **{p: [c.params[p] for c in ranked] for p in params},
        "n": [c.n for c in ranked], "mean": [c.mean[0] for c in ranked],
        "std": [_nan(c.std[0]) for c in ranked], "ci_low": [_nan(c.ci_low[0]) for c in ranked],
        "ci_high": [_nan(c.ci_high[0]) for c in ranked], "best": [c.best[0] for c in ranked],
        "runs": [c.run_names for c in ranked]},
        columns=[*params, "n", "mean", "std", "ci_low", "ci_high", "best", "runs"])
    frame.index = frame.index + 1
    frame.attrs["top_two_distinguishable"] = top_two_distinguishable(ranked)
    frame.attrs["metric"], frame.attrs["goal"] = info.get("metric", column), goal
    return frame


def _pareto(df: pd.DataFrame, objectives: list[objectives_of.Objective]) -> pd.DataFrame:
    params = [c for c in parameter_columns(df) if c not in SEED_PARAMS]
    ranked = rank_configurations(_scored(df, params, objective_columns(objectives)),
                                 objectives, params)
    columns: dict = {"front": [c.front for c in ranked],
                     **{p: [c.params[p] for c in ranked] for p in params},
                     "n": [c.n for c in ranked]}
    for i, o in enumerate(objectives):
        columns[o.name] = [c.mean[i] for c in ranked]
        columns[f"{o.name}_std"] = [_nan(c.std[i]) for c in ranked]
        columns[f"{o.name}_best"] = [c.best[i] for c in ranked]
    columns["runs"] = [c.run_names for c in ranked]
    frame = pd.DataFrame(columns, columns=list(columns))
    frame.index = frame.index + 1
    frame.attrs["top_two_distinguishable"] = None
    frame.attrs["metrics"] = [o.name for o in objectives]
    frame.attrs["goals"] = [o.goal for o in objectives]
    return frame


def _scored(df: pd.DataFrame, params: list[str], value_columns: list[str]) -> list[Scored]:
    """The runs as ranking takes them (missing values as None)."""
    scored = df[df["state"].isin(RANKED_STATES)]
    names, states = scored["name"].tolist(), scored["state"].tolist()
    param_values = [scored[p].tolist() for p in params]
    values = [[_none(v) for v in scored[c].tolist()] if c in scored else [None] * len(scored)
              for c in value_columns]
    return [Scored(names[i], states[i], {p: param_values[j][i] for j, p in enumerate(params)},
                   tuple(v[i] for v in values)) for i in range(len(scored))]


def _none(value):
    return None if isinstance(value, float) and math.isnan(value) else value


def _nan(value):
    return np.nan if value is None else value


def ordered(df: pd.DataFrame) -> pd.DataFrame:
    """Every run, in the order the ranking sees them: ranked runs best first, then runs that
    reported a value but are not ranked (failed, crashed, killed, running), then the rest.
    A multi-objective sweep's runs come by Pareto front (``front``), then by the first metric."""
    config = df.attrs.get("sweep", {}).get("config") or {}
    if objectives_of.is_multi(config):
        first = objectives_of.of(config)[0]
        value = df[objective_columns([first])[0]].astype(float)
        sign = -1.0 if first.maximize else 1.0
        key = pd.DataFrame({"group": df["front"].isna().astype(int),
                            "front": df["front"].fillna(0), "value": sign * value},
                           index=df.index)
        return df.loc[key.sort_values(["group", "front", "value"], kind="stable").index]
    goal = df.attrs.get("sweep", {}).get("goal", "minimize")
    value = df["metric_value"].astype(float)
    key = pd.DataFrame({"group": (~df["state"].isin(RANKED_STATES)).astype(int)
                        + 2 * value.isna().astype(int),
                        "value": value if goal == "minimize" else -value}, index=df.index)
    return df.loc[key.sort_values(["group", "value"], kind="stable").index]


def failed(df: pd.DataFrame) -> pd.DataFrame:
    """Runs that failed, crashed or were killed: never ranked as if they scored anything."""
    return df[df["state"].isin(("failed", "crashed", "killed"))]

"""Ranking configurations by the sweep's metric, seeds grouped, failures listed apart."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ._frame import parameter_columns

# Parameters that vary the randomness, not the configuration.
SEED_PARAMS = ("manual_seed", "seed", "random_seed")
RANKED_STATES = ("finished", "stopped")


def rank(df: pd.DataFrame, metric: str | None = None, goal: str | None = None) -> pd.DataFrame:
    """Configurations best first: runs differing only in seed are one configuration, with its
    ``n``, ``mean``, ``std`` and 95% interval (``ci_low``, ``ci_high``, Student's t).

    Only finished (or hyperband-stopped) runs with a metric are ranked; :func:`failed` lists the
    rest. ``ranked.attrs["top_two_distinguishable"]`` says whether the 95% intervals of the first
    two configurations are apart (False when they overlap, None when fewer than two have n >= 2).
    """
    info = df.attrs.get("sweep", {})
    metric = metric or "metric_best"
    goal = goal or info.get("goal", "minimize")
    scored = df[df["state"].isin(RANKED_STATES) & df[metric].notna()]
    params = [c for c in parameter_columns(df) if c not in SEED_PARAMS]
    if scored.empty:
        ranked = pd.DataFrame(columns=[*params, "n", "mean", "std", "ci_low", "ci_high", "best",
                                       "runs"])
        ranked.attrs["top_two_distinguishable"] = None
        return ranked
    # One key per configuration (parameters as text, so lists and None group too).
    keys = [scored[p].astype(str).rename(f"_key_{i}") for i, p in enumerate(params)] or \
        [pd.Series("all", index=scored.index, name="_key_all")]
    grouped = scored.groupby(keys, sort=False)
    values = grouped[metric]
    n = values.count().to_numpy()
    mean = values.mean().to_numpy(dtype=float)
    std = values.std(ddof=1).to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        half = np.where(n > 1, stats.t.ppf(0.975, np.maximum(n - 1, 1)) * std / np.sqrt(n),
                        np.nan)
    best = (values.max() if goal == "maximize" else values.min()).to_numpy(dtype=float)
    ranked = grouped[params].first().reset_index(drop=True) if params else pd.DataFrame(
        index=range(len(n)))
    ranked = ranked.assign(n=n, mean=mean, std=std, ci_low=mean - half, ci_high=mean + half,
                           best=best, runs=grouped["name"].agg(", ".join).to_numpy())
    ranked = ranked.sort_values("mean", ascending=goal != "maximize", ignore_index=True)
    ranked.index = ranked.index + 1
    ranked.attrs["top_two_distinguishable"] = _apart(ranked)
    ranked.attrs["metric"], ranked.attrs["goal"] = info.get("metric", metric), goal
    return ranked


def _apart(ranked: pd.DataFrame) -> bool | None:
    if len(ranked) < 2 or ranked["n"].iloc[:2].min() < 2:
        return None
    first, second = ranked.iloc[0], ranked.iloc[1]
    return bool(first["ci_low"] > second["ci_high"] or second["ci_low"] > first["ci_high"])


def failed(df: pd.DataFrame) -> pd.DataFrame:
    """Runs that failed, crashed or were killed: never ranked as if they scored anything."""
    return df[df["state"].isin(("failed", "crashed", "killed"))]

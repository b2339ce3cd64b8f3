"""Ranking configurations by the sweep's metric, seeds grouped, failures listed apart."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._frame import parameter_columns

# Student's t at 97.5% for 1..30 degrees of freedom (beyond: the Cornish-Fisher expansion);
# scipy.stats would add a second to every `sweeper results`.
_T975 = (12.7062047362, 4.30265272975, 3.18244630528, 2.7764451052, 2.57058183661,
         2.44691184879, 2.36462425101, 2.30600413503, 2.26215716274, 2.22813885196,
         2.20098516008, 2.17881282966, 2.16036865646, 2.14478668792, 2.13144954556,
         2.11990529922, 2.10981557783, 2.10092204024, 2.09302405441, 2.08596344727,
         2.07961384473, 2.0738730679, 2.06865761042, 2.06389856163, 2.05953855275,
         2.05552943864, 2.05183051648, 2.0484071418, 2.04522964213, 2.0422724563)


def t975(df: np.ndarray) -> np.ndarray:
    """The 97.5% quantile of Student's t for each number of degrees of freedom (>= 1)."""
    df = np.asarray(df, dtype=float)
    z = 1.959963984540054
    expansion = (z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)
                 + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * df**3))
    table = np.asarray(_T975)[np.clip(df.astype(int), 1, 30) - 1]
    return np.where(df <= 30, table, expansion)

# Parameters that vary the randomness, not the configuration.
SEED_PARAMS = ("manual_seed", "seed", "random_seed")
RANKED_STATES = ("finished", "stopped")


def rank(df: pd.DataFrame, metric: str | None = None, goal: str | None = None) -> pd.DataFrame:
    """Configurations best first: runs differing only in seed are one configuration, with its
    ``n``, ``mean``, ``std`` and 95% interval (``ci_low``, ``ci_high``, Student's t).

    Only finished (or hyperband-stopped) runs with a metric are ranked; :func:`failed` lists the
    rest. ``runs`` names the runs of each configuration, stopped ones marked "(stopped)". ``ranked.attrs["top_two_distinguishable"]`` says whether the 95% intervals of the first
    two configurations are apart (False when they overlap, None when fewer than two have n >= 2).
    """
    info = df.attrs.get("sweep", {})
    metric = metric or "metric_value"
    goal = goal or info.get("goal", "minimize")
    scored = df[df["state"].isin(RANKED_STATES) & df[metric].notna()]
    # pandas deep-copies attrs (the sweep's config) into every group: work without them
    scored = scored.copy(deep=False)
    scored.attrs = {}
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
        half = np.where(n > 1, t975(np.maximum(n - 1, 1)) * std / np.sqrt(n), np.nan)
    best = (values.max() if goal == "maximize" else values.min()).to_numpy(dtype=float)
    ranked = grouped[params].first().reset_index(drop=True) if params else pd.DataFrame(
        index=range(len(n)))
    names = scored["name"].where(scored["state"] != "stopped", scored["name"] + " (stopped)")
    ranked = ranked.assign(n=n, mean=mean, std=std, ci_low=mean - half, ci_high=mean + half,
                           best=best, runs=_names_by_group(grouped.ngroup().to_numpy(),
                                                           names.to_numpy(), len(n)))
    ranked = ranked.sort_values("mean", ascending=goal != "maximize", ignore_index=True)
    ranked.index = ranked.index + 1
    ranked.attrs["top_two_distinguishable"] = _apart(ranked)
    ranked.attrs["metric"], ranked.attrs["goal"] = info.get("metric", metric), goal
    return ranked


def _names_by_group(codes: np.ndarray, names: np.ndarray, groups: int) -> list[str]:
    """The run names of each group, joined (a Python aggregate per group would take seconds
    at 10,000 configurations)."""
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(groups + 1))
    sorted_names = names[order]
    return [", ".join(sorted_names[bounds[i]:bounds[i + 1]]) for i in range(groups)]


def _apart(ranked: pd.DataFrame) -> bool | None:
    if len(ranked) < 2 or ranked["n"].iloc[:2].min() < 2:
        return None
    first, second = ranked.iloc[0], ranked.iloc[1]
    return bool(first["ci_low"] > second["ci_high"] or second["ci_low"] > first["ci_high"])


def ordered(df: pd.DataFrame) -> pd.DataFrame:
    """Every run, in the order the ranking sees them: ranked runs best first, then runs that
    reported a value but are not ranked (failed, crashed, killed, running), then the rest."""
    goal = df.attrs.get("sweep", {}).get("goal", "minimize")
    value = df["metric_value"].astype(float)
    key = pd.DataFrame({"group": (~df["state"].isin(RANKED_STATES)).astype(int)
                        + 2 * value.isna().astype(int),
                        "value": value if goal == "minimize" else -value}, index=df.index)
    return df.loc[key.sort_values(["group", "value"], kind="stable").index]


def failed(df: pd.DataFrame) -> pd.DataFrame:
    """Runs that failed, crashed or were killed: never ranked as if they scored anything."""
    return df[df["state"].isin(("failed", "crashed", "killed"))]

"""The Pareto front of a sweep of several metrics, drawn: every run with a value of each metric
as a point, the front (runs no other run beats on every metric) as a staircase through its
runs, named. More than two metrics: one panel per pair."""

from __future__ import annotations

import itertools
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from .. import objectives  # noqa: E402
from ._plots import _save, _scored, targets  # noqa: E402

MAX_LABELS = 12  # run names written beside front points, at most


def pareto_front(df: pd.DataFrame, path: Path) -> Path | None:
    drawn = targets(df)
    scored = _scored(df)
    if len(drawn) < 2 or scored.empty:
        return None
    pairs = list(itertools.combinations(range(len(drawn)), 2))
    fig, axes = plt.subplots(1, len(pairs), figsize=(6.2 * len(pairs), 4.8), squeeze=False)
    for ax, (i, j) in zip(axes[0], pairs, strict=True):
        _panel(ax, scored, drawn[i], drawn[j], full_front=len(drawn) == 2)
    fronts = scored["front"]
    fig.suptitle(f"{df.attrs['sweep']['name']}: Pareto front of {len(scored)} finished runs "
                 f"({int((fronts == 1).sum())} on it)")
    return _save(fig, path)


def _panel(ax, scored: pd.DataFrame, x: tuple[str, str, str], y: tuple[str, str, str],
           full_front: bool) -> None:
    """One pair of metrics. With two metrics the sweep's front is this pair's; with more, the
    front of this pair is drawn and the sweep's front runs are ringed."""
    (x_column, x_name, x_goal), (y_column, y_name, y_goal) = x, y
    xs, ys = scored[x_column].astype(float), scored[y_column].astype(float)
    on_sweep_front = (scored["front"] == 1).to_numpy()
    pair = objectives.fronts(list(zip(xs, ys, strict=True)), [x_goal, y_goal])
    on_pair_front = [f == 1 for f in pair]
    ax.scatter(xs[~on_sweep_front], ys[~on_sweep_front], color="tab:blue", alpha=0.55,
               label="runs")
    ax.scatter(xs[on_sweep_front], ys[on_sweep_front], color="tab:red", zorder=3,
               label="Pareto front" if full_front else "on the sweep's front (all metrics)")
    front = sorted((a, b, name) for a, b, name, keep in zip(xs, ys, scored["name"],
                                                            on_pair_front, strict=True) if keep)
    if len(front) > 1:
        stairs_x, stairs_y = [front[0][0]], [front[0][1]]
        for a, b, _ in front[1:]:  # a staircase: each point dominates the area behind it
            across_first = x_goal == "minimize"  # the step runs along the dominated side
            stairs_x += [a, a] if across_first else [stairs_x[-1], a]
            stairs_y += [stairs_y[-1], b] if across_first else [b, b]
        ax.plot(stairs_x, stairs_y, color="tab:red", linewidth=1.2, alpha=0.7)
    for a, b, name in front[:MAX_LABELS]:
        ax.annotate(name, (a, b), xytext=(4, 4), textcoords="offset points", fontsize=7)
    ax.set_xlabel(f"{x_name} ({'higher' if x_goal == 'maximize' else 'lower'} is better)")
    ax.set_ylabel(f"{y_name} ({'higher' if y_goal == 'maximize' else 'lower'} is better)")
    ax.legend(fontsize=8, loc="best")


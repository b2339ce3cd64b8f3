"""Plots of a sweep, written as PNG files: parallel coordinates, importance, metric vs step for
the top runs, and each parameter against the metric."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from ._importance import importance, varied_parameters  # noqa: E402
from ._rank import RANKED_STATES  # noqa: E402


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _scored(df: pd.DataFrame) -> pd.DataFrame:
    return df[df["state"].isin(RANKED_STATES) & df["metric_value"].notna()]


def _axis_values(series: pd.Series) -> tuple[np.ndarray, list[str] | None]:
    """Numbers for a column; categories as their index (with the labels to show)."""
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return series.astype(float).to_numpy(), None
    labels = sorted(series.astype(str).unique())
    return series.astype(str).map({v: i for i, v in enumerate(labels)}).to_numpy(float), labels


def _log_scaled(values: np.ndarray) -> bool:
    return bool(values.size and values.min() > 0 and values.max() / values.min() > 50)


def parallel_coordinates(df: pd.DataFrame, path: Path) -> Path:
    scored = _scored(df)
    params = varied_parameters(scored)
    metric = df.attrs["sweep"]["metric"]
    columns = params + ["metric_value"]
    fig, ax = plt.subplots(figsize=(max(6, 1.9 * len(columns)), 4.8))
    normalised = []
    for i, column in enumerate(columns):
        values, labels = _axis_values(scored[column])
        shown_low, shown_high = values.min(), values.max()
        if labels is None and _log_scaled(values):
            values = np.log10(values)
        low, high = values.min(), values.max()
        normalised.append((values - low) / (high - low) if high > low else np.full_like(values, 0.5))
        text = (labels[0], labels[-1]) if labels else (f"{shown_low:.3g}", f"{shown_high:.3g}")
        ax.annotate(text[0], (i, 0), xytext=(0, -14), textcoords="offset points", ha="center",
                    fontsize=8)
        ax.annotate(text[1], (i, 1), xytext=(0, 6), textcoords="offset points", ha="center",
                    fontsize=8)
        ax.axvline(i, color="grey", linewidth=0.8)
    matrix = np.array(normalised).T
    scores = scored["metric_value"].astype(float)
    norm = plt.Normalize(scores.min(), scores.max())
    for row, score in zip(matrix, scores, strict=True):
        ax.plot(range(len(columns)), row, color=plt.cm.viridis(norm(score)), alpha=0.85)
    ax.set_xticks(range(len(columns)), [*params, metric], rotation=15, ha="right")
    ax.set_yticks([])
    ax.set_ylim(-0.12, 1.12)
    fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap="viridis"), ax=ax, label=metric)
    ax.set_title(f"{df.attrs['sweep']['name']}: each line is a run")
    return _save(fig, path)


def importance_bars(df: pd.DataFrame, path: Path) -> Path | None:
    scores = importance(df)
    if not scores:
        return None
    fig, ax = plt.subplots(figsize=(6, 0.5 * len(scores) + 1.5))
    names = list(scores)[::-1]
    ax.barh(names, [scores[n] for n in names], color="tab:blue")
    ax.set_xlabel("importance (fANOVA, sums to 1)")
    ax.set_title(f"what matters for {df.attrs['sweep']['metric']}")
    return _save(fig, path)


def metric_by_step(df: pd.DataFrame, path: Path, top: int = 5) -> Path | None:
    if "history" not in df.columns:
        return None
    metric, goal = df.attrs["sweep"]["metric"], df.attrs["sweep"]["goal"]
    best = _scored(df).sort_values("metric_value", ascending=goal != "maximize").head(top)
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for _, run in best.iterrows():
        points = [row[metric] for row in run["history"] or [] if row.get(metric) is not None]
        ax.plot(range(1, len(points) + 1), points, marker="o", label=run["name"])
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.set_xlabel(f"evaluation (logged value of {metric})")
    ax.set_ylabel(metric)
    ax.set_title(f"{metric} during training, top {len(best)} runs")
    ax.legend(fontsize=8)
    return _save(fig, path)


def parameter_vs_metric(df: pd.DataFrame, path: Path) -> Path | None:
    scored = _scored(df)
    params = varied_parameters(scored)
    if not params:
        return None
    metric = df.attrs["sweep"]["metric"]
    fig, axes = plt.subplots(1, len(params), figsize=(3.6 * len(params), 3.4), squeeze=False)
    for ax, name in zip(axes[0], params, strict=True):
        values, labels = _axis_values(scored[name])
        ax.scatter(values, scored["metric_value"], alpha=0.8)
        if labels:
            ax.set_xticks(range(len(labels)), labels, rotation=20)
        elif _log_scaled(values):
            ax.set_xscale("log")
        ax.set_xlabel(name)
        ax.set_ylabel(metric)
    return _save(fig, path)


def plot_all(df: pd.DataFrame, out: str | Path) -> list[Path]:
    """Every plot that the runs allow, into ``out``; returns the files written."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    written = [parallel_coordinates(df, folder / "parallel_coordinates.png"),
               importance_bars(df, folder / "importance.png"),
               metric_by_step(df, folder / "metric_by_step.png"),
               parameter_vs_metric(df, folder / "parameter_vs_metric.png")]
    return [p for p in written if p is not None]

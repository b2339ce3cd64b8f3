"""Plots of a sweep, written as PNG files: parallel coordinates, importance, metric vs step for
the top runs, and each parameter against the metric; for a sweep of several metrics, its Pareto
front too (``_pareto``), and each plot per metric."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from .. import objectives  # noqa: E402
from ._frame import objective_columns  # noqa: E402
from ._importance import importance, varied_parameters  # noqa: E402
from ._rank import RANKED_STATES  # noqa: E402


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def targets(df: pd.DataFrame) -> list[tuple[str, str, str]]:
    """(column, metric name, goal) of each metric the plots draw: the sweep's one metric, or
    each of its several."""
    info = df.attrs["sweep"]
    config = info.get("config") or {}
    if objectives.is_multi(config):
        several = objectives.of(config)
        return [(c, o.name, o.goal) for c, o in zip(objective_columns(several), several,
                                                   strict=True)]
    return [("metric_value", info["metric"], info["goal"])]


def _has_values(df: pd.DataFrame) -> pd.Series:
    return df[[c for c, _, _ in targets(df)]].notna().all(axis=1)


def _scored(df: pd.DataFrame) -> pd.DataFrame:
    return df[df["state"].isin(RANKED_STATES) & _has_values(df)]


def _with_value(df: pd.DataFrame) -> pd.DataFrame:
    """Every run with a value of the metric(s), whatever its state (failed ones drawn apart)."""
    return df[_has_values(df)]


def _colormap(goal: str):
    """viridis with yellow for the better end, whichever the goal."""
    return plt.cm.viridis if goal == "maximize" else plt.cm.viridis_r


# How each state is drawn: finished runs solid, hyperband-stopped ones dashed, runs that failed,
# crashed or were killed (with what they reported) dotted and grey.
_LINE = {"finished": "-", "stopped": "--"}
_MARKER = {"finished": "o", "stopped": "^"}


def _axis_values(series: pd.Series) -> tuple[np.ndarray, list[str] | None]:
    """Numbers for a column; categories as their index (with the labels to show)."""
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return series.astype(float).to_numpy(), None
    labels = sorted(series.astype(str).unique())
    return series.astype(str).map({v: i for i, v in enumerate(labels)}).to_numpy(float), labels


def _log_scaled(values: np.ndarray, declared: dict | None = None) -> bool:
    """A log axis where the sweep draws the parameter log-uniformly; a linear one where it
    draws it uniformly; for values lists (or no sweep config), where the values span decades."""
    if isinstance(declared, dict):
        distribution = str(declared.get("distribution", ""))
        if "log" in distribution:
            return bool(values.size and values.min() > 0)
        if distribution or "min" in declared:
            return False
    return bool(values.size and values.min() > 0 and values.max() / values.min() > 50)


def _declared(df: pd.DataFrame, name: str) -> dict | None:
    """The sweep file's entry for parameter ``name`` (dotted for nested parameters)."""
    node = ((df.attrs.get("sweep") or {}).get("config") or {}).get("parameters") or {}
    parts = name.split(".")
    for i, part in enumerate(parts):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
        if i < len(parts) - 1:
            node = node.get("parameters") if isinstance(node, dict) else None
    return node if isinstance(node, dict) else None


def _legend_for_states(ax, states) -> None:
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color="black", linestyle=_LINE.get(s, ":"), label=s)
               for s in ("finished", "stopped") if s in states]
    if any(s not in _LINE for s in states):
        handles.append(Line2D([], [], color="grey", linestyle=":",
                              label="failed, crashed or killed"))
    if len(handles) > 1:
        ax.legend(handles=handles, fontsize=8, loc="upper center", ncol=len(handles),
                  bbox_to_anchor=(0.5, -0.16), frameon=False)


def parallel_coordinates(df: pd.DataFrame, path: Path) -> Path:
    shown = _with_value(df)
    params = varied_parameters(shown)
    drawn = targets(df)
    columns = params + [c for c, _, _ in drawn]
    fig, ax = plt.subplots(figsize=(max(6, 1.9 * len(columns)) + 1.5, 4.8))
    normalised = []
    for i, column in enumerate(columns):
        values, labels = _axis_values(shown[column])
        shown_low, shown_high = values.min(), values.max()
        if labels is None and _log_scaled(values, _declared(df, column)):
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
    if len(drawn) > 1:  # several metrics: coloured by Pareto front, front 1 yellow
        scores = -shown["front"].astype(float).fillna(shown["front"].max() + 1)
        cmap, label = plt.cm.viridis, "Pareto front (yellow: front 1, not beaten on every metric)"
    else:
        scores = shown["metric_value"].astype(float)
        cmap, label = _colormap(drawn[0][2]), f"{drawn[0][1]} (yellow is better)"
    norm = plt.Normalize(scores.min(), scores.max())
    for row, score, state in zip(matrix, scores, shown["state"], strict=True):
        if state in _LINE:
            ax.plot(range(len(columns)), row, color=cmap(norm(score)), alpha=0.85,
                    linestyle=_LINE[state])
        else:
            ax.plot(range(len(columns)), row, color="grey", alpha=0.6, linestyle=":")
    ax.set_xticks(range(len(columns)), [*params, *[name for _, name, _ in drawn]], rotation=15,
                  ha="right")
    ax.set_yticks([])
    ax.set_ylim(-0.12, 1.12)
    bar = fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, label=label)
    if len(drawn) > 1:  # fronts are drawn as -front (front 1 the highest): label them 1, 2, ...
        bar.ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True, nbins=8))
        bar.ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(
            lambda v, _: f"{-v:.0f}"))
    _legend_for_states(ax, set(shown["state"]))
    ax.set_title(f"{df.attrs['sweep']['name']}: each line is a run")
    return _save(fig, path)


FEW_RUNS = 10  # importance from fewer runs than this is mostly noise


def importance_bars(df: pd.DataFrame, path: Path) -> Path | None:
    drawn = targets(df)
    several = len(drawn) > 1
    panels = [(name, importance(df, metric=name if several else None)) for _, name, _ in drawn]
    panels = [(name, scores) for name, scores in panels if scores]
    if not panels:
        return None
    runs = len(_scored(df))
    height = max(len(scores) for _, scores in panels)
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 0.5 * height + 1.8),
                             squeeze=False)
    for ax, (metric, scores) in zip(axes[0], panels, strict=True):
        names = list(scores)[::-1]
        ax.barh(names, [scores[n] for n in names], color="tab:blue")
        ax.set_xlabel("importance (fANOVA, sums to 1)")
        ax.set_title(f"what matters for {metric} ({runs} runs)")
        if runs < FEW_RUNS:
            ax.text(0.5, 0.5, f"only {runs} runs: this is a rough guess", transform=ax.transAxes,
                    ha="center", va="center", fontsize=13, color="firebrick", alpha=0.8,
                    bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "firebrick"})
    return _save(fig, path)


def metric_by_step(df: pd.DataFrame, path: Path, top: int = 5) -> Path | None:
    if "history" not in df.columns or len(targets(df)) > 1:  # several: the front says more
        return None
    metric, goal = df.attrs["sweep"]["metric"], df.attrs["sweep"]["goal"]
    best = _scored(df).sort_values("metric_value", ascending=goal != "maximize").head(top)
    fig, ax = plt.subplots(figsize=(7.5, 4))
    longest = 0
    for _, run in best.iterrows():
        points = [row[metric] for row in run["history"] or [] if row.get(metric) is not None]
        longest = max(longest, len(points))
        label = run["name"] + (" (stopped)" if run["state"] == "stopped" else "")
        ax.plot(range(1, len(points) + 1), points, marker="o", label=label,
                linestyle=_LINE.get(run["state"], ":"))
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.set_xlabel(f"evaluation (logged value of {metric})")
    ax.set_ylabel(metric)
    ax.set_title(f"{metric} during training, top {len(best)} runs")
    if longest <= 1:  # a column of dots would say nothing
        ax.clear()
        ax.axis("off")
        ax.set_title(f"{metric} during training")
        ax.text(0.5, 0.5, f"each run logged {metric} once: there is no curve to draw\n"
                "(log it during training, e.g. evaluate_during_training: true)",
                transform=ax.transAxes, ha="center", va="center", fontsize=11)
    elif len(best):
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return _save(fig, path)


def parameter_vs_metric(df: pd.DataFrame, path: Path) -> Path | None:
    shown = _with_value(df)
    params = varied_parameters(shown)
    if not params:
        return None
    drawn = targets(df)
    fig, axes = plt.subplots(len(drawn), len(params),
                             figsize=(3.6 * len(params) + 1.2, 3.4 * len(drawn)), squeeze=False)
    for row, (column, metric, _) in zip(axes, drawn, strict=True):
        for ax, name in zip(row, params, strict=True):
            values, labels = _axis_values(shown[name])
            kinds = ((shown["state"] == "finished", "o", "tab:blue", "finished"),
                     (shown["state"] == "stopped", "^", "tab:orange", "stopped early"),
                     (~shown["state"].isin(RANKED_STATES), "x", "grey",
                      "failed, crashed or killed"))
            for mask, marker, color, label in kinds:
                if mask.any():
                    ax.scatter(values[mask.to_numpy()], shown[column][mask], alpha=0.8,
                               marker=marker, color=color, label=label)
            if labels:
                ax.set_xticks(range(len(labels)), labels, rotation=20)
            elif _log_scaled(values, _declared(df, name)):
                ax.set_xscale("log")
            ax.set_xlabel(name)
            ax.set_ylabel(metric)
    handles, names = axes[0][-1].get_legend_handles_labels()
    if len(handles) > 1:
        axes[0][-1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return _save(fig, path)


def plot_all(df: pd.DataFrame, out: str | Path) -> list[Path]:
    """Every plot that the runs allow, into ``out``; returns the files written."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    if len(targets(df)) > 1:
        from ._pareto import pareto_front

        written.append(pareto_front(df, folder / "pareto_front.png"))
    if _with_value(df).empty:
        return [p for p in written if p is not None]
    written += [parallel_coordinates(df, folder / "parallel_coordinates.png"),
                importance_bars(df, folder / "importance.png"),
                metric_by_step(df, folder / "metric_by_step.png"),
                parameter_vs_metric(df, folder / "parameter_vs_metric.png")]
    return [p for p in written if p is not None]

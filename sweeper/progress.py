"""Progress of a sweep while it runs: runs done of the total or cap, running, failed, best so far.

A live display on a terminal (rich), plain lines when the output is piped.
"""

from __future__ import annotations

import sys
import time
from collections import Counter

from . import spec
from .backends import Backend, RunInfo, SweepInfo
from .controller import flatten
from .spec import _params as spec_params


def fmt(value, limit: int = 40) -> str:
    """A value for a person: 4 significant digits for floats, '-' for None, long text cut."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    text = str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def align(rows: list[list[str]] | list[tuple[str, ...]]) -> list[str]:
    """Rows of cells as lines with aligned columns."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
            for row in rows]


def swept(sweep: SweepInfo) -> list[str]:
    """The parameters the sweep varies (constants left out), as dotted names."""
    return [name for _, name, p in spec_params.walk(sweep.config["parameters"])
            if p.get("distribution") != "constant"]


def swept_params_text(sweep: SweepInfo, run: RunInfo | dict | None) -> str:
    """``name=value, ...`` of the parameters the sweep varies, for a run (or its params)."""
    if run is None:
        return ""
    flat = flatten(run if isinstance(run, dict) else run.params)
    return ", ".join(f"{k}={fmt(flat[k])}" for k in swept(sweep) if k in flat)


def planned_runs(sweep: SweepInfo) -> int | None:
    cap = sweep.config.get("run_cap")
    if sweep.config["method"] == "grid":
        size = spec.grid_size(sweep.config)
        return min(size, cap) if cap else size
    return cap


def progress_line(sweep: SweepInfo, runs: list[RunInfo]) -> str:
    counts = Counter(r.state for r in runs)
    done = sum(n for state, n in counts.items() if state not in ("running", "pending"))
    total = planned_runs(sweep)
    text = f"runs {done}/{total if total else '?'} done, {counts['running']} running"
    bad = counts["failed"] + counts["crashed"]
    if bad:
        text += f", {bad} failed"
    if counts["stopped"]:
        text += f", {counts['stopped']} stopped early"
    metric = sweep.metric
    if metric and sweep.best_run:
        best = next((r for r in runs if r.name == sweep.best_run), None)
        text += f"; best {metric['name']}={fmt(sweep.best_value)} ({swept_params_text(sweep, best)})"
    return text


def ranked(sweep: SweepInfo, runs: list[RunInfo], top: int = 10) -> list[RunInfo]:
    """Runs with a metric value, best first (by the sweep's metric and goal)."""
    metric = sweep.metric
    if not metric:
        return []
    scored = [r for r in runs if r.metric_best is not None and r.state in ("finished", "stopped")]
    reverse = metric.get("goal", "minimize") == "maximize"
    return sorted(scored, key=lambda r: r.metric_best, reverse=reverse)[:top]


def ranked_table(sweep: SweepInfo, runs: list[RunInfo], top: int = 10) -> list[str]:
    best = ranked(sweep, runs, top)
    if not best:
        return ["no run reported the metric" if sweep.metric else "the sweep has no metric"]
    keys = swept(sweep)
    rows = [["#", "run", "state", sweep.metric["name"], *keys]]
    for i, r in enumerate(best, 1):
        flat = flatten(r.params)
        rows.append([str(i), r.name, r.state, fmt(r.metric_best),
                     *[fmt(flat.get(k, "-")) for k in keys]])
    return align(rows)


class ProgressReporter:
    """Shows progress: a live status line on a terminal, a plain line on each change otherwise."""

    def __init__(self, backend: Backend, sweep_id: str, live: bool | None = None,
                 interval_s: float = 1.0):
        self.backend = backend
        self.sweep_id = sweep_id
        self.live = sys.stdout.isatty() if live is None else live
        self.interval_s = interval_s
        self._last = ""
        self._last_time = 0.0
        self._live_display = None

    def __enter__(self) -> ProgressReporter:
        if self.live:
            from rich.console import Console
            from rich.live import Live

            self._live_display = Live("", console=Console(), refresh_per_second=4,
                                      transient=True)
            self._live_display.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self._live_display is not None:
            self._live_display.__exit__(*exc)
            self._live_display = None

    def echo(self, message: str) -> None:
        if self._live_display is not None:
            self._live_display.console.print(message, markup=False, highlight=False)
        else:
            print(message, flush=True)

    def update(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_time < self.interval_s:
            return
        self._last_time = now
        sweep = self.backend.sweep(self.sweep_id)
        line = progress_line(sweep, self.backend.runs(self.sweep_id))
        if self._live_display is not None:
            self._live_display.update(line)
        elif line != self._last:
            print(f"[progress] {line}", flush=True)
        self._last = line

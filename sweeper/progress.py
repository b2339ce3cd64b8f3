"""Progress of a sweep while it runs: runs done of the total or cap, running, failed, best so far,
runs that went silent; and the ranked table shown when agents end.

A live display on a terminal (rich), plain lines when the output is piped. Every value shown for
a run is its one value of the metric (``RunInfo.metric_value``, W&B's summary value).
"""

from __future__ import annotations

import sys
import time
from collections import Counter

from . import objectives, spec
from ._duration import words
from .backends import Backend, RunInfo, SweepInfo
from .controller import flatten
from .spec import _params as spec_params

RANKED_STATES = ("finished", "stopped")
FAILED_STATES = ("failed", "crashed")
SILENT_AFTER_S = 600.0  # "run X: no output for 10m"


def silent_after_s() -> float | None:
    """After how long without output a run is called silent (SWEEPER_SILENT_AFTER: a duration,
    or 0/off; default 10m)."""
    import os

    from ._duration import parse

    text = os.environ.get("SWEEPER_SILENT_AFTER")
    if text is None:
        return SILENT_AFTER_S
    if text.strip().lower() in ("0", "off", "never"):
        return None
    return parse(text, "SWEEPER_SILENT_AFTER")


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


def state_text(sweep: SweepInfo, runs: list[RunInfo]) -> str:
    """The sweep's state, with why it ended (``finished (run_cap reached, 4 failed)``)."""
    reason = sweep.state_reason or ""
    if sweep.state == "finished":
        failed = sum(1 for r in runs if r.state in FAILED_STATES)
        if failed:
            reason = f"{reason}, {failed} failed" if reason else f"{failed} failed"
    return f"{sweep.state} ({reason})" if reason else sweep.state


def silent_runs(runs: list[RunInfo], after_s: float | None, now: float | None = None
                ) -> list[tuple[RunInfo, float]]:
    """Running runs that printed and logged nothing for ``after_s`` seconds, with how long."""
    if not after_s:
        return []
    now = time.time() if now is None else now
    out = []
    for r in runs:
        last = r.output_at
        if r.state == "running" and r.log_path and last is not None and now - last >= after_s:
            out.append((r, now - last))
    return out


def silence_text(run: RunInfo, silent_s: float) -> str:
    return f"run {run.name}: no output for {words(silent_s)}" + (
        f" (log: {run.log_path})" if run.log_path else "")


def progress_line(sweep: SweepInfo, runs: list[RunInfo], silent_after_s: float | None = None
                  ) -> str:
    counts = Counter(r.state for r in runs)
    done = sum(n for state, n in counts.items() if state not in ("running", "pending"))
    total = planned_runs(sweep)
    text = f"runs {done}/{total if total else '?'} done, {counts['running']} running"
    if counts["pending"]:
        text += f", {counts['pending']} to resume"
    bad = counts["failed"] + counts["crashed"]
    if bad:
        text += f", {bad} failed"
    if counts["stopped"]:
        text += f", {counts['stopped']} stopped early"
    metric = sweep.metric
    if metric and sweep.best_run:
        best = next((r for r in runs if r.name == sweep.best_run), None)
        text += f"; best {metric['name']}={fmt(sweep.best_value)} ({swept_params_text(sweep, best)})"
    front = pareto_front(sweep, runs)
    if front:
        text += f"; Pareto front: {len(front)} run{'s' * (len(front) != 1)}"
    for run, silent in silent_runs(runs, silent_after_s):
        text += f"; {silence_text(run, silent)}"
    return text


def by_front(sweep: SweepInfo, runs: list[RunInfo]) -> list[tuple[int, RunInfo, tuple]]:
    """A multi-objective sweep's finished runs with a value of every metric: (front, run,
    values), the Pareto front (1) first, each front by its first metric; [] for one metric."""
    if not objectives.is_multi(sweep.config):
        return []
    several = objectives.of(sweep.config)
    scored = [(r, objectives.run_values(r.summary, several)) for r in runs
              if r.state in RANKED_STATES]
    scored = [(r, v) for r, v in scored if all(x is not None for x in v)]
    fronts = objectives.fronts([v for _, v in scored], [o.goal for o in several])
    sign = -1.0 if several[0].maximize else 1.0
    return sorted(((f, r, v) for f, (r, v) in zip(fronts, scored, strict=True)),
                  key=lambda item: (item[0], sign * item[2][0], item[1].number))


def pareto_front(sweep: SweepInfo, runs: list[RunInfo]) -> list[tuple[RunInfo, tuple]]:
    """The runs no other finished run beats on every metric, with their values."""
    return [(r, v) for f, r, v in by_front(sweep, runs) if f == 1]


def ranked(sweep: SweepInfo, runs: list[RunInfo], top: int | None = 10) -> list[RunInfo]:
    """Runs with a value of the metric, best first: finished and stopped ones, as ``results``
    ranks them; then the running ones, by their value so far."""
    metric = sweep.metric
    if not metric:
        return []
    reverse = metric.get("goal", "minimize") == "maximize"

    def order(rs: list[RunInfo]) -> list[RunInfo]:
        return sorted(rs, key=lambda r: (r.metric_value if not reverse else -r.metric_value,
                                         r.number))

    done = order([r for r in runs if r.metric_value is not None and r.state in RANKED_STATES])
    live = order([r for r in runs if r.metric_value is not None and r.state == "running"])
    chosen = done + live
    return chosen[:top] if top else chosen


def ranked_table(sweep: SweepInfo, runs: list[RunInfo], top: int = 10) -> list[str]:
    if objectives.is_multi(sweep.config):
        return _front_table(sweep, runs, top)
    best = ranked(sweep, runs, top)
    if not best:
        lines = ["no finished run reported the metric" if sweep.metric else
                 "the sweep has no metric"]
    else:
        keys = swept(sweep)
        rows = [["#", "run", "state", sweep.metric["name"], *keys]]
        for i, r in enumerate(best, 1):
            flat = flatten(r.params)
            rows.append([str(i) if r.state in RANKED_STATES else "-", r.name, r.state,
                         fmt(r.metric_value), *[fmt(flat.get(k, "-")) for k in keys]])
        lines = align(rows)
    return lines + outcome_lines(runs)


def _front_table(sweep: SweepInfo, runs: list[RunInfo], top: int) -> list[str]:
    """A multi-objective sweep's runs by Pareto front (front 1 is not beaten on every metric
    by any run), each front by its first metric."""
    ordered = by_front(sweep, runs)[:top]
    if not ordered:
        return ["no finished run reported every metric"] + outcome_lines(runs)
    keys = swept(sweep)
    rows = [["front", "run", "state", *objectives.names(sweep.config), *keys]]
    for front, r, values in ordered:
        flat = flatten(r.params)
        rows.append([str(front), r.name, r.state, *[fmt(v) for v in values],
                     *[fmt(flat.get(k, "-")) for k in keys]])
    return align(rows) + outcome_lines(runs)


def outcome_lines(runs: list[RunInfo]) -> list[str]:
    """How the runs ended, and where the logs of the failed ones are."""
    if not runs:
        return ["no run started"]
    counts = Counter(r.state for r in runs)
    lines = [f"{len(runs)} run{'s' if len(runs) != 1 else ''}: "
             + ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))]
    for r in runs:
        if r.state in FAILED_STATES:
            why = f" ({r.stop_reason})" if r.stop_reason else (
                f" (exit code {r.exit_code})" if r.exit_code is not None else "")
            lines.append(f"  {r.name} {r.state}{why}: {r.log_path or 'no log'}")
    return lines


class ProgressReporter:
    """Shows progress: a live status line on a terminal, a plain line on each change otherwise."""

    def __init__(self, backend: Backend, sweep_id: str, live: bool | None = None,
                 interval_s: float = 1.0, silent_after_s: float | None = None):
        self.backend = backend
        self.sweep_id = sweep_id
        self.live = sys.stdout.isatty() if live is None else live
        self.interval_s = interval_s
        self.silent_after_s = silent_after_s
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
        try:
            sweep = self.backend.sweep(self.sweep_id)
            runs = self.backend.runs(self.sweep_id)
        except Exception:  # noqa: BLE001 - progress is for show; the agents report failures
            return
        line = progress_line(sweep, runs, self.silent_after_s)
        if self._live_display is not None:
            self._live_display.update(line)
        elif line != self._last:
            print(f"[progress] {line}", flush=True)
        self._last = line

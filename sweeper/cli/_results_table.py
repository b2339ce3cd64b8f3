"""The ranked table of ``sweeper results``, straight from the run records (no pandas, so that
it answers at once on a sweep of 10,000 runs)."""

from __future__ import annotations

import math
from typing import Any

from .. import objectives, ranking
from ..backends import RunInfo, SweepInfo
from ..controller import flatten

FAILED = ("failed", "crashed", "killed")


def scored_runs(sweep: SweepInfo, runs: list[RunInfo]) -> list[ranking.Scored]:
    """The runs with their parameters as dotted names and their value of each objective (the
    one metric's is ``metric_value``)."""
    several = objectives.of(sweep.config) if objectives.is_multi(sweep.config) else None
    return [ranking.Scored(r.name, r.state, flatten(r.params),
                           objectives.run_values(r.summary, several) if several
                           else (r.metric_value,)) for r in runs]


def table_lines(sweep: SweepInfo, runs: list[RunInfo], top: int | None) -> list[str]:
    """The header line, the ranked configurations (best first, or the Pareto front first),
    and what was not ranked."""
    goals = objectives.of(sweep.config)
    multi = objectives.is_multi(sweep.config)
    scored = scored_runs(sweep, runs)
    params = list(dict.fromkeys(name for s in scored for name in s.params))  # as they come
    varied = [p for p in params if p not in ranking.SEED_PARAMS
              and len({str(s.params.get(p)) for s in scored}) > 1]
    ranked = ranking.rank(scored, goals, params) if goals else []
    if multi:
        shown = ", ".join(f"{o.name} ({o.goal})" for o in goals)
        on_front = sum(1 for c in ranked if c.front == 1)
        lines = [f"sweep {sweep.id} ({sweep.name}): {len(runs)} runs, metrics {shown}"
                 + (f"; Pareto front: {on_front} configuration{'s' * (on_front != 1)}"
                    if ranked else "")]
    else:
        metric = goals[0] if goals else None
        lines = [f"sweep {sweep.id} ({sweep.name}): {len(runs)} runs, metric "
                 f"{metric.name if metric else None} ({metric.goal if metric else 'minimize'})"]
    if not ranked:
        lines.append("no finished run reported the metric" + ("s" if multi else ""))
    else:
        cut = ranked[:top] if top else ranked
        lines += _align(_header(goals, varied, cut, multi, ranked),
                        [_row(i, c, varied, multi, ranked) for i, c in enumerate(cut, 1)])
        if not multi and ranking.top_two_distinguishable(ranked) is False:
            lines.append("the top two configurations are not distinguishable (their 95% "
                         "intervals overlap)")
    bad = [r for r in runs if r.state in FAILED]
    if bad:
        lines.append(f"not ranked: {len(bad)} runs " + ", ".join(f"{r.name} ({r.state})"
                                                                 for r in bad))
    return lines


def _repeated(ranked: list[ranking.Configuration]) -> bool:
    return any(c.n > 1 for c in ranked)


def _header(goals, varied, cut, multi, ranked) -> list[str]:
    head = ["", "front"] if multi else [""]
    head += varied
    if multi:
        head += [o.name for o in goals]
        if _repeated(ranked):
            head += ["n", *[f"{o.name}_std" for o in goals]]
    elif _repeated(ranked):
        head += ["n", "mean", "std", "ci_low", "ci_high", "best"]
    else:
        head += [goals[0].name]
    return [*head, "runs"]


def _row(index: int, c: ranking.Configuration, varied, multi, ranked) -> list[Any]:
    row: list[Any] = [index, c.front] if multi else [index]
    row += [c.params.get(p) for p in varied]
    if multi:
        row += list(c.mean)
        if _repeated(ranked):
            row += [c.n, *c.std]
    elif _repeated(ranked):
        row += [c.n, c.mean[0], c.std[0], c.ci_low[0], c.ci_high[0], c.best[0]]
    else:
        row += [c.mean[0]]
    return [*row, c.run_names]


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _align(header: list[str], rows: list[list[Any]]) -> list[str]:
    """Columns as pandas prints them: numbers right-aligned, the runs' names left-aligned."""
    cells = [header] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    left = {0, len(header) - 1}
    return ["  ".join(c.ljust(w) if i in left else c.rjust(w)
                      for i, (c, w) in enumerate(zip(row, widths, strict=True))).rstrip()
            for row in cells]

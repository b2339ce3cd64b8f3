"""A sweep's objectives: its one metric, or several (``metrics:``, sweeper's multi-objective
extension), each run's values of them, and the Pareto fronts of points scored on several.

W&B sweeps optimise one metric. A local sweep may name several under ``metrics:``::

    metrics:
      - {name: eval/accuracy, goal: maximize}
      - {name: train/runtime, goal: minimize}

Each run's value of each metric is its summary value, as for one metric (``sweeper.run_value``).
Nothing here imports more than the standard library: ``results`` and ``status`` use it.

>>> fronts([(1.0, 3.0), (2.0, 2.0), (3.0, 3.0), (2.0, 2.0)], ["minimize", "minimize"])
[1, 1, 2, 1]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .run_value import summary_value


@dataclass(frozen=True)
class Objective:
    """One metric of a sweep and its goal (``maximize`` or ``minimize``)."""

    name: str
    goal: str = "minimize"

    @property
    def maximize(self) -> bool:
        return self.goal == "maximize"


def of(config: dict) -> list[Objective]:
    """The sweep's objectives: its ``metrics`` (several), else its ``metric``, else none."""
    metrics = config.get("metrics")
    if isinstance(metrics, list) and metrics:
        return [Objective(m["name"], m.get("goal", "minimize")) for m in metrics]
    metric = config.get("metric")
    if isinstance(metric, dict) and metric.get("name"):
        return [Objective(metric["name"], metric.get("goal", "minimize"))]
    return []


def is_multi(config: dict) -> bool:
    """Whether the sweep names several metrics (a multi-objective sweep)."""
    return bool(config.get("metrics"))


def names(config: dict) -> list[str]:
    return [o.name for o in of(config)]


def run_values(summary: dict | None, objectives: Sequence[Objective]
               ) -> tuple[float | None, ...]:
    """A run's value of each objective, from its summary (None where it has none)."""
    return tuple(summary_value(summary, o.name, o.goal) for o in objectives)


def _as_minimised(point: Sequence[float], goals: Sequence[str]) -> tuple[float, ...]:
    return tuple(-v if g == "maximize" else v for v, g in zip(point, goals, strict=True))


def dominates(a: Sequence[float], b: Sequence[float], goals: Sequence[str]) -> bool:
    """Whether ``a`` is at least as good as ``b`` on every objective and better on one."""
    return _dominates(_as_minimised(a, goals), _as_minimised(b, goals))


def _dominates(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a != b and all(x <= y for x, y in zip(a, b, strict=True))


def fronts(points: Sequence[Sequence[float]], goals: Sequence[str]) -> list[int]:
    """The Pareto front of each point: 1 for the points no other point dominates, 2 for those
    only points of front 1 dominate, and so on. Equal points share a front.

    Efficient non-dominated sorting (ENS-BS): points in lexicographic order, each placed by a
    binary search over the fronts found so far; in two objectives one comparison per front.
    """
    minimised = [_as_minimised(p, goals) for p in points]
    order = sorted(range(len(points)), key=lambda i: minimised[i])
    found: list[list[tuple[float, ...]]] = []
    out = [0] * len(points)
    two = len(goals) == 2
    for i in order:
        point = minimised[i]

        def dominated_in(front: list[tuple[float, ...]], point=point) -> bool:
            if two:  # in lexicographic order, the newest member has the least second value
                return _dominates(front[-1], point)
            return any(_dominates(q, point) for q in reversed(front))

        lo, hi = 0, len(found)
        while lo < hi:  # dominated in a front means dominated in every earlier one
            mid = (lo + hi) // 2
            if dominated_in(found[mid]):
                lo = mid + 1
            else:
                hi = mid
        if lo == len(found):
            found.append([])
        found[lo].append(point)
        out[i] = lo + 1
    return out


def hypervolume(points: Sequence[Sequence[float]], goals: Sequence[str],
                reference: Sequence[float]) -> float:
    """The area (two objectives) dominated by ``points`` and bounded by ``reference``: the
    larger, the better a front. Points on the wrong side of the reference add nothing.

    >>> hypervolume([(1.0, 2.0), (2.0, 1.0)], ["minimize", "minimize"], (3.0, 3.0))
    3.0
    """
    if len(goals) != 2:
        raise ValueError("hypervolume is computed for two objectives")
    ref = _as_minimised(reference, goals)
    inside = sorted(p for p in (_as_minimised(q, goals) for q in points)
                    if p[0] < ref[0] and p[1] < ref[1])
    area, best_second = 0.0, ref[1]
    for first, second in inside:
        if second < best_second:
            area += (ref[0] - first) * (best_second - second)
            best_second = second
    return area


__all__ = ["Objective", "dominates", "fronts", "hypervolume", "is_multi", "names", "of",
           "run_values"]

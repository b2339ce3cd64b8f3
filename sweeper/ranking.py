"""Ranking a sweep's configurations: runs that differ only in their seed are one configuration,
with its number of runs, mean, spread and 95% interval of each objective.

One metric: best mean first. Several (a multi-objective sweep): the Pareto front of the means
first, then the next front, each by its first metric. Only finished (or hyperband-stopped) runs
with a value of every objective are ranked. Pure Python, so that ``sweeper results`` answers at
once; ``sweeper.analysis.rank`` puts the same ranking in a DataFrame.

>>> runs = [Scored("a-1", "finished", {"lr": 0.1, "seed": 1}, (0.8,)),
...         Scored("a-2", "finished", {"lr": 0.1, "seed": 2}, (0.9,)),
...         Scored("a-3", "stopped", {"lr": 0.2, "seed": 1}, (0.7,))]
>>> [(c.params, c.n, round(c.mean[0], 2)) for c in rank(runs, [Objective("acc", "maximize")])]
[({'lr': 0.1}, 2, 0.85), ({'lr': 0.2}, 1, 0.7)]
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .objectives import Objective, fronts

# Parameters that vary the randomness, not the configuration.
SEED_PARAMS = ("manual_seed", "seed", "random_seed")
RANKED_STATES = ("finished", "stopped")

# Student's t at 97.5% for 1..30 degrees of freedom (beyond: the Cornish-Fisher expansion).
_T975 = (12.7062047362, 4.30265272975, 3.18244630528, 2.7764451052, 2.57058183661,
         2.44691184879, 2.36462425101, 2.30600413503, 2.26215716274, 2.22813885196,
         2.20098516008, 2.17881282966, 2.16036865646, 2.14478668792, 2.13144954556,
         2.11990529922, 2.10981557783, 2.10092204024, 2.09302405441, 2.08596344727,
         2.07961384473, 2.0738730679, 2.06865761042, 2.06389856163, 2.05953855275,
         2.05552943864, 2.05183051648, 2.0484071418, 2.04522964213, 2.0422724563)


def t975(df: float) -> float:
    """The 97.5% quantile of Student's t with ``df`` (>= 1) degrees of freedom."""
    if df <= 30:
        return _T975[max(1, int(df)) - 1]
    z = 1.959963984540054
    return (z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)
            + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * df**3))


@dataclass
class Scored:
    """A run as ranking sees it: name, state, parameters (dotted names) and its value of each
    objective (None where it has none)."""

    name: str
    state: str
    params: dict[str, Any]
    values: tuple[float | None, ...]


@dataclass
class Configuration:
    """One configuration: its parameters (seeds left out), its runs and, per objective, the
    mean, standard deviation (None for one run), 95% interval and best value of its runs."""

    params: dict[str, Any]
    runs: list[str]
    n: int
    mean: tuple[float, ...]
    std: tuple[float | None, ...]
    ci_low: tuple[float | None, ...]
    ci_high: tuple[float | None, ...]
    best: tuple[float, ...]
    front: int | None = None  # several objectives: its Pareto front (1 = not dominated)
    stopped: list[bool] = field(default_factory=list)

    @property
    def run_names(self) -> str:
        """The runs' names, stopped ones marked: ``s-3, s-7 (stopped)``."""
        return ", ".join(f"{name} (stopped)" if stop else name
                         for name, stop in zip(self.runs, self.stopped, strict=True))


def rankable(run: Scored) -> bool:
    return run.state in RANKED_STATES and all(_number(v) for v in run.values)


def rank(runs: Iterable[Scored], objectives: Sequence[Objective],
         params: Sequence[str] | None = None) -> list[Configuration]:
    """The configurations of the rankable runs, best first (see the module's docstring).

    ``params``: the parameters that make a configuration (default: every parameter the runs
    have, seed parameters left out)."""
    scored = [r for r in runs if rankable(r)]
    if params is None:
        params = list(dict.fromkeys(k for r in scored for k in r.params))
    params = [p for p in params if p not in SEED_PARAMS]
    groups: dict[tuple, list[Scored]] = {}
    for run in scored:  # parameters as text, so that lists and None group too
        groups.setdefault(tuple(str(run.params.get(p)) for p in params), []).append(run)
    configurations = [_configuration(members, params, objectives) for members in groups.values()]
    goals = [o.goal for o in objectives]
    if len(objectives) > 1:
        for configuration, front in zip(configurations, fronts([c.mean for c in configurations],
                                                              goals), strict=True):
            configuration.front = front
    first = objectives[0]
    sign = -1.0 if first.maximize else 1.0
    return sorted(configurations, key=lambda c: (c.front or 0, sign * c.mean[0]))


def _configuration(members: list[Scored], params: Sequence[str],
                   objectives: Sequence[Objective]) -> Configuration:
    n = len(members)
    columns = list(zip(*(m.values for m in members), strict=True))
    mean = tuple(math.fsum(c) / n for c in columns)
    if n > 1:
        std = tuple(math.sqrt(math.fsum((v - mu) ** 2 for v in c) / (n - 1))
                    for c, mu in zip(columns, mean, strict=True))
        half = tuple(t975(n - 1) * s / math.sqrt(n) for s in std)
        low = tuple(mu - h for mu, h in zip(mean, half, strict=True))
        high = tuple(mu + h for mu, h in zip(mean, half, strict=True))
    else:
        std = low = high = (None,) * len(objectives)
    best = tuple(max(c) if o.maximize else min(c) for c, o in zip(columns, objectives,
                                                                  strict=True))
    head = members[0].params
    return Configuration(params={p: head.get(p) for p in params},
                         runs=[m.name for m in members], n=n, mean=mean, std=std, ci_low=low,
                         ci_high=high, best=best,
                         stopped=[m.state == "stopped" for m in members])


def top_two_distinguishable(ranked: Sequence[Configuration]) -> bool | None:
    """Whether the 95% intervals (first objective) of the two best configurations are apart;
    None when fewer than two configurations ran at least twice each."""
    if len(ranked) < 2 or min(ranked[0].n, ranked[1].n) < 2:
        return None
    first, second = ranked[0], ranked[1]
    return bool(first.ci_low[0] > second.ci_high[0] or second.ci_low[0] > first.ci_high[0])


def _number(value: Any) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


__all__ = ["RANKED_STATES", "SEED_PARAMS", "Configuration", "Scored", "rank", "rankable",
           "t975", "top_two_distinguishable"]

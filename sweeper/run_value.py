"""One value per run: the value of the sweep's metric that W&B takes from a run's summary.

W&B's controller, its sweep table and its ranking read a run's summary: the last logged value
of the metric, unless the program set the summary itself (``run.summary[name] = ...``) or
declared ``define_metric(name, summary="max"|"min"|...)``, which makes the summary hold
``{"max": ...}`` and so on. Every reader of a run's score (the controller for bayes, tpe and gp;
ranking, ``results``, the progress line, a run's closing line, the ranked table) takes it from
:func:`summary_value`, so one run shows one value everywhere and a sweep ranks the same on the
local backend and on W&B. Hyperband alone reads the step history, as W&B's engine does.
"""

from __future__ import annotations

import math
from typing import Any

# The summary kinds of define_metric(summary=...), in the order they stand for the run's value.
_PREFERRED = {
    "maximize": ("max", "best", "last", "mean", "min", "first"),
    "minimize": ("min", "best", "last", "mean", "max", "first"),
}


def is_number(value: Any) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


def lookup(summary: dict, name: str, missing: Any = None) -> Any:
    """``summary[name]``; a dotted name also reaches into nested dicts (``val.acc``), and a
    nested dict comes back whole. ``missing`` where there is no such value."""
    if not isinstance(summary, dict):
        return missing
    if name in summary:
        return summary[name]
    node: Any = summary
    for part in name.split("."):
        if not isinstance(node, dict) or part not in node:
            return missing
        node = node[part]
    return node


def summary_value(summary: dict | None, name: str | None, goal: str = "minimize"
                  ) -> float | None:
    """The run's value of metric ``name`` from its summary, or None when it has none.

    >>> summary_value({"loss": 0.3}, "loss")
    0.3
    >>> summary_value({"acc": {"max": 0.9}}, "acc", "maximize")
    0.9
    >>> summary_value({"loss": {"last": 0.4, "min": 0.1}}, "loss", "minimize")
    0.1
    """
    if not summary or not name:
        return None
    value = lookup(summary, name)
    if isinstance(value, dict):
        for kind in _PREFERRED.get(goal, _PREFERRED["minimize"]):
            if is_number(value.get(kind)):
                return float(value[kind])
        return None
    return float(value) if is_number(value) else None

"""Numbers a sweep may hold: what JSON, the databases and the engine can store and draw
(finite floats, integers within 2**53, distributions that cannot overflow, grids of bounded
size)."""

from __future__ import annotations

import math
from typing import Any

from . import _params, _schema

Problem = tuple[str, str]

# The most points a grid may have: W&B's grid engine lists every combination on every hand-out.
GRID_LIMIT = 100_000
# Integers beyond this lose precision as JSON numbers (and overflow a database's integer).
INT_LIMIT = 2**53
# Nesting of mappings and lists (as for files: see _load).
MAX_DEPTH = 64
# e**x overflows a float above this.
EXP_LIMIT = math.log(1.7976931348623157e308)


def is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def data_problems(value: Any, path: str = "") -> list[Problem]:
    """Every number finite and every integer within +-2**53; every key a string."""
    problems: list[Problem] = []
    stack: list[tuple[str, Any, int, tuple]] = [(path, value, 0, ())]
    while stack:
        where, item, depth, holders = stack.pop()
        if isinstance(item, (dict, list, tuple)):
            if id(item) in holders:
                problems.append((where, "refers to a value that holds it (a loop)"))
                continue
            if depth >= MAX_DEPTH:
                problems.append((where, f"nested deeper than {MAX_DEPTH} levels"))
                continue
            holders = (*holders, id(item))
        if isinstance(item, dict):
            for key, sub in item.items():
                if not isinstance(key, str):
                    problems.append((where or "the top level", f"key {key!r} is not text; "
                                     "quote it"))
                    continue
                stack.append((f"{where}.{key}" if where else key, sub, depth + 1, holders))
        elif isinstance(item, (list, tuple)):
            stack.extend((f"{where}[{i}]", sub, depth + 1, holders) for i, sub in enumerate(item))
        elif isinstance(item, bool) or item is None or isinstance(item, str):
            continue
        elif isinstance(item, float):
            if not math.isfinite(item):
                problems.append((where, f"must be a finite number, got {_float_text(item)}"))
        elif isinstance(item, int):
            if abs(item) > INT_LIMIT:
                problems.append((where, f"integer too large ({_int_text(item)}); at most 2**53 "
                                 "(9007199254740992) in size"))
        else:
            problems.append((where, f"must be plain data (text, number, true/false, null, list "
                             f"or mapping), got {type(item).__name__}"))
    return sorted(problems)


def _float_text(x: float) -> str:
    return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")


def _int_text(x: int) -> str:
    digits = len(str(abs(x))) if abs(x) < 10**4000 else None
    return f"{digits} digits" if digits else "over 4000 digits"


def draw_problems(path: str, spec: dict) -> list[Problem]:
    """Bounds under which a distribution could draw inf or NaN (e**x overflows, a range wider
    than the largest float)."""
    dist = spec["distribution"]
    lo, hi = spec.get("min"), spec.get("max")
    if dist in ("log_uniform", "q_log_uniform") and is_number(hi) and hi > EXP_LIMIT:
        return [(f"{path}.max", f"e**{hi:g} is not a finite number; min and max of {dist} are "
                 f"exponents of e (at most {EXP_LIMIT:.1f}); for limit values use "
                 f"{_schema.DEPRECATED[dist]}")]
    if dist == "inv_log_uniform" and is_number(lo) and -lo > EXP_LIMIT:
        return [(f"{path}.min", f"1/e**{lo:g} is not a finite number; min and max of "
                 f"inv_log_uniform are exponents of e (at least {-EXP_LIMIT:.1f})")]
    if dist in ("uniform", "q_uniform") and is_number(lo) and is_number(hi) \
            and not math.isfinite(float(hi) - float(lo)):
        return [(path, f"the range {lo:g}..{hi:g} is wider than the largest number; narrow it")]
    if dist in ("normal", "q_normal", "log_normal", "q_log_normal"):
        mu, sigma = spec.get("mu", 0), spec.get("sigma", 1)
        if is_number(mu) and is_number(sigma):
            reach = abs(mu) + 40 * sigma
            if dist.endswith("log_normal") and mu + 10 * sigma > EXP_LIMIT:
                return [(path, f"e**x with x = mu + 10 sigma ({mu + 10 * sigma:g}) is not a "
                         f"finite number; keep mu + 10*sigma below {EXP_LIMIT:.0f}")]
            if not math.isfinite(reach):
                return [(path, "mu and sigma are so large that a draw can overflow")]
    q = spec.get("q")
    if q is not None and is_number(q) and q <= 0:
        return [(f"{path}.q", f"must be > 0, got {q}")]
    return []


def grid_size_problems(parameters: dict) -> list[Problem]:
    size = 1
    for path, _, spec in _params.walk(parameters):
        filled = _params.infer(path, spec)
        if filled is None or filled["distribution"] not in _params.GRID_DISTRIBUTIONS:
            return []
        size *= _params.grid_count(filled)
        if size > GRID_LIMIT:
            break
    if size > GRID_LIMIT:
        total = 1
        for _, _, spec in _params.walk(parameters):
            total *= _params.grid_count(_params.infer("", spec))
        return [("parameters", f"the grid has {total:,} combinations; at most {GRID_LIMIT:,} "
                 "(W&B's grid engine lists them all on every hand-out): use fewer values, or "
                 "method random or bayes")]
    return []

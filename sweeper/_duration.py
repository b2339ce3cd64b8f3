"""Durations as people write them: ``90``, ``90s``, ``10m``, ``1h30m``, ``2d``."""

from __future__ import annotations

import os
import re

from .errors import BadInput

_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*(d|h|m|min|s|sec)?", re.I)
_SECONDS = {"d": 86400, "h": 3600, "m": 60, "min": 60, "s": 1, "sec": 1, None: 1}


def parse(text: str | float | int, what: str = "duration", zero: bool = False) -> float:
    """Seconds in a duration (0 too, with ``zero``); BadInput naming ``what`` when it is not one.

    >>> parse("1h30m"), parse("90s"), parse("10m"), parse(5)
    (5400.0, 90.0, 600.0, 5.0)
    """
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        seconds = float(text)
    else:
        cleaned = str(text).strip().replace(" ", "")
        pos, seconds = 0, 0.0
        for match in _PART.finditer(cleaned):
            if match.start() != pos:
                break
            seconds += float(match[1]) * _SECONDS[(match[2] or "").lower() or None]
            pos = match.end()
        if not cleaned or pos != len(cleaned):
            raise BadInput(f"{what} {text!r}: not a duration (examples: 90s, 10m, 1h30m)")
    if not (seconds > 0 or (zero and seconds == 0)) or seconds == float("inf"):
        raise BadInput(f"{what} {text!r}: must be {'0 or ' * zero}more than 0 seconds")
    return seconds


def from_env(name: str, default: float, at_least: float = 0.0) -> float:
    """Seconds that environment variable ``name`` sets (``60``, ``90s``, ``2m``; at least
    ``at_least``), ``default`` when it is unset or empty, BadInput naming it when it is not a
    duration: a typo there is refused, not silently replaced by the default."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    return max(at_least, parse(text, name, zero=at_least == 0.0))


def words(seconds: float) -> str:
    """A short duration for people: ``45s``, ``10m``, ``1h05m``.

    >>> words(45), words(600), words(3900)
    ('45s', '10m', '1h05m')
    """
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes}m"
    return f"{minutes // 60}h{minutes % 60:02d}m"

"""A timer for the benchmarks: the seconds spent inside one function while it is wrapped."""

from __future__ import annotations

import time
from typing import Any


class Clock:
    """Inside ``with Clock(owner, "name")``, ``owner.name`` (a module's function or a class's
    method) is wrapped: every call runs the real one, and ``spent`` sums the seconds in it."""

    def __init__(self, owner: Any, name: str):
        self.owner, self.name, self.spent = owner, name, 0.0
        self._original = getattr(owner, name)

    def __enter__(self) -> Clock:
        original = self._original

        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.spent += time.perf_counter() - start

        setattr(self.owner, self.name, timed)
        return self

    def __exit__(self, *exc) -> None:
        setattr(self.owner, self.name, self._original)

"""gp's kernel parameters carried from one hand-out of an agent to its next.

Optuna's GPSampler starts each fit of its kernel (length scales, scale, noise) from the one it
fitted last, and falls back to the defaults when that fails. sweeper builds a new sampler for
every hand-out (the run records are the one source of truth), which alone would start every fit
from the defaults. So the caller may hand ``suggest`` a memory (a dict it keeps: the local
backend keeps one per sweep in each agent process): the sampler starts from the kernel it holds
for the search space, and leaves its own fit there for the next hand-out. At 300 runs of
recorded trainings a suggestion so takes 0.56 to 0.95 of the time, and 1.13 on pure noise, where
the kernel has nothing to learn (``bench/gp_warm_start.py``); the searches it makes are as good
(``bench/search_quality.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class _Kernel:
    """What a fit starts from, and only that: the fitted regressor also holds its runs and an
    n x n matrix, which an agent of thousands of runs need not keep between hand-outs."""
    inverse_squared_lengthscales: Any
    kernel_scale: Any
    noise_var: Any

    @classmethod
    def of(cls, fitted: Any) -> _Kernel:
        return cls(*(getattr(fitted, name).detach().clone()
                     for name in ("inverse_squared_lengthscales", "kernel_scale", "noise_var")))


def _key(space: dict) -> str:
    return repr(sorted((name, repr(d)) for name, d in space.items()))


def restore(sampler: Any, memory: dict | None, space: dict) -> None:
    """Give ``sampler`` the last kernel fitted for ``space``, if ``memory`` holds one."""
    kept = memory.get(_key(space)) if memory is not None else None
    if kept is not None and hasattr(sampler, "_gprs_cache_list"):
        sampler._gprs_cache_list = kept


def keep(sampler: Any, memory: dict | None, space: dict) -> None:
    """Leave the kernel ``sampler`` fitted in ``memory`` (none before its first model-based
    hand-out, while it still draws at random)."""
    fitted = getattr(sampler, "_gprs_cache_list", None)
    if memory is not None and fitted is not None:
        memory[_key(space)] = [_Kernel.of(one) for one in fitted]

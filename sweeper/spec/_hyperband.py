"""The iterations at which W&B's hyperband engine compares runs, computed as the engine
(``sweeps.hyperband_stopping``) computes them, without importing it."""

from __future__ import annotations


def bands(early_terminate: dict) -> list[int]:
    """The engine's bands for a filled hyperband block (``eta`` given or defaulted to 3).

    With ``max_iter`` and ``s`` the engine divides down from max_iter (and ignores min_iter);
    with ``min_iter`` it multiplies up by eta, 100 times.

    >>> bands({"type": "hyperband", "max_iter": 27, "s": 3, "eta": 3})
    [1, 3, 9]
    >>> bands({"type": "hyperband", "min_iter": 2, "eta": 2})[:5]
    [2, 4, 8, 16, 32]

    Raises OverflowError where the engine's own arithmetic would (an eta so large that a band
    is no longer a number), and ValueError where the engine raises.
    """
    eta = early_terminate.get("eta", 3)
    if "max_iter" in early_terminate:
        band = early_terminate["max_iter"]
        found = []
        for _ in range(early_terminate["s"]):
            band /= eta
            if band < 1:
                break
            found.append(int(band))
        found.sort()
    elif "min_iter" in early_terminate:
        band = early_terminate["min_iter"]
        found = []
        for _ in range(100):
            found.append(int(band))
            band *= eta
    else:
        raise ValueError("hyperband needs either max_iter and s, or min_iter")
    if not found:
        raise ValueError("no bands")
    return found

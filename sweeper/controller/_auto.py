"""auto, sweeper's own method: which Optuna sampler it uses at a given number of runs. Apart from
the samplers (``_optuna``) so that a caller can ask without importing optuna and torch."""

from __future__ import annotations

# auto: gp while the sweep has fewer runs than this (on recorded trainings it searches best there,
# bench/search_quality.py), then tpe, whose hand-outs stay fast at thousands of runs (gp's fit
# grows with the cube of the runs: 0.17 s at 300 runs on 2 cores, 3.7 s at 1,000).
AUTO_GP_RUNS = 300


def engine_of(method: str, runs: int) -> str:
    """The Optuna sampler a method uses with ``runs`` runs recorded (auto: gp, then tpe)."""
    if method == "auto":
        return "gp" if runs < AUTO_GP_RUNS else "tpe"
    return method

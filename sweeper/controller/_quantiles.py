"""W&B distributions that Optuna has no counterpart for, searched by their quantile.

``q_log_uniform_values`` (``batch_size: {distribution: q_log_uniform_values, min: 16, max: 256,
q: 8}``), ``q_log_uniform``, ``inv_log_uniform(_values)``, ``normal``, ``log_normal`` and their
``q_`` forms, ``beta``, ``q_beta`` and ``values`` with ``probabilities``: tpe, gp, nsga2 and auto
search the quantile ``u`` of the parameter's own distribution, in [LOW, 1 - LOW], and the run
gets the value W&B's own definition gives that quantile (``sweeps.params.HyperParameter.ppf``,
the rounding to ``q`` included), as W&B's bayes maps its search space. So a log-uniform
parameter is searched on the log scale, a normal one densest near its mean, a value of
probability 0.7 over 70% of the range, and every value handed out is one W&B could draw.
A run's value is read back as its quantile (``cdf``; for ``values``, the middle of its share).
"""

from __future__ import annotations

from typing import Any

# The quantiles searched: a normal parameter spans its mean +- 3.1 sigma.
LOW = 0.001
DISTRIBUTIONS = ("q_log_uniform", "q_log_uniform_values", "inv_log_uniform",
                 "inv_log_uniform_values", "normal", "q_normal", "log_normal", "q_log_normal",
                 "beta", "q_beta", "categorical_w_probabilities")


class Quantiles:
    """One parameter searched by its quantile."""

    def __init__(self, name: str, spec: dict):
        from sweeps.params import HyperParameter

        self.spec = spec
        self._parameter = HyperParameter(name, spec)

    def value(self, quantile: float) -> Any:
        """The value W&B's definition gives ``quantile``."""
        return self._parameter.ppf(quantile)

    def quantile(self, value: Any) -> float | None:
        """Where ``value`` stands in the distribution (None: a value it cannot draw, so the run
        is from another search space)."""
        if "probabilities" in self.spec:
            values, shares = self.spec["values"], self.spec["probabilities"]
            if value not in values:
                return None
            index = values.index(value)
            return _clip(sum(shares[:index]) + shares[index] / 2)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        try:
            return _clip(float(self._parameter.cdf(value)))
        except (ValueError, TypeError, ZeroDivisionError):
            return None


def _clip(quantile: float) -> float | None:
    if quantile != quantile:  # NaN: outside the distribution's support
        return None
    return min(max(quantile, LOW), 1 - LOW)

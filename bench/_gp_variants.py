"""gp variants the search benchmark can measure, not what sweeper uses: each is set up in a
worker of ``bench/search_quality.py`` before it runs a trajectory.

- ``minimum_noise``: a floor under gp's fitted noise variance (Optuna's default 1e-6).
- ``sobol_start``: gp's first SOBOL_RUNS runs from one scrambled Sobol sequence per sweep
  (shared by its agents, run i takes point i) instead of Optuna's independent random draws:
  a start spread more evenly over the space.
"""

from __future__ import annotations

import math
import zlib

SOBOL_RUNS = 5  # gp's random start (n_startup_trials)


def set_up(minimum_noise: float | None, sobol_start: bool) -> None:
    if minimum_noise is not None:
        from optuna._gp import prior

        prior.DEFAULT_MINIMUM_NOISE_VAR = minimum_noise  # GPSampler reads it when made
    if sobol_start:
        _start_gp_from_sobol()


def _start_gp_from_sobol() -> None:
    from optuna.distributions import CategoricalDistribution, IntDistribution
    from scipy.stats import qmc

    import sweeper.controller as controller
    from sweeper.controller import _optuna

    ask = controller.suggest

    def suggest(config, runs, seed_key="", memory=None):
        if config["method"] != "gp" or len(runs) >= SOBOL_RUNS:
            return ask(config, runs, seed_key, memory)
        space, constants, ordinals, quantiles = _optuna.distributions(config["parameters"])
        sweep_key = seed_key.rsplit("-", 1)[0]  # the benchmark's key is SWEEP-AGENT
        point = qmc.Sobol(len(space), scramble=True, seed=zlib.crc32(sweep_key.encode())
                          ).random(8)[len(runs)]
        chosen = dict(constants)
        for (name, d), u in zip(space.items(), point, strict=True):
            if isinstance(d, CategoricalDistribution):
                value = d.choices[min(int(u * len(d.choices)), len(d.choices) - 1)]
            elif isinstance(d, IntDistribution):
                count = (d.high - d.low) // d.step + 1
                value = d.low + min(int(u * count), count - 1) * d.step
            elif d.log:
                value = math.exp(math.log(d.low) + u * (math.log(d.high) - math.log(d.low)))
            elif d.step:
                count = round((d.high - d.low) / d.step) + 1
                value = d.low + min(int(u * count), count - 1) * d.step
            else:
                value = d.low + u * (d.high - d.low)
            chosen[name] = (ordinals[name][value] if name in ordinals
                            else quantiles[name].value(value) if name in quantiles else value)
        return _optuna._nest(chosen)

    controller.suggest = suggest

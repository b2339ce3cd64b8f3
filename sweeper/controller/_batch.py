"""More points from one gp fit, for agents that ask at the same moment (Kriging believer).

Sixteen agents asking at once would each fit gp's model to the same runs and optimise the same
acquisition: on a machine with fewer cores than agents they wait for the CPU behind each
other's fits. Instead one fit hands out a batch. Its first point is Optuna's own, as for a
single ask. Each further point is the one of highest expected improvement once the runs in
flight and the points before it are believed to come out at the model's mean (the Kriging
believer, Ginsbourger, Le Riche and Carraro, 2010). The model is not refitted: a believed value
equal to the mean leaves the mean as it is and shrinks the variance around the believed point,
so each pick is a rank-one update over a fixed set of candidates (``CANDIDATES`` points drawn
as Optuna draws its own start points). A pick takes milliseconds, against a tenth of a second
or more for another fit and acquisition optimisation.

Only single-objective gp without constraints (Optuna's LogEI and qLogEI) makes batches; for
any other acquisition, or an Optuna whose internals moved, a batch is its first point alone.
"""

from __future__ import annotations

import numpy as np
import optuna
import torch

try:
    from optuna._gp.acqf import logei
except ImportError:  # an Optuna whose internals moved: batches of one
    logei = None

CANDIDATES = 2048  # as many as Optuna's GPSampler draws before its local searches
_TINY = 1e-12


def _parts(acqf) -> tuple | None:
    """The fitted regressor, the runs in flight (normalised) and the incumbent of an acquisition
    this module knows, or None."""
    try:
        kind = type(acqf).__name__
        if kind == "LogEI":
            return acqf._gpr, np.empty((0, acqf.search_space.dim)), float(acqf._threshold)
        if kind == "qLogEI":
            cond = acqf._cond_gpr
            return cond._gpr, cond._X_running.detach().numpy(), float(acqf._threshold)
    except AttributeError:
        return None
    return None


def believer_points(acqf, first: np.ndarray, count: int,
                    rng: np.random.RandomState) -> list[np.ndarray]:
    """Up to ``count`` more normalised points after ``first``, Optuna's optimum of ``acqf``."""
    parts = _parts(acqf) if count > 0 and logei is not None else None
    if parts is None:
        return []
    gpr, running, threshold = parts
    if not np.isfinite(threshold):
        return []
    space = acqf.search_space
    pool = space.sample_normalized_params(CANDIDATES, rng=rng)
    points = torch.from_numpy(np.vstack([pool, running, first[np.newaxis]]))
    try:
        with torch.no_grad():
            cross = gpr.kernel(points, gpr._X_all)  # points x runs
            # L^-1 cross': the posterior's variance and covariances are products of its columns
            solved = torch.linalg.solve_triangular(gpr._cov_Y_Y_chol, cross.T, upper=False)
            mean = cross @ gpr._cov_Y_Y_inv_Y
            var = (gpr.kernel_scale - solved.square().sum(0)).clamp_min_(0.0)
            believer = _Believer(gpr, points, solved, var, float(gpr.noise_var))
    except AttributeError:
        return []
    n = len(pool)
    taken = np.zeros(n, dtype=bool)
    incumbent = threshold
    for index in range(n, len(points)):  # the runs in flight, then the first point
        believer.believe(index)
        incumbent = max(incumbent, float(mean[index]))
        taken |= np.all(pool == points[index].numpy(), axis=1)
    picks: list[np.ndarray] = []
    for _ in range(count):
        score = logei(mean[:n], believer.var[:n] + _TINY, incumbent).numpy()
        score[taken] = -np.inf
        best = int(np.argmax(score))
        if not np.isfinite(score[best]):
            break
        picks.append(pool[best])
        taken |= np.all(pool == pool[best], axis=1)  # its duplicates in a discrete space
        believer.believe(best)
        incumbent = max(incumbent, float(mean[best]))
    return picks


class _Believer:
    """The posterior variance at fixed points as believed observations are added one by one:
    an incremental Cholesky factor of the believed points' covariance, kept as its columns."""

    def __init__(self, gpr, points, solved, var, noise):
        self._gpr, self._points, self._solved, self._noise = gpr, points, solved, noise
        self._columns: list[torch.Tensor] = []
        self.var = var

    @torch.no_grad()
    def believe(self, index: int) -> None:
        prior = self._gpr.kernel(self._points, self._points[index:index + 1]).squeeze(-1)
        cov = prior - self._solved.T @ self._solved[:, index]  # posterior covariance with it
        for column in self._columns:
            cov = cov - column * column[index]
        scale = float(cov[index]) + self._noise
        if scale <= _TINY:
            return
        column = cov / scale ** 0.5
        self._columns.append(column)
        self.var = (self.var - column.square()).clamp_min_(0.0)


class BatchGPSampler(optuna.samplers.GPSampler):
    """Optuna's GPSampler, keeping ``extra`` more points of its fit in ``extra_params``."""

    def __init__(self, *, extra: int = 0, **kwargs):
        super().__init__(**kwargs)
        self._extra = extra
        self.extra_params: list[dict] = []

    def _optimize_acqf(self, acqf, best_params):
        first = super()._optimize_acqf(acqf, best_params)
        if self._extra > 0:
            self.extra_params = [acqf.search_space.get_unnormalized_param(point) for point in
                                 believer_points(acqf, first, self._extra, self._rng.rng)]
        return first

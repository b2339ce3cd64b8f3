"""Which parameters matter for the sweep's metric: Optuna's importance evaluators on the runs."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .. import objectives
from ..errors import BadInput
from ._frame import objective_columns, parameter_columns
from ._rank import RANKED_STATES, SEED_PARAMS


def varied_parameters(df: pd.DataFrame) -> list[str]:
    """Parameter columns that take more than one value across the runs."""
    return [c for c in parameter_columns(df) if df[c].astype(str).nunique() > 1]


def importance(df: pd.DataFrame, evaluator: str = "fanova", seed: int = 0,
               metric: str | None = None) -> dict[str, float]:
    """Importance of each varied parameter (seeds left out) for the metric (values sum to 1),
    highest first.

    ``evaluator``: ``fanova`` (functional ANOVA on a random forest) or ``ped-anova``.
    ``metric``: for a sweep of several metrics, the one to explain (its ``value.`` column);
    by default the sweep's one metric.
    """
    import optuna  # a second of imports that `results` and `status` never need
    from optuna.distributions import CategoricalDistribution, FloatDistribution

    optuna.logging.set_verbosity(optuna.logging.WARNING)

    goal, column = _target(df, metric)
    scored = df[df["state"].isin(RANKED_STATES) & df[column].notna()]
    params = [p for p in varied_parameters(scored) if p not in SEED_PARAMS]
    if len(scored) < 3 or not params:
        return {}
    distributions = {}
    for name in params:
        values = scored[name]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            distributions[name] = FloatDistribution(float(values.min()), float(values.max()))
        else:
            distributions[name] = CategoricalDistribution(sorted(values.astype(str).unique()))
    study = optuna.create_study(direction=goal)
    for _, row in scored.iterrows():
        params_of_run = {n: (float(row[n]) if isinstance(d, FloatDistribution) else str(row[n]))
                         for n, d in distributions.items()}
        study.add_trial(optuna.trial.create_trial(params=params_of_run,
                                                  distributions=distributions,
                                                  value=float(row[column])))
    if evaluator == "fanova":
        chosen = optuna.importance.FanovaImportanceEvaluator(seed=seed)
    elif evaluator == "ped-anova":
        chosen = optuna.importance.PedAnovaImportanceEvaluator()
    else:
        raise ValueError(f"unknown evaluator {evaluator!r}; fanova or ped-anova")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores = optuna.importance.get_param_importances(study, evaluator=chosen)
    total = float(np.sum(list(scores.values()))) or 1.0
    return {k: float(v) / total for k, v in scores.items()}


def _target(df: pd.DataFrame, metric: str | None) -> tuple[str, str]:
    """The goal and the column of the metric to explain."""
    info = df.attrs.get("sweep", {})
    config = info.get("config") or {}
    if objectives.is_multi(config):
        named = {o.name: o for o in objectives.of(config)}
        if metric not in named:
            raise BadInput(f"a sweep of several metrics: name the one to explain (metric=...); "
                           f"one of {', '.join(named)}")
        return named[metric].goal, objective_columns([named[metric]])[0]
    return info.get("goal", "minimize"), "metric_value"

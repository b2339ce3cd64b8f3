"""A sweep's runs as a pandas DataFrame, one row per run."""

from __future__ import annotations

import pandas as pd

from .. import objectives
from ..backends import Backend, RunInfo, SweepInfo, open_backend
from ..controller import flatten
from ..ranking import RANKED_STATES

# Columns every frame has, in this order; parameter and summary columns follow.
BASE_COLUMNS = ["name", "state", "metric", "metric_value", "metric_best", "runtime", "steps",
                "checkpoint", "agent", "device", "exit_code", "stop_reason", "log_path",
                "run_id", "sweep_id"]
# A multi-objective sweep's runs also have ``value.<metric>`` for each metric and ``front``.
VALUE_PREFIX = "value."


def objective_columns(objectives_: list[objectives.Objective]) -> list[str]:
    """The columns holding each run's value of the objectives of a multi-objective sweep."""
    return [f"{VALUE_PREFIX}{o.name}" for o in objectives_]


def source(sweep_id: str, storage: str | None, backend: Backend | None) -> Backend:
    """The backend given, else the one that holds ``sweep_id`` (a W&B path goes to W&B)."""
    return backend if backend is not None else open_backend(storage, create=False, sweep=sweep_id)


def runs(sweep_id: str, storage: str | None = None, backend: Backend | None = None,
         history: bool = False) -> pd.DataFrame:
    """One row per run: its name, state, every parameter (nested ones as dotted names), the
    run's value of the sweep metric (``metric_value``: W&B's summary value, what ranking uses)
    and the best value it logged (``metric_best``), every summary metric (``summary.KEY``), runtime, steps,
    checkpoint path, agent and device. ``df.attrs["sweep"]`` holds the sweep's id, name, config.
    A multi-objective sweep's frame has each run's value of each metric (``value.<metric>``)
    and its Pareto front among the ranked runs (``front``: 1 = no run is better on every
    metric; empty for runs not ranked).
    ``sweep_id`` may be a W&B sweep path (``ENTITY/PROJECT/ID``): the same columns come from W&B.

    With ``history``, a ``history`` column holds each run's logged steps (a list of dicts).
    """
    held = source(sweep_id, storage, backend)
    sweep = held.find_sweep(sweep_id)
    records = held.runs(sweep.id, history=history)
    return frame(sweep, records, with_history=history)


def frame(sweep: SweepInfo, records: list[RunInfo], with_history: bool = False) -> pd.DataFrame:
    metric = (sweep.config.get("metric") or {}).get("name")
    several = objectives.of(sweep.config) if objectives.is_multi(sweep.config) else []
    value_columns = objective_columns(several)
    rows = []
    for r in records:
        row = {"name": r.name, "state": r.state, "metric": metric,
               "metric_value": r.metric_value, "metric_best": r.metric_best,
               "runtime": r.runtime, "steps": r.steps,
               "checkpoint": r.summary.get("checkpoint"), "agent": r.agent_id,
               "device": r.device, "exit_code": r.exit_code, "stop_reason": r.stop_reason,
               "log_path": r.log_path, "run_id": r.id, "sweep_id": r.sweep_id}
        row.update(flatten(r.params))
        row.update({f"summary.{k}": v for k, v in r.summary.items()})
        if several:
            row.update(zip(value_columns, objectives.run_values(r.summary, several),
                           strict=True))
        if with_history:
            row["history"] = r.history
        rows.append(row)
    df = pd.DataFrame(rows)
    if df.empty:
        df = pd.DataFrame(columns=BASE_COLUMNS + value_columns)
    if several:
        df["front"] = _fronts(df, value_columns, [o.goal for o in several])
    df.attrs["sweep"] = {"id": sweep.id, "name": sweep.name, "config": sweep.config,
                         "metric": metric, "goal": (sweep.config.get("metric") or {}).get(
                             "goal", "minimize")}
    return df


def _fronts(df: pd.DataFrame, columns: list[str], goals: list[str]) -> pd.Series:
    """Each ranked run's Pareto front among the ranked runs (runs not ranked: missing)."""
    ranked = df["state"].isin(RANKED_STATES) & df[columns].notna().all(axis=1)
    points = df.loc[ranked, columns].astype(float).itertuples(index=False, name=None)
    out = pd.Series(pd.NA, index=df.index, dtype="Int64")
    out[ranked] = objectives.fronts(list(points), goals)
    return out


def parameter_columns(df: pd.DataFrame) -> list[str]:
    """The columns that hold run parameters (neither base, summary nor objective columns)."""
    return [c for c in df.columns if c not in BASE_COLUMNS and c not in ("history", "front")
            and not c.startswith(("summary.", VALUE_PREFIX))]

"""A sweep's runs as a pandas DataFrame, one row per run."""

from __future__ import annotations

import pandas as pd

from ..backends import Backend, RunInfo, SweepInfo, open_backend
from ..controller import flatten

# Columns every frame has, in this order; parameter and summary columns follow.
BASE_COLUMNS = ["name", "state", "metric", "metric_value", "metric_best", "runtime", "steps",
                "checkpoint", "agent", "device", "exit_code", "stop_reason", "log_path",
                "run_id", "sweep_id"]


def source(sweep_id: str, storage: str | None, backend: Backend | None) -> Backend:
    """The backend given, else the one that holds ``sweep_id`` (a W&B path goes to W&B)."""
    return backend if backend is not None else open_backend(storage, create=False, sweep=sweep_id)


def runs(sweep_id: str, storage: str | None = None, backend: Backend | None = None,
         history: bool = False) -> pd.DataFrame:
    """One row per run: its name, state, every parameter (nested ones as dotted names), the
    run's value of the sweep metric (``metric_value``: W&B's summary value, what ranking uses)
    and the best value it logged (``metric_best``), every summary metric (``summary.KEY``), runtime, steps,
    checkpoint path, agent and device. ``df.attrs["sweep"]`` holds the sweep's id, name, config.
    ``sweep_id`` may be a W&B sweep path (``ENTITY/PROJECT/ID``): the same columns come from W&B.

    With ``history``, a ``history`` column holds each run's logged steps (a list of dicts).
    """
    held = source(sweep_id, storage, backend)
    sweep = held.find_sweep(sweep_id)
    records = held.runs(sweep.id, history=history)
    return frame(sweep, records, with_history=history)


def frame(sweep: SweepInfo, records: list[RunInfo], with_history: bool = False) -> pd.DataFrame:
    metric = (sweep.config.get("metric") or {}).get("name")
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
        if with_history:
            row["history"] = r.history
        rows.append(row)
    df = pd.DataFrame(rows)
    if df.empty:
        df = pd.DataFrame(columns=BASE_COLUMNS)
    df.attrs["sweep"] = {"id": sweep.id, "name": sweep.name, "config": sweep.config,
                         "metric": metric, "goal": (sweep.config.get("metric") or {}).get(
                             "goal", "minimize")}
    return df


def parameter_columns(df: pd.DataFrame) -> list[str]:
    """The columns that hold run parameters (neither base nor summary columns)."""
    return [c for c in df.columns if c not in BASE_COLUMNS and not c.startswith("summary.")
            and c != "history"]

"""W&B's sweeps and runs (from the public API) as sweeper's SweepInfo and RunInfo."""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any

from ...run_value import summary_value
from .._base import RunInfo, SweepInfo

# W&B sweep states as sweeper names them (the local backend's names, W&B's meaning).
SWEEP_STATES = {"RUNNING": "running", "PAUSED": "paused", "FINISHED": "finished",
                "CANCELED": "cancelled", "PENDING": "pending", "CRASHED": "crashed",
                "FAILED": "failed"}
# What `wandb sweep --stop/--cancel/--pause/--resume` sets.
ACTIONS = {"stop": "FINISHED", "cancel": "CANCELED", "pause": "PAUSED", "resume": "RUNNING"}


def epoch(stamp: str | None) -> float | None:
    """A W&B timestamp (ISO 8601, UTC) as seconds since the epoch."""
    if not stamp:
        return None
    text = stamp.replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)  # W&B's timestamps are UTC
    return moment.timestamp()


def sweep_info(path: str, attrs: dict[str, Any], config: dict, url: str) -> SweepInfo:
    state = SWEEP_STATES.get(str(attrs.get("state", "")).upper(), str(attrs.get("state")).lower())
    return SweepInfo(id=path, name=attrs.get("displayName") or config.get("name") or path,
                     config=config, state=state, created_at=epoch(attrs.get("createdAt")) or 0.0,
                     runs_total=int(attrs.get("runCount") or 0), location=url)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return None if math.isnan(value) else float(value)


def run_info(run: Any, sweep: SweepInfo, number: int,
             history: list[dict] | None = None) -> RunInfo:
    """A public-API run as a RunInfo: params are the sweep's parameters out of the run's config,
    the metric's value is read from the summary, as W&B's controller does (with history, the
    best logged value is kept too)."""
    raw = dict(run.summary_metrics or {})
    summary = {k: v for k, v in raw.items() if not k.startswith("_")}
    metric = (sweep.config.get("metric") or {})
    name = metric.get("name")
    value = summary_value(summary, name, metric.get("goal", "minimize"))
    best = value
    if history is not None and name:
        values = [v for v in (_number(row.get(name)) for row in history) if v is not None]
        if values:
            best = max(values) if metric.get("goal") == "maximize" else min(values)
    params = {k: v for k, v in (run.config or {}).items()
              if k in (sweep.config.get("parameters") or {})}
    created = epoch(getattr(run, "created_at", None))
    runtime = _number(raw.get("_runtime")) or _number((raw.get("_wandb") or {}).get("runtime"))
    step = _number(raw.get("_step"))
    return RunInfo(id=run.id, sweep_id=sweep.id, name=run.name or run.id, number=number,
                   params=params, state=str(run.state).lower(), created_at=created or 0.0,
                   started_at=created,
                   finished_at=created + runtime if created is not None and runtime else None,
                   heartbeat_at=epoch(getattr(run, "heartbeat_at", None)), summary=summary,
                   metric_value=value, metric_best=best,
                   steps=int(step) + 1 if step is not None else len(history or ()),
                   log_path=getattr(run, "url", None), history=history)

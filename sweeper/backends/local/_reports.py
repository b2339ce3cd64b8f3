"""What runs report: their logged steps, their summary and how they end.

The summary is W&B's: the last logged value of each key while the run runs, replaced by the
program's own summary when it ends with one. The run's one value of the sweep metric is taken
from it (``sweeper.run_value``), whatever way the run ends; every step it logged is kept.

A resumed attempt continues the history where its checkpoint was: its first row's training step
(``train/global_step``, ``global_step`` or an explicit ``_step``) drops the rows of earlier
attempts at that step and after, which the checkpoint did not keep.
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from ... import controller
from ...errors import BadInput
from ...run_value import is_number, summary_value
from . import _tables as t
from ._handout import alive, end_attempt, finish_sweep, reclaim
from ._replays import rows_to_store

STEP_KEYS = ("train/global_step", "trainer/global_step", "global_step", "_step")
SUPERSEDED = "a later attempt of this run took over"


def run_row(conn: Connection, run_id: str, location: str):
    row = conn.execute(select(t.runs).where(t.runs.c.id == run_id)).mappings().first()
    if row is None:
        raise BadInput(f"no run {run_id!r} in {location}")
    return row


def current(run, attempt: int | None) -> bool:
    """Whether a report of ``attempt`` still speaks for the run (no later attempt took over)."""
    return attempt is None or run["attempt"] == attempt


def log(conn: Connection, sweep, run, rows: list[dict], log_path: str | None,
        attempt: int | None, now: float, controller_runs, seen: dict | None = None
        ) -> str | None:
    """Record ``rows``; return why the run must stop now, or None. ``seen``: kept by the caller
    across the tries of one report, so that a retry after a lost commit does not store the rows
    again."""
    run_id = run["id"]
    if not current(run, attempt):
        return SUPERSEDED
    alive(conn, run["agent_id"], now)
    if attempt is not None and reclaim(conn, run_id, run["agent_id"]):
        pass  # reaped while its agent was cut off from the storage: the agent is back
    elif run["state"] not in controller.ACTIVE:
        return run["stop_reason"] or f"run is {run['state']}"
    config = sweep["config"]
    metric = config.get("metric") or {}
    name, goal = metric.get("name"), metric.get("goal", "minimize")
    steps = run["steps"]
    history = list(run["metric_history"] or [])
    values: dict[str, Any] = {"heartbeat_at": now, "output_at": now}
    if log_path is not None:
        values["log_path"] = log_path
    if rows:
        rows = rows_to_store(seen, _rows_reported(conn, run_id, run["attempt"]), rows)
    if rows:
        rows = [jsonable(row) for row in rows]
        if _first_of_attempt(conn, run_id, run["attempt"]):
            if run["attempt"] > 1 and steps > 0:
                steps, history = _rewind(conn, run_id, rows[0], steps, name)
            conn.execute(update(t.attempts).where(
                t.attempts.c.run_id == run_id, t.attempts.c.attempt == run["attempt"])
                .values(first_step=steps))
        conn.execute(insert(t.history), [{"run_id": run_id, "step": steps + i, "data": row}
                                         for i, row in enumerate(rows)])
        conn.execute(update(t.attempts).where(
            t.attempts.c.run_id == run_id, t.attempts.c.attempt == run["attempt"])
            .values(rows_reported=t.attempts.c.rows_reported + len(rows)))
        steps += len(rows)
        summary = dict(run["summary"] or {})
        for row in rows:
            summary.update({k: v for k, v in row.items() if not k.startswith("_")})
            if name in row and is_number(row[name]):
                history.append(row[name])
        value = summary_value(summary, name, goal)
        values.update(steps=steps, summary=summary, metric_history=history,
                      metric_value=value, metric_best=controller.best_value(history, goal))
        _check_target(conn, sweep, run["name"], value, now)
    conn.execute(update(t.runs).where(t.runs.c.id == run_id).values(**values))
    if sweep["state"] == "cancelled":
        return "sweep cancelled"
    if run["stop_requested"]:
        return run["stop_reason"]
    if rows and name and config.get("early_terminate") and any(name in r for r in rows):
        decided = controller.to_stop(config, controller_runs(conn, sweep["id"]))
        if run["name"] in decided:
            reason = "hyperband: below the top of its bracket"
            conn.execute(update(t.runs).where(t.runs.c.id == run_id).values(
                stop_requested=True, stop_reason=reason))
            return reason
    return None


def leftovers(conn: Connection, sweep, run, attempt: int, rows: list[dict], now: float,
              seen: dict | None = None) -> int:
    """Rows an earlier attempt wrote but did not get to the records (its agent died between a
    row and its report), reported now by the attempt that resumes the run, before it logs
    anything. Returns how many were added (by this call: a retry after a lost commit counts
    what its first try added). ``seen``: as for ``log``."""
    if not rows or attempt >= run["attempt"]:
        return 0
    reported = _rows_reported(conn, run["id"], attempt)
    if reported is None:
        return 0
    if not rows_to_store(seen, reported, rows):
        return len(rows)
    rows = [jsonable(row) for row in rows]
    metric = sweep["config"].get("metric") or {}
    name, goal = metric.get("name"), metric.get("goal", "minimize")
    steps = run["steps"]
    conn.execute(insert(t.history), [{"run_id": run["id"], "step": steps + i, "data": row}
                                     for i, row in enumerate(rows)])
    conn.execute(update(t.attempts).where(t.attempts.c.run_id == run["id"],
                                          t.attempts.c.attempt == attempt)
                 .values(rows_reported=reported + len(rows)))
    summary = dict(run["summary"] or {})
    history = list(run["metric_history"] or [])
    for row in rows:
        summary.update({k: v for k, v in row.items() if not k.startswith("_")})
        if name in row and is_number(row[name]):
            history.append(row[name])
    conn.execute(update(t.runs).where(t.runs.c.id == run["id"]).values(
        steps=steps + len(rows), summary=summary, metric_history=history,
        metric_value=summary_value(summary, name, goal),
        metric_best=controller.best_value(history, goal)))
    return len(rows)


def finish(conn: Connection, sweep, run, state: str, summary: dict | None,
           exit_code: int | None, log_path: str | None, stop_reason: str | None,
           attempt: int | None, requeue: bool, now: float) -> None:
    """Record how the run's attempt ended. A run asked to stop that then ends is
    ``stopped``/``killed``; an interrupted one goes back in the queue while it has resumes."""
    run_id = run["id"]
    if not current(run, attempt):
        return
    if run["stop_requested"] and state in ("finished", "failed", "killed"):
        state = "killed" if run["stop_reason"] == "sweep cancelled" else "stopped"
        requeue = False
    metric = sweep["config"].get("metric") or {}
    name, goal = metric.get("name"), metric.get("goal", "minimize")
    merged = dict(run["summary"] or {})
    if summary:
        merged.update(jsonable(summary))
    value = summary_value(merged, name, goal)
    values: dict[str, Any] = {"summary": merged, "exit_code": exit_code, "heartbeat_at": now,
                              "metric_value": value}
    if log_path is not None:
        values["log_path"] = log_path
    conn.execute(update(t.runs).where(t.runs.c.id == run_id).values(**values))
    reason = stop_reason if stop_reason is not None else run["stop_reason"]
    if requeue:
        end_attempt(conn, run_id, run["attempt"], state, reason or "interrupted",
                    sweep["max_resumes"], now)
    else:
        conn.execute(update(t.attempts).where(t.attempts.c.run_id == run_id,
                                              t.attempts.c.attempt == run["attempt"])
                     .values(ended_at=now, state=state, reason=reason))
        conn.execute(update(t.runs).where(t.runs.c.id == run_id).values(
            state=state, finished_at=now, stop_reason=reason))
    _check_target(conn, sweep, run["name"], value, now)


def _check_target(conn: Connection, sweep, run_name: str, value: float | None,
                  now: float) -> None:
    metric = sweep["config"].get("metric") or {}
    target = metric.get("target")
    if target is None or value is None:
        return
    goal = metric.get("goal", "minimize")
    if value >= target if goal == "maximize" else value <= target:
        finish_sweep(conn, sweep["id"], f"target {target:g} reached by {run_name}", now)


def _rows_reported(conn: Connection, run_id: str, attempt: int) -> int | None:
    return conn.execute(select(t.attempts.c.rows_reported).where(
        t.attempts.c.run_id == run_id, t.attempts.c.attempt == attempt)).scalar()


def _first_of_attempt(conn: Connection, run_id: str, attempt: int) -> bool:
    """Whether no row was logged yet in this attempt."""
    found = conn.execute(select(t.attempts.c.first_step).where(
        t.attempts.c.run_id == run_id, t.attempts.c.attempt == attempt)).first()
    return found is not None and found[0] is None


def _rewind(conn: Connection, run_id: str, first: dict, steps: int, name: str | None
            ) -> tuple[int, list]:
    """Drop the rows at and after the resumed attempt's first step; the new row count and the
    metric's history without them."""
    key = next((k for k in STEP_KEYS if is_number(first.get(k))), None)
    if key is None:
        return steps, _metric_history(conn, run_id, name)
    rows = conn.execute(select(t.history.c.step, t.history.c.data).where(
        t.history.c.run_id == run_id).order_by(t.history.c.step)).all()
    cut = next((step for step, data in rows
                if is_number(data.get(key)) and data[key] >= first[key]), None)
    if cut is not None:
        conn.execute(delete(t.history).where(t.history.c.run_id == run_id,
                                              t.history.c.step >= cut))
    kept = conn.execute(select(func.count()).select_from(t.history)
                        .where(t.history.c.run_id == run_id)).scalar_one()
    return kept, _metric_history(conn, run_id, name)


def _metric_history(conn: Connection, run_id: str, name: str | None) -> list:
    if not name:
        return []
    return [data[name] for (data,) in conn.execute(
        select(t.history.c.data).where(t.history.c.run_id == run_id)
        .order_by(t.history.c.step)) if is_number(data.get(name))]


def jsonable(data: dict) -> dict:
    """Logged values as JSON can hold them: numbers, strings, bools, lists, dicts; NaN as None."""
    out: dict = {}
    for key, value in data.items():
        if isinstance(value, float) and not math.isfinite(value):
            out[str(key)] = None
        elif isinstance(value, (str, int, float, bool)) or value is None:
            out[str(key)] = value
        elif isinstance(value, dict):
            out[str(key)] = jsonable(value)
        elif isinstance(value, (list, tuple)):
            out[str(key)] = [v if isinstance(v, (str, int, float, bool)) or v is None else str(v)
                             for v in value]
        elif hasattr(value, "item"):  # numpy and torch scalars
            try:
                out[str(key)] = value.item()
            except (ValueError, TypeError):
                out[str(key)] = str(value)
        else:
            out[str(key)] = str(value)
    return out

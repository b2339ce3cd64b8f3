"""Reading the records: sweeps and runs as SweepInfo and RunInfo, without writing anything.

A run whose agent has stopped heartbeating is shown as ``crashed`` here (what the next writer
will record); reading never changes a record.
"""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from ... import controller
from .._base import RunInfo, SweepInfo
from . import _tables as t

# Runs that count for the sweep's best run (as they are ranked).
RANKED = ("finished", "stopped")
AGENT_LOST = "agent stopped heartbeating"


def stale_agents(sweep_id: str, deadline: float):
    """The agents of a sweep that can no longer be running anything: silent since before the
    deadline, or ended. (One once marked lost that heartbeats again is alive.)"""
    return select(t.agents.c.id).where(
        t.agents.c.sweep_id == sweep_id,
        (t.agents.c.heartbeat_at < deadline) | (t.agents.c.state == "finished"))


def sweep_info(conn: Connection, row, location: str, deadline: float,
               offset: float = 0.0) -> SweepInfo:
    """The sweep as people see it; runs of agents silent since before ``deadline`` are not
    active (they crashed, whether or not a writer has recorded it yet). Its times are in this
    machine's clock: the storage's, less ``offset`` (see _storage_clock)."""
    sweep_id = row["id"]
    active = conn.execute(select(func.count()).select_from(t.runs).where(
        t.runs.c.sweep_id == sweep_id, t.runs.c.state.in_(controller.ACTIVE),
        ~((t.runs.c.state == "running")
          & t.runs.c.agent_id.in_(stale_agents(sweep_id, deadline))))).scalar_one()
    info = SweepInfo(id=sweep_id, name=row["name"], config=row["config"], state=row["state"],
                     state_reason=row["state_reason"], created_at=row["created_at"] - offset,
                     runs_total=row["runs_total"], runs_active=active, location=location)
    best = best_run(conn, sweep_id, row["config"])
    if best is not None:
        info.best_run, info.best_value = best
    return info


def best_run(conn: Connection, sweep_id: str, config: dict) -> tuple[str, float] | None:
    """The name and value of the sweep's best ranked run, by its one value of the metric."""
    metric = config.get("metric") or {}
    if not metric.get("name"):
        return None
    value = t.runs.c.metric_value
    order = value.desc() if metric.get("goal") == "maximize" else value.asc()
    found = conn.execute(select(t.runs.c.name, value).where(
        t.runs.c.sweep_id == sweep_id, t.runs.c.state.in_(RANKED), value.is_not(None))
        .order_by(order, t.runs.c.number).limit(1)).first()
    return (found[0], found[1]) if found is not None else None


def run_infos(conn: Connection, sweep_id: str, deadline: float, offset: float = 0.0,
              history: bool = False, summaries: bool = True) -> list[RunInfo]:
    """The sweep's runs, oldest first; runs of silent agents shown as crashed. Without
    ``summaries``, each run's summary is left empty (decoding 10,000 of them is a third of
    reading the runs). Times are in this machine's clock, as in ``sweep_info``: a run that
    printed a moment ago on another machine was not silent for the minutes the clocks differ."""
    skipped = ("metric_history",) if summaries else ("metric_history", "summary")  # the first
    columns = [c for c in t.runs.c if c.name not in skipped]  # is hyperband's, not ours
    names = [c.name for c in columns]
    # Plain tuples: a mapping per row costs a third more at 10,000 runs.
    rows = [dict(zip(names, row, strict=True)) for row in conn.execute(
        select(*columns).where(t.runs.c.sweep_id == sweep_id).order_by(t.runs.c.number))]
    lost = set(conn.execute(stale_agents(sweep_id, deadline)).scalars())
    histories: dict[str, list[dict]] = {}
    if history:
        for run_id, _step, data in conn.execute(
                select(t.history.c.run_id, t.history.c.step, t.history.c.data)
                .join(t.runs, t.runs.c.id == t.history.c.run_id)
                .where(t.runs.c.sweep_id == sweep_id)
                .order_by(t.history.c.run_id, t.history.c.step)):
            histories.setdefault(run_id, []).append(data)

    def local(when: float | None) -> float | None:
        return None if when is None else when - offset

    out = []
    for r in rows:
        state, reason = r["state"], r["stop_reason"]
        if state == "running" and r["agent_id"] in lost:
            state, reason = "crashed", AGENT_LOST
        out.append(RunInfo(
            id=r["id"], sweep_id=r["sweep_id"], name=r["name"], number=r["number"],
            params=r["params"], state=state, created_at=local(r["created_at"]),
            agent_id=r["agent_id"], started_at=local(r["started_at"]),
            finished_at=local(r["finished_at"]), heartbeat_at=local(r["heartbeat_at"]),
            exit_code=r["exit_code"],
            summary=r.get("summary") or {}, metric_value=r["metric_value"],
            metric_best=r["metric_best"], steps=r["steps"], stop_reason=reason,
            log_path=r["log_path"], device=r["device"], attempt=r["attempt"],
            output_at=local(r["output_at"]),
            history=histories.get(r["id"], []) if history else None))
    return out

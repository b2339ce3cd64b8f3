"""Points one gp fit made for the agents asking with it, kept in the records between hand-outs.

When agents ask at the same moment, the first to fit asks the controller for a batch, one
point per agent waiting for work (``controller.suggest_batch``): it takes the first, and the
rest wait here for the agents queued behind its fit, which take one each instead of fitting.
A point is handed out only while the runs' results stand as they stood at the fit (its
basis: how many runs have ended, and the last end), so no agent gets a point of a model that
missed a result it could have had; the first hand-out after a new result drops the rest.

The points are taken under the sweep's lock, in the same transaction as the run they start,
so each goes to one agent; grid and run_cap are untouched (a point counts once handed out).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection, bindparam, delete, func, insert, select

from ... import controller
from . import _tables as t

BATCH_LIMIT = 32  # points one fit makes at most


@dataclass(frozen=True)
class Fitted:
    """What an agent brings to the locked hand-out of a fitted method. ``params``: its own
    suggestion (None: a point waited here for these runs, so it made none). ``basis``: the
    runs' results it was made on, for a method that makes batches (else None); ``extras``:
    the batch's other points."""

    params: dict | None
    basis: str | None = None
    extras: list[dict] = field(default_factory=list)


# Built once: a hand-out reads the basis three times, and building a statement took longer
# than running it.
_BASIS = select(func.count(), func.max(t.runs.c.finished_at)).where(
    t.runs.c.sweep_id == bindparam("sweep"), t.runs.c.state.in_(controller.TERMINAL))
_READY = select(t.prepared.c.position).where(
    t.prepared.c.sweep_id == bindparam("sweep"), t.prepared.c.basis == bindparam("basis")
).limit(1)
_DROP_STALE = delete(t.prepared).where(t.prepared.c.sweep_id == bindparam("sweep"),
                                       t.prepared.c.basis != bindparam("basis"))
_WAITING = select(t.prepared.c.position, t.prepared.c.params).where(
    t.prepared.c.sweep_id == bindparam("sweep")).order_by(t.prepared.c.position).limit(1)
_TAKE = delete(t.prepared).where(t.prepared.c.sweep_id == bindparam("sweep"),
                                 t.prepared.c.position == bindparam("position"))


def basis(conn: Connection, sweep_id: str) -> str:
    """What the runs' results are now, as far as a fit is concerned."""
    ended, last = conn.execute(_BASIS, {"sweep": sweep_id}).one()
    return f"{ended}:{last!r}"


def ready(conn: Connection, sweep_id: str, now: str) -> bool:
    """Whether a point made on the runs as they are now waits for an agent."""
    return conn.execute(_READY, {"sweep": sweep_id, "basis": now}).first() is not None


def askers(conn: Connection, sweep_id: str, alive_since: float) -> int:
    """How many live agents of the sweep run nothing now (the one asking among them): how
    many points a fit should make, at least 1, at most BATCH_LIMIT."""
    busy = select(t.runs.c.agent_id).where(t.runs.c.sweep_id == sweep_id,
                                            t.runs.c.state == "running",
                                            t.runs.c.agent_id.is_not(None))
    idle = conn.execute(select(func.count()).select_from(t.agents).where(
        t.agents.c.sweep_id == sweep_id, t.agents.c.state == "running",
        t.agents.c.heartbeat_at >= alive_since, t.agents.c.id.not_in(busy))).scalar()
    return max(1, min(BATCH_LIMIT, idle or 0))


def hand_out(conn: Connection, sweep_id: str, fitted: Fitted, now: float) -> dict | None:
    """The parameters for the asking agent, under the sweep's lock: a point waiting for the runs
    as they are, else its own (its batch's other points then wait here); None when it brought
    none and no point waits (it must fit)."""
    current = basis(conn, sweep_id)
    conn.execute(_DROP_STALE, {"sweep": sweep_id, "basis": current})
    waiting = conn.execute(_WAITING, {"sweep": sweep_id}).first()
    if waiting is not None:
        # Another fit on these same results made it apart from its other points: taken before
        # this agent's own, which would land on that fit's first point.
        conn.execute(_TAKE, {"sweep": sweep_id, "position": waiting.position})
        return waiting.params
    if fitted.params is not None and fitted.extras and fitted.basis == current:
        conn.execute(insert(t.prepared), [
            {"sweep_id": sweep_id, "position": i, "basis": current, "params": params,
             "made_at": now} for i, params in enumerate(fitted.extras)])
    return fitted.params

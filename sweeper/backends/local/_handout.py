"""Handing out runs: the next run of a sweep for an agent, in one transaction under the sweep's
lock, and the reaping of runs whose agent died (requeued while they have resumes left).

Requeued runs are handed out before any new configuration is drawn: they keep their id, name,
parameters and place in run_cap, and start a new attempt.
"""

from __future__ import annotations

import socket
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from ... import controller, objectives, spec
from .._base import Assignment, NoRun
from . import _prepared
from . import _tables as t
from ._prepared import Fitted
from ._reads import AGENT_LOST, stale_agents
from ._replays import Handed

# The statements every hand-out runs, built once: building one took longer than running it.
_RUNS_OF_LOST = select(t.runs.c.id, t.runs.c.attempt).where(
    t.runs.c.sweep_id == bindparam("sweep"), t.runs.c.state == "running",
    t.runs.c.agent_id.in_(stale_agents(bindparam("sweep"), bindparam("deadline"))))
_LOSE_SILENT = update(t.agents).where(
    t.agents.c.sweep_id == bindparam("sweep"), t.agents.c.state == "running",
    t.agents.c.heartbeat_at < bindparam("deadline")).values(state="lost")
_ALIVE = update(t.agents).where(t.agents.c.id == bindparam("agent")).values(
    heartbeat_at=bindparam("now"), state="running")
_PENDING = select(t.runs.c.id, t.runs.c.name, t.runs.c.params, t.runs.c.number,
                  t.runs.c.attempt, t.runs.c.steps).where(
    t.runs.c.sweep_id == bindparam("sweep"), t.runs.c.state == "pending"
).order_by(t.runs.c.number).limit(1)
_HOST = select(t.agents.c.host).where(t.agents.c.id == bindparam("agent"))
_COUNT_RUN = update(t.sweeps).where(t.sweeps.c.id == bindparam("sweep")).values(
    runs_total=bindparam("number"), updated_at=bindparam("now"))


def reap(conn: Connection, sweep_id: str, max_resumes: int, now: float, timeout: float,
         since: float) -> None:
    """Runs whose agent stopped heartbeating (or ended without finishing them) end crashed, and
    go back in the queue while they have resumes left. Only writers reap.

    Silence is judged against ``since``, when this writer began to wait (for the lock, or for
    the storage to come back): the heartbeats of other agents waited just as long.
    """
    deadline = since - timeout
    given = {"sweep": sweep_id, "deadline": deadline}
    for run_id, attempt in conn.execute(_RUNS_OF_LOST, given).all():
        end_attempt(conn, run_id, attempt, "crashed", AGENT_LOST, max_resumes, now)
    conn.execute(_LOSE_SILENT, given)


def end_attempt(conn: Connection, run_id: str, attempt: int, state: str, reason: str,
                max_resumes: int, now: float, requeue: bool = True) -> str:
    """Close the run's current attempt as ``state``; requeue the run (state ``pending``) when
    ``requeue`` and it has resumes left, else record ``state``. Returns the run's new state."""
    conn.execute(update(t.attempts).where(t.attempts.c.run_id == run_id,
                                          t.attempts.c.attempt == attempt)
                 .values(ended_at=now, state=state, reason=reason))
    if requeue and attempt <= max_resumes:
        conn.execute(update(t.runs).where(t.runs.c.id == run_id).values(
            state="pending", heartbeat_at=now,
            stop_reason=f"{reason}; requeued (attempt {attempt} of {max_resumes + 1})"))
        return "pending"
    conn.execute(update(t.runs).where(t.runs.c.id == run_id).values(
        state=state, finished_at=now, stop_reason=reason))
    return state


def alive(conn: Connection, agent_id: str | None, now: float) -> None:
    """The agent spoke (asked for work, reported a run): as good as a heartbeat."""
    if agent_id is not None:
        conn.execute(_ALIVE, {"agent": agent_id, "now": now})


def reclaim(conn: Connection, run_id: str, agent_id: str) -> bool:
    """A run reaped while its agent was cut off (a storage outage longer than the heartbeat
    timeout) and not yet taken by another agent: its agent is back and the program still runs,
    so the run is running again, in the same attempt."""
    run = conn.execute(select(t.runs.c.state, t.runs.c.attempt, t.runs.c.agent_id)
                       .where(t.runs.c.id == run_id)).first()
    if run is None or run.agent_id != agent_id or run.state not in ("pending", "crashed"):
        return False
    conn.execute(update(t.runs).where(t.runs.c.id == run_id).values(
        state="running", stop_reason=None, finished_at=None))
    conn.execute(update(t.attempts).where(t.attempts.c.run_id == run_id,
                                          t.attempts.c.attempt == run.attempt)
                 .values(ended_at=None, state=None, reason=None))
    return True


def _resumable(sweep) -> bool:
    """Whether requeued runs may still start: the sweep runs, or it finished only because it
    handed out its last new run (run_cap reached, grid exhausted)."""
    if sweep["state"] == "running":
        return True
    reason = sweep["state_reason"] or ""
    return sweep["state"] == "finished" and reason.startswith(("run_cap", "grid exhausted"))


class Refit(Exception):
    """The sweep needs a fitted suggestion that the caller did not bring (the sweep changed
    between the fit and the lock): fit again, outside the lock."""


def wants_fit(conn: Connection, sweep) -> bool:
    """Whether the next hand-out of ``sweep`` (read without the lock) will draw a new run from a
    method that fits a model: then the caller fits first, before it takes the lock."""
    config = sweep["config"]
    if sweep["state"] != "running" or config["method"] not in controller.FITTED_METHODS:
        return False
    cap = config.get("run_cap")
    if cap is not None and sweep["runs_total"] >= cap:
        return False
    return conn.execute(_PENDING, {"sweep": sweep["id"]}).first() is None


def next_run(conn: Connection, sweep, agent_id: str, device: str | None, now: float,
             controller_runs, new_id, fitted: Fitted | None = None,
             handed: Handed | None = None) -> Assignment | NoRun:
    """The next run for ``agent_id``: a requeued run first, else a new draw of the controller.
    ``sweep`` is the locked sweep row. ``fitted``: the suggestion of a fitted method, made
    before the lock (Refit when the method fits a model and none was brought, or it counted
    on a point of another agent's fit that is gone). ``handed``:
    the run an earlier try of this same ask took, returned again if that try committed."""
    handed = handed if handed is not None else Handed()
    earlier = handed.recall(conn, agent_id)
    if earlier is not None:
        return earlier
    sweep_id = sweep["id"]
    if sweep["state"] == "paused":
        return NoRun("sweep is paused", wait=True)
    if _resumable(sweep):
        pending = conn.execute(_PENDING, {"sweep": sweep_id}).first()
        if pending is not None:
            attempt = pending.attempt + 1
            conn.execute(update(t.runs).where(t.runs.c.id == pending.id).values(
                state="running", agent_id=agent_id, device=device, heartbeat_at=now,
                attempt=attempt, stop_requested=False, stop_reason=None, finished_at=None,
                exit_code=None))
            _begin_attempt(conn, pending.id, attempt, agent_id, device, now, pending.steps)
            handed.note(pending.id, attempt)
            return Assignment(run_id=pending.id, name=pending.name, params=pending.params,
                              number=pending.number, attempt=attempt)
    if sweep["state"] != "running":
        if _resumable(sweep) and sweep["max_resumes"] > 0:
            # Runs of other agents may still come back to be resumed: stay for them.
            others = conn.execute(select(t.runs.c.id).where(
                t.runs.c.sweep_id == sweep_id, t.runs.c.state == "running",
                t.runs.c.agent_id != agent_id)).all()
            if others:
                return NoRun(f"sweep is {sweep['state']} ({sweep['state_reason']}); waiting "
                             f"while {len(others)} run{'s' if len(others) != 1 else ''} of "
                             "other agents may come back to be resumed", wait=True)
        return NoRun(f"sweep is {sweep['state']}"
                     + (f" ({sweep['state_reason']})" if sweep["state_reason"] else ""))
    config = sweep["config"]
    cap = config.get("run_cap")
    if cap is not None and sweep["runs_total"] >= cap:
        finish_sweep(conn, sweep_id, f"run_cap {cap} reached", now)
        return NoRun(f"sweep is finished (run_cap {cap} reached)")
    method = config["method"]
    if method in controller.FITTED_METHODS:
        if fitted is None:
            raise Refit()
        params = (fitted.params if fitted.basis is None
                  else _prepared.hand_out(conn, sweep_id, fitted, now))
        if params is None:  # the point that waited for it went to another agent first
            raise Refit()
    else:  # grid and random: cheap, and grid points stay unique under the lock
        runs = [] if method == "random" else controller_runs(conn, sweep_id, with_metric=False)
        params = controller.suggest(config, runs, seed_key=sweep_id)
    if params is None:
        finish_sweep(conn, sweep_id, "grid exhausted", now)
        return NoRun("sweep is finished (grid exhausted)")
    number = sweep["runs_total"] + 1
    run_id = new_id()
    name = f"{sweep['name']}-{number}"
    conn.execute(insert(t.runs), dict(
        id=run_id, sweep_id=sweep_id, number=number, name=name, params=params,
        state="running", agent_id=agent_id, device=device, created_at=now, started_at=now,
        heartbeat_at=now, output_at=now, metric_history=[], steps=0, stop_requested=False,
        summary={}, attempt=1))
    _begin_attempt(conn, run_id, 1, agent_id, device, now, 0)
    handed.note(run_id, 1)
    conn.execute(_COUNT_RUN, {"sweep": sweep_id, "number": number, "now": now})
    if cap is not None and number >= cap:  # as on W&B: the sweep is done handing out runs
        finish_sweep(conn, sweep_id, f"run_cap {cap} reached", now)
    elif method == "grid" and number >= spec.grid_size(config):
        finish_sweep(conn, sweep_id, "grid exhausted", now)
    return Assignment(run_id=run_id, name=name, params=params, number=number)


def _begin_attempt(conn: Connection, run_id: str, attempt: int, agent_id: str,
                   device: str | None, now: float, steps: int) -> None:
    host = conn.execute(_HOST, {"agent": agent_id}).scalar()
    conn.execute(insert(t.attempts), dict(
        run_id=run_id, attempt=attempt, agent_id=agent_id, host=host or socket.gethostname(),
        device=device, started_at=now, steps_at_start=steps))


def finish_sweep(conn: Connection, sweep_id: str, reason: str, now: float) -> None:
    conn.execute(update(t.sweeps).where(t.sweeps.c.id == sweep_id,
                                        t.sweeps.c.state == "running").values(
        state="finished", state_reason=reason, updated_at=now))


class ControllerRuns:
    """The runs as the controller needs them, with the ones that no longer change kept.

    Each call reads every run's state and attempt, and the full rows only of runs that are new
    or changed since the last call of this process. ``several``: the metrics of a
    multi-objective sweep, whose values are read from each run's summary.
    """

    def __init__(self):
        self._cache: dict[tuple, dict[str, tuple[Any, controller.ControllerRun]]] = {}

    def __call__(self, conn: Connection, sweep_id: str, with_metric: bool = True,
                 several: list[objectives.Objective] | None = None
                 ) -> list[controller.ControllerRun]:
        states = conn.execute(select(t.runs.c.id, t.runs.c.state, t.runs.c.attempt)
                              .where(t.runs.c.sweep_id == sweep_id)
                              .order_by(t.runs.c.number)).all()
        cache = self._cache.setdefault((sweep_id, with_metric, tuple(several or ())), {})
        fresh = [run_id for run_id, state, attempt in states
                 if run_id not in cache or cache[run_id][0] != (state, attempt)]
        loaded: dict[str, controller.ControllerRun] = {}
        columns = [t.runs.c.id, t.runs.c.name, t.runs.c.params, t.runs.c.state,
                   t.runs.c.attempt]
        if with_metric:
            columns += [t.runs.c.metric_history, t.runs.c.metric_value]
        if several:
            columns += [t.runs.c.summary]
        for start in range(0, len(fresh), 500):
            chunk = fresh[start:start + 500]
            for r in conn.execute(select(*columns).where(t.runs.c.id.in_(chunk))):
                run = controller.ControllerRun(
                    name=r[1], params=r[2], state=r[3],
                    metric_history=(r[5] or []) if with_metric else [],
                    metric_summary=r[6] if with_metric else None,
                    objective_values=objectives.run_values(r[-1], several) if several
                    else None)
                loaded[r[0]] = run
                if run.state in controller.TERMINAL:
                    cache[r[0]] = ((r[3], r[4]), run)
        return [loaded.get(run_id) or cache[run_id][1] for run_id, _, _ in states]

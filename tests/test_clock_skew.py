"""Agents on machines whose clocks disagree, sharing one PostgreSQL sweep.

Each agent reaps the runs of agents silent for the heartbeat timeout, judging their heartbeats
against its own time. Two machines whose clocks are five minutes apart (more than the timeout)
must still see each other's live runs as live: every process stores the server's time, not its
own (``_storage_clock``). Two backends in one process stand for the two machines; one is handed
a clock that is off, as that machine's would be.
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy import update

from sweeper import progress
from sweeper.backends import Assignment
from sweeper.backends.local import LocalBackend
from sweeper.backends.local import _tables as t

from .conftest import loss_sweep

pytestmark = pytest.mark.postgres

SKEW_S = 300.0
TIMEOUT_S = 30.0


def _machines(url: str, skew: float):
    here = LocalBackend(url, heartbeat_timeout=TIMEOUT_S)
    there = LocalBackend(url, heartbeat_timeout=TIMEOUT_S, clock=lambda: time.time() + skew)
    return here, there


@pytest.mark.parametrize("skew", [-SKEW_S, SKEW_S], ids=["behind", "ahead"])
def test_live_runs_stay_live_across_machines_whose_clocks_disagree(postgres_url, skew):
    here, there = _machines(postgres_url, skew)
    sweep = loss_sweep(here)
    # one agent on each machine, each with a run it heartbeats
    runs = {}
    for backend in (here, there):
        agent = backend.register_agent(sweep.id, "host", 1, None)
        got = backend.next_run(sweep.id, agent)
        assert isinstance(got, Assignment)
        backend.heartbeat(agent)
        runs[got.run_id] = ("running", 1, agent)
    # each machine asks for more work, which reaps the runs of silent agents
    for backend in (here, there):
        backend.next_run(sweep.id, backend.register_agent(sweep.id, "host", 2, None))
    for backend in (here, there):
        seen = {r.id: (r.state, r.attempt, r.agent_id) for r in backend.runs(sweep.id)}
        assert {run_id: seen[run_id] for run_id in runs} == runs  # not reaped nor taken over
        assert backend.sweep(sweep.id).runs_active == 4
    # what each stored is the server's time, whatever its own clock says
    for backend in (here, there):
        assert abs(backend.now() - time.time()) < 5.0
    assert abs(there.clock.offset + skew) < 5.0
    for backend in (here, there):
        backend.engine.dispose()


def test_a_dead_agent_is_still_reaped_by_a_machine_whose_clock_is_behind(postgres_url):
    here, there = _machines(postgres_url, -SKEW_S)
    sweep = loss_sweep(here)
    agent = here.register_agent(sweep.id, "host", 1, None)
    dead = here.next_run(sweep.id, agent)
    # the agent stops heartbeating; its last heartbeat is TIMEOUT_S + 5 s old, by the server
    with here._transaction(write=True) as conn:
        old = here.now() - TIMEOUT_S - 5
        conn.execute(update(t.agents).where(t.agents.c.id == agent).values(heartbeat_at=old))
        conn.execute(update(t.runs).where(t.runs.c.id == dead.run_id).values(heartbeat_at=old))
    got = there.next_run(sweep.id, there.register_agent(sweep.id, "host", 2, None))
    assert isinstance(got, Assignment)
    assert (got.run_id, got.attempt) == (dead.run_id, 2)  # reaped, requeued and taken over
    for backend in (here, there):
        backend.engine.dispose()


def test_a_machine_whose_clock_is_ahead_sees_the_times_in_its_own_clock(postgres_url):
    """``sweeper status`` on a machine minutes ahead: a run that printed a moment ago is not
    silent, and its times read as this machine's (the storage's less the offset)."""
    skew = progress.SILENT_AFTER_S + 100.0
    here, there = _machines(postgres_url, skew)
    sweep = loss_sweep(here)
    agent = here.register_agent(sweep.id, "host", 1, None)
    got = here.next_run(sweep.id, agent)
    here.log(got.run_id, [{"loss": 0.5}], log_path="/tmp/run.log")
    here.heartbeat(agent, {got.run_id: time.time()})  # it printed just now
    (run,) = there.runs(sweep.id)
    assert progress.silent_runs([run], progress.SILENT_AFTER_S, now=there.clock.local()) == []
    for when in (run.created_at, run.started_at, run.heartbeat_at, run.output_at,
                 there.sweep(sweep.id).created_at):
        assert abs(when - there.clock.local()) < 5.0
    for backend in (here, there):
        backend.engine.dispose()

"""A commit whose answer is lost: the database made the write, but the connection dropped before
its reply came, so the client sees a passing error and tries the whole transaction again.

Every write of the local backend is retried whole (``_retry``); each one that adds something must
then recognise its own earlier commit instead of adding it twice: no second sweep or agent, no
second run handed out for one ask (it would stay "running" under a live agent that never runs
it, and count toward run_cap), no step of a run's history stored twice. A change of the sweep's
state finds the state it asked for, and must take it for its own, not refuse it.
"""

from __future__ import annotations

import pytest
from sqlalchemy import event, func, select

from sweeper.backends import Assignment, open_backend
from sweeper.backends.local import _tables as t

from .conftest import loss_sweep


class LostCommit:
    """Arms the backend's engine so that its next commit of a write reaches the database and
    then fails as a dropped connection does (the driver's own OperationalError). Reads, whose
    commits are harmless to retry, commit as usual."""

    def __init__(self, backend):
        engine = backend.engine
        self.dialect = engine.dialect
        real_commit, real_rollback = self.dialect.do_commit, self.dialect.do_rollback
        self.armed, self.wrote, self.lost = False, False, 0

        @event.listens_for(engine, "before_cursor_execute")
        def writes(conn, cursor, statement, *args):
            if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
                self.wrote = True

        def do_commit(dbapi_connection):
            real_commit(dbapi_connection)
            wrote, self.wrote = self.wrote, False
            if self.armed and wrote:
                self.armed = False
                self.lost += 1
                raise self.dialect.dbapi.OperationalError(
                    "server closed the connection unexpectedly")

        def do_rollback(dbapi_connection):
            self.wrote = False
            real_rollback(dbapi_connection)

        self.dialect.do_commit, self.dialect.do_rollback = do_commit, do_rollback

    def arm(self) -> LostCommit:
        self.armed, self.wrote = True, False
        return self


def _count(backend, table, *where) -> int:
    with backend._transaction() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


@pytest.fixture
def backend(storage):
    opened = open_backend(storage)
    yield opened
    opened.engine.dispose()


def test_a_sweep_created_once_is_there_once(backend):
    lost = LostCommit(backend).arm()
    sweep = loss_sweep(backend)
    assert lost.lost == 1
    assert _count(backend, t.sweeps) == 1
    assert backend.sweep(sweep.id).name == sweep.name


def test_an_agent_registered_once_is_there_once(backend):
    sweep = loss_sweep(backend)
    lost = LostCommit(backend).arm()
    agent = backend.register_agent(sweep.id, "host", 1, None)
    assert lost.lost == 1
    assert _count(backend, t.agents, t.agents.c.sweep_id == sweep.id) == 1
    assert backend.next_run(sweep.id, agent).number == 1


@pytest.mark.parametrize("method", ["random", "tpe"])
def test_one_ask_hands_out_one_run(backend, method):
    sweep = loss_sweep(backend, method, run_cap=3)
    agent = backend.register_agent(sweep.id, "host", 1, None)
    lost = LostCommit(backend).arm()
    got = backend.next_run(sweep.id, agent)
    assert lost.lost == 1
    assert isinstance(got, Assignment)
    runs = backend.runs(sweep.id)
    assert [(r.id, r.number, r.state) for r in runs] == [(got.run_id, 1, "running")]
    assert backend.sweep(sweep.id).runs_total == 1
    assert runs[0].params == got.params


def test_a_requeued_run_taken_once_is_taken_once(backend):
    sweep = loss_sweep(backend, run_cap=1)
    first = backend.register_agent(sweep.id, "host", 1, None)
    run = backend.next_run(sweep.id, first)
    backend.finish_run(run.run_id, "failed", attempt=1, requeue=True)  # preempted
    second = backend.register_agent(sweep.id, "host", 2, None)
    lost = LostCommit(backend).arm()
    again = backend.next_run(sweep.id, second)
    assert lost.lost == 1
    assert isinstance(again, Assignment)
    assert (again.run_id, again.attempt) == (run.run_id, 2)
    [stored] = backend.runs(sweep.id)
    assert (stored.state, stored.attempt, stored.agent_id) == ("running", 2, second)
    assert [a["attempt"] for a in backend.attempts(run.run_id)] == [1, 2]


def test_logged_steps_are_stored_once(backend):
    sweep = loss_sweep(backend)
    agent = backend.register_agent(sweep.id, "host", 1, None)
    run = backend.next_run(sweep.id, agent)
    backend.log(run.run_id, [{"loss": 0.9}], attempt=1)
    lost = LostCommit(backend).arm()
    backend.log(run.run_id, [{"loss": 0.5}, {"loss": 0.4}], attempt=1)
    assert lost.lost == 1
    backend.log(run.run_id, [{"loss": 0.3}], attempt=1)
    [stored] = backend.runs(sweep.id, history=True)
    assert [row["loss"] for row in stored.history] == [0.9, 0.5, 0.4, 0.3]
    assert stored.steps == 4
    assert [a["rows_reported"] for a in backend.attempts(run.run_id)] == [4]


def test_leftover_steps_handed_in_once_are_stored_once(backend):
    sweep = loss_sweep(backend)
    agent = backend.register_agent(sweep.id, "host", 1, None)
    run = backend.next_run(sweep.id, agent)
    backend.log(run.run_id, [{"loss": 0.9}], attempt=1)
    backend.finish_run(run.run_id, "failed", attempt=1, requeue=True)
    again = backend.next_run(sweep.id, backend.register_agent(sweep.id, "host", 2, None))
    lost = LostCommit(backend).arm()
    added = backend.report_leftovers(run.run_id, 1, [{"loss": 0.8}, {"loss": 0.7}])
    assert lost.lost == 1
    assert added == 2
    backend.log(again.run_id, [{"loss": 0.6}], attempt=2)
    [stored] = backend.runs(sweep.id, history=True)
    assert [row["loss"] for row in stored.history] == [0.9, 0.8, 0.7, 0.6]
    assert [a["rows_reported"] for a in backend.attempts(run.run_id)] == [3, 1]


@pytest.mark.parametrize("requeue", [False, True])
def test_a_run_ended_once_ends_once(backend, requeue):
    sweep = loss_sweep(backend)
    agent = backend.register_agent(sweep.id, "host", 1, None)
    run = backend.next_run(sweep.id, agent)
    backend.log(run.run_id, [{"loss": 0.5}], attempt=1)
    lost = LostCommit(backend).arm()
    backend.finish_run(run.run_id, "failed" if requeue else "finished", {"loss": 0.4},
                       exit_code=1 if requeue else 0, attempt=1, requeue=requeue)
    assert lost.lost == 1
    [stored] = backend.runs(sweep.id)
    assert stored.state == ("pending" if requeue else "finished")
    assert (stored.summary["loss"], stored.steps, stored.attempt) == (0.4, 1, 1)
    assert [(a["attempt"], a["state"]) for a in backend.attempts(run.run_id)] == [
        (1, "failed" if requeue else "finished")]
    if requeue:  # the next agent resumes it as its second attempt, not a third
        again = backend.next_run(sweep.id, backend.register_agent(sweep.id, "host", 2, None))
        assert (again.run_id, again.attempt) == (run.run_id, 2)


@pytest.mark.parametrize("action, state", [("pause", "paused"), ("resume", "running"),
                                           ("stop", "stopped"), ("cancel", "cancelled")])
def test_a_state_change_made_once_is_reported_made(backend, action, state):
    """The retry finds the sweep already in the state it asked for: its own commit, not a
    refusal ("sweep is paused; cannot pause it") of a change that was made."""
    sweep = loss_sweep(backend)
    if action == "resume":
        backend.set_state(sweep.id, "pause")
    lost = LostCommit(backend).arm()
    assert backend.set_state(sweep.id, action).state == state
    assert lost.lost == 1
    assert backend.sweep(sweep.id).state == state

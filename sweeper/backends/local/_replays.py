"""Writes retried after a lost commit: each recognises what an earlier try of the same call wrote.

A commit can reach the database and still fail for the client: the connection drops before the
reply comes. The retry (``_retry``) then runs the whole transaction again, which must not add
what the first try added. Sweeps and agents get their ids before the first try and look for
them; the rest is here: a hand-out remembers the run it took, and a report of rows remembers
how many rows of the attempt the records held when it began.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select

from .._base import Assignment
from . import _tables as t


@dataclass
class Handed:
    """The run one ask for work took in its last try (new, or requeued and taken over), until
    that try's commit is known: a retry that finds it taken by this agent in that attempt
    returns it instead of taking another."""
    run_id: str | None = None
    attempt: int = 0

    def note(self, run_id: str, attempt: int) -> None:
        self.run_id, self.attempt = run_id, attempt

    def recall(self, conn: Connection, agent_id: str) -> Assignment | None:
        if self.run_id is None:
            return None
        run = conn.execute(select(t.runs.c.name, t.runs.c.params, t.runs.c.number,
                                  t.runs.c.attempt, t.runs.c.agent_id, t.runs.c.state)
                           .where(t.runs.c.id == self.run_id)).first()
        if run is None or (run.attempt, run.agent_id, run.state) != (self.attempt, agent_id,
                                                                     "running"):
            return None  # that try rolled back (or the run has moved on): take one now
        return Assignment(run_id=self.run_id, name=run.name, params=run.params,
                          number=run.number, attempt=run.attempt)


def rows_to_store(seen: dict | None, reported: int | None, rows: list) -> list:
    """``rows``, or none when an earlier try of this same report stored them: the attempt's
    count of reported rows (``reported``, read under the lock; None where the run has no record
    of its attempts) has moved on by exactly these rows since that try read it. Only the
    attempt's own agent reports its rows. ``seen``: the caller's memory of the report's tries
    (None: no earlier try to recognise)."""
    if seen is None or reported is None:
        return rows
    if "reported" in seen and reported == seen["reported"] + len(rows):
        return []
    seen["reported"] = reported
    return rows

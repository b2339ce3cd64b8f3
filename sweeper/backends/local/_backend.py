"""The embedded default backend: no server, no account; records in SQLite or PostgreSQL.

Every change is one short transaction, retried from its start when the storage fails in a way
that passes (``_retry``). Handing out the next run holds the per-sweep lock from reading the runs
to inserting the new one, so parallel agents never get the same grid point (``_handout``); what
runs report is recorded by ``_reports``; reading (``_reads``) never writes.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import string
import sys
from typing import Any, TypeVar

from sqlalchemy import Connection, insert, select, update

from ... import controller, objectives, registry, spec
from ...errors import BadInput, UnknownSweep
from .._base import TRANSITIONS, AgentProcess, Assignment, NoRun, RunInfo, SweepInfo, one_per_slot
from . import _handout, _prepared, _reads, _replays, _reports
from . import _tables as t
from ._transactions import Transactions

DEFAULT_MAX_RESUMES = 2
_ID_ALPHABET = string.ascii_lowercase + string.digits
# A sweep's name names its runs (NAME-1, ...) and their folders: no path separators.
_NAME = re.compile(r"[\w][\w .:+@()\[\]-]{0,127}")

T = TypeVar("T")


def new_id() -> str:
    """An 8-character id, as W&B's sweep and run ids look."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(8))


def check_sweep_name(name: str) -> str:
    """The name, or BadInput: letters, digits, spaces and ``-_.:+@()[]``, at most 128."""
    if not isinstance(name, str) or not _NAME.fullmatch(name) or name.strip(". ") == "":
        raise BadInput(f"sweep name {name!r}: use letters, digits, spaces and -_.:+@()[] (at "
                       "most 128, starting with a letter or digit); it names the runs and "
                       "their folders")
    return name


class LocalBackend(Transactions):
    """Sweeps, runs and agents in a database reached through SQLAlchemy."""

    name = "local"
    poll_interval_s = 1.0

    # --- sweeps ------------------------------------------------------------------------------

    def check_config(self, config: dict) -> dict:
        return spec.validate(config)

    def create_sweep(self, config: dict, name: str | None = None,
                     max_resumes: int | None = None) -> SweepInfo:
        """Create a sweep; with the name of an existing sweep of the same config, return that one.

        A sweep of that name with another config is refused (naming the first difference).
        """
        config = self.check_config(config)
        name = name or config.get("name")
        if name:
            check_sweep_name(name)
        resumes = DEFAULT_MAX_RESUMES if max_resumes is None else max_resumes
        sweep_id = new_id()  # before the first try: a retry after a lost commit finds it

        def body(conn: Connection) -> SweepInfo:
            now = self.now()
            made = conn.execute(select(t.sweeps).where(t.sweeps.c.id == sweep_id)
                                ).mappings().first()
            if made is not None:
                return self._sweep_info(conn, made)
            if name:
                existing = conn.execute(select(t.sweeps).where(t.sweeps.c.name == name)
                                        ).mappings().first()
                if existing is not None:
                    difference = _first_difference(existing["config"], config)
                    if difference is not None:
                        raise BadInput(f"sweep {name!r} ({existing['id']}) exists with another "
                                       f"config (they differ at {difference}); give another "
                                       "--name or use the same file")
                    if max_resumes is not None and existing["max_resumes"] != max_resumes:
                        conn.execute(update(t.sweeps).where(t.sweeps.c.id == existing["id"])
                                     .values(max_resumes=max_resumes))
                    return self._sweep_info(conn, self._sweep_row(conn, existing["id"]))
            conn.execute(insert(t.sweeps).values(
                id=sweep_id, name=name or f"sweep-{sweep_id}", config=config, state="running",
                created_at=now, updated_at=now, runs_total=0, max_resumes=resumes))
            return self._sweep_info(conn, self._sweep_row(conn, sweep_id))

        return self._write(body)

    def sweep(self, sweep_id: str) -> SweepInfo:
        return self._read(lambda conn: self._sweep_info(conn, self._sweep_row(conn, sweep_id)))

    def _sweep_info(self, conn: Connection, row) -> SweepInfo:
        return _reads.sweep_info(conn, row, self.location, self._deadline(), self.clock.offset)

    def max_resumes(self, sweep_id: str) -> int:
        return self._read(lambda conn: self._sweep_row(conn, sweep_id)["max_resumes"])

    def find_sweep(self, id_or_name: str) -> SweepInfo:
        """A sweep by id, or else by name."""
        def body(conn: Connection) -> SweepInfo:
            row = conn.execute(select(t.sweeps).where(
                (t.sweeps.c.id == id_or_name) | (t.sweeps.c.name == id_or_name))
                .order_by((t.sweeps.c.id == id_or_name).desc())).mappings().first()
            if row is None:
                raise UnknownSweep(f"no sweep {id_or_name!r} in {self.location}")
            return self._sweep_info(conn, row)

        return self._read(body)

    def sweeps(self) -> list[SweepInfo]:
        def body(conn: Connection) -> list[SweepInfo]:
            rows = conn.execute(select(t.sweeps).order_by(t.sweeps.c.created_at)).mappings()
            return [self._sweep_info(conn, row)
                    for row in rows.all()]

        return self._read(body)

    def set_state(self, sweep_id: str, action: str) -> SweepInfo:
        """pause, resume, stop or cancel, with W&B's meaning."""
        if action not in TRANSITIONS:
            raise BadInput(f"unknown action {action!r}; one of {', '.join(TRANSITIONS)}")
        target, sources = TRANSITIONS[action]
        first: dict = {}  # the state the first try found

        def body(conn: Connection) -> SweepInfo:
            row = self._lock_sweep(conn, sweep_id)
            now = self.now()
            found = first.setdefault("state", row["state"])
            if row["state"] == target and found in sources:
                return self._sweep_info(conn, row)  # a retry: the first try's commit got in
            if row["state"] not in sources:
                raise BadInput(f"sweep {sweep_id} is {row['state']}; cannot {action} it")
            conn.execute(update(t.sweeps).where(t.sweeps.c.id == sweep_id).values(
                state=target, state_reason=f"{action} requested", updated_at=now))
            if action in ("cancel", "stop"):  # requeued runs do not start again
                conn.execute(update(t.runs).where(
                    t.runs.c.sweep_id == sweep_id, t.runs.c.state == "pending").values(
                    state="killed" if action == "cancel" else "crashed", finished_at=now))
            if action == "cancel":
                conn.execute(update(t.runs).where(
                    t.runs.c.sweep_id == sweep_id, t.runs.c.state.in_(controller.ACTIVE)
                ).values(stop_requested=True, stop_reason="sweep cancelled"))
            return self._sweep_info(conn, self._sweep_row(conn, sweep_id))

        return self._write(body)

    # --- agents ------------------------------------------------------------------------------

    def register_agent(self, sweep_id: str, host: str, pid: int, devices: str | None) -> str:
        agent_id = new_id()

        def body(conn: Connection) -> str:
            self._sweep_row(conn, sweep_id)
            if conn.execute(select(t.agents.c.id).where(t.agents.c.id == agent_id)).first():
                return agent_id  # an earlier try's commit was lost on its way back
            now = self.now()
            conn.execute(insert(t.agents).values(
                id=agent_id, sweep_id=sweep_id, host=host, pid=pid, devices=devices,
                state="running", started_at=now, heartbeat_at=now))
            return agent_id

        return self._write(body)

    def heartbeat(self, agent_id: str, activity: dict[str, float] | None = None) -> None:
        def body(conn: Connection) -> None:
            now = self.now()
            conn.execute(update(t.agents).where(t.agents.c.id == agent_id).values(
                heartbeat_at=now, state="running"))
            conn.execute(update(t.runs).where(
                t.runs.c.agent_id == agent_id, t.runs.c.state.in_(controller.ACTIVE)
            ).values(heartbeat_at=now))
            for run_id, when in (activity or {}).items():
                _handout.reclaim(conn, run_id, agent_id)
                conn.execute(update(t.runs).where(t.runs.c.id == run_id,
                                                  t.runs.c.agent_id == agent_id)
                             .values(output_at=when + self.clock.offset))  # the agent's clock

        self._write(body)

    def finish_agent(self, agent_id: str) -> None:
        self._write(lambda conn: conn.execute(update(t.agents).where(t.agents.c.id == agent_id)
                                              .values(state="finished",
                                                      heartbeat_at=self.now())))

    # --- runs --------------------------------------------------------------------------------

    def next_run(self, sweep_id: str, agent_id: str, device: str | None = None
                 ) -> Assignment | NoRun:
        """The next run for this agent: a requeued run first, else the controller's next draw.

        A method that fits a model (bayes, tpe, gp) fits on a snapshot of the runs read without
        the sweep's lock; the lock is held only to record the hand-out, so agents never wait
        for each other's fits. gp's agents asking at once share one fit (``_prepared``)."""
        handed = _replays.Handed()  # a retry after a lost commit returns the run it took
        while True:
            with contextlib.ExitStack() as turn:
                fitted = self._fit_unlocked(sweep_id, agent_id, turn)

                def body(conn: Connection, fitted=fitted) -> Assignment | NoRun:
                    sweep = self._lock_sweep(conn, sweep_id)
                    now = self.now()  # after the lock: the wait for it is not the run's
                    _handout.alive(conn, agent_id, now)  # an agent asking for work is alive
                    _handout.reap(conn, sweep_id, sweep["max_resumes"], now,
                                  self.heartbeat_timeout,
                                  since=self.retrying.silence_reference(self.heartbeat_timeout))
                    return _handout.next_run(conn, sweep, agent_id, device, now,
                                             self._controller_runs, new_id, fitted, handed)

                try:
                    return self._write(body)
                except _handout.Refit:
                    continue  # the sweep changed since the snapshot: fit on the new one

    def _fit_unlocked(self, sweep_id: str, agent_id: str, turn: contextlib.ExitStack
                      ) -> _prepared.Fitted | None:
        """The fitted method's suggestion from the runs as they are now (read, not locked), or
        None when the next hand-out draws no new run of a fitted method.

        gp's fit makes a point for each agent waiting for work. ``turn`` holds the machine's
        lock on fits of these runs until the hand-out has recorded the points: an agent that
        asks meanwhile, with no new result since, then takes one instead of fitting again."""
        def snapshot(conn: Connection):
            sweep = self._sweep_row(conn, sweep_id)
            config = sweep["config"]
            if not _handout.wants_fit(conn, sweep):
                return config, None, None
            if controller.makes_batches(config, sweep["runs_total"]):
                return config, None, _prepared.basis(conn, sweep_id)
            several = objectives.of(config) if objectives.is_multi(config) else None
            return config, self._controller_runs(conn, sweep_id, several=several), None

        config, runs, basis = self._read(snapshot)  # basis: the runs a batch would be made on
        # The engines (hyperband's too) load here, not under the lock of a later write.
        controller.load_engines(config)
        # Each agent its own stream: two agents fitting the same snapshot differ. Its memory
        # carries gp's kernel to its next fit.
        seed_key, memory = f"{sweep_id}/{agent_id}", self._fit_memory.setdefault(
            (sweep_id, agent_id), {})
        if basis is not None:
            turn.enter_context(controller.same_fit(f"{sweep_id}/{basis}"))

            def after_the_wait(conn: Connection):
                basis = _prepared.basis(conn, sweep_id)
                if _prepared.ready(conn, sweep_id, basis):
                    return basis, None, 0
                return (basis, self._controller_runs(conn, sweep_id),
                        _prepared.askers(conn, sweep_id, self.now() - self.heartbeat_timeout))

            basis, runs, askers = self._read(after_the_wait)
            if runs is None:  # a fit of these runs, made while this agent waited, left a point
                turn.close()
                return _prepared.Fitted(None, basis)
            first, *extras = controller.suggest_batch(config, runs, askers, seed_key, memory)
            return _prepared.Fitted(first, basis, extras)
        if runs is None:  # no fit: the next hand-out draws under the lock
            return None
        return _prepared.Fitted(controller.suggest(config, runs, seed_key, memory))

    def log(self, run_id: str, rows: list[dict[str, Any]], log_path: str | None = None,
            attempt: int | None = None) -> str | None:
        """Record logged steps; return why the run must stop now (hyperband, cancel), or None.

        ``log_path``, given when the run starts, is where its output goes.
        """
        seen: dict = {}  # how many rows the records held when the first try began

        def body(conn: Connection) -> str | None:
            run = _reports.run_row(conn, run_id, self.location)
            sweep = self._lock_sweep(conn, run["sweep_id"])
            run = _reports.run_row(conn, run_id, self.location)  # as it is under the lock
            return _reports.log(conn, sweep, run, rows, log_path, attempt, self.now(),
                                self._controller_runs, seen)

        return self._write(body)

    def finish_run(self, run_id: str, state: str, summary: dict | None = None,
                   exit_code: int | None = None, log_path: str | None = None,
                   stop_reason: str | None = None, attempt: int | None = None,
                   requeue: bool = False) -> None:
        """Record how a run's attempt ended (see ``_reports.finish``)."""
        def body(conn: Connection) -> None:
            run = _reports.run_row(conn, run_id, self.location)
            sweep = self._lock_sweep(conn, run["sweep_id"])
            run = _reports.run_row(conn, run_id, self.location)
            _reports.finish(conn, sweep, run, state, summary, exit_code, log_path, stop_reason,
                            attempt, requeue, self.now())

        self._write(body)

    def report_leftovers(self, run_id: str, attempt: int, rows: list[dict[str, Any]]) -> int:
        """Rows that ``attempt`` wrote but never reported (its agent died first); the agent of
        the attempt that resumes the run hands them in before starting it."""
        seen: dict = {}

        def body(conn: Connection) -> int:
            run = _reports.run_row(conn, run_id, self.location)
            sweep = self._lock_sweep(conn, run["sweep_id"])
            run = _reports.run_row(conn, run_id, self.location)
            return _reports.leftovers(conn, sweep, run, attempt, rows, self.now(), seen)

        return self._write(body)

    def stop_reason(self, run_id: str, attempt: int | None = None) -> str | None:
        def body(conn: Connection) -> str | None:
            row = conn.execute(select(t.runs.c.stop_requested, t.runs.c.stop_reason,
                                      t.runs.c.attempt, t.sweeps.c.state)
                               .join(t.sweeps, t.sweeps.c.id == t.runs.c.sweep_id)
                               .where(t.runs.c.id == run_id)).first()
            if row is None:
                raise BadInput(f"no run {run_id!r} in {self.location}")
            if attempt is not None and row.attempt != attempt:
                return _reports.SUPERSEDED
            if row.stop_requested:
                return row.stop_reason
            return "sweep cancelled" if row.state == "cancelled" else None

        return self._read(body)

    def runs(self, sweep_id: str, history: bool = False, summaries: bool = True
             ) -> list[RunInfo]:
        def body(conn: Connection) -> list[RunInfo]:
            self._sweep_row(conn, sweep_id)
            return _reads.run_infos(conn, sweep_id, self._deadline(), self.clock.offset,
                                    history=history, summaries=summaries)

        return self._read(body)

    def metric_histories(self, sweep_id: str, run_ids: list[str] | None = None
                         ) -> dict[str, list[float]]:
        """Each run's values of the sweep metric, step by step (what hyperband reads; a
        dashboard's metric-by-step chart), without reading the full history."""
        def body(conn: Connection) -> dict[str, list[float]]:
            query = select(t.runs.c.id, t.runs.c.metric_history).where(
                t.runs.c.sweep_id == sweep_id)
            if run_ids is not None:
                query = query.where(t.runs.c.id.in_(run_ids))
            return {run_id: list(values or []) for run_id, values in conn.execute(query)}

        return self._read(body)

    def sync_record(self, sweep_id: str, target: str) -> dict | None:
        """What `sweeper sync` put on W&B ``target`` (ENTITY/PROJECT) for this sweep, or None."""
        def body(conn: Connection) -> dict | None:
            return conn.execute(select(t.sync.c.record).where(
                t.sync.c.sweep_id == sweep_id, t.sync.c.target == target)).scalar()

        return self._read(body)

    def save_sync_record(self, sweep_id: str, target: str, record: dict) -> None:
        def body(conn: Connection) -> None:
            found = conn.execute(select(t.sync.c.sweep_id).where(
                t.sync.c.sweep_id == sweep_id, t.sync.c.target == target)).first()
            values = {"record": record, "updated_at": self.now()}
            if found:
                conn.execute(update(t.sync).where(t.sync.c.sweep_id == sweep_id,
                                                  t.sync.c.target == target).values(**values))
            else:
                conn.execute(insert(t.sync).values(sweep_id=sweep_id, target=target, **values))

        self._write(body)

    def attempts(self, run_id: str) -> list[dict]:
        """Each attempt of a run: number, agent, host, device, start, end, state, reason."""
        def body(conn: Connection) -> list[dict]:
            rows = conn.execute(select(t.attempts).where(t.attempts.c.run_id == run_id)
                                .order_by(t.attempts.c.attempt)).mappings().all()
            return [dict(row) for row in rows]

        return self._read(body)

    # --- agents and promotion -----------------------------------------------------------------

    def agent_processes(self, sweep_id: str, slots: list[str | None], count: int | None,
                        max_failures: int, grace_s: float, run_timeout_s: float | None = None
                        ) -> list[AgentProcess]:
        """``python -m sweeper.agent`` once per slot, on this storage (its URL, which may hold a
        password, goes through the environment, never the command line)."""
        argv = [sys.executable, "-m", "sweeper.agent", sweep_id,
                "--max-failures", str(max_failures), "--grace", str(grace_s)]
        if count is not None:
            argv += ["--count", str(count)]
        if run_timeout_s is not None:
            argv += ["--run-timeout", str(run_timeout_s)]
        processes = one_per_slot(argv, slots, {"SWEEPER_STORAGE": self.url})
        for process in processes:
            process.shown["SWEEPER_STORAGE"] = self.location
        return processes

    def run_function(self, sweep_id: str, function, count: int | None = None) -> int:
        """Sweeper's agent loop, in this process, with ``function`` as the program."""
        from ...agent._function import run_function

        return run_function(self, sweep_id, function, count=count)

    def promote(self, run: dict, name: str, aliases: tuple[str, ...], metadata: dict,
                registry_dir: str | None = None, best: bool = True) -> registry.Version:
        """A new version in the local registry (``.sweeper/registry``)."""
        checkpoint = run.get("checkpoint")
        if not isinstance(checkpoint, str) or not checkpoint:
            raise BadInput(f"run {run['name']!r} recorded no checkpoint (its summary has no "
                           "'checkpoint'); nothing to promote")
        return registry.promote(checkpoint, name, aliases, metadata, registry_dir, best=best)

    def registered(self, name: str, alias: str, registry_dir: str | None = None) -> dict | None:
        """The metadata of the registered version ``name:alias`` (local registry), or None."""
        return registry.aliased(name, alias, registry_dir)


def _first_difference(a: Any, b: Any, path: str = "") -> str | None:
    """The key path of the first difference between two configs, or None when equal."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            sub = f"{path}.{key}" if path else str(key)
            if key not in a or key not in b:
                return sub
            found = _first_difference(a[key], b[key], sub)
            if found is not None:
                return found
        return None
    return None if a == b else (path or "the top level")

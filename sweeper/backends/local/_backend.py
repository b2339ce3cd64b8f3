"""The embedded default backend: no server, no account; records in SQLite or PostgreSQL.

Every change is one short transaction. Handing out the next run holds the per-sweep lock from
reading the runs to inserting the new one, so parallel agents never get the same grid point.
"""

from __future__ import annotations

import math
import os
import secrets
import string
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from ... import controller, registry, spec
from ...errors import BadInput, UnknownSweep
from .._base import (
    TRANSITIONS,
    AgentProcess,
    Assignment,
    NoRun,
    RunInfo,
    SweepInfo,
    one_per_slot,
)
from . import _tables as t
from ._storage import display_url, open_engine, resolve_url

DEFAULT_HEARTBEAT_TIMEOUT_S = 60.0
_ID_ALPHABET = string.ascii_lowercase + string.digits


def new_id() -> str:
    """An 8-character id, as W&B's sweep and run ids look."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(8))


class LocalBackend:
    """Sweeps, runs and agents in a database reached through SQLAlchemy."""

    name = "local"
    poll_interval_s = 1.0

    def __init__(self, storage: str | None = None, *, create: bool = True,
                 heartbeat_timeout: float | None = None):
        self.url = resolve_url(storage)
        self.location = display_url(self.url)
        self.engine = open_engine(storage, create=create)
        self.heartbeat_timeout = heartbeat_timeout or float(
            os.environ.get("SWEEPER_HEARTBEAT_TIMEOUT", DEFAULT_HEARTBEAT_TIMEOUT_S))
        self._terminal_runs: dict[tuple[str, bool], dict[str, controller.ControllerRun]] = {}

    # --- transactions ------------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self.engine.connect().execution_options(sqlite_immediate=True) as conn, conn.begin():
            yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def _lock_sweep(self, conn: Connection, sweep_id: str):
        row = conn.execute(select(t.sweeps).where(t.sweeps.c.id == sweep_id)
                           .with_for_update()).mappings().first()
        if row is None:
            raise UnknownSweep(f"no sweep {sweep_id!r} in {self.location}")
        return row

    # --- sweeps ------------------------------------------------------------------------------

    def check_config(self, config: dict) -> dict:
        return spec.validate(config)

    def create_sweep(self, config: dict, name: str | None = None) -> SweepInfo:
        """Create a sweep; with the name of an existing sweep of the same config, return that one.

        A sweep of that name with another config is refused (naming the first difference).
        """
        config = self.check_config(config)
        name = name or config.get("name")
        now = time.time()
        with self._write() as conn:
            if name:
                existing = conn.execute(select(t.sweeps).where(t.sweeps.c.name == name)
                                        ).mappings().first()
                if existing is not None:
                    difference = _first_difference(existing["config"], config)
                    if difference is not None:
                        raise BadInput(f"sweep {name!r} ({existing['id']}) exists with another "
                                       f"config (they differ at {difference}); give another "
                                       "--name or use the same file")
                    return self._info(conn, existing)
            sweep_id = new_id()
            name = name or f"sweep-{sweep_id}"
            conn.execute(insert(t.sweeps).values(
                id=sweep_id, name=name, config=config, state="running", created_at=now,
                updated_at=now, runs_total=0))
            row = conn.execute(select(t.sweeps).where(t.sweeps.c.id == sweep_id)).mappings().one()
            return self._info(conn, row)

    def sweep(self, sweep_id: str) -> SweepInfo:
        with self._write() as conn:
            row = self._lock_sweep(conn, sweep_id)
            self._reap(conn, sweep_id, time.time())
            return self._info(conn, row)

    def find_sweep(self, id_or_name: str) -> SweepInfo:
        """A sweep by id, or else by name."""
        with self._read() as conn:
            row = conn.execute(select(t.sweeps.c.id).where(
                (t.sweeps.c.id == id_or_name) | (t.sweeps.c.name == id_or_name))).first()
        if row is None:
            raise UnknownSweep(f"no sweep {id_or_name!r} in {self.location}")
        return self.sweep(row[0])

    def sweeps(self) -> list[SweepInfo]:
        with self._read() as conn:
            rows = conn.execute(select(t.sweeps).order_by(t.sweeps.c.created_at)).mappings().all()
            return [self._info(conn, row) for row in rows]

    def _info(self, conn: Connection, row) -> SweepInfo:
        active = conn.execute(select(func.count()).select_from(t.runs).where(
            t.runs.c.sweep_id == row["id"], t.runs.c.state.in_(controller.ACTIVE))).scalar_one()
        return SweepInfo(id=row["id"], name=row["name"], config=row["config"], state=row["state"],
                         state_reason=row["state_reason"], created_at=row["created_at"],
                         runs_total=row["runs_total"], runs_active=active,
                         best_value=row["best_value"], best_run=row["best_run"],
                         location=self.location)

    def set_state(self, sweep_id: str, action: str) -> SweepInfo:
        """pause, resume, stop or cancel, with W&B's meaning."""
        if action not in TRANSITIONS:
            raise BadInput(f"unknown action {action!r}; one of {', '.join(TRANSITIONS)}")
        target, sources = TRANSITIONS[action]
        now = time.time()
        with self._write() as conn:
            row = self._lock_sweep(conn, sweep_id)
            if row["state"] not in sources:
                raise BadInput(f"sweep {sweep_id} is {row['state']}; cannot {action} it")
            conn.execute(update(t.sweeps).where(t.sweeps.c.id == sweep_id).values(
                state=target, state_reason=f"{action} requested", updated_at=now))
            if action == "cancel":
                conn.execute(update(t.runs).where(
                    t.runs.c.sweep_id == sweep_id, t.runs.c.state.in_(controller.ACTIVE)
                ).values(stop_requested=True, stop_reason="sweep cancelled"))
            return self._info(conn, self._lock_sweep(conn, sweep_id))

    # --- agents ------------------------------------------------------------------------------

    def register_agent(self, sweep_id: str, host: str, pid: int, devices: str | None) -> str:
        agent_id = new_id()
        now = time.time()
        with self._write() as conn:
            self._lock_sweep(conn, sweep_id)
            conn.execute(insert(t.agents).values(id=agent_id, sweep_id=sweep_id, host=host,
                                                 pid=pid, devices=devices, state="running",
                                                 started_at=now, heartbeat_at=now))
        return agent_id

    def heartbeat(self, agent_id: str) -> None:
        now = time.time()
        with self._write() as conn:
            conn.execute(update(t.agents).where(t.agents.c.id == agent_id).values(heartbeat_at=now))
            conn.execute(update(t.runs).where(
                t.runs.c.agent_id == agent_id, t.runs.c.state.in_(controller.ACTIVE)
            ).values(heartbeat_at=now))

    def finish_agent(self, agent_id: str) -> None:
        with self._write() as conn:
            conn.execute(update(t.agents).where(t.agents.c.id == agent_id).values(
                state="finished", heartbeat_at=time.time()))

    def _reap(self, conn: Connection, sweep_id: str, now: float) -> None:
        """Mark crashed the runs whose agent stopped heartbeating."""
        deadline = now - self.heartbeat_timeout
        conn.execute(update(t.runs).where(
            t.runs.c.sweep_id == sweep_id, t.runs.c.state.in_(controller.ACTIVE),
            t.runs.c.heartbeat_at < deadline,
        ).values(state="crashed", finished_at=now,
                 stop_reason="agent stopped heartbeating"))
        conn.execute(update(t.agents).where(
            t.agents.c.sweep_id == sweep_id, t.agents.c.state == "running",
            t.agents.c.heartbeat_at < deadline).values(state="lost"))

    # --- runs --------------------------------------------------------------------------------

    def next_run(self, sweep_id: str, agent_id: str, device: str | None = None
                 ) -> Assignment | NoRun:
        """The next run's parameters from the controller, recorded as running for this agent."""
        now = time.time()
        with self._write() as conn:
            sweep = self._lock_sweep(conn, sweep_id)
            self._reap(conn, sweep_id, now)
            if sweep["state"] == "paused":
                return NoRun("sweep is paused", wait=True)
            if sweep["state"] != "running":
                return NoRun(f"sweep is {sweep['state']}"
                             + (f" ({sweep['state_reason']})" if sweep["state_reason"] else ""))
            config = sweep["config"]
            cap = config.get("run_cap")
            if cap is not None and sweep["runs_total"] >= cap:
                self._finish_sweep(conn, sweep_id, f"run_cap {cap} reached", now)
                return NoRun(f"sweep is finished (run_cap {cap} reached)")
            method = config["method"]
            runs = [] if method == "random" else self._controller_runs(
                conn, sweep_id, with_metric=method != "grid")
            params = controller.suggest(config, runs, seed_key=sweep_id)
            if params is None:
                self._finish_sweep(conn, sweep_id, "grid exhausted", now)
                return NoRun("sweep is finished (grid exhausted)")
            number = sweep["runs_total"] + 1
            run_id = new_id()
            name = f"{sweep['name']}-{number}"
            conn.execute(insert(t.runs).values(
                id=run_id, sweep_id=sweep_id, number=number, name=name, params=params,
                state="running", agent_id=agent_id, device=device, created_at=now,
                started_at=now, heartbeat_at=now, metric_history=[], steps=0,
                stop_requested=False, summary={}))
            conn.execute(update(t.sweeps).where(t.sweeps.c.id == sweep_id).values(
                runs_total=number, updated_at=now))
            return Assignment(run_id=run_id, name=name, params=params, number=number)

    def _controller_runs(self, conn: Connection, sweep_id: str, with_metric: bool = True
                         ) -> list[controller.ControllerRun]:
        """The runs as the controller needs them; a grid needs only their parameters.

        Runs in a terminal state never change, so they are read once per backend and kept;
        each call reads every run's state and only the rows that are new or have changed.
        """
        states = conn.execute(select(t.runs.c.id, t.runs.c.state)
                              .where(t.runs.c.sweep_id == sweep_id)
                              .order_by(t.runs.c.number)).all()
        cache = self._terminal_runs.setdefault((sweep_id, with_metric), {})
        fresh = [run_id for run_id, state in states
                 if run_id not in cache or cache[run_id].state != state]
        loaded: dict[str, controller.ControllerRun] = {}
        columns = [t.runs.c.id, t.runs.c.name, t.runs.c.params, t.runs.c.state]
        if with_metric:
            # The best value covers a metric reported only in the summary, too.
            columns += [t.runs.c.metric_history, t.runs.c.metric_best]
        for start in range(0, len(fresh), 500):
            chunk = fresh[start:start + 500]
            for r in conn.execute(select(*columns).where(t.runs.c.id.in_(chunk))):
                run = controller.ControllerRun(
                    name=r[1], params=r[2], state=r[3],
                    metric_history=(r[4] or []) if with_metric else [],
                    metric_summary=r[5] if with_metric else None)
                loaded[r[0]] = run
                if run.state in controller.TERMINAL:
                    cache[r[0]] = run
        return [loaded.get(run_id) or cache[run_id] for run_id, _ in states]

    def _finish_sweep(self, conn: Connection, sweep_id: str, reason: str, now: float) -> None:
        conn.execute(update(t.sweeps).where(t.sweeps.c.id == sweep_id,
                                            t.sweeps.c.state == "running").values(
            state="finished", state_reason=reason, updated_at=now))

    def log(self, run_id: str, rows: list[dict[str, Any]], log_path: str | None = None
            ) -> str | None:
        """Record logged steps; return why the run must stop now (hyperband, cancel), or None.

        ``log_path``, given when the run starts, is where its output goes.
        """
        now = time.time()
        with self._write() as conn:
            run = self._run_row(conn, run_id)
            sweep = self._lock_sweep(conn, run["sweep_id"])
            if run["state"] not in controller.ACTIVE:
                return run["stop_reason"] or f"run is {run['state']}"
            config = sweep["config"]
            metric = config.get("metric") or {}
            metric_name = metric.get("name")
            history = list(run["metric_history"] or [])
            steps = run["steps"]
            if rows:
                conn.execute(insert(t.history), [
                    {"run_id": run_id, "step": steps + i, "data": _jsonable(row)}
                    for i, row in enumerate(rows)])
            new_values = [row[metric_name] for row in rows
                          if metric_name in row and _is_number(row[metric_name])]
            history += new_values
            values: dict[str, Any] = {"steps": steps + len(rows), "heartbeat_at": now}
            if log_path is not None:
                values["log_path"] = log_path
            if new_values:
                best = controller.best_value(history, metric.get("goal", "minimize"))
                values.update(metric_history=history, metric_last=history[-1], metric_best=best)
                self._update_best(conn, sweep, run["name"], best, now)
            conn.execute(update(t.runs).where(t.runs.c.id == run_id).values(**values))
            if sweep["state"] == "cancelled":
                return "sweep cancelled"
            if run["stop_requested"]:
                return run["stop_reason"]
            if new_values and config.get("early_terminate"):
                decided = controller.to_stop(config, self._controller_runs(conn, run["sweep_id"]))
                if run["name"] in decided:
                    reason = "hyperband: below the top of its bracket"
                    conn.execute(update(t.runs).where(t.runs.c.id == run_id).values(
                        stop_requested=True, stop_reason=reason))
                    return reason
            return None

    def _update_best(self, conn: Connection, sweep, run_name: str, value: float, now: float) -> None:
        metric = sweep["config"].get("metric") or {}
        goal = metric.get("goal", "minimize")
        current = sweep["best_value"]
        better = current is None or (value > current if goal == "maximize" else value < current)
        if better:
            conn.execute(update(t.sweeps).where(t.sweeps.c.id == sweep["id"]).values(
                best_value=value, best_run=run_name, updated_at=now))
        target = metric.get("target")
        if target is not None and (value >= target if goal == "maximize" else value <= target):
            self._finish_sweep(conn, sweep["id"], f"target {target:g} reached by {run_name}", now)

    def stop_reason(self, run_id: str) -> str | None:
        with self._read() as conn:
            row = conn.execute(select(t.runs.c.stop_requested, t.runs.c.stop_reason,
                                      t.sweeps.c.state)
                               .join(t.sweeps, t.sweeps.c.id == t.runs.c.sweep_id)
                               .where(t.runs.c.id == run_id)).first()
        if row is None:
            raise BadInput(f"no run {run_id!r} in {self.location}")
        if row.stop_requested:
            return row.stop_reason
        return "sweep cancelled" if row.state == "cancelled" else None

    def finish_run(self, run_id: str, state: str, summary: dict | None = None,
                   exit_code: int | None = None, log_path: str | None = None,
                   stop_reason: str | None = None) -> None:
        """Record how a run ended. A run asked to stop that then ends is ``stopped``/``killed``."""
        now = time.time()
        with self._write() as conn:
            run = self._run_row(conn, run_id)
            sweep = self._lock_sweep(conn, run["sweep_id"])
            if run["stop_requested"] and state in ("finished", "failed", "killed"):
                state = "killed" if run["stop_reason"] == "sweep cancelled" else "stopped"
            merged = {**(run["summary"] or {}), **_jsonable(summary or {})}
            values: dict[str, Any] = {"state": state, "finished_at": now, "summary": merged,
                                      "exit_code": exit_code, "heartbeat_at": now}
            if log_path is not None:
                values["log_path"] = log_path
            if stop_reason is not None and not run["stop_reason"]:
                values["stop_reason"] = stop_reason
            metric = sweep["config"].get("metric") or {}
            name = metric.get("name")
            if name and _is_number(merged.get(name)):
                goal = metric.get("goal", "minimize")
                best = controller.best_value(list(run["metric_history"] or []) + [merged[name]], goal)
                values.update(metric_best=best, metric_last=merged[name])
                self._update_best(conn, sweep, run["name"], best, now)
            conn.execute(update(t.runs).where(t.runs.c.id == run_id).values(**values))

    def _run_row(self, conn: Connection, run_id: str):
        row = conn.execute(select(t.runs).where(t.runs.c.id == run_id)).mappings().first()
        if row is None:
            raise BadInput(f"no run {run_id!r} in {self.location}")
        return row

    def runs(self, sweep_id: str, history: bool = False) -> list[RunInfo]:
        with self._read() as conn:
            if conn.execute(select(t.sweeps.c.id).where(t.sweeps.c.id == sweep_id)).first() is None:
                raise UnknownSweep(f"no sweep {sweep_id!r} in {self.location}")
            rows = conn.execute(select(t.runs).where(t.runs.c.sweep_id == sweep_id)
                                .order_by(t.runs.c.number)).mappings().all()
            histories: dict[str, list[dict]] = {}
            if history:
                for run_id, _step, data in conn.execute(
                        select(t.history.c.run_id, t.history.c.step, t.history.c.data)
                        .join(t.runs, t.runs.c.id == t.history.c.run_id)
                        .where(t.runs.c.sweep_id == sweep_id)
                        .order_by(t.history.c.run_id, t.history.c.step)):
                    histories.setdefault(run_id, []).append(data)
        return [RunInfo(
            id=r["id"], sweep_id=r["sweep_id"], name=r["name"], number=r["number"],
            params=r["params"], state=r["state"], created_at=r["created_at"],
            agent_id=r["agent_id"], started_at=r["started_at"], finished_at=r["finished_at"],
            heartbeat_at=r["heartbeat_at"], exit_code=r["exit_code"], summary=r["summary"] or {},
            metric_last=r["metric_last"], metric_best=r["metric_best"], steps=r["steps"],
            stop_reason=r["stop_reason"], log_path=r["log_path"], device=r["device"],
            history=histories.get(r["id"], []) if history else None,
        ) for r in rows]

    # --- agents and promotion -----------------------------------------------------------------

    def agent_processes(self, sweep_id: str, slots: list[str | None], count: int | None,
                        max_failures: int, grace_s: float) -> list[AgentProcess]:
        """``python -m sweeper.agent`` once per slot, on this storage."""
        argv = [sys.executable, "-m", "sweeper.agent", sweep_id, "--storage", self.url,
                "--max-failures", str(max_failures), "--grace", str(grace_s)]
        if count is not None:
            argv += ["--count", str(count)]
        return one_per_slot(argv, slots)

    def promote(self, run: dict, name: str, aliases: tuple[str, ...], metadata: dict,
                registry_dir: str | None = None) -> registry.Version:
        """A new version in the local registry (``.sweeper/registry``)."""
        checkpoint = run.get("checkpoint")
        if not isinstance(checkpoint, str) or not checkpoint:
            raise BadInput(f"run {run['name']!r} recorded no checkpoint (its summary has no "
                           "'checkpoint'); nothing to promote")
        return registry.promote(checkpoint, name, aliases, metadata, registry_dir)


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _jsonable(data: dict) -> dict:
    """Logged values as JSON can hold them: numbers, strings, bools, lists, dicts; NaN as None."""
    out: dict = {}
    for key, value in data.items():
        if isinstance(value, float) and not math.isfinite(value):
            out[str(key)] = None
        elif isinstance(value, (str, int, float, bool)) or value is None:
            out[str(key)] = value
        elif isinstance(value, dict):
            out[str(key)] = _jsonable(value)
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

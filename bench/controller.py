"""Benchmark: how long the local backend takes to hand out the next run.

For grid, random, bayes, tpe, gp and auto (gp below 300 runs, tpe from there), on SQLite and
PostgreSQL, with 10, 100 and 1,000 runs already recorded: the time of `next_run` end to end,
split into the engine's own compute (the controller called on the same runs in-process) and our
overhead (database and bookkeeping). Then the allocation rate of 16 agent processes pulling from
one sweep at once, and for the model-based methods, 16 agents asking at once at 300 recorded
runs (three tries, medians; auto is then tpe; gp's agents share one fit, a batch of points, and
``gp-each`` is gp with every agent fitting its own, side by side; ``gp-warm`` gp asked by agents
that fitted 16 runs before, as long-lived agents have): each agent's wait (p50/p95), the part of it spent
in the locked hand-out (which must not queue behind other agents' fits), against the time of
one suggestion alone (an agent's first, and its next in a sweep of 16 agents: gp's fit then
starts from its last kernel, fitted 16 runs before) and of one agent's whole hand-out with nobody
else asking. The same again
with as many agents as the machine has cores (a core per agent, as on a machine with an agent
per GPU): 16 fits on 2 cores wait for the CPU, not for each other, and this separates the two.
The askers start together from a barrier once all have warmed up, and stay alive until all have
asked (an exiting process would take a core from the fits still running). ``bench/fit_slots.py``
times the same asks with the machine's fit slots and without.

    python bench/controller.py [--postgres postgresql://postgres@127.0.0.1/postgres] [--out FILE]

Prints a table and writes JSON (default bench/results/controller.json).
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from _clock import Clock
from sqlalchemy import insert, update

from sweeper import controller
from sweeper.backends import Assignment
from sweeper.backends.local import LocalBackend
from sweeper.backends.local import _backend as _backend_module
from sweeper.backends.local import _tables as t

METHODS = ("grid", "random", "bayes", "tpe", "gp", "auto")
FITTED = ("bayes", "tpe", "gp", "gp-each", "auto")
SIZES = (10, 100, 1000)
REPEATS = 5


def sweep_config(method: str) -> dict:
    if method == "grid":  # 50 x 50 = 2,500 points, more than the runs recorded
        params = {"a": {"values": list(range(50))}, "b": {"values": list(range(50))}}
    else:
        params = {"x": {"min": -5.0, "max": 10.0}, "y": {"min": 0.0, "max": 15.0},
                  "lr": {"distribution": "log_uniform_values", "min": 1e-5, "max": 1e-2}}
    return {"method": method, "program": "bench.py", "metric": {"name": "loss", "goal": "minimize"},
            "parameters": params}


def fake_params(method: str, i: int, rng: random.Random) -> dict:
    if method == "grid":
        a, b = divmod(i, 50)
        return {"a": a, "b": b}
    return {"x": rng.uniform(-5, 10), "y": rng.uniform(0, 15), "lr": 10 ** rng.uniform(-5, -2)}


def seed_runs(backend: LocalBackend, sweep_id: str, method: str, n: int) -> None:
    """Record n finished runs directly, each with a 5-point metric history."""
    rng = random.Random(0)
    now = time.time()
    rows = []
    for i in range(n):
        params = fake_params(method, i, rng)
        loss = [rng.random() for _ in range(5)]
        rows.append({"id": uuid.uuid4().hex[:16], "sweep_id": sweep_id, "number": i + 1,
                     "name": f"seed-{i + 1}", "params": params, "state": "finished",
                     "created_at": now, "started_at": now, "finished_at": now,
                     "heartbeat_at": now, "metric_history": loss, "metric_value": loss[-1],
                     "metric_best": min(loss), "steps": 5, "stop_requested": False,
                     "summary": {"loss": loss[-1]}})
    with backend._transaction(write=True) as conn:
        if rows:
            conn.execute(insert(t.runs), rows)
        conn.execute(update(t.sweeps).where(t.sweeps.c.id == sweep_id).values(runs_total=n))


def time_next_run(backend: LocalBackend, method: str, n: int) -> dict:
    """Median over REPEATS calls of next_run: its total time, the engine's share inside that same
    call, and the rest (ours: database and bookkeeping)."""
    sweep = backend.create_sweep(sweep_config(method), name=f"bench-{method}-{n}-{uuid.uuid4().hex[:6]}")
    seed_runs(backend, sweep.id, method, n)
    agent = backend.register_agent(sweep.id, "bench", 0, None)
    backend.next_run(sweep.id, agent)  # warm: the first call of a process reads every run once
    totals, engines, ours = [], [], []
    for _ in range(REPEATS):
        with Clock(_backend_module.controller, "suggest") as clock:
            start = time.perf_counter()
            got = backend.next_run(sweep.id, agent)
            total = time.perf_counter() - start
        assert isinstance(got, Assignment), got
        totals.append(total)
        engines.append(clock.spent)
        ours.append(total - clock.spent)
        backend.finish_run(got.run_id, "finished", {"loss": 0.5}, 0)
    return {"total_ms": statistics.median(totals) * 1000,
            "engine_ms": statistics.median(engines) * 1000,
            "overhead_ms": statistics.median(ours) * 1000}


def _agent(storage: str, sweep_id: str, start_at: float, out) -> None:
    backend = LocalBackend(storage)
    agent = backend.register_agent(sweep_id, "bench", 0, None)
    while time.time() < start_at:
        time.sleep(0.001)
    n = 0
    while isinstance(got := backend.next_run(sweep_id, agent), Assignment):
        backend.finish_run(got.run_id, "finished", {"loss": 0.5}, 0)
        n += 1
    out.put((n, time.time()))


def _asker(storage: str, sweep_id: str, start, out, done, shared: bool = True,
           warm: bool = False) -> None:
    if not shared:  # as before shared fits: every agent fits its own suggestion
        _backend_module.controller.makes_batches = lambda *args: False
    backend = LocalBackend(storage)
    agent = backend.register_agent(sweep_id, "bench", 0, None)
    fitted = []
    original = backend._fit_unlocked

    def timed_fit(*args):
        start = time.perf_counter()
        try:
            return original(*args)
        finally:
            fitted.append(time.perf_counter() - start)

    backend._fit_unlocked = timed_fit
    # The engine's imports and first fit (gp loads torch on its first fit), before the start.
    # ``warm``: as a long-lived agent, whose last fit was 16 runs before (its kernel carries over
    # in its memory, and its process keeps the memory that fit freed).
    seen = backend._read(lambda conn: backend._controller_runs(conn, sweep_id))
    config = backend.sweep(sweep_id).config
    if warm:
        controller.suggest_batch(config, seen[:-16], 16, f"{sweep_id}/{agent}",
                                 backend._fit_memory.setdefault((sweep_id, agent), {}))
    else:
        controller.suggest(config, seen[:10])
    start.wait(timeout=600)  # every asker has imported and warmed up
    began = time.perf_counter()
    got = backend.next_run(sweep_id, agent)
    wait = time.perf_counter() - began
    out.put((wait, sum(fitted), isinstance(got, Assignment)))
    # Alive until all have asked, as an agent would be (training): a process exiting (Python's
    # and torch's teardown) would take a core from the fits still running.
    done.wait(timeout=600)


def _ask_at_once(storage: str, sweep_id: str, agents: int, shared: bool = True,
                 warm: bool = False) -> list[tuple[float, float, bool]]:
    """``agents`` processes ask for a run at the same instant: each one's (wait, fit, served)."""
    ctx = multiprocessing.get_context("spawn")
    out, start, done = ctx.Queue(), ctx.Barrier(agents), ctx.Event()
    procs = [ctx.Process(target=_asker, args=(storage, sweep_id, start, out, done, shared, warm))
             for _ in range(agents)]
    for p in procs:
        p.start()
    results = [out.get(timeout=600) for _ in procs]
    done.set()
    for p in procs:
        p.join()
    return results


def simultaneous_asks(storage: str, name: str, agents: int = 16, recorded: int = 300) -> dict:
    """``agents`` processes ask for a run at the same instant, ``recorded`` runs already in.
    ``name``: a method, or ``gp-each`` for gp with every agent fitting its own suggestion (no
    shared fit), side by side with gp's shared fits, or ``gp-warm``: gp's shared fits asked by
    agents that fitted 16 runs before, as long-lived agents have."""
    method, _, variant = name.partition("-")
    shared, warm = variant != "each", variant == "warm"
    backend = LocalBackend(storage)
    sweep = backend.create_sweep(sweep_config(method), name=f"bench-ask-{uuid.uuid4().hex[:6]}")
    seed_runs(backend, sweep.id, method, recorded)
    runs = backend._read(lambda conn: backend._controller_runs(conn, sweep.id))
    config = backend.sweep(sweep.id).config
    alone, warm = [], []
    for k in range(3):
        start = time.perf_counter()
        controller.suggest(config, runs, seed_key=str(k))
        alone.append(time.perf_counter() - start)
        # An agent's next hand-out in a sweep of 16 agents: gp's fit starts from the kernel of
        # its last one, 16 runs before, as in a long-lived agent process.
        memory: dict = {}
        controller.suggest(config, runs[:-16], seed_key=f"warm-{k}", memory=memory)
        start = time.perf_counter()
        controller.suggest(config, runs, seed_key=f"warm-{k}", memory=memory)
        warm.append(time.perf_counter() - start)
    # One agent alone first: its whole hand-out (records read, fit, locked write) with nobody
    # else asking, the time an agent would wait if it never queued behind another's.
    lone = _ask_at_once(storage, sweep.id, 1, shared, warm)[0][0]
    results = _ask_at_once(storage, sweep.id, agents, shared, warm)
    waits = sorted(w for w, _, _ in results)
    locked = sorted(w - f for w, f, _ in results)

    def pct(values, q):
        return values[min(len(values) - 1, round(q * (len(values) - 1)))]

    return {"method": name, "agents": agents, "recorded": recorded,
            "handed_out": sum(ok for _, _, ok in results),
            "one_suggestion_s": statistics.median(alone),
            "one_suggestion_warm_s": statistics.median(warm), "one_hand_out_alone_s": lone,
            "wait_p50_s": pct(waits, 0.5), "wait_p95_s": pct(waits, 0.95),
            "locked_p50_s": pct(locked, 0.5), "locked_p95_s": pct(locked, 0.95)}


ASK_REPEATS = 3  # 16 processes on 2 cores: one try's figures swing by a factor of 2 to 3


def repeated_asks(storage: str, method: str, agents: int = 16) -> dict:
    """``simultaneous_asks`` ASK_REPEATS times: the median of each figure, and every try."""
    tries = [simultaneous_asks(storage, method, agents) for _ in range(ASK_REPEATS)]
    figures = {k: statistics.median(t[k] for t in tries) for k in tries[0]
               if k.endswith("_s")}
    return {**tries[0], **figures, "handed_out": sum(t["handed_out"] for t in tries),
            "tries": tries}


def allocation_rate(storage: str, agents: int = 16, runs: int = 800) -> dict:
    backend = LocalBackend(storage)
    config = {**sweep_config("random"), "run_cap": runs}
    sweep = backend.create_sweep(config, name=f"bench-rate-{uuid.uuid4().hex[:6]}")
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    start_at = time.time() + 8.0  # after every process has imported and connected
    procs = [ctx.Process(target=_agent, args=(storage, sweep.id, start_at, out)) for _ in range(agents)]
    for p in procs:
        p.start()
    results = [out.get(timeout=600) for _ in procs]
    for p in procs:
        p.join()
    handed = sum(n for n, _ in results)
    elapsed = max(end for _, end in results) - start_at
    return {"agents": agents, "runs": handed, "seconds": elapsed, "runs_per_s": handed / elapsed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres",
                        help="an admin URL; the benchmark makes and drops its own database")
    parser.add_argument("--out", default="bench/results/controller.json")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--only-asks", action="store_true",
                        help="only the simultaneous asks of the model-based methods")
    parser.add_argument("--methods", default=",".join(FITTED),
                        help="the model-based methods whose simultaneous asks to time")
    args = parser.parse_args()

    stores: dict[str, str] = {}
    tmp = tempfile.mkdtemp(prefix="sweeper-bench-")
    stores["sqlite"] = f"sqlite:///{tmp}/bench.db"
    pg_db = None
    if not args.no_postgres:
        try:
            import psycopg

            pg_db = f"sweeper_bench_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(args.postgres, autocommit=True, connect_timeout=3) as conn:
                conn.execute(f'CREATE DATABASE "{pg_db}"')
            stores["postgres"] = args.postgres.rsplit("/", 1)[0] + f"/{pg_db}"
        except Exception as exc:  # noqa: BLE001
            print(f"(PostgreSQL skipped: {exc})", file=sys.stderr)
            pg_db = None

    results: dict = {"next_run": [], "allocation": {}, "simultaneous_asks": {},
                     "asks_core_per_agent": {}}
    print(f"{'storage':9} {'method':7} {'runs':>5} {'total ms':>9} {'engine ms':>10} {'ours ms':>8}")
    try:
        for store, url in stores.items():
            backend = LocalBackend(url)
            for method, n in itertools.product(METHODS, SIZES):
                if args.only_asks:
                    break
                r = time_next_run(backend, method, n)
                results["next_run"].append({"storage": store, "method": method, "runs": n, **r})
                print(f"{store:9} {method:7} {n:>5} {r['total_ms']:>9.1f} {r['engine_ms']:>10.1f} "
                      f"{r['overhead_ms']:>8.1f}", flush=True)
        print()
        print(f"{'storage':9} {'agents':>6} {'runs':>5} {'seconds':>8} {'runs/s':>7}")
        for store, url in stores.items():
            if args.only_asks:
                break
            r = allocation_rate(url)
            results["allocation"][store] = r
            print(f"{store:9} {r['agents']:>6} {r['runs']:>5} {r['seconds']:>8.2f} "
                  f"{r['runs_per_s']:>7.1f}", flush=True)
        print()
        print(f"{'storage':9} {'method':8} {'agents':>6} {'one fit s':>10} {'warm s':>7} "
              f"{'alone s':>8}"
              f"{'wait p50':>9} {'wait p95':>9} {'locked p50':>11} {'locked p95':>11}")
        cores = os.cpu_count() or 1
        for key, agents in (("simultaneous_asks", 16), ("asks_core_per_agent", cores)):
            for store, url in stores.items():
                for method in args.methods.split(","):
                    r = repeated_asks(url, method, agents)
                    results[key].setdefault(store, {})[method] = r
                    print(f"{store:9} {method:8} {r['agents']:>6} {r['one_suggestion_s']:>10.3f} "
                          f"{r['one_suggestion_warm_s']:>7.3f} {r['one_hand_out_alone_s']:>8.3f} {r['wait_p50_s']:>9.3f} "
                          f"{r['wait_p95_s']:>9.3f} "
                          f"{r['locked_p50_s']:>11.3f} {r['locked_p95_s']:>11.3f}", flush=True)
    finally:
        if pg_db:
            import psycopg

            with psycopg.connect(args.postgres, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{pg_db}" WITH (FORCE)')
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    if args.only_asks and Path(args.out).exists():  # keep the other figures of the last run
        last = json.loads(Path(args.out).read_text())
        for key in ("simultaneous_asks", "asks_core_per_agent"):
            for store, by_method in results[key].items():
                last.setdefault(key, {}).setdefault(store, {}).update(by_method)
        results = last
    Path(args.out).write_text(json.dumps(results, indent=2))
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()

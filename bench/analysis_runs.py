"""Benchmark: loading a big sweep into pandas with `sweeper.analysis.runs()`.

A local sweep of 10,000 recorded runs with 50 history points each (500,000 history rows) on
SQLite: the time of `runs()` (one row per run: parameters, metrics, summary), and of
`runs(history=True)` (each run's logged steps too). Target: runs() <= 2 s.

    python bench/analysis_runs.py [--runs 10000] [--points 50] [--out FILE]

Prints a table and writes JSON (default bench/results/analysis_runs.json).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import insert, update

from sweeper import analysis, spec
from sweeper.backends.local import LocalBackend
from sweeper.backends.local import _tables as t


def seed(backend: LocalBackend, n_runs: int, points: int) -> str:
    config = spec.validate({"program": "x.py", "method": "random",
                            "metric": {"name": "loss", "goal": "minimize"},
                            "parameters": {"lr": {"min": 1e-5, "max": 1e-2},
                                           "batch": {"values": [8, 16, 32]},
                                           "manual_seed": {"values": [1, 2, 3]}}})
    sweep = backend.create_sweep(config)
    rng = random.Random(0)
    now = time.time()
    with backend._transaction(write=True) as conn:
        for start in range(0, n_runs, 1000):
            runs, history = [], []
            for i in range(start, min(start + 1000, n_runs)):
                run_id = uuid.uuid4().hex[:16]
                losses = [rng.random() for _ in range(points)]
                runs.append({"id": run_id, "sweep_id": sweep.id, "number": i + 1,
                             "name": f"r-{i + 1}", "state": "finished",
                             "params": {"lr": rng.uniform(1e-5, 1e-2), "batch": 16,
                                        "manual_seed": 1},
                             "created_at": now, "started_at": now, "finished_at": now + 60,
                             "heartbeat_at": now + 60, "metric_history": losses,
                             "metric_value": losses[-1], "metric_best": min(losses),
                             "steps": points, "stop_requested": False, "exit_code": 0,
                             "summary": {"loss": losses[-1], "acc": rng.random(),
                                         "checkpoint": f"/ckpt/{i}"}})
                history += [{"run_id": run_id, "step": s, "data": {"loss": v, "_step": s}}
                            for s, v in enumerate(losses)]
            conn.execute(insert(t.runs), runs)
            conn.execute(insert(t.history), history)
        conn.execute(update(t.sweeps).where(t.sweeps.c.id == sweep.id).values(runs_total=n_runs))
    return sweep.id


def timed(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--points", type=int, default=50)
    parser.add_argument("--out", default="bench/results/analysis_runs.json")
    args = parser.parse_args()
    backend = LocalBackend(f"sqlite:///{tempfile.mkdtemp(prefix='sweeper-analysis-')}/a.db")
    sweep_id = seed(backend, args.runs, args.points)
    fresh = lambda: LocalBackend(backend.url)  # noqa: E731 - a new process's view: no caches
    plain = timed(lambda: analysis.runs(sweep_id, backend=fresh()))
    with_history = timed(lambda: analysis.runs(sweep_id, backend=fresh(), history=True), 1)
    ranked = timed(lambda: analysis.rank(analysis.runs(sweep_id, backend=fresh())))
    df = analysis.runs(sweep_id, backend=fresh())
    assert len(df) == args.runs
    result = {"runs": args.runs, "history_points": args.points, "runs_s": plain,
              "runs_with_history_s": with_history, "runs_and_rank_s": ranked}
    print(f"{'':34}{'seconds':>8}")
    print(f"{'runs()':34}{plain:>8.2f}")
    print(f"{'runs() then rank()':34}{ranked:>8.2f}")
    print(f"{'runs(history=True)':34}{with_history:>8.2f}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

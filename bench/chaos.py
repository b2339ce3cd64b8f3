"""Chaos benchmark: N agents on a random, a grid and a model-based sweep while faults are injected.

On SQLite and on PostgreSQL (a private cluster this script starts on a free local port), at
random and bounded times: agent SIGKILLs (each replaced by a new agent), program SIGKILLs, a
database outage of 20 s (PostgreSQL), CPU hogs, and the sweep's lock held longer than the
busy timeout. Then it lets the agents drain the sweeps and counts:

    handed out   runs created (and attempts started, resumes included)
    off cap      runs the sweeps with a run_cap handed out beyond it or fell short of it
    distinct     distinct parameter sets among the runs;  duplicates = runs - distinct
    lost         runs an agent said it started that have no record
    stuck        runs left running or queued with no live agent once everything ended
    dead         agents that ended with an error (not those the chaos killed)
    steps        rows the programs wrote (reported) vs rows stored in the history

Goal: 0 duplicates, 0 off cap, 0 lost, 0 stuck, 0 dead, steps stored = steps reported, on both
databases.

    python bench/chaos.py [--agents 16] [--runs 40] [--seconds 60] [--db sqlite,postgres]
                          [--fitted gp|tpe|bayes|auto|none]

The model-based sweep (``--fitted``, gp by default) fits outside the sweep's lock and brings its
suggestion to the locked hand-out, so its agents are killed, cut off and held up mid-fit too.

The program is a few lines that speak the wandb hook's file protocol directly (no wandb import),
so that 16 agents fit on 2 cores. Prints a table; writes bench/results/chaos.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sweeper import spec  # noqa: E402
from sweeper.backends import open_backend  # noqa: E402

PROGRAM = """
import json, math, os, sys, time
args = dict(a.lstrip("-").split("=", 1) for a in sys.argv[1:])
with open(os.path.join(os.environ["SWEEPER_RUN_DIR"], "pid"), "w") as f:
    f.write(str(os.getpid()))
steps, x = int(args.get("steps", 20)), float(args.get("x", 0))
# best inside the space (x = 0.37, z = 0.05), not on its edge, where a model-based method would
# rightly try the same corner again
base = (x - 0.37) ** 2 + (math.log10(float(args.get("z", 0.05))) + 1.3) ** 2
with open(os.environ["SWEEPER_METRICS_FILE"], "a") as out:
    for i in range(steps):
        out.write(json.dumps({"kind": "log", "data": {"loss": base + 1.0 / (i + 1)}}) + "\\n")
        out.flush()
        time.sleep(0.1)
    out.write(json.dumps({"kind": "summary", "data": {"loss": base + 1.0 / steps}}) + "\\n")
"""
BUSY_TIMEOUT_S = 3.0
HEARTBEAT_TIMEOUT_S = 10.0


class Chaos:
    def __init__(self, storage: str, folder: Path, agents: int, runs: int, seconds: float,
                 cluster=None, seed: int = 0, fitted: str = "gp"):
        self.storage, self.folder, self.n_agents = storage, folder, agents
        self.fitted = fitted
        self.runs, self.seconds, self.cluster = runs, seconds, cluster
        self.rng = random.Random(seed)
        self.env = {**os.environ, "SWEEPER_STORAGE": storage,
                    "SWEEPER_HEARTBEAT_TIMEOUT": str(HEARTBEAT_TIMEOUT_S),
                    "SWEEPER_SQLITE_BUSY_TIMEOUT_S": str(BUSY_TIMEOUT_S),
                    "SWEEPER_STORAGE_RETRY_S": "120"}
        self.agents: list[tuple[subprocess.Popen, str, Path]] = []
        self.killed: set[int] = set()
        self.events: Counter = Counter()
        self.lock = threading.Lock()

    def sweeps(self) -> list[str]:
        backend = open_backend(self.storage)
        program = {"program": "chaos_program.py", "metric": {"name": "loss",
                                                             "goal": "minimize"}}
        random_sweep = backend.create_sweep(spec.validate({
            **program, "name": "chaos-random", "method": "random", "run_cap": self.runs,
            "parameters": {"x": {"min": 0.0, "max": 1.0}, "steps": {"value": 20}}}))
        side = max(2, int(self.runs ** 0.5))
        grid = backend.create_sweep(spec.validate({
            **program, "name": "chaos-grid", "method": "grid",
            "parameters": {"x": {"values": list(range(side))},
                           "y": {"values": list(range(self.runs // side))},
                           "steps": {"value": 20}}}))
        sweep_ids = [random_sweep.id, grid.id]
        if self.fitted != "none":
            sweep_ids.append(backend.create_sweep(spec.validate({
                **program, "name": f"chaos-{self.fitted}", "method": self.fitted,
                "run_cap": self.runs,
                "parameters": {"x": {"min": 0.0, "max": 1.0},
                               "z": {"distribution": "log_uniform_values", "min": 1e-3,
                                     "max": 1.0},
                               "steps": {"value": 20}}})).id)
        backend.engine.dispose()
        return sweep_ids

    def start_agent(self, sweep_id: str) -> None:
        log = self.folder / f"agent-{len(self.agents)}.log"
        proc = subprocess.Popen([sys.executable, "-m", "sweeper.agent", sweep_id], cwd=self.folder,
                                env=self.env, stdout=open(log, "w"), stderr=subprocess.STDOUT)
        with self.lock:
            self.agents.append((proc, sweep_id, log))

    def live(self) -> list[tuple[subprocess.Popen, str, Path]]:
        with self.lock:
            return [a for a in self.agents if a[0].poll() is None]

    # --- faults --------------------------------------------------------------------------------

    def kill_agent(self) -> None:
        live = self.live()
        if live:
            proc, sweep_id, _ = self.rng.choice(live)
            self.killed.add(proc.pid)
            proc.kill()
            self.events["agent SIGKILL"] += 1
            self.start_agent(sweep_id)

    def kill_program(self) -> None:
        pids = []
        for pid_file in self.folder.glob(".sweeper/runs/*/*/pid"):
            try:
                pid = int(pid_file.read_text())
                os.kill(pid, 0)
                pids.append(pid)
            except (OSError, ValueError):
                continue
        if pids:
            try:
                os.kill(self.rng.choice(pids), signal.SIGKILL)
                self.events["program SIGKILL"] += 1
            except OSError:
                pass

    def cpu_hog(self) -> None:
        for _ in range(2):
            subprocess.Popen([sys.executable, "-c",
                              "import time\nend = time.time() + 10\nwhile time.time() < end: pass"])
        self.events["CPU hog (2 x 10 s)"] += 1

    def hold_lock(self, sweep_id: str) -> None:
        held = BUSY_TIMEOUT_S + 3
        if self.storage.startswith("sqlite"):
            conn = sqlite3.connect(self.storage.removeprefix("sqlite:///"), isolation_level=None,
                                   timeout=60)
            conn.execute("BEGIN IMMEDIATE")
            time.sleep(held)
            conn.execute("COMMIT")
            conn.close()
        else:
            import psycopg

            try:
                with psycopg.connect(self.storage, connect_timeout=5) as conn:
                    conn.execute("SELECT 1 FROM sweeper_sweeps WHERE id = %s FOR UPDATE",
                                 (sweep_id,))
                    time.sleep(held)
            except psycopg.Error:
                return
        self.events[f"lock held {held:.0f} s"] += 1

    def outage(self) -> None:
        self.cluster.stop()
        time.sleep(20)
        self.cluster.start()
        self.events["database outage 20 s"] += 1

    # --- the run -------------------------------------------------------------------------------

    def run(self) -> dict:
        (self.folder / "chaos_program.py").write_text(PROGRAM)
        sweep_ids = self.sweeps()
        for i in range(self.n_agents):
            self.start_agent(sweep_ids[i % len(sweep_ids)])
        started = time.monotonic()
        faults = [self.kill_agent, self.kill_program, self.cpu_hog,
                  lambda: self.hold_lock(self.rng.choice(sweep_ids))]
        outage_at = started + self.seconds * 0.3 if self.cluster else None
        while time.monotonic() - started < self.seconds and self.live():
            time.sleep(self.rng.uniform(1.0, 4.0))
            if outage_at and time.monotonic() >= outage_at:
                outage_at = None
                self.outage()
                continue
            self.rng.choice(faults)()
        for sweep_id in sweep_ids:  # let the sweeps drain; agents that ran out start again
            while True:
                backend = open_backend(self.storage)
                pending = [r for r in backend.runs(sweep_id) if r.state in ("pending", "running")]
                sweep = backend.sweep(sweep_id)
                backend.engine.dispose()
                alive = [a for a in self.live() if a[1] == sweep_id]
                if sweep.state != "running" and not pending:
                    break
                if not alive:
                    self.start_agent(sweep_id)
                time.sleep(1.0)
        deadline = time.monotonic() + 120
        while self.live() and time.monotonic() < deadline:
            time.sleep(0.5)
        for proc, _, _ in self.live():
            proc.kill()
        return self.count(sweep_ids)

    def count(self, sweep_ids: list[str]) -> dict:
        backend = open_backend(self.storage)
        started_names: set[str] = set()
        dead = 0
        for proc, _, log in self.agents:
            text = log.read_text(errors="replace")
            started_names |= {line.split()[1] for line in text.splitlines()
                              if line.startswith("run ") and " started" in line}
            if proc.returncode not in (0, None) and proc.pid not in self.killed:
                dead += 1
        rows = {"handed out": 0, "off cap": 0, "attempts": 0, "distinct": 0, "duplicates": 0, "lost": 0,
                "stuck": 0, "agents dead": dead, "steps reported": 0, "steps stored": 0}
        names: set[str] = set()
        for sweep_id in sweep_ids:
            runs = backend.runs(sweep_id, history=True)
            names |= {r.name for r in runs}
            params = [json.dumps({k: v for k, v in r.params.items()}, sort_keys=True)
                      for r in runs]
            rows["handed out"] += len(runs)
            cap = backend.sweep(sweep_id).config.get("run_cap")
            rows["off cap"] += abs(len(runs) - cap) if cap is not None else 0
            rows["attempts"] += sum(r.attempt for r in runs)
            rows["distinct"] += len(set(params))
            rows["duplicates"] += len(params) - len(set(params))
            rows["stuck"] += sum(1 for r in runs if r.state in ("running", "pending"))
            rows["steps stored"] += sum(len(r.history or []) for r in runs)
        rows["lost"] = len(started_names - names)
        for metrics in self.folder.glob(".sweeper/runs/*/*/metrics*.jsonl"):
            rows["steps reported"] += sum(1 for line in metrics.read_text().splitlines()
                                          if '"kind": "log"' in line and line.endswith("}"))
        rows["faults"] = dict(self.events)
        backend.engine.dispose()
        return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=16)
    parser.add_argument("--runs", type=int, default=40, help="runs per sweep")
    parser.add_argument("--seconds", type=float, default=60, help="how long faults are injected")
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fitted", default="gp", choices=("gp", "tpe", "bayes", "auto", "none"),
                        help="the method of the model-based sweep (none: no such sweep)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "chaos.json")
    args = parser.parse_args()
    results = {}
    for db in args.db.split(","):
        folder = Path(tempfile.mkdtemp(prefix=f"sweeper-chaos-{db}-"))
        started = time.monotonic()
        if db == "sqlite":
            rows = Chaos(f"sqlite:///{folder / 'sweeper.db'}", folder, args.agents, args.runs,
                         args.seconds, seed=args.seed, fitted=args.fitted).run()
        else:
            from tests.private_postgres import PrivateCluster

            with PrivateCluster() as cluster:
                rows = Chaos(cluster.url, folder, args.agents, args.runs, args.seconds,
                             cluster=cluster, seed=args.seed, fitted=args.fitted).run()
        rows["seconds"] = round(time.monotonic() - started, 1)
        results[db] = rows
        print(f"{db}: done in {rows['seconds']} s", flush=True)
    keys = ["handed out", "off cap", "attempts", "distinct", "duplicates", "lost", "stuck", "agents dead",
            "steps reported", "steps stored", "seconds"]
    print(f"\n{'':16}" + "".join(f"{db:>12}" for db in results))
    for key in keys:
        print(f"{key:16}" + "".join(f"{results[db][key]:>12}" for db in results))
    for db, rows in results.items():
        print(f"faults on {db}: " + ", ".join(f"{n} {what}" for what, n in rows["faults"].items()))
    ok = all(r["duplicates"] == r["off cap"] == r["lost"] == r["stuck"] == r["agents dead"] == 0
             and r["steps reported"] == r["steps stored"] for r in results.values())
    print("goal met" if ok else "GOAL NOT MET")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"agents": args.agents, "runs_per_sweep": args.runs,
                                    "fitted": args.fitted,
                                    "fault_seconds": args.seconds, "results": results},
                                   indent=2))


if __name__ == "__main__":
    main()

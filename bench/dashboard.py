"""Benchmark: the dashboard on a large sweep and beside busy agents.

1. Time until the study page shows a 1,000-run, 100-step sweep in headless chromium (from
   navigation to the optimization history and the best run shown, the server's first read
   included), and until every chart is drawn (plotly draws one trace per run).
2. The dashboard process's CPU while 8 agents write to another sweep and a browser keeps the
   page open (live updates on), as a share of one core.

    python bench/dashboard.py [--runs 1000] [--steps 100] [--agents 8] [--seconds 30]

Goal: <= 3 s and <= 5% of one core. Prints a table; writes bench/results/dashboard.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROGRAM = """
import json, os, random, sys, time
with open(os.environ["SWEEPER_METRICS_FILE"], "a") as out:
    for i in range(60):
        out.write(json.dumps({"kind": "log", "data": {"loss": random.random()}}) + "\\n")
        out.flush()
        time.sleep(0.2)
"""


def seed(storage: str, runs: int, steps: int) -> str:
    from sqlalchemy import insert, update

    from sweeper.backends.local import LocalBackend
    from sweeper.backends.local import _tables as t

    backend = LocalBackend(storage)
    sweep = backend.create_sweep({"name": "big", "program": "x.py", "method": "random",
                                  "metric": {"name": "loss", "goal": "minimize"},
                                  "parameters": {"lr": {"distribution": "log_uniform_values",
                                                        "min": 1e-5, "max": 1e-2},
                                                 "batch": {"values": [8, 16, 32]},
                                                 "dropout": {"min": 0.0, "max": 0.5}}})
    rng = random.Random(0)
    now = time.time()
    with backend._transaction(write=True) as conn:
        rows = []
        for i in range(runs):
            losses = [rng.random() / (k + 1) + 0.1 for k in range(steps)]
            rows.append({"id": uuid.uuid4().hex[:16], "sweep_id": sweep.id, "number": i + 1,
                         "name": f"big-{i + 1}", "state": "finished",
                         "params": {"lr": 10 ** rng.uniform(-5, -2), "batch": rng.choice(
                             [8, 16, 32]), "dropout": rng.uniform(0, 0.5)},
                         "created_at": now, "started_at": now, "finished_at": now + 60,
                         "heartbeat_at": now + 60, "metric_history": losses,
                         "metric_value": losses[-1], "metric_best": min(losses),
                         "steps": steps, "stop_requested": False, "exit_code": 0,
                         "summary": {"loss": losses[-1]}, "attempt": 1})
        conn.execute(insert(t.runs), rows)
        conn.execute(update(t.sweeps).where(t.sweeps.c.id == sweep.id).values(runs_total=runs))
    backend.engine.dispose()
    return sweep.id


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--agents", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/dashboard.json")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="sweeper-dashboard-"))
    storage = f"sqlite:///{work / 'sweeper.db'}"
    seed(storage, args.runs, args.steps)
    port = free_port()
    env = {**os.environ, "SWEEPER_STORAGE": storage}
    server = subprocess.Popen([str(Path(sys.executable).with_name("sweeper")), "dashboard",
                               "--port", str(port)], env=env, cwd=work,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{base}/api/meta", timeout=2)
            break
        except OSError:
            time.sleep(0.2)
    browser_path = shutil.which("chromium") or shutil.which("chromium-browser")
    results: dict = {"runs": args.runs, "steps": args.steps}
    agents: list[subprocess.Popen] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=browser_path, args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run"])
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            started = time.perf_counter()
            page.goto(f"{base}/dashboard/studies/1")
            page.locator("#plot-history .main-svg").first.wait_for(timeout=120000)
            page.get_by_text("Best Trial").first.wait_for(timeout=120000)
            results["seconds_to_show"] = round(time.perf_counter() - started, 2)
            page.locator("#graph-intermediate-values .main-svg").first.wait_for(timeout=120000)
            page.locator("#graph-timeline .main-svg").first.wait_for(timeout=120000)
            results["seconds_to_every_chart"] = round(time.perf_counter() - started, 2)

            # 8 agents write to a second sweep while the page stays open on it, live.
            (work / "prog.py").write_text(PROGRAM)
            (work / "s.yaml").write_text("name: busy\nprogram: prog.py\nmethod: random\n"
                                         "metric: {name: loss, goal: minimize}\n"
                                         "parameters:\n  x: {min: 0.0, max: 1.0}\n")
            subprocess.run([str(Path(sys.executable).with_name("sweeper")), "create", "s.yaml"],
                           env=env, cwd=work, check=True, capture_output=True)
            for _ in range(args.agents):
                agents.append(subprocess.Popen([sys.executable, "-m", "sweeper.agent", "busy"],
                                               env=env, cwd=work, stdout=subprocess.DEVNULL,
                                               stderr=subprocess.DEVNULL))
            page.goto(f"{base}/dashboard/studies/2")
            page.get_by_text("Intermediate values").wait_for(timeout=120000)
            time.sleep(3)
            before, wall = cpu_seconds(server.pid), time.monotonic()
            time.sleep(args.seconds)
            used = cpu_seconds(server.pid) - before
            results["cpu_share_of_one_core"] = round(used / (time.monotonic() - wall), 4)
            browser.close()
    finally:
        for agent in agents:
            agent.kill()
        server.kill()
        shutil.rmtree(work, ignore_errors=True)
    print(f"{'measure':44} {'value':>8} {'goal':>8}")
    print(f"{f'page shows {args.runs} runs x {args.steps} steps (s)':44} "
          f"{results['seconds_to_show']:8.2f} {3:>8}")
    print(f"{'  ... and every chart drawn (s)':44} {results['seconds_to_every_chart']:8.2f}")
    print(f"{f'dashboard CPU, {args.agents} agents writing (% of a core)':44} "
          f"{100 * results['cpu_share_of_one_core']:8.2f} {5:>8}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

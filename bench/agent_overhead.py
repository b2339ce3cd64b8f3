"""Benchmark: what the local agent adds around each run.

A sweep of 50 runs of a program that only logs one metric through wandb (offline), run by one
local agent, against the same 50 commands run directly one after another in a loop. Reports
the median gap between one run's end and the next run's start inside the agent, and the total
wall time of both. (W&B's own agent polls its server every 5 s between runs.)

    python bench/agent_overhead.py [--runs 50] [--out FILE]

Prints a table and writes JSON (default bench/results/agent_overhead.json).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sweeper import spec
from sweeper.agent import Agent
from sweeper.backends.local import LocalBackend

HERE = Path(__file__).resolve().parent


def run_direct(work: Path, runs: int) -> float:
    """The same program, the same environment, 50 times in a plain loop."""
    env = {**os.environ, "WANDB_MODE": "offline", "WANDB_SILENT": "true"}
    start = time.perf_counter()
    for i in range(runs):
        params = work / "direct" / f"{i}.yaml"
        params.parent.mkdir(exist_ok=True)
        params.write_text(f"i:\n  value: {i}\n")
        subprocess.run([sys.executable, "log_once.py"], cwd=work, check=True,
                       env={**env, "WANDB_SWEEP_PARAM_PATH": str(params)},
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def run_agent(work: Path, runs: int) -> tuple[float, list[float]]:
    backend = LocalBackend(f"sqlite:///{work / 'bench.db'}")
    config = spec.validate({"program": "log_once.py", "method": "grid",
                            "metric": {"name": "loss", "goal": "minimize"},
                            "parameters": {"i": {"values": list(range(runs))}}})
    sweep = backend.create_sweep(config)
    os.environ["WANDB_SILENT"] = "true"
    start = time.perf_counter()
    report = Agent(backend, sweep.id, cwd=work).run()
    total = time.perf_counter() - start
    assert report.runs == runs, report
    # Gaps: from one run's recorded end to the next run's recorded start.
    records = backend.runs(sweep.id)
    gaps = [b.started_at - a.finished_at for a, b in zip(records, records[1:], strict=False)]
    return total, gaps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--out", default="bench/results/agent_overhead.json")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sweeper-agent-bench-"))
    shutil.copy(HERE / "programs" / "log_once.py", work / "log_once.py")
    # Alternate direct and agent twice, and keep each one's best, so that neither gets the
    # machine's warm-up or a noisy neighbour alone.
    direct_times, agent_times, all_gaps = [], [], []
    for _ in range(2):
        direct_times.append(run_direct(work, args.runs))
        total, gaps = run_agent(work, args.runs)
        agent_times.append(total)
        all_gaps += gaps
    direct, agent_total = min(direct_times), min(agent_times)
    gap = statistics.median(all_gaps)
    result = {"runs": args.runs, "direct_s": direct, "agent_s": agent_total,
              "ratio": agent_total / direct, "median_gap_s": gap,
              "direct_per_run_s": direct / args.runs, "agent_per_run_s": agent_total / args.runs,
              "all_direct_s": direct_times, "all_agent_s": agent_times}
    print(f"{'':24}{'total s':>9}{'per run s':>11}")
    print(f"{'direct loop':24}{direct:>9.2f}{direct / args.runs:>11.3f}")
    print(f"{'sweeper agent':24}{agent_total:>9.2f}{agent_total / args.runs:>11.3f}")
    print(f"agent / direct: {agent_total / direct:.3f}x; median gap between runs: {gap * 1000:.0f} ms")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

"""Benchmark: 16 agents asking at once, with the machine's fit slots and without.

Each model-based suggestion fits in a slot of the machine (one per core, ``SWEEPER_FIT_SLOTS``;
``sweeper/controller/_fit_slots.py``). This times ``bench/controller.py``'s simultaneous asks
(16 agent processes on one SQLite sweep of 300 recorded runs, each agent's wait from the same
instant) with the slots (the default) and without (``SWEEPER_FIT_SLOTS=0``: every fit at once),
the two settings taking turns, try by try, in one run; medians over the tries.

    python bench/fit_slots.py [--methods gp,bayes] [--tries 3] [--agents 16] [--out FILE]

Prints a table and writes JSON (default bench/results/controller_fit_slots.json).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the benchmarks beside this file
from controller import simultaneous_asks  # noqa: E402

from sweeper.controller import _fit_slots  # noqa: E402

SETTINGS = {"slots": None, "no limit": "0"}  # None: the default, a slot per core
FIGURES = ("one_suggestion_s", "one_hand_out_alone_s", "wait_p50_s", "wait_p95_s",
           "locked_p50_s", "locked_p95_s")


def _asks_with(setting: str | None, url: str, method: str, agents: int) -> dict:
    """simultaneous_asks with SWEEPER_FIT_SLOTS as given (the agent processes inherit it)."""
    before = os.environ.pop(_fit_slots.SLOTS_ENV, None)
    if setting is not None:
        os.environ[_fit_slots.SLOTS_ENV] = setting
    try:
        return simultaneous_asks(url, method, agents)
    finally:
        os.environ.pop(_fit_slots.SLOTS_ENV, None)
        if before is not None:
            os.environ[_fit_slots.SLOTS_ENV] = before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", default="gp,bayes")
    parser.add_argument("--tries", type=int, default=3)
    parser.add_argument("--agents", type=int, default=16)
    parser.add_argument("--out", default="bench/results/controller_fit_slots.json")
    args = parser.parse_args()

    url = f"sqlite:///{tempfile.mkdtemp(prefix='sweeper-bench-')}/bench.db"
    results: dict = {"agents": args.agents, "recorded": 300, "slots": _fit_slots.slots(),
                     "cores": len(os.sched_getaffinity(0)), "methods": {}}
    print(f"{'method':7} {'fits':9} {'alone s':>8} {'wait p50':>9} {'wait p95':>9} "
          f"{'locked p95':>11}")
    for method in args.methods.split(","):
        tries: dict[str, list[dict]] = {name: [] for name in SETTINGS}
        for _ in range(args.tries):
            for name, setting in SETTINGS.items():
                tries[name].append(_asks_with(setting, url, method, args.agents))
        by_setting = {}
        for name, runs in tries.items():
            figures = {k: statistics.median(r[k] for r in runs) for k in FIGURES}
            by_setting[name] = {**figures, "tries": runs}
            print(f"{method:7} {name:9} {figures['one_hand_out_alone_s']:>8.3f} "
                  f"{figures['wait_p50_s']:>9.3f} {figures['wait_p95_s']:>9.3f} "
                  f"{figures['locked_p95_s']:>11.3f}", flush=True)
        slots, free = by_setting["slots"], by_setting["no limit"]
        by_setting["ratio_p50"] = slots["wait_p50_s"] / free["wait_p50_s"]
        by_setting["ratio_p95"] = slots["wait_p95_s"] / free["wait_p95_s"]
        print(f"{method:7} {'ratio':9} {'':>8} {by_setting['ratio_p50']:>9.2f} "
              f"{by_setting['ratio_p95']:>9.2f}", flush=True)
        results["methods"][method] = by_setting
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2))
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()

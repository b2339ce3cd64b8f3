"""A program whose worker processes outlive it (a data loader that does not shut down, a
forgotten multiprocessing pool): when the program ends, its workers end too, so that the next
run does not find the GPU and the CPUs taken."""

from __future__ import annotations

import time

from ..conftest import process_alive
from .conftest import run_sweep, sweep_yaml, write


def test_workers_end_with_their_program(work):
    write(work, "train.py", """
        import os
        import subprocess
        import sys

        import wandb

        with wandb.init() as run:
            worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
            with open(os.path.join(os.environ["SWEEPER_RUN_DIR"], "worker.pid"), "w") as out:
                out.write(str(worker.pid))
            run.log({"loss": 0.5})
        # exits without waiting for the worker
        """)
    path = sweep_yaml(work, {
        "program": "train.py", "method": "grid", "metric": {"name": "loss", "goal": "minimize"},
        "parameters": {"a": {"values": [1, 2]}}})
    ran = run_sweep(work, path)
    assert ran.code == 0, ran.out + ran.err
    assert [r.state for r in ran.runs] == ["finished", "finished"]
    pids = [int(p.read_text()) for p in sorted(work.glob(".sweeper/runs/*/*/worker.pid"))]
    assert len(pids) == 2
    deadline = time.monotonic() + 30
    while any(process_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(process_alive(pid) for pid in pids)

"""A run's own Python children start and finish: only the run's process itself ends with the
agent (a subprocess is tested here; spawn and torchrun workers start the same way)."""

import os
import subprocess
import sys
from pathlib import Path

import sweeper

INJECT = Path(sweeper.__file__).parent / "_inject"

PROGRAM = """
import subprocess, sys
child = subprocess.run([sys.executable, "-c", "print('child ran')"], capture_output=True, text=True)
print("child rc", child.returncode, child.stdout.strip())
"""


def test_a_python_child_of_a_run_is_not_killed_at_start(tmp_path):
    env = dict(os.environ)
    env["PYTHONPATH"] = f"{INJECT}{os.pathsep}{env.get('PYTHONPATH', '')}"
    env["SWEEPER_METRICS_FILE"] = str(tmp_path / "metrics.jsonl")
    env["SWEEPER_AGENT_PID"] = str(os.getpid())  # this test plays the agent
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "child rc 0 child ran" in done.stdout

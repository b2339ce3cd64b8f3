"""Shared helpers: run the CLI in-process the way the console script does."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

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

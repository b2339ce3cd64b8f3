"""A working folder per test, and `sweeper run` as a user types it (``tests/conftest.py``)."""

from ..conftest import Ran, run_sweep, sweep_yaml, work, write

__all__ = ["Ran", "run_sweep", "sweep_yaml", "work", "write"]

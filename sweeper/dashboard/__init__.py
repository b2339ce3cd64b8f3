"""A live dashboard for sweeps on the embedded default (SQLite or PostgreSQL): optuna-dashboard
over a read-only bridge to sweeper's records. ``sweeper dashboard [SWEEP]`` serves it."""

from ._bridge import ReadOnly, SweeperStorage, objectives
from ._server import Dashboard, app

__all__ = ["Dashboard", "ReadOnly", "SweeperStorage", "app", "objectives"]

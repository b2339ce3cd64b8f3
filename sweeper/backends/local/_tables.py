"""The local backend's records, in W&B's own model: sweeps, agents, runs (with each attempt of a
run), and each run's history."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

SCHEMA_VERSION = 3
APP = "sweeper"

metadata = MetaData()

meta = Table(
    "sweeper_meta", metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

sweeps = Table(
    "sweeper_sweeps", metadata,
    Column("id", String(16), primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("config", JSON, nullable=False),
    Column("state", String(16), nullable=False),
    Column("state_reason", Text),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("runs_total", Integer, nullable=False, default=0),
    # How often a run that crashed or was preempted goes back in the queue (0: never).
    Column("max_resumes", Integer, nullable=False, default=2),
)

agents = Table(
    "sweeper_agents", metadata,
    Column("id", String(16), primary_key=True),
    Column("sweep_id", String(16), ForeignKey("sweeper_sweeps.id"), nullable=False),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("devices", String(255)),
    Column("state", String(16), nullable=False),
    Column("started_at", Float, nullable=False),
    Column("heartbeat_at", Float, nullable=False),
)

runs = Table(
    "sweeper_runs", metadata,
    Column("id", String(16), primary_key=True),
    Column("sweep_id", String(16), ForeignKey("sweeper_sweeps.id"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("name", String(255), nullable=False),
    Column("params", JSON, nullable=False),
    Column("state", String(16), nullable=False),
    Column("agent_id", String(16)),
    Column("device", String(255)),
    Column("created_at", Float, nullable=False),
    Column("started_at", Float),
    Column("heartbeat_at", Float),  # the last time the run's agent saw it alive
    Column("finished_at", Float),
    Column("exit_code", Integer),
    # W&B's summary: the last logged value of each key, or what the program set at its end.
    Column("summary", JSON),
    # The sweep metric by step, kept apart so that hyperband never reads the full history.
    Column("metric_history", JSON, nullable=False),
    # The run's one value of the sweep metric (see sweeper.run_value), and its best logged one.
    Column("metric_value", Float),
    Column("metric_best", Float),
    Column("steps", Integer, nullable=False, default=0),
    Column("stop_requested", Boolean, nullable=False, default=False),
    Column("stop_reason", Text),
    Column("log_path", Text),
    Column("attempt", Integer, nullable=False, default=1),
    Column("output_at", Float),  # the last time the run printed or logged anything
    Index("ix_sweeper_runs_sweep", "sweep_id", "number", unique=True),
    Index("ix_sweeper_runs_state", "sweep_id", "state"),
)

attempts = Table(
    "sweeper_attempts", metadata,
    Column("run_id", String(16), ForeignKey("sweeper_runs.id"), primary_key=True),
    Column("attempt", Integer, primary_key=True),
    Column("agent_id", String(16)),
    Column("host", String(255)),
    Column("device", String(255)),
    Column("started_at", Float, nullable=False),
    Column("ended_at", Float),
    Column("state", String(16)),
    Column("reason", Text),
    Column("steps_at_start", Integer, nullable=False, default=0),
    Column("first_step", Integer),  # where its first logged row landed in the run's history
    Column("rows_reported", Integer, nullable=False, default=0),  # rows it got to the records
)

history = Table(
    "sweeper_history", metadata,
    Column("run_id", String(16), ForeignKey("sweeper_runs.id"), primary_key=True),
    Column("step", Integer, primary_key=True),
    Column("data", JSON, nullable=False),
)

# What `sweeper sync` put on W&B: per local sweep and W&B entity/project, the W&B sweep and
# the runs uploaded to it.
sync = Table(
    "sweeper_sync", metadata,
    Column("sweep_id", String(16), ForeignKey("sweeper_sweeps.id"), primary_key=True),
    Column("target", String(255), primary_key=True),
    Column("record", JSON, nullable=False),
    Column("updated_at", Float, nullable=False),
)

# Points that one agent's gp fit made for the agents asking with it (``_prepared``), each
# handed out while the runs' results stand as they stood at the fit (``basis``).
prepared = Table(
    "sweeper_prepared", metadata,
    Column("sweep_id", String(16), ForeignKey("sweeper_sweeps.id"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("basis", String(64), nullable=False),
    Column("params", JSON, nullable=False),
    Column("made_at", Float, nullable=False),
)

# Upgrading an older database in place, one version at a time: what the next version changes
# (tables it adds are created after these statements).
MIGRATIONS = {
    1: [
        "ALTER TABLE sweeper_sweeps ADD COLUMN max_resumes INTEGER NOT NULL DEFAULT 2",
        "ALTER TABLE sweeper_runs ADD COLUMN attempt INTEGER NOT NULL DEFAULT 1",
        "ALTER TABLE sweeper_runs ADD COLUMN output_at FLOAT",
        "ALTER TABLE sweeper_runs RENAME COLUMN metric_last TO metric_value",
    ],
    2: [],  # version 3 adds sweeper_prepared
}

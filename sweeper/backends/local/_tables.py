"""The local backend's records, in W&B's own model: sweeps, agents, runs, and each run's history."""

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

SCHEMA_VERSION = 1
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
    Column("best_value", Float),
    Column("best_run", String(200)),
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
    Column("heartbeat_at", Float),
    Column("finished_at", Float),
    Column("exit_code", Integer),
    Column("summary", JSON),
    # The sweep metric, kept apart so that the controller never reads the full history.
    Column("metric_history", JSON, nullable=False),
    Column("metric_last", Float),
    Column("metric_best", Float),
    Column("steps", Integer, nullable=False, default=0),
    Column("stop_requested", Boolean, nullable=False, default=False),
    Column("stop_reason", Text),
    Column("log_path", Text),
    Index("ix_sweeper_runs_sweep", "sweep_id", "number", unique=True),
    Index("ix_sweeper_runs_state", "sweep_id", "state"),
)

history = Table(
    "sweeper_history", metadata,
    Column("run_id", String(16), ForeignKey("sweeper_runs.id"), primary_key=True),
    Column("step", Integer, primary_key=True),
    Column("data", JSON, nullable=False),
)

"""`sweeper sync`: a local sweep put on W&B as a W&B sweep with every run in it.

The sweep is created with the local config (``wandb.sweep``), then each run that has ended is
replayed as an online W&B run in that sweep: the SDK attaches a run to a sweep through its
``sweep_id`` setting (``WANDB_SWEEP_ID`` as W&B's agent sets it), which goes to the server in the
run's ``upsertBucket``. The run keeps its id, name, parameters (as config), every logged step and
its summary; its exit code gives W&B its state (finished and hyperband-stopped runs exit 0, as on
W&B; failed, crashed and killed runs exit 1, which W&B shows as failed). Finally the W&B sweep
takes the local sweep's state.

What was synced is recorded in the local database, so that syncing again adds nothing; runs
still running are left for a later sync.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass, field

# Local sweep states as W&B's (what `wandb sweep --stop/--cancel/--pause` set).
STATES = {"finished": "FINISHED", "stopped": "FINISHED", "cancelled": "CANCELED",
          "paused": "PAUSED", "running": "RUNNING"}
ENDED = ("finished", "stopped", "failed", "crashed", "killed")


@dataclass
class SyncReport:
    sweep_path: str
    url: str
    created: bool
    synced: list[str] = field(default_factory=list)
    already: int = 0
    skipped: list[str] = field(default_factory=list)  # still running or queued


def sync(local, wandb_backend, sweep_id: str, entity: str | None, project: str) -> SyncReport:
    """Put the local sweep ``sweep_id`` (held by ``local``) on W&B; see the module's words."""
    sweep = local.find_sweep(sweep_id)
    target = f"{wandb_backend.entity or ''}/{project}"
    record = local.sync_record(sweep.id, target)
    created = record is None
    if record is None:
        config = wandb_backend.check_config({**sweep.config, "name": sweep.name})
        info = wandb_backend.create_sweep(config)
        record = {"wandb_sweep": info.id, "url": info.location, "runs": []}
        local.save_sync_record(sweep.id, target, record)
    path = record["wandb_sweep"]
    entity_name, project_name, wandb_id = path.split("/")
    report = SyncReport(path, record["url"], created)
    done = set(record["runs"])
    for run in local.runs(sweep.id, history=True):
        if run.id in done:
            report.already += 1
            continue
        if run.state not in ENDED:
            report.skipped.append(f"{run.name} ({run.state})")
            continue
        wandb_backend._call(f"uploading run {run.name}",
                            lambda run=run: _replay(run, sweep, entity_name, project_name,
                                                    wandb_id),
                            limit_s=10 * wandb_backend.timeout_s)
        done.add(run.id)
        record["runs"] = sorted(done)
        local.save_sync_record(sweep.id, target, record)
        report.synced.append(run.name)
    state = STATES.get(sweep.state)
    if state is not None and state != record.get("state", "RUNNING"):
        from wandb.apis.public.sweeps import _set_sweep_state

        api = wandb_backend.api
        wandb_backend._call(f"setting the state of {path}", lambda: _set_state(
            _set_sweep_state, api, wandb_id, state, entity_name, project_name))
        record["state"] = state
        local.save_sync_record(sweep.id, target, record)
    return report


def _set_state(set_state, api, sweep_id: str, state: str, entity: str, project: str) -> None:
    try:
        set_state(api, sweep_id, state, entity=entity, project=project)
    except Exception as exc:  # noqa: BLE001 - W&B refuses a change to the state it has
        if type(exc) is not Exception:
            raise


def _replay(run, sweep, entity: str, project: str, wandb_sweep: str) -> None:
    import wandb

    settings = wandb.Settings(sweep_id=wandb_sweep, silent=True, mode="online")
    with contextlib.redirect_stdout(io.StringIO()):
        started = wandb.init(entity=entity, project=project, id=run.id, name=run.name,
                             config=run.params, group=None, resume="allow",
                             settings=settings, reinit="finish_previous")
        try:
            for row in run.history or []:
                started.log({k: v for k, v in row.items() if not k.startswith("_")})
            started.summary.update({k: v for k, v in (run.summary or {}).items()
                                    if not k.startswith("_")})
            started.summary["sweeper_state"] = run.state
        finally:
            started.finish(exit_code=0 if run.state in ("finished", "stopped") else 1)

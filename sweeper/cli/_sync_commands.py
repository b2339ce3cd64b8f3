"""`sweeper sync`: a local sweep onto the W&B dashboard, as a W&B sweep with every run."""

from __future__ import annotations

import click

from .. import spec
from ..backends import open_backend
from ..errors import BadInput


@click.command()
@click.argument("sweep_id")
@click.option("--project", required=True, help="The W&B project to put the sweep in.")
@click.option("--entity", default=None, help="W&B entity (default: yours).")
@click.option("--storage", envvar="SWEEPER_STORAGE", default=None, metavar="URL",
              help="The local storage (default .sweeper/sweeper.db; also SWEEPER_STORAGE).")
def sync(sweep_id: str, project: str, entity: str | None, storage: str | None) -> None:
    """Put the local sweep SWEEP_ID on W&B as a W&B sweep (same config and state) with each of
    its runs that has ended (state, config, history, summary). Syncing again adds only what is
    new. Needs W&B credentials (`wandb login` or WANDB_API_KEY)."""
    local = open_backend(storage, kind="local", create=False)
    sweep = local.find_sweep(sweep_id)
    from ..backends.wandb import WandbBackend
    from ..backends.wandb._sync import sync as put_on_wandb

    errors, _ = spec.find_problems(sweep.config, backend="wandb")
    if errors:
        raise BadInput(f"sweep {sweep.name} has no W&B counterpart: "
                       + "; ".join(f"{key}: {message}" for key, message in errors))
    report = put_on_wandb(local, WandbBackend(entity=entity, project=project), sweep.id,
                          entity, project)
    verb = "created" if report.created else "found"
    click.echo(f"W&B sweep {report.sweep_path} ({verb}): {len(report.synced)} runs uploaded, "
               f"{report.already} already there")
    for note in report.skipped:
        click.echo(f"not yet: {note} (sync again once it has ended)")
    click.echo(report.url)


COMMANDS = [sync]

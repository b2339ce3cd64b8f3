"""The wandb CLI's ``wandb sweep`` and ``wandb login`` commands, answered for the local backend,
in a process that a ``sweeper exec`` script started (a shell script's ``wandb sweep sweep.yaml``,
or a Python script's ``subprocess.run(["wandb", "sweep", ...])``).

``wandb sweep`` does what W&B's command does, with the script's local storage as the server:
``wandb sweep FILE`` validates the file and creates a local sweep, and prints W&B's own lines,
the last one ``Run sweep agent with: wandb agent [ENTITY/][PROJECT/]ID``, which scripts read the
id from; ``wandb sweep --stop|--cancel|--pause|--resume ID`` changes the local sweep's state.
``--name``, ``--program``, ``--project``, ``--entity`` and ``-R`` act as on W&B; ``--controller``
and ``--update`` are refused in one line (the local backend is the controller; a local sweep's
config is not changed in place). A bad file is one line naming the key, exit code 2, as
sweeper's own commands refuse bad input.

``wandb login`` (with a key or without), while the runs log offline (``sweeper exec``'s
default): succeeds at once without asking for a key or reaching a server, as ``wandb.login()``
does offline; the key is neither checked, stored nor shown. With ``WANDB_MODE=online`` it is
W&B's own command.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

from .backends import TRANSITIONS
from .errors import BadInput, SweeperError

_DOING = {"stop": "Stopping", "cancel": "Cancelling", "pause": "Pausing", "resume": "Resuming"}
OFFLINE_MODES = ("offline", "dryrun", "disabled")  # WANDB_MODE values with no server to log in to


def answer(cli_module: Any, session_of: Callable[[], Any]) -> None:
    """Point the ``sweep`` and ``login`` commands of ``wandb.cli.cli`` at the session that
    ``session_of`` gives."""
    import click

    def sweep(**options: Any) -> None:
        try:
            _sweep(session_of(), **options)
        except SweeperError as err:
            click.echo(f"sweeper: wandb sweep: {err}", err=True)
            sys.exit(2)  # bad input, as sweeper's own commands exit

    cli_module.sweep.callback = sweep
    online_login = cli_module.login.callback

    def login(**options: Any) -> Any:
        import wandb

        mode = os.environ.get("WANDB_MODE", "").strip().lower()
        if mode not in OFFLINE_MODES:
            return online_login(**options)
        wandb.termlog(f"sweeper exec: the runs log offline (WANDB_MODE={mode}); no login "
                      "needed, none made (`wandb sync` uploads them later)")
        return None

    cli_module.login.callback = login


def _sweep(session: Any, config_yaml_or_sweep_id: str, project: str | None = None,
           entity: str | None = None, controller: bool = False, name: str | None = None,
           program: str | None = None, settings: str | None = None, update: str | None = None,
           prior_runs: tuple[str, ...] = (), **flags: Any) -> None:
    import wandb

    states = [state for state in TRANSITIONS if flags.get(state)]
    if len(states) > 1:
        raise BadInput(f"only one of --{' / --'.join(TRANSITIONS)} at a time, not "
                       f"--{' and --'.join(states)}")
    if states:
        _change_state(session, states[0], config_yaml_or_sweep_id)
        return
    if controller:
        raise BadInput("--controller runs a W&B sweep's controller; under sweeper exec the "
                       "local backend is the controller: leave --controller out")
    if update:
        raise BadInput(f"--update {update}: a local sweep's config is not changed in place; "
                       "create a new sweep from the file instead")
    config = _load(config_yaml_or_sweep_id)
    wandb.termlog(f"Creating sweep from: {config_yaml_or_sweep_id}")
    if name:
        config["name"] = name
    if program:
        config["program"] = program
    if settings:
        config.setdefault("settings", {}).update(_settings(settings))
    project = project or os.environ.get("WANDB_PROJECT") or config.get("project")
    entity = entity or os.environ.get("WANDB_ENTITY") or config.get("entity")
    sweep_id = session.sweep(config, entity=entity, project=project,
                             prior_runs=list(prior_runs) or None)
    wandb.termlog(f"Creating sweep with ID: {_style(sweep_id)}")
    path = "/".join(part for part in (entity if project else None, project, sweep_id) if part)
    wandb.termlog(f"Run sweep agent with: {_style(f'wandb agent {path}')}")


def _change_state(session: Any, state: str, reference: str) -> None:
    import wandb

    found = session.backend.find_sweep(reference.rsplit("/", 1)[-1])
    wandb.termlog(f"{_DOING[state]} sweep {reference}")
    session.backend.set_state(found.id, state)
    wandb.termlog("Done.")


def _load(path: str) -> dict:
    """The file's config, validated (SpecError: one line naming the key); its warnings shown."""
    import wandb

    from . import spec

    if not os.path.isfile(path):
        raise BadInput(f"{path}: no such sweep file")
    config, warnings = spec.load_with_warnings(path)
    for warning in warnings:
        wandb.termwarn(warning)
    return dict(config)


def _settings(text: str) -> dict[str, str]:
    """``--settings k=v,k2=v2``, as W&B's command reads it."""
    items = text.split(",")
    bad = [item for item in items if "=" not in item]
    if bad:
        raise BadInput(f"--settings {text!r}: give key=value pairs split by commas, "
                       f"not {bad[0]!r}")
    return dict(item.split("=", 1) for item in items)


def _style(text: str) -> str:
    import click

    return click.style(text, fg="yellow")

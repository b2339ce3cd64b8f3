"""`sweeper exec`: an unmodified W&B sweep script (wandb.sweep + wandb.agent) on the local backend."""

from __future__ import annotations

import sys
import traceback

import click

from ..backends import open_backend
from ..errors import SweeperError


@click.command(name="exec", context_settings={"ignore_unknown_options": True,
                                              "allow_interspersed_args": False})
@click.option("--storage", envvar="SWEEPER_STORAGE", default=None, metavar="URL",
              help="The local storage (default .sweeper/sweeper.db; also SWEEPER_STORAGE).")
@click.argument("script", type=click.Path())
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def exec_script(storage: str | None, script: str, args: tuple[str, ...]) -> int:
    """Run SCRIPT (with ARGS) as `python SCRIPT ARGS` would, its `wandb.sweep` and
    `wandb.agent(sweep_id, function=..., count=...)` answered by the local backend: no W&B
    server or account. Each `wandb.sweep` call makes a new local sweep; the runs log to W&B
    offline unless WANDB_MODE says otherwise. A notebook (`.ipynb`) runs its code cells in
    order in an IPython shell. A shell script (`run.sh`) runs as bash runs it, its `wandb sweep
    FILE` and `wandb agent ID` commands answered the same way. Exit code: the script's."""
    from ..progress import FAILED_STATES, ranked_table, state_text
    from ..wandb_script import Session, run_script

    backend = open_backend(storage, kind="local", create=True)
    session = Session(backend, script)
    earlier = {sweep.id for sweep in backend.sweeps()}
    code = 0
    try:
        run_script(backend, script, list(args), session=session)
    except SystemExit as stop:  # the script's own exit: its code, as python gives it
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
        if stop.code is not None and not isinstance(stop.code, int):
            click.echo(str(stop.code), err=True)
    except SweeperError:
        raise  # bad input found by the redirect: one line, exit 2
    except KeyboardInterrupt:  # Ctrl-C: the run it stopped is recorded killed; say what ran
        click.echo("sweeper: interrupted", err=True)
        code = 130
        _let_runs_end(backend, _made(backend, session, earlier))
    except Exception:  # noqa: BLE001 - the script's own failure: its traceback, as python shows it
        traceback.print_exc()
        code = 1
    for sweep_id in _made(backend, session, earlier):
        sweep, runs = backend.sweep(sweep_id), backend.runs(sweep_id)
        click.echo(f"\nsweep {sweep.id} ({sweep.name}): {state_text(sweep, runs)}")
        for line in ranked_table(sweep, runs):
            click.echo(line)
        click.echo(f"see `sweeper results {sweep.id}` and `sweeper dashboard`")
        if runs and all(r.state in FAILED_STATES for r in runs):
            code = code or 1  # every run failed: the job failed
    sys.stdout.flush()
    return code


def _made(backend, session, earlier: set[str]) -> list[str]:
    """The sweeps the script made: in this process, then in the processes it started (a shell
    script's `wandb sweep FILE`, a worker's `wandb.sweep`), in the order they were made."""
    others = [sweep.id for sweep in sorted(backend.sweeps(), key=lambda s: s.created_at)
              if sweep.id not in earlier and sweep.id not in session.sweeps]
    return [*session.sweeps, *others]


def _let_runs_end(backend, sweep_ids: list[str], deadline_s: float = 15.0) -> None:
    """After Ctrl-C: the runs of agents the script started as processes of their own got the
    same Ctrl-C; give them a moment to record how they ended, so that the table shows it."""
    import time

    end = time.monotonic() + deadline_s
    while time.monotonic() < end and any(
            run.state == "running" for sweep_id in sweep_ids for run in backend.runs(sweep_id)):
        time.sleep(0.2)


COMMANDS = [exec_script]

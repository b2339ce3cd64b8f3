"""Commands on sweeps held by a backend: create, sweeps, status, stop, pause, resume, cancel."""

from __future__ import annotations

import functools
import time
from collections import Counter

import click

from .. import objectives, spec
from ..backends import BACKENDS, TRANSITIONS, Backend, open_backend

_WHERE = ("storage", "backend", "entity", "project")


def backend_options(command):
    """--backend, --storage (local), --entity and --project (W&B), gathered into ``where``."""
    options = [
        click.option("--backend", type=click.Choice(BACKENDS), envvar="SWEEPER_BACKEND",
                     default=None,
                     help="Where the sweep lives (default: W&B for an ENTITY/PROJECT/ID sweep "
                          "path, else local; also SWEEPER_BACKEND)."),
        click.option("--storage", envvar="SWEEPER_STORAGE", default=None, metavar="URL",
                     help="Local backend: a SQLite file (default .sweeper/sweeper.db) or "
                          "postgresql://... (also SWEEPER_STORAGE)."),
        click.option("--entity", default=None, help="W&B entity (default: yours)."),
        click.option("--project", default=None,
                     help="W&B project (default: the file's `project`)."),
    ]
    command = functools.reduce(lambda c, option: option(c), reversed(options), command)

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        kwargs["where"] = {key: kwargs.pop(key) for key in _WHERE}
        return command(*args, **kwargs)

    return wrapper


max_resumes_option = click.option(
    "--max-resumes", type=click.IntRange(min=0), default=None, metavar="N",
    help="Times a run that crashed or was preempted goes back in the queue to resume from its "
         "last checkpoint (default 2; 0: never).")


def backend_for(where: dict, sweep: str | None = None, create: bool = True,
                read_only: bool = False, offline: bool = False) -> Backend:
    """The backend a command talks to. ``read_only``: the command only reads; ``offline``: it
    must not touch the network (``--dry-run``)."""
    return open_backend(where["storage"], create=create, kind=where["backend"], sweep=sweep,
                        entity=where["entity"], project=where["project"], read_only=read_only,
                        offline=offline)


@click.command()
@click.argument("file", type=click.Path(dir_okay=True))
@backend_options
@click.option("--name", default=None, help="The sweep's name (default: the file's `name`).")
@max_resumes_option
def create(file: str, where: dict, name: str | None, max_resumes: int | None) -> None:
    """Create a sweep from FILE; print its id as the last line (as `wandb sweep` does)."""
    config, warnings = spec.load_with_warnings(file)
    for line in warnings:
        click.echo(line, err=True)
    backend = backend_for(where)
    sweep = backend.create_sweep(config, name=name, max_resumes=max_resumes)
    existed = sweep.runs_total > 0 or sweep.state != "running"
    verb = "Found existing" if existed else "Created"
    click.echo(f"{verb} sweep {sweep.name} ({sweep.config['method']}) in {sweep.location}", err=True)
    click.echo(f"Run agents with: sweeper agent {sweep.id}", err=True)
    click.echo(sweep.id)


@click.command(name="sweeps")
@backend_options
def list_sweeps(where: dict) -> None:
    """List the sweeps in the storage (or the W&B --project)."""
    from ..progress import align, fmt

    backend = backend_for(where, create=False, read_only=True)
    rows = [("ID", "NAME", "METHOD", "STATE", "RUNS", "BEST", "CREATED")]
    for s in backend.sweeps():
        rows.append((s.id, s.name, s.config["method"], s.state, str(s.runs_total),
                     fmt(s.best_value), time.strftime("%Y-%m-%d %H:%M", time.localtime(s.created_at))))
    for line in align(rows):
        click.echo(line)


@click.command()
@click.argument("sweep_id")
@click.option("--all", "show_all", is_flag=True, help="List every run (default: the last 50).")
@backend_options
def status(sweep_id: str, show_all: bool, where: dict) -> None:
    """A sweep's state, its runs by state, the best run so far, and where each run's log is."""
    from ..progress import (
        align,
        fmt,
        pareto_front,
        planned_runs,
        silence_text,
        silent_after_s,
        silent_runs,
        state_text,
        swept_params_text,
    )

    backend = backend_for(where, sweep=sweep_id, create=False, read_only=True)
    sweep = backend.find_sweep(sweep_id)
    several = objectives.of(sweep.config) if objectives.is_multi(sweep.config) else None
    runs = backend.runs(sweep.id, summaries=several is not None)  # one metric: metric_value
    click.echo(f"sweep {sweep.id} ({sweep.name}) in {sweep.location}")
    click.echo(f"state: {state_text(sweep, runs)}")
    planned = planned_runs(sweep)
    total = f"/{planned}" if planned else ""
    counts = Counter(r.state for r in runs)
    shown = ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))
    click.echo(f"runs: {len(runs)}{total}" + (f" ({shown})" if shown else ""))
    metric = sweep.metric
    if metric and sweep.best_run:
        best = next((r for r in runs if r.name == sweep.best_run), None)
        click.echo(f"best: {metric['name']} = {fmt(sweep.best_value)} ({metric['goal']}) "
                   f"in {sweep.best_run}: {swept_params_text(sweep, best)}")
    front = pareto_front(sweep, runs)
    if front:
        click.echo(f"Pareto front: {len(front)} run{'s' * (len(front) != 1)} (no other run "
                   "is better on every metric)")
        names = objectives.names(sweep.config)
        for r, values in front[:10]:
            shown = ", ".join(f"{n}={fmt(v)}" for n, v in zip(names, values, strict=True))
            click.echo(f"  {r.name}: {shown}: {swept_params_text(sweep, r)}")
        if len(front) > 10:
            click.echo(f"  ... and {len(front) - 10} more (sweeper results {sweep.id})")
    for run, silent in silent_runs(runs, silent_after_s()):
        click.echo(silence_text(run, silent))
    if runs:
        listed = runs if show_all or len(runs) <= 50 else runs[-50:]
        if len(listed) < len(runs):
            click.echo(f"(the last {len(listed)} of {len(runs)} runs; --all lists every run)")
        rows = [("RUN", "STATE", " / ".join(o.name for o in several) if several else "METRIC",
                 "STEPS", "RUNTIME", "LOG")]
        for r in listed:
            note = r.stop_reason if r.stop_reason and r.state in (
                "stopped", "killed", "crashed", "failed", "pending") else None
            attempt = f" attempt {r.attempt}" if r.attempt > 1 else ""
            value = (" / ".join(fmt(v) for v in objectives.run_values(r.summary, several))
                     if several else fmt(r.metric_value))
            rows.append((r.name, r.state + (f" ({note})" if note else "") + attempt,
                         value, str(r.steps),
                         f"{r.runtime:.1f}s" if r.runtime is not None else "-", r.log_path or "-"))
        for line in align(rows):
            click.echo(line)


def _state_command(action: str, help_text: str) -> click.Command:
    @click.command(name=action, help=help_text)
    @click.argument("sweep_id")
    @backend_options
    def command(sweep_id: str, where: dict) -> None:
        backend = backend_for(where, sweep=sweep_id, create=False)
        sweep = backend.find_sweep(sweep_id)
        sweep = backend.set_state(sweep.id, action)
        click.echo(f"sweep {sweep.id} ({sweep.name}) is now {sweep.state}")

    return command


STATE_HELP = {
    "pause": "Pause a sweep: agents start no new runs until it is resumed.",
    "resume": "Resume a paused sweep.",
    "stop": "Stop a sweep: running runs finish, no new runs start.",
    "cancel": "Cancel a sweep: running runs are stopped now, no new runs start.",
}


COMMANDS = [create, list_sweeps, status] + [_state_command(a, STATE_HELP[a]) for a in TRANSITIONS]

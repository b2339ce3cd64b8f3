"""Commands that run a sweep: agent (join an existing sweep) and run (create + agents: the main job)."""

from __future__ import annotations

import functools

import click

from .. import spec
from ._sweep_commands import backend_for, backend_options, max_resumes_option


def _duration(_ctx, param, value):
    if value is None:
        return None
    from .._duration import parse

    return parse(value, f"--{param.name.replace('_', '-')}")


def agent_options(command):
    options = [
        click.option("--gpus", default=None, metavar="all|none|0,1,3",
                     help="GPUs to use, one agent per GPU (default: every GPU found, else CPU)."),
        click.option("--per-gpu", type=int, default=1, show_default=True,
                     help="Agents per GPU."),
        click.option("--workers", type=int, default=None,
                     help="CPU agents when no GPU is used (default 1)."),
        click.option("--count", type=click.IntRange(min=1), default=None,
                     help="Runs per agent, then stop."),
        click.option("--max-failures", type=click.IntRange(min=1), default=5, show_default=True,
                     help="Consecutive failed runs that stop an agent."),
        click.option("--grace", type=click.FloatRange(min=0), default=10.0, show_default=True,
                     help="Seconds between SIGTERM and SIGKILL when a run is stopped."),
        click.option("--run-timeout", default=None, metavar="DURATION", callback=_duration,
                     help="Stop a run that takes longer (90s, 30m, 2h); it ends stopped, as "
                          "hyperband stops runs."),
        click.option("--dry-run", is_flag=True,
                     help="Print the agent processes (environment and argv), start nothing."),
        backend_options,
    ]
    return functools.reduce(lambda c, option: option(c), reversed(options), command)


def _run(backend, sweep_id: str, gpus, per_gpu, workers, count, max_failures, grace,
         run_timeout, dry_run=False, config=None) -> int:
    from ..agent import plan_slots, run_agents
    from ..progress import FAILED_STATES, ranked_table, state_text

    slots = plan_slots(gpus, per_gpu=per_gpu, workers=workers, dry_run=dry_run)
    code = run_agents(backend, sweep_id, slots, count=count, max_failures=max_failures,
                      grace_s=grace, dry_run=dry_run, run_timeout_s=run_timeout, config=config)
    if dry_run:
        return code
    sweep = backend.sweep(sweep_id)
    runs = backend.runs(sweep_id)
    click.echo(f"\nsweep {sweep.id} ({sweep.name}): {state_text(sweep, runs)}")
    for line in ranked_table(sweep, runs):
        click.echo(line)
    if runs and all(r.state in FAILED_STATES for r in runs):
        return code or 1  # every run failed: the job failed
    return code


@click.command()
@click.argument("sweep_id")
@agent_options
def agent(sweep_id, gpus, per_gpu, workers, count, max_failures, grace, run_timeout, dry_run,
          where) -> int:
    """Run agents for SWEEP_ID (a local id or name, or a W&B ENTITY/PROJECT/ID): one per GPU
    slot, or --workers CPU agents."""
    backend = backend_for(where, sweep=sweep_id, create=False, offline=dry_run)
    sweep = backend.find_sweep(sweep_id)
    return _run(backend, sweep.id, gpus, per_gpu, workers, count, max_failures, grace,
                run_timeout, dry_run, config=sweep.config)


@click.command()
@click.argument("file", type=click.Path(dir_okay=True))
@click.option("--name", default=None, help="The sweep's name (default: the file's `name`).")
@max_resumes_option
@agent_options
def run(file, name, max_resumes, gpus, per_gpu, workers, count, max_failures, grace, run_timeout,
        dry_run, where) -> int:
    """Create a sweep from FILE and run agents until it is done: the main job."""
    from ..agent import plan_slots

    config, warnings = spec.load_with_warnings(file)
    for line in warnings:
        click.echo(line, err=True)
    slots = plan_slots(gpus, per_gpu=per_gpu, workers=workers, dry_run=dry_run)  # bad --gpus first
    backend = backend_for(where, offline=dry_run)
    if dry_run:
        config = backend.check_config(config)
        click.echo(f"would create a {config['method']} sweep from {file} in {backend.location}")
        return _run(backend, "SWEEP_ID", gpus, per_gpu, workers, count, max_failures, grace,
                    run_timeout, dry_run, config=config)
    from ..agent import check_runnable

    check_runnable(config)
    sweep = backend.create_sweep(config, name=name, max_resumes=max_resumes)
    if sweep.runs_total or sweep.state != "running":
        click.echo(f"sweep {sweep.name} exists ({sweep.state}, {sweep.runs_total} runs); it goes "
                   "on from where it is (--name NAME starts a new sweep)")
    click.echo(f"sweep {sweep.id} ({sweep.name}, {sweep.config['method']}) in {sweep.location}; "
               f"{len(slots)} agent{'s' if len(slots) != 1 else ''}")
    return _run(backend, sweep.id, gpus, per_gpu, workers, count, max_failures, grace,
                run_timeout, config=sweep.config)


COMMANDS = [agent, run]

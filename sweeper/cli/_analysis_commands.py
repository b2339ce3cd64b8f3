"""Commands on a sweep's results: results, promote, registry."""

from __future__ import annotations

import json
import math

import click

from .. import registry
from ._sweep_commands import backend_for, backend_options


def _clean(value):
    """A cell as JSON holds it: numpy scalars as Python's, missing values (NaN, and pandas' NA
    of a run on no front) as None."""
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        value = value.item()
    if type(value).__name__ == "NAType" or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


@click.command()
@click.argument("sweep_id")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True)
@click.option("--top", type=click.IntRange(min=1), default=None, help="Only the best K.")
@backend_options
def results(sweep_id: str, fmt: str, top: int | None, where: dict) -> None:
    """The sweep's runs: a ranked table of configurations (the Pareto front first for several
    metrics), or every run as csv/json."""
    backend = backend_for(where, sweep=sweep_id, read_only=True)
    if fmt == "table":  # straight from the records: no pandas, an answer at once
        from .. import objectives
        from ._results_table import table_lines

        sweep = backend.find_sweep(sweep_id)
        runs = backend.runs(sweep.id, summaries=objectives.is_multi(sweep.config))
        for line in table_lines(sweep, runs, top):
            click.echo(line)
        return
    from .. import analysis

    df = analysis.runs(sweep_id, backend=backend)
    params = analysis.parameter_columns(df)
    rows = analysis.ordered(df)  # every run, in the ranking's order, cut like the table
    rows = rows.head(top) if top else rows
    if fmt == "csv":
        click.echo(rows.drop(columns=[c for c in ("history",) if c in rows])
                   .to_csv(index=False), nl=False)
        return
    values = [c for c in df.columns if c.startswith("value.")]
    out = []
    for _, row in rows.iterrows():
        entry = {"name": row["name"], "state": row["state"],
                 "config": {p: _clean(row[p]) for p in params},
                 "summary": {c.removeprefix("summary."): _clean(row[c])
                             for c in df.columns if c.startswith("summary.")
                             and _clean(row[c]) is not None},
                 "metric_value": _clean(row["metric_value"]),
                 "runtime": _clean(row["runtime"]), "steps": int(row["steps"]),
                 "checkpoint": _clean(row["checkpoint"])}
        if values:  # a multi-objective sweep: each metric's value and the run's front
            entry["metric_values"] = {c.removeprefix("value."): _clean(row[c]) for c in values}
            entry["front"] = _clean(row["front"])
        out.append(entry)
    click.echo(json.dumps(out, indent=2, default=str))


@click.command()
@click.argument("sweep_id")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Folder for PNGs.")
@backend_options
def plot(sweep_id: str, out: str, where: dict) -> None:
    """Write the sweep's plots (parallel coordinates, importance, metric by step, parameters)."""
    from pathlib import Path

    from .. import analysis
    from ..errors import BadInput

    try:  # before the runs are read: a folder that cannot be made is bad input, named at once
        Path(out).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BadInput(f"--out {out}: cannot make the folder ({exc.strerror})") from None
    df = analysis.runs(sweep_id, backend=backend_for(where, sweep=sweep_id, read_only=True),
                       history=True)
    written = analysis.plot(df, out)
    for path in written:
        click.echo(str(path))
    if not written:
        click.echo(f"no plots: no run of sweep {sweep_id} has a value of its metric yet",
                   err=True)


@click.command()
@click.argument("sweep_id")
@click.option("--name", default=None, help="Registered model name (default: the sweep's name).")
@click.option("--alias", "aliases", multiple=True, help="Alias to point at it (repeatable).")
@click.option("--run", default=None, help="Promote this run instead of the best.")
@click.option("--by", default=None, metavar="METRIC",
              help="A sweep of several metrics: promote the run of its Pareto front that is "
                   "best by this metric (required there: the front has no one best run).")
@backend_options
def promote(sweep_id: str, name: str | None, aliases: tuple[str, ...], run: str | None,
            by: str | None, where: dict) -> None:
    """Register the best run's best checkpoint as a new version of a model: in the local
    registry for a local sweep, in the W&B Registry for a W&B sweep."""
    from .. import analysis

    version = analysis.promote(sweep_id, name=name, aliases=aliases, run=run, by=by,
                               backend=backend_for(where, sweep=sweep_id, read_only=True))
    verb = "registered" if version.created else "already registered as"
    click.echo(f"{verb} {version.name}:{version.version} (aliases: {', '.join(version.aliases)}) "
               f"from run {version.metadata.get('run')}")
    if version.note:
        click.echo(version.note)
    click.echo(str(version.path.resolve()) if hasattr(version.path, "resolve") else
               str(version.path))


@click.group(name="registry")
def registry_group() -> None:
    """The local model registry (.sweeper/registry, or SWEEPER_REGISTRY)."""


@registry_group.command(name="list")
def registry_list() -> None:
    """Registered models."""
    names = registry.models()
    for name in names:
        versions = registry.show(name)
        click.echo(f"{name}  {len(versions)} version{'s' if len(versions) != 1 else ''}")
    if not names:
        click.echo(f"no registered models in {registry.root()}", err=True)


@registry_group.command(name="show")
@click.argument("reference")
def registry_show(reference: str) -> None:
    """A model's versions, or the folder of NAME:ALIAS."""
    if ":" in reference:
        click.echo(str(registry.load(reference)))
        return
    for meta in registry.show(reference):
        click.echo(f"{meta['version']}  {', '.join(meta['aliases']) or '-'}  run {meta.get('run')}"
                   f"  {meta.get('metric')}={meta.get('value')}  "
                   f"{registry.root() / reference / meta['version']}")


COMMANDS = [results, plot, promote, registry_group]

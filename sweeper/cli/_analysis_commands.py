"""Commands on a sweep's results: results, promote, registry."""

from __future__ import annotations

import json
import math

import click

from .. import registry
from ._sweep_commands import backend_for, backend_options


def _clean(value):
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


@click.command()
@click.argument("sweep_id")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True)
@click.option("--top", type=click.IntRange(min=1), default=None, help="Only the best K.")
@backend_options
def results(sweep_id: str, fmt: str, top: int | None, where: dict) -> None:
    """The sweep's runs: a ranked table of configurations, or every run as csv/json."""
    from .. import analysis

    df = analysis.runs(sweep_id, backend=backend_for(where, sweep=sweep_id, read_only=True))
    info = df.attrs["sweep"]
    params = analysis.parameter_columns(df)
    if fmt in ("json", "csv"):  # every run, in the ranking's order, cut like the table
        rows = analysis.ordered(df)
        rows = rows.head(top) if top else rows
        if fmt == "csv":
            click.echo(rows.drop(columns=[c for c in ("history",) if c in rows])
                       .to_csv(index=False), nl=False)
            return
        out = []
        for _, row in rows.iterrows():
            out.append({"name": row["name"], "state": row["state"],
                        "config": {p: _clean(row[p]) for p in params},
                        "summary": {c.removeprefix("summary."): _clean(row[c])
                                    for c in df.columns if c.startswith("summary.")
                                    and _clean(row[c]) is not None},
                        "metric_value": _clean(row["metric_value"]),
                        "runtime": _clean(row["runtime"]), "steps": int(row["steps"]),
                        "checkpoint": _clean(row["checkpoint"])})
        click.echo(json.dumps(out, indent=2, default=str))
        return
    ranked = analysis.rank(df)
    click.echo(f"sweep {info['id']} ({info['name']}): {len(df)} runs, metric {info['metric']} "
               f"({info['goal']})")
    if ranked.empty:
        click.echo("no finished run reported the metric")
    else:
        shown = ranked.head(top) if top else ranked
        constant = [c for c in params if c in shown and df[c].astype(str).nunique() <= 1]
        shown = shown.drop(columns=constant)
        if (ranked["n"] == 1).all():  # every configuration ran once: no spread to show
            shown = shown.drop(columns=["n", "std", "ci_low", "ci_high", "best"]).rename(
                columns={"mean": info["metric"]})
        click.echo(shown.to_string(float_format=lambda v: f"{v:.4g}"))
        apart = ranked.attrs.get("top_two_distinguishable")
        if apart is False:
            click.echo("the top two configurations are not distinguishable (their 95% intervals "
                       "overlap)")
    bad = analysis.failed(df)
    if len(bad):
        click.echo(f"not ranked: {len(bad)} runs " + ", ".join(
            f"{r['name']} ({r['state']})" for _, r in bad.iterrows()))


@click.command()
@click.argument("sweep_id")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Folder for PNGs.")
@backend_options
def plot(sweep_id: str, out: str, where: dict) -> None:
    """Write the sweep's plots (parallel coordinates, importance, metric by step, parameters)."""
    from .. import analysis

    df = analysis.runs(sweep_id, backend=backend_for(where, sweep=sweep_id, read_only=True),
                       history=True)
    for path in analysis.plot(df, out):
        click.echo(str(path))


@click.command()
@click.argument("sweep_id")
@click.option("--name", default=None, help="Registered model name (default: the sweep's name).")
@click.option("--alias", "aliases", multiple=True, help="Alias to point at it (repeatable).")
@click.option("--run", default=None, help="Promote this run instead of the best.")
@backend_options
def promote(sweep_id: str, name: str | None, aliases: tuple[str, ...], run: str | None,
            where: dict) -> None:
    """Register the best run's best checkpoint as a new version of a model: in the local
    registry for a local sweep, in the W&B Registry for a W&B sweep."""
    from .. import analysis

    version = analysis.promote(sweep_id, name=name, aliases=aliases, run=run,
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
    for name in registry.models():
        versions = registry.show(name)
        click.echo(f"{name}  {len(versions)} version{'s' if len(versions) != 1 else ''}")


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

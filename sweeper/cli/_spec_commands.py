"""Commands on sweep files: validate, explain, init."""

from __future__ import annotations

import click

from .. import spec
from ..backends._choose import BACKENDS
from ..errors import SpecError


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=True))
@click.option("--backend", type=click.Choice(BACKENDS), envvar="SWEEPER_BACKEND", default=None,
              help="Also check what this backend can run (W&B: grid, random and bayes over "
                   "one metric; also SWEEPER_BACKEND).")
def validate(files: tuple[str, ...], backend: str | None) -> int:
    """Check sweep files against W&B's schema and the task args.

    Prints "FILE: ok" for each valid file and "FILE: key.path: what is wrong" for each problem;
    exits 2 when any file has a problem.
    """
    failed = False
    for path in files:
        try:
            config, read_warnings = spec.read_document(path)
        except SpecError as exc:
            failed = True
            for line in exc.lines():
                click.echo(line, err=True)
            continue
        errors, warnings = spec.find_problems(config, backend=backend)
        for key, message in [*read_warnings, *warnings]:
            click.echo(f"{path}: {key}: warning: {message}", err=True)
        if errors:
            failed = True
            for line in SpecError(errors, path).lines():
                click.echo(line, err=True)
        else:
            click.echo(f"{path}: ok")
    return 2 if failed else 0


@click.command()
@click.argument("file", type=click.Path(dir_okay=True))
def explain(file: str) -> None:
    """Say in words what a sweep file will do: method, metric, distributions, grid size, stops."""
    config, warnings = spec.load_with_warnings(file)
    for line in warnings:
        click.echo(line, err=True)
    click.echo(file)
    for line in spec.explain(config):
        click.echo(f"  {line}")


@click.command()
@click.option("--task", type=click.Choice(list(spec.TASK_METRICS)), default="classification",
              show_default=True, help="What the built-in agent trains.")
@click.option("--method", type=click.Choice(list(spec.METHODS)), default="bayes",
              show_default=True)
@click.option("--run-cap", type=click.IntRange(min=1), default=None,
              help="Most runs (default 20 for random/bayes; a grid ends by itself).")
@click.option("--hyperband/--no-hyperband", default=None,
              help="Hyperband early termination (default: on for bayes).")
@click.option("--param", "params", multiple=True, metavar="NAME",
              help="Search only these args (repeatable); default: "
                   + ", ".join(spec.DEFAULT_SPACE))
@click.option("--name", default=None, help="The sweep's name.")
@click.option("--train-file", default=None, metavar="PATH",
              help="The training data (needed by every task but classification, which "
                   "defaults to Rotten Tomatoes).")
@click.option("--eval-file", default=None, metavar="PATH", help="The evaluation data.")
def init(task: str, method: str, run_cap: int | None, hyperband: bool | None,
         params: tuple[str, ...], name: str | None, train_file: str | None,
         eval_file: str | None) -> None:
    """Write a ready, valid sweep over the documented hyperparameters to stdout."""
    from ..spec._task_arg_checks import DATA_FORMATS

    if task in DATA_FORMATS and not train_file:
        raise click.BadParameter(f"the {task} task has no built-in data: give --train-file "
                                 f"(and --eval-file), {DATA_FORMATS[task]}",
                                 param_hint="--train-file")
    try:
        parameters = spec.default_parameters(method, list(params) or None)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--param") from None
    data = {k: v for k, v in (("train_file", train_file), ("eval_file", eval_file)) if v}
    config = spec.build_sweep(method, task=task, parameters=parameters, hyperband=hyperband,
                              run_cap=run_cap, name=name, fixed=data or None)
    spec.validate(config)
    import yaml

    click.echo(yaml.safe_dump(config, sort_keys=False), nl=False)


COMMANDS = [validate, explain, init]

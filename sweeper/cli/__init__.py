"""The `sweeper` command line. Exit codes: 0 ok, 1 run-time failure, 2 bad input."""

from __future__ import annotations

import os
import sys
import warnings

import click

from ..errors import SpecError, SweeperError
from . import (
    _agent_commands,
    _analysis_commands,
    _dashboard_commands,
    _exec_commands,
    _spec_commands,
    _sweep_commands,
    _sync_commands,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="sweeper")
def cli() -> None:
    """Hyperparameter sweeps for Hugging Face fine-tuning, on W&B Sweeps or with no server."""


for _module in (_spec_commands, _sweep_commands, _agent_commands, _analysis_commands,
                _dashboard_commands, _sync_commands, _exec_commands):
    for _command in _module.COMMANDS:
        cli.add_command(_command)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; every failure becomes one line on stderr and an exit code, never a traceback."""
    warnings.filterwarnings("ignore", module="pydantic")
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    try:
        code = cli.main(args=argv, prog_name="sweeper", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("sweeper: interrupted", err=True)
        sys.exit(130)
    except click.UsageError as exc:  # a bad option or argument: one line, like every bad input
        where = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
        click.echo(f"sweeper: error: {exc.format_message()}{where}", err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except SpecError as exc:  # one line per problem of the file
        for line in exc.lines():
            click.echo(f"sweeper: error: {line}", err=True)
        sys.exit(exc.exit_code)
    except SweeperError as exc:
        click.echo(f"sweeper: error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("sweeper: interrupted", err=True)
        sys.exit(130)
    except OSError as exc:  # the system refused a file: which one, and why (no such folder,
        if os.environ.get("SWEEPER_DEBUG"):  # permission denied, disk full)
            raise
        where = f": {exc.filename}" if exc.filename else ""
        click.echo(f"sweeper: error: {exc.strerror or exc}{where}", err=True)
        sys.exit(1)
    except Exception as exc:  # a bug of ours: still one line, the traceback on request
        if os.environ.get("SWEEPER_DEBUG"):
            raise
        click.echo(f"sweeper: internal error: {type(exc).__name__}: {exc} "
                   "(set SWEEPER_DEBUG=1 to see the traceback)", err=True)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)

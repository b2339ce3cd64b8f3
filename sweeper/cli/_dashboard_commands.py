"""The live dashboard of local sweeps: `sweeper dashboard [SWEEP]`."""

from __future__ import annotations

import click

from ..errors import BadInput
from ._sweep_commands import backend_for, backend_options


@click.command()
@click.argument("sweep_id", required=False)
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True,
              help="Port on localhost (0: any free port).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (the default serves this machine only).")
@backend_options
def dashboard(sweep_id: str | None, port: int, host: str, where: dict) -> None:
    """A live dashboard of the sweeps in the storage (or of SWEEP_ID alone), on localhost:
    runs with state, parameters and metric; metric by step; best so far; parallel
    coordinates; parameter importance; each run's log. Read-only; Ctrl-C stops it."""
    backend = backend_for(where, sweep=sweep_id, read_only=True)
    if backend.name != "local":
        raise BadInput(f"sweeper dashboard shows local sweeps; a W&B sweep has its own "
                       f"dashboard on W&B ({sweep_id})")
    from ..dashboard import Dashboard, SweeperStorage

    only = backend.find_sweep(sweep_id).id if sweep_id else None
    try:
        server = Dashboard(SweeperStorage(backend, only=only), host=host, port=port)
    except OSError as exc:
        raise BadInput(f"--port {port}: cannot listen on {host}:{port} ({exc.strerror}); "
                       "choose another port (--port 0 picks a free one)") from None
    url = server.url + ("/studies/1" if only else "")
    click.echo(f"sweeper dashboard of {backend.location} at {url} (read-only; Ctrl-C stops it)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        server.stop()


COMMANDS = [dashboard]

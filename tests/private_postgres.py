"""A private PostgreSQL cluster on a free local port, which a test or a benchmark can stop and
start again (an outage) without touching the machine's own server."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def binaries() -> Path | None:
    """The folder of initdb/pg_ctl, or None where PostgreSQL's server is not installed."""
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(folder, "initdb").exists() and Path(folder, "pg_ctl").exists():
            return Path(folder)
    found = shutil.which("pg_ctl")
    return Path(found).parent if found and shutil.which("initdb") else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PrivateCluster:
    """``with PrivateCluster() as pg:`` a running cluster at ``pg.url``; ``pg.stop()`` and
    ``pg.start()`` take it away and bring it back (same data, same port)."""

    def __init__(self):
        found = binaries()
        if found is None:
            raise RuntimeError("PostgreSQL's server (initdb, pg_ctl) is not installed")
        self.bin = found
        # Outside pytest's private temporary folders: the server runs as user postgres.
        self.root = Path(tempfile.mkdtemp(prefix="sweeper-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            os.chmod(self.root, 0o755)
            shutil.chown(self.root, "postgres", "postgres")

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        argv = [str(self.bin / args[0]), *args[1:]]
        if self._as_postgres:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        return subprocess.run(argv, capture_output=True, text=True, check=check, timeout=120)

    def __enter__(self) -> PrivateCluster:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "--no-sync", "-E", "UTF8")
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop(check=False)
        shutil.rmtree(self.root, ignore_errors=True)

    def start(self) -> None:
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} "
                   "-c fsync=off -c max_connections=200")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l",
                  str(self.root / "server.log"), "-w", "-t", "60", "start")

    def stop(self, check: bool = True) -> None:
        """Stop now, as a crash or a restart would: every connection is cut."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", check=check)

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = self._run("pg_ctl", "-D", str(self.data), "status", check=False)
            if done.returncode == 0:
                return
            time.sleep(0.2)
        raise TimeoutError("the private PostgreSQL cluster did not come up")

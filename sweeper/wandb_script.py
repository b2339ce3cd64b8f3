"""Running an unmodified W&B sweep script on the local backend: no server, no account.

The W&B programs of tutorials and public repositories are mostly one Python file that builds a
sweep config, calls ``wandb.sweep(config, project=...)`` and then ``wandb.agent(sweep_id,
function=train, count=N)``. ``sweeper exec script.py`` runs such a file as ``python script.py``
would, with those two calls answered by the local backend: ``wandb.sweep`` validates the config
and creates a local sweep (a new one on every call, as on W&B), ``wandb.agent`` runs the function
once per run in this process, as ``wandb.agent`` does (``sweeper.agent.run_function``). The
runs' ``wandb.init``/``wandb.log`` are W&B's own, offline unless ``WANDB_MODE`` says otherwise, so
``wandb.login()`` does not ask for a key. ``wandb.controller`` (a controller run by the script
itself) is refused in one line: the local backend is the controller.

>>> import wandb
>>> with redirected(Session(backend, "train.py")):  # doctest: +SKIP
...     sweep_id = wandb.sweep({"method": "random", "parameters": {...}})
...     wandb.agent(sweep_id, function=train, count=5)
"""

from __future__ import annotations

import contextlib
import os
import runpy
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .backends import Backend
from .errors import BadInput


@dataclass
class Session:
    """The sweeps a script made and the runs it ran, for the closing lines."""

    backend: Backend
    script: str
    sweeps: list[str] = field(default_factory=list)
    runs: int = 0

    def sweep(self, sweep: dict | Callable[[], dict], entity: str | None = None,
              project: str | None = None, prior_runs: list[str] | None = None) -> str:
        """``wandb.sweep``: a new local sweep of the config; its id."""
        config = sweep() if callable(sweep) else sweep
        if not isinstance(config, dict):
            raise BadInput(f"{self.script}: wandb.sweep: the sweep config is a "
                           f"{type(config).__name__}, not a dict")
        config = dict(config)
        project = project or config.get("project")
        if project:  # as wandb.sweep sets WANDB_PROJECT: the runs log to that project
            config["project"] = project
            os.environ["WANDB_PROJECT"] = str(project)
        if prior_runs:
            print(f"sweeper: wandb.sweep: prior_runs ({len(prior_runs)}) are W&B runs; the "
                  "local sweep starts without them", file=sys.stderr)
        checked = self.backend.check_config(config)
        made = self.backend.create_sweep(checked, name=self._free_name(checked.get("name")))
        self.sweeps.append(made.id)
        print(f"sweeper: wandb.sweep: created sweep {made.id} ({made.name}, "
              f"{made.config['method']}) in {made.location}", file=sys.stderr)
        return made.id

    def agent(self, sweep_id: str, function: Callable[[], object] | None = None,
              entity: str | None = None, project: str | None = None,
              count: int | None = None, **_ignored: Any) -> None:
        """``wandb.agent``: run ``function`` for ``count`` runs of the sweep (all, without)."""
        from .agent import run_function

        if function is None:
            raise BadInput(f"{self.script}: wandb.agent({sweep_id!r}) without a function runs "
                           "the sweep's program: run it with `sweeper agent "
                           f"{sweep_id}`")
        if project:
            os.environ["WANDB_PROJECT"] = str(project)
        found = self.backend.find_sweep(str(sweep_id).rsplit("/", 1)[-1])
        self.runs += run_function(self.backend, found.id, function, count=count)

    def controller(self, *_args: Any, **_kwargs: Any) -> None:
        raise BadInput(f"{self.script}: wandb.controller runs a W&B sweep's controller in the "
                       "script; under sweeper exec the local backend is the controller: call "
                       "wandb.agent(sweep_id, function=...) instead")

    def _free_name(self, name: str | None) -> str | None:
        """The config's name, or name-2, name-3, ... where a sweep has it: each call makes a
        new sweep, as on W&B (a local sweep of an existing name would go on with that one)."""
        if not name:
            return None
        taken = {s.name for s in self.backend.sweeps()}
        candidate, k = name, 1
        while candidate in taken:
            k += 1
            candidate = f"{name}-{k}"
        return candidate


@contextlib.contextmanager
def redirected(session: Session) -> Iterator[Session]:
    """``wandb.sweep``, ``wandb.agent`` and ``wandb.controller`` answered by the session's
    backend while the block runs; runs offline unless ``WANDB_MODE`` is set."""
    import wandb

    saved = {name: getattr(wandb, name) for name in ("sweep", "agent", "controller")}
    saved_env = dict(os.environ)
    os.environ.setdefault("WANDB_MODE", "offline")
    wandb.sweep, wandb.agent, wandb.controller = (session.sweep, session.agent,
                                                  session.controller)
    try:
        yield session
    finally:
        for name, value in saved.items():
            setattr(wandb, name, value)
        os.environ.clear()
        os.environ.update(saved_env)


def run_script(backend: Backend, path: str, args: list[str],
               session: Session | None = None) -> Session:
    """Run the Python file ``path`` as ``python path args...`` would, its W&B sweeps on
    ``backend`` (recorded in ``session``, which the caller may hold to see them after a
    failure). The script's own exceptions and ``sys.exit`` go up as they are."""
    session = session or Session(backend, path)
    script = Path(path)
    if not script.is_file():
        raise BadInput(f"{path}: no such file")
    saved_argv, saved_path = list(sys.argv), list(sys.path)
    sys.argv = [str(script), *args]
    sys.path.insert(0, str(script.resolve().parent))  # as python puts the script's folder first
    try:
        with redirected(session):
            runpy.run_path(str(script), run_name="__main__")
        return session
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path

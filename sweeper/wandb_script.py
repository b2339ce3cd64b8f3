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
        """``wandb.agent``: run ``function`` for ``count`` runs of the sweep (all, without);
        without a function, run the sweep's ``program``/``command`` as ``sweeper agent`` does
        (as ``wandb.agent`` and the ``wandb agent`` command do)."""
        from .agent import run_function

        if project:
            os.environ["WANDB_PROJECT"] = str(project)
        found = self.backend.find_sweep(str(sweep_id).rsplit("/", 1)[-1])
        if function is None:
            self._program_agent(found.id, count)
            return
        self.runs += run_function(self.backend, found.id, function, count=count)

    def _program_agent(self, sweep_id: str, count: int | None) -> None:
        """One agent in this process running the sweep's program, its GPUs the process's own
        (CUDA_VISIBLE_DEVICES as the script set it); Ctrl-C ends it as it ends `sweeper agent`."""
        import signal
        import threading

        from .agent import run_agents

        main_thread = threading.current_thread() is threading.main_thread()
        handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)} \
            if main_thread else {}
        try:
            code = run_agents(self.backend, sweep_id, [None], count=count,
                              config=self.backend.sweep(sweep_id).config)
        finally:
            for signum, handler in handlers.items():
                signal.signal(signum, handler)
        if code == 130:
            raise KeyboardInterrupt

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


# Set in the environment of the processes an exec'd script starts: the script's name. A Python
# process started with it (multiprocessing's spawn, torch.multiprocessing, `python worker.py`)
# answers its own wandb.sweep/wandb.agent from the same storage (SWEEPER_STORAGE), through
# sweeper/_inject/sitecustomize.py on PYTHONPATH.
EXEC_ENV = "SWEEPER_EXEC"


ANSWERED = ("sweep", "agent", "controller")  # the wandb functions a Session answers


def _answer(wandb_module: Any, session_of: Callable[[], Session]) -> dict[str, Any]:
    """Point ``wandb.sweep``/``agent``/``controller`` at the session that ``session_of``
    gives when they are called; return what they were."""
    saved = {name: getattr(wandb_module, name) for name in ANSWERED}

    def answering(name: str) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            return getattr(session_of(), name)(*args, **kwargs)

        return call

    for name in ANSWERED:
        setattr(wandb_module, name, answering(name))
    return saved


_started_sessions: list[Session] = []


def _started_session() -> Session:
    """The session of a process an exec'd script started: its storage, opened on first use
    (not on import)."""
    if not _started_sessions:
        from .backends import open_backend

        backend = open_backend(os.environ["SWEEPER_STORAGE"], kind="local", create=False)
        _started_sessions.append(Session(backend, os.environ.get(EXEC_ENV) or "script"))
    return _started_sessions[0]


def answer_in_started_process(wandb_module: Any) -> None:
    """In a process that an exec'd script started, right after it imports wandb: its sweeps and
    agents are the script's local ones (a ``wandb.agent`` in a spawned worker runs that sweep)."""
    _answer(wandb_module, _started_session)
    agent_module = sys.modules.get("wandb.wandb_agent")
    if agent_module is not None:  # the `wandb agent SWEEP_ID` command calls this one
        agent_module.agent = wandb_module.agent


def answer_commands(cli_module: Any) -> None:
    """In the same process, once it imports the wandb CLI: ``wandb sweep FILE`` (and its
    ``--stop``, ``--cancel``, ...) acts on the script's local storage, and ``wandb login``
    needs no key while the runs log offline (``wandb_commands``)."""
    from . import wandb_commands

    wandb_commands.answer(cli_module, _started_session)


def _started_processes_env(session: Session) -> dict[str, str]:
    """What the processes the script starts need to answer wandb.agent from the same storage."""
    from .agent._command import INJECT_DIR, python_path

    url = getattr(session.backend, "url", None)
    if not url:
        return {}
    if url.startswith("sqlite:///") and not os.path.isabs(url[len("sqlite:///"):]):
        url = "sqlite:///" + os.path.abspath(url[len("sqlite:///"):])  # the script may chdir
    modules = os.environ.get("PYTHONPATH")
    return {"SWEEPER_STORAGE": url, EXEC_ENV: session.script,
            "PYTHONPATH": os.pathsep.join(p for p in [str(INJECT_DIR), modules] if p),
            "PATH": python_path(dict(os.environ))}


@contextlib.contextmanager
def redirected(session: Session) -> Iterator[Session]:
    """``wandb.sweep``, ``wandb.agent`` and ``wandb.controller`` answered by the session's
    backend while the block runs, in this process and in the Python processes it starts; runs
    offline unless ``WANDB_MODE`` is set."""
    import wandb

    saved_env = dict(os.environ)
    os.environ.setdefault("WANDB_MODE", "offline")
    os.environ.update(_started_processes_env(session))
    saved = _answer(wandb, lambda: session)
    try:
        yield session
    finally:
        for name, value in saved.items():
            setattr(wandb, name, value)
        os.environ.clear()
        os.environ.update(saved_env)


def run_script(backend: Backend, path: str, args: list[str],
               session: Session | None = None) -> Session:
    """Run the file ``path`` as ``python path args...`` would (a shell script or another
    program: as its shebang or ``bash`` runs it), its W&B sweeps on ``backend`` (recorded in
    ``session``, which the caller may hold to see them after a failure). The script's own
    exceptions and ``sys.exit`` (a program's exit code) go up as they are."""
    session = session or Session(backend, path)
    script = Path(path)
    if not script.is_file():
        raise BadInput(f"{path}: no such file")
    if script.suffix != ".ipynb" and not is_python(script):
        with redirected(session):
            code = _run_program(script, args)
        if code:
            raise SystemExit(code)
        return session
    saved_argv, saved_path = list(sys.argv), list(sys.path)
    sys.argv = [str(script), *args]
    sys.path.insert(0, str(script.resolve().parent))  # as python puts the script's folder first
    try:
        with redirected(session):
            if script.suffix == ".ipynb":  # its code cells, in order, in an IPython shell
                from .notebook_script import run_notebook

                run_notebook(script)
            else:
                runpy.run_path(str(script), run_name="__main__")
        return session
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path


def is_python(script: Path) -> bool:
    """A Python file: named ``.py``, or a file whose shebang names python."""
    first = _first_line(script)
    return script.suffix in (".py", ".pyw") or (first.startswith(b"#!") and b"python" in first)


def _first_line(script: Path) -> bytes:
    try:
        with script.open("rb") as file:
            return file.readline(200)
    except OSError:
        return b""


def _run_program(script: Path, args: list[str]) -> int:
    """A shell script (or another program) as a process of its own, in this environment (whose
    ``wandb sweep`` and ``wandb agent`` commands answer from the local storage); its exit code.
    Ctrl-C reaches it as it reaches this process (the same process group)."""
    import subprocess

    if os.access(script, os.X_OK):
        argv = [str(script.resolve()), *args]
    elif script.suffix in (".sh", ".bash") or _first_line(script).startswith(b"#!"):
        argv = ["bash", str(script), *args]
    else:
        raise BadInput(f"{script}: not a Python file, a shell script (.sh) or an executable "
                       "file; sweeper exec runs those")
    process = subprocess.Popen(argv)
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.wait()
        raise

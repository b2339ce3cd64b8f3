"""How a run is started: the sweep's program or command with W&B's macros, and its environment.

The macros are expanded as ``wandb agent`` expands them (W&B's own helpers,
``wandb.sdk.launch.sweeps.utils``): ``${interpreter}`` is ``python`` from PATH, ``${env}`` is
``/usr/bin/env``, each item of ``command`` is made text with ``str()``. The result is an
argument list, never a shell line. Nothing is refused because no file of the program's name is
in the working directory (a module, a console script, an absolute path are all programs): a
program that cannot start fails its run with the OS's reason.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

from .. import _wandb_env, spec
from .._keys import disarm_debug_logs

DEFAULT_COMMAND = ["${env}", "${interpreter}", "${program}", "${args}"]
PACKAGE = Path(__file__).resolve().parent.parent
INJECT_DIR = PACKAGE / "_inject"
# The built-in trainer, for a sweep that names no program (agents/train.py in a checkout).
BUILTIN_TRAINER = PACKAGE / "_programs" / "train.py"


@dataclass
class RunFiles:
    """The files of one run under ``.sweeper/runs/SWEEP/RUN/`` (private: 0700, files 0600).

    Each attempt of the run writes its metrics to a file of its own (``metrics.jsonl``, then
    ``metrics.2.jsonl``, ...), so that a resumed run can find what an earlier attempt wrote.
    """

    folder: Path
    attempt: int = 1

    @classmethod
    def under(cls, runs_dir: Path, run_name: str, run_id: str, attempt: int = 1) -> RunFiles:
        """The run's folder in ``runs_dir``, named after the run but never outside it."""
        safe = re.sub(r"[^\w.+@-]+", "_", run_name).strip("._") or run_id
        folder = runs_dir / safe
        if folder.resolve().parent != runs_dir.resolve():
            folder = runs_dir / run_id
        return cls(folder, attempt)

    @property
    def params_yaml(self) -> Path:
        return self.folder / "params.yaml"

    @property
    def params_json(self) -> Path:
        return self.folder / "params.json"

    @property
    def metrics(self) -> Path:
        return self.metrics_of(self.attempt)

    def metrics_of(self, attempt: int) -> Path:
        return self.folder / ("metrics.jsonl" if attempt == 1 else f"metrics.{attempt}.jsonl")

    @property
    def log(self) -> Path:
        return self.folder / "output.log"

    def make(self) -> None:
        """Create the folder (0700) and its log (0600); OSError when the disk refuses."""
        for parent in reversed([self.folder, *self.folder.parents][:4]):
            if not parent.exists():
                parent.mkdir(mode=0o700, exist_ok=True)
        descriptor = os.open(self.log, os.O_CREAT | os.O_APPEND | os.O_WRONLY, 0o600)
        os.close(descriptor)


def resolve_program(config: dict, cwd: Path) -> str:
    """The program a run starts: the sweep's, or the built-in trainer when it names none, or
    names the repository's ``agents/train.py`` (as ``sweeper init`` and the example sweeps do)
    where the runs start in a folder without one: the same trainer, installed with sweeper."""
    program = config.get("program")
    if program is None:
        return str(BUILTIN_TRAINER) if not config.get("command") else ""
    if _installed_stands_in(program, cwd):
        return str(BUILTIN_TRAINER)
    return str(program)


def _installed_stands_in(program: Any, cwd: Path) -> bool:
    """Whether ``program`` is the repository's trainer by its own name (``agents/train.py``,
    relative) and ``cwd`` has no such file: a user's own agents/train.py is theirs to run."""
    return (isinstance(program, str) and PurePath(program) == PurePath(spec.BUILTIN_PROGRAM)
            and not (cwd / program).is_file())


def program_warning(config: dict, cwd: Path) -> str | None:
    """A warning when the program looks missing (never a refusal: it may be a module or a
    script on PATH the runs will find)."""
    program = config.get("program")
    command = [str(c) for c in (config.get("command") or DEFAULT_COMMAND)]
    if program is None or "${program}" not in command or _installed_stands_in(program, cwd):
        return None
    before = command[command.index("${program}") - 1] if command.index("${program}") else ""
    if before == "-m":
        return None  # a module
    if before in ("${env}", "") or before.startswith("/usr/bin/env"):
        if shutil.which(str(program)) or (cwd / str(program)).is_file():
            return None
        return (f"program {program!r} is neither a file in {cwd} nor a command on PATH; its "
                "runs will fail unless it is found when they start")
    if (cwd / str(program)).is_file() or Path(str(program)).is_absolute():
        return None
    return (f"program {program!r} is not a file in {cwd} (where the runs start); its runs "
            "will fail unless the interpreter finds it")


def build_argv(config: dict, params: dict, files: RunFiles, program: str) -> list[str]:
    """The run's argument list, macros expanded exactly as W&B's agent expands them."""
    from wandb.sdk.launch.sweeps.utils import create_sweep_command, create_sweep_command_args

    command = create_sweep_command(list(config.get("command") or DEFAULT_COMMAND))
    args = create_sweep_command_args({"args": {k: {"value": v} for k, v in params.items()}})
    args["interpreter"] = ["python"]  # as wandb agent: `python` from PATH (see run_env)
    args["program"] = [program]
    args["args_json_file"] = [str(files.params_json)]
    args["env"] = ["/usr/bin/env"] if os.name != "nt" else []
    argv: list[str] = []
    for chunk in command:
        chunk = str(chunk)
        if chunk.startswith("${") and chunk.endswith("}"):
            argv += [str(a) for a in args.get(chunk[2:-1]) or []]
        else:
            argv.append(chunk)
    return argv


def write_params(files: RunFiles, params: dict) -> None:
    import yaml

    files.make()
    for path, text in ((files.params_yaml,
                        yaml.safe_dump({k: {"value": v} for k, v in params.items()})),
                       (files.params_json, json.dumps(params))):
        descriptor = os.open(path, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)


def python_path(base: dict[str, str]) -> str:
    """PATH for a run. ``python`` (what ``${interpreter}`` is, as under wandb agent) is the one
    PATH gives, except where sweeper runs from a virtual environment that is not activated:
    then that environment comes first, as activating it would do."""
    path = base.get("PATH", os.defpath)
    in_venv = sys.prefix != sys.base_prefix
    activated = base.get("VIRTUAL_ENV") and Path(base["VIRTUAL_ENV"]).resolve() == \
        Path(sys.prefix).resolve()
    here = Path(sys.executable).parent
    if in_venv and not activated and (here / "python").exists():
        return os.pathsep.join([str(here), path])
    return path


def run_env(base: dict[str, str], *, run_id: str, run_name: str, sweep_id: str, sweep_name: str,
            project: str | None, files: RunFiles, device: str | None,
            attempt: int = 1) -> dict[str, str]:
    """The environment of a run: W&B's variables so an unmodified script joins the sweep, and the
    hook that mirrors its logging to the agent. The user's own WANDB_* settings win.

    A resumed run (``attempt`` > 1) keeps its W&B run id and is told so: ``WANDB_RESUME=allow``
    (W&B's own resume), ``SWEEPER_RESUME=1`` and ``SWEEPER_ATTEMPT``.
    """
    env = dict(base)
    disarm_debug_logs(env, quiet=True)  # every run of every agent passes here
    # no account needed; `wandb sync` uploads later. WANDB_DISABLED, which the SDK ignores,
    # switches the run's SDK off as HF's integration switches off for it.
    env.setdefault("WANDB_MODE", "disabled" if _wandb_env.disabled(env) else "offline")
    # for the run's children that clear WANDB_* to start runs of their own (k-fold workers):
    # the hook starts them in this mode, not online (see _inject/wandb_hook.py)
    env["SWEEPER_WANDB_MODE"] = env["WANDB_MODE"]
    if project:
        env.setdefault("WANDB_PROJECT", project)
    env["WANDB_RUN_ID"] = run_id
    env["WANDB_NAME"] = run_name
    env["WANDB_RUN_GROUP"] = sweep_name
    tags = [t for t in env.get("WANDB_TAGS", "").split(",") if t]
    env["WANDB_TAGS"] = ",".join([*tags, sweep_id])
    env["WANDB_SWEEP_PARAM_PATH"] = str(files.params_yaml)
    env.pop("WANDB_SWEEP_ID", None)  # a local sweep does not exist on a W&B server
    env.pop("SWEEPER_STORAGE", None)  # the run needs no database (it may hold a password)
    env.pop("SWEEPER_EXEC", None)  # nor does a run of an exec'd script (wandb_script)
    env["SWEEPER_PARAMS_JSON"] = str(files.params_json)
    env["SWEEPER_METRICS_FILE"] = str(files.metrics)
    env["SWEEPER_RUN_ID"] = run_id
    env["SWEEPER_SWEEP_ID"] = sweep_id
    env["SWEEPER_RUN_DIR"] = str(files.folder)
    env["SWEEPER_AGENT_PID"] = str(os.getpid())
    env["SWEEPER_ATTEMPT"] = str(attempt)
    if attempt > 1:
        env["WANDB_RESUME"] = "allow"
        env["SWEEPER_RESUME"] = "1"
    else:
        env.pop("WANDB_RESUME", None)
        env.pop("SWEEPER_RESUME", None)
    env["PATH"] = python_path(env)
    env["PYTHONPATH"] = os.pathsep.join(p for p in [str(INJECT_DIR), env.get("PYTHONPATH")] if p)
    env["PYTHONUNBUFFERED"] = "1"
    if device is not None:
        env["CUDA_VISIBLE_DEVICES"] = device
    return env


def builtin_trainer_problems(config: dict) -> list[tuple[str, str]]:
    """For a sweep that names no program (so sweeper runs the built-in trainer): each parameter
    that the trainer cannot take, saying where the check comes from."""
    if spec.targets_builtin_agent(config) or not spec.runs_builtin_trainer(config):
        return []
    from ..spec._task_arg_checks import task_arg_problems, task_data_problems

    parameters = config["parameters"]
    return [(path, f"{message} (the sweep names no program, so sweeper runs its built-in "
                   "trainer, whose args these are; name your script with `program:` to run it "
                   "instead)")
            for path, message in task_arg_problems(parameters) or task_data_problems(parameters)]

"""What W&B's agent starts for a sweep of the built-in trainer.

``wandb agent`` runs the sweep's ``command`` as it is written, from the folder it was started
in: ``python agents/train.py ...`` for a sweep that names the repository's trainer. A user who
installed sweeper (no checkout) has no such file, so every run of such a sweep failed on W&B
while the same file ran on the local backend (whose agent starts the installed trainer there).
So a sweep of the built-in trainer, created where no ``agents/train.py`` is, is created with
W&B's default command but the trainer as an installed module: it runs wherever sweeper is
installed, on any machine an agent starts on. ``program`` stays what the file says, as W&B
shows it. A folder that has its own ``agents/train.py`` runs that file, as on the local backend;
agents of such a sweep started where there is none are refused before they start.
"""

from __future__ import annotations

from pathlib import Path, PurePath

from ... import spec
from ...errors import BadInput

TRAINER_MODULE = "sweeper._programs.train"
# W&B's default command (${env} ${interpreter} ${program} ${args}), the trainer as a module.
TRAINER_COMMAND = ["${env}", "${interpreter}", "-m", TRAINER_MODULE, "${args}"]


def with_runnable_trainer(config: dict, cwd: Path) -> dict:
    """``config`` with the built-in trainer named as W&B's agent can start it from ``cwd``
    (a program of the user's own, or a command of their own, is left as it is)."""
    if config.get("command"):
        return config
    program = config.get("program")
    if program is None:
        return {**config, "program": spec.BUILTIN_PROGRAM, "command": TRAINER_COMMAND}
    if (isinstance(program, str) and PurePath(program) == PurePath(spec.BUILTIN_PROGRAM)
            and not (cwd / program).is_file()):
        return {**config, "command": TRAINER_COMMAND}
    return config


def trainer_missing(config: dict, cwd: Path) -> None:
    """Refuse to start W&B agents whose every run would fail: the sweep runs ``agents/train.py``
    as a file (created beside one), and ``cwd`` has none."""
    command = [str(c) for c in config.get("command") or ["${program}"]]
    program = config.get("program")
    if ("${program}" in command and isinstance(program, str)
            and PurePath(program) == PurePath(spec.BUILTIN_PROGRAM)
            and not (cwd / program).is_file()):
        raise BadInput(f"program {program!r} is not in {cwd}, where W&B's agent starts the "
                       "sweep's runs: start the agents in the folder the sweep was created in, "
                       "or create the sweep again from here (it then runs the installed trainer)")

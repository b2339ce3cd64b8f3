"""How a run is started: the sweep's program or command with W&B's macros, and its environment.

The macros are expanded by W&B's own helpers (``wandb.sdk.launch.sweeps.utils``), so a
``command`` behaves as under ``wandb agent``. The result is an argument list, never a shell line.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from .. import spec
from ..errors import BadInput

DEFAULT_COMMAND = ["${env}", "${interpreter}", "${program}", "${args}"]
INJECT_DIR = Path(__file__).resolve().parent.parent / "_inject"


@dataclass
class RunFiles:
    """The files of one run under ``.sweeper/runs/SWEEP/RUN/``."""

    folder: Path

    @property
    def params_yaml(self) -> Path:
        return self.folder / "params.yaml"

    @property
    def params_json(self) -> Path:
        return self.folder / "params.json"

    @property
    def metrics(self) -> Path:
        return self.folder / "metrics.jsonl"

    @property
    def log(self) -> Path:
        return self.folder / "output.log"


def resolve_program(config: dict, cwd: Path) -> str:
    """The sweep's program, checked to exist relative to the agent's working directory."""
    program = config.get("program") or spec.BUILTIN_PROGRAM
    uses_program = not config.get("command") or any("${program}" in str(c)
                                                   for c in config["command"])
    if uses_program and not (cwd / program).is_file():
        raise BadInput(f"program {program!r} not found (looked in {cwd}); the sweep's "
                       "program is relative to where the agent runs")
    return program


def build_argv(config: dict, params: dict, files: RunFiles, program: str) -> list[str]:
    """The run's argument list, macros expanded as W&B's agent expands them."""
    from wandb.sdk.launch.sweeps.utils import create_sweep_command, create_sweep_command_args

    command = create_sweep_command(list(config.get("command") or DEFAULT_COMMAND))
    args = create_sweep_command_args({"args": {k: {"value": v} for k, v in params.items()}})
    args["interpreter"] = [sys.executable]  # the Python that runs sweeper, venv included
    args["program"] = [program]
    args["args_json_file"] = [str(files.params_json)]
    args["env"] = ["/usr/bin/env"] if os.name != "nt" else []
    argv: list[str] = []
    for chunk in command:
        chunk = str(chunk)
        if chunk.startswith("${") and chunk.endswith("}"):
            argv += [str(a) for a in args.get(chunk[2:-1], [])]
        else:
            argv.append(chunk)
    return argv


def write_params(files: RunFiles, params: dict) -> None:
    files.folder.mkdir(parents=True, exist_ok=True)
    files.params_yaml.write_text(yaml.safe_dump({k: {"value": v} for k, v in params.items()}))
    files.params_json.write_text(json.dumps(params))


def run_env(base: dict[str, str], *, run_id: str, run_name: str, sweep_id: str, sweep_name: str,
            project: str | None, files: RunFiles, device: str | None) -> dict[str, str]:
    """The environment of a run: W&B's variables so an unmodified script joins the sweep, and the
    hook that mirrors its logging to the agent. The user's own WANDB_* settings win."""
    env = dict(base)
    env.setdefault("WANDB_MODE", "offline")  # no account needed; `wandb sync` uploads later
    if project:
        env.setdefault("WANDB_PROJECT", project)
    env["WANDB_RUN_ID"] = run_id
    env["WANDB_NAME"] = run_name
    env["WANDB_RUN_GROUP"] = sweep_name
    tags = [t for t in env.get("WANDB_TAGS", "").split(",") if t]
    env["WANDB_TAGS"] = ",".join([*tags, sweep_id])
    env["WANDB_SWEEP_PARAM_PATH"] = str(files.params_yaml)
    env.pop("WANDB_SWEEP_ID", None)  # a local sweep does not exist on a W&B server
    env["SWEEPER_PARAMS_JSON"] = str(files.params_json)
    env["SWEEPER_METRICS_FILE"] = str(files.metrics)
    env["SWEEPER_RUN_ID"] = run_id
    env["SWEEPER_SWEEP_ID"] = sweep_id
    env["SWEEPER_RUN_DIR"] = str(files.folder)
    env["SWEEPER_AGENT_PID"] = str(os.getpid())
    env["PYTHONPATH"] = os.pathsep.join(p for p in [str(INJECT_DIR), env.get("PYTHONPATH")] if p)
    env["PYTHONUNBUFFERED"] = "1"
    if device is not None:
        env["CUDA_VISIBLE_DEVICES"] = device
    return env

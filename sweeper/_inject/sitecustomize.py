"""Loaded at interpreter start in every run a local sweeper agent starts (via PYTHONPATH).

Installs the wandb hook when SWEEPER_METRICS_FILE is set; in a process that a `sweeper exec`
script started (SWEEPER_EXEC), answers wandb.sweep/wandb.agent from the script's storage. Then
runs any sitecustomize that this one shadows, so the user's own start-up code still runs.
"""

import importlib.machinery
import importlib.util
import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))


def _end_with_the_agent() -> None:
    """Linux: end this run when the agent that started it dies (even by SIGKILL), so that a
    killed agent leaves no training process behind holding its GPU. Only the run's own process
    (the agent's child) checks: the variable is taken out here, so the run's Python children
    (subprocess, multiprocessing spawn, torchrun workers) do not take their parent, the run, for
    a dead agent and end themselves at start."""
    agent = os.environ.pop("SWEEPER_AGENT_PID", None)
    if not agent or not sys.platform.startswith("linux"):
        return
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
        if os.getppid() != int(agent):  # the agent died before the line above
            os.kill(os.getpid(), signal.SIGTERM)
    except (OSError, ValueError, AttributeError):
        pass


if os.environ.get("SWEEPER_METRICS_FILE"):
    _end_with_the_agent()
    sys.path.insert(0, _here)
    try:
        import wandb_hook

        wandb_hook.install(wandb_hook.file_sink(os.environ["SWEEPER_METRICS_FILE"]))
        wandb_hook.end_runs_cleanly_on_sigterm()
    finally:
        sys.path.remove(_here)



class _AnswerExecsAgents:
    """A process that `sweeper exec`'s script started: once it imports wandb, its wandb.sweep
    and wandb.agent are the script's local ones, and so are the `wandb sweep` and `wandb login`
    commands once the wandb CLI is imported (sweeper.wandb_script)."""

    _ANSWERS = {"wandb": "answer_in_started_process", "wandb.cli.cli": "answer_commands"}

    def __init__(self):
        self._waiting = set(self._ANSWERS)

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in self._waiting:
            return None
        self._waiting.discard(fullname)
        if not self._waiting:
            sys.meta_path.remove(self)
        # the path finder itself, not importlib.util.find_spec: that one would ask this finder
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return None
        original_exec = spec.loader.exec_module
        answer = self._ANSWERS[fullname]

        def exec_module(module):
            original_exec(module)
            from sweeper import wandb_script

            getattr(wandb_script, answer)(module)

        spec.loader.exec_module = exec_module
        return spec


if os.environ.get("SWEEPER_EXEC") and not os.environ.get("SWEEPER_METRICS_FILE"):
    sys.meta_path.insert(0, _AnswerExecsAgents())

_others = [p for p in sys.path if os.path.abspath(p or ".") != _here]
_spec = importlib.machinery.PathFinder.find_spec("sitecustomize", _others)
if _spec is not None and _spec.loader is not None:
    _module = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(_module)

"""Loaded at interpreter start in every run a local sweeper agent starts (via PYTHONPATH).

Installs the wandb hook when SWEEPER_METRICS_FILE is set, then runs any sitecustomize that this
one shadows, so the user's own start-up code still runs.
"""

import importlib.machinery
import importlib.util
import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))


def _end_with_the_agent() -> None:
    """Linux: end this run when the agent that started it dies (even by SIGKILL), so that a
    killed agent leaves no training process behind holding its GPU."""
    agent = os.environ.get("SWEEPER_AGENT_PID")
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

_others = [p for p in sys.path if os.path.abspath(p or ".") != _here]
_spec = importlib.machinery.PathFinder.find_spec("sitecustomize", _others)
if _spec is not None and _spec.loader is not None:
    _module = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(_module)

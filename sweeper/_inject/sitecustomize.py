"""Loaded at interpreter start in every run a local sweeper agent starts (via PYTHONPATH).

Installs the wandb hook when SWEEPER_METRICS_FILE is set, then runs any sitecustomize that this
one shadows, so the user's own start-up code still runs.
"""

import importlib.machinery
import importlib.util
import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))
if os.environ.get("SWEEPER_METRICS_FILE"):
    sys.path.insert(0, _here)
    try:
        import wandb_hook

        wandb_hook.install(wandb_hook.file_sink(os.environ["SWEEPER_METRICS_FILE"]))
    finally:
        sys.path.remove(_here)

_others = [p for p in sys.path if os.path.abspath(p or ".") != _here]
_spec = importlib.machinery.PathFinder.find_spec("sitecustomize", _others)
if _spec is not None and _spec.loader is not None:
    _module = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(_module)

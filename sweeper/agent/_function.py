"""Running a Python function as the sweep's program, in this process (notebooks), as
``wandb.agent(sweep_id, function=...)`` does."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

from .. import objectives, workspace
from .._inject import wandb_hook
from ..backends import Assignment, Backend
from . import _command
from ._child_runs import ChildRelay
from ._execute import INTERRUPTED, stopped_state


class RunStopped(Exception):
    """Raised inside the function's ``wandb.log`` when the sweep says to stop the run."""


def run_function(backend: Backend, sweep_id: str, function: Callable[[], object],
                 count: int | None = None, runs_dir: Path | None = None) -> int:
    """Run ``function`` once per run of the sweep; return how many runs it ran.

    The function calls ``wandb.init()``, reads ``wandb.config`` and logs with ``wandb.log``,
    exactly as under ``wandb.agent``.
    """
    import socket

    sweep = backend.sweep(sweep_id)
    metrics = objectives.names(sweep.config)
    agent_id = backend.register_agent(sweep.id, socket.gethostname(), os.getpid(), None)
    runs_dir = Path(runs_dir or workspace.folder().resolve() / "runs") / sweep.id
    done = 0
    saved_env = dict(os.environ)
    try:
        while count is None or done < count:
            nxt = backend.next_run(sweep.id, agent_id)
            if not isinstance(nxt, Assignment):
                if nxt.wait:
                    import time

                    time.sleep(1.0)
                    continue
                break
            files = _command.RunFiles.under(runs_dir, nxt.name, nxt.run_id, nxt.attempt)
            _command.write_params(files, nxt.params)
            env = _command.run_env(saved_env, run_id=nxt.run_id, run_name=nxt.name,
                                   sweep_id=sweep.id, sweep_name=sweep.name,
                                   project=sweep.config.get("project"), files=files, device=None,
                                   attempt=nxt.attempt)
            # The hook is installed in this process. The programs the function starts get it
            # through PYTHONPATH (see _child_runs), but they are not this process's children
            # (a shell stands between), so they must not end themselves for want of that.
            env.pop("SWEEPER_AGENT_PID", None)
            os.environ.clear()
            os.environ.update(env)
            summary: dict = {}

            def sink(kind: str, data: dict, run_id: str = nxt.run_id,
                     summary: dict = summary, attempt: int = nxt.attempt) -> None:
                if kind == "summary":
                    summary.update(data)
                    return
                reason = backend.log(run_id, [data], attempt=attempt)
                if reason:
                    raise RunStopped(reason)

            _teardown_wandb()  # as wandb.agent does: the next init reads the new settings
            wandb_hook.reset()
            wandb_hook.install(sink)
            state, code, stop_reason = "finished", 0, None
            children = ChildRelay(backend, nxt.run_id, nxt.attempt, files.metrics)
            try:
                with children:
                    function()
                if children.stopped:
                    state = stopped_state(children.stopped)
            except RunStopped as stop:
                state = stopped_state(str(stop))
            except KeyboardInterrupt:  # Ctrl-C: the run ends killed, as under `sweeper agent`
                state, code, stop_reason = "killed", 130, INTERRUPTED
            except Exception as exc:  # noqa: BLE001 - a failing run is recorded, the agent goes on
                state, code = "failed", 1
                files.log.write_text(traceback.format_exc())
                print(f"run {nxt.name} failed: {type(exc).__name__}: {exc} (traceback in "
                      f"{files.log})", file=sys.stderr)  # as wandb.agent says a run errored
            finally:
                _finish_wandb()
                if not summary:
                    summary.update(wandb_hook._state["last"] or children.summary)
                wandb_hook.uninstall()
            backend.finish_run(nxt.run_id, state, summary, code, log_path=str(files.log),
                               attempt=nxt.attempt, stop_reason=stop_reason)
            if stop_reason == INTERRUPTED:
                raise KeyboardInterrupt
            for name in metrics if state == "finished" else []:
                if name not in summary:
                    print(f"warning: run {nxt.name} finished without logging the metric "
                          f"{name!r}")
            done += 1
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
        _teardown_wandb()  # wandb's settings were made for the sweep's runs: start afresh
        backend.finish_agent(agent_id)
    return done


def _teardown_wandb() -> None:
    wandb = sys.modules.get("wandb")
    if wandb is not None and hasattr(wandb, "teardown"):
        wandb.teardown()


def _finish_wandb() -> None:
    wandb = sys.modules.get("wandb")
    if wandb is not None and getattr(wandb, "run", None) is not None:
        try:
            wandb.finish()
        except Exception:  # noqa: BLE001
            pass

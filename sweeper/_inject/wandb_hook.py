"""Mirror what a program logs through the wandb SDK to the sweeper agent that started it.

Loaded before the program's own code (see sitecustomize.py beside this file), so that an
unmodified W&B training script reports to a local sweep without importing sweeper. It patches
the SDK's ``Run.log`` and ``Run.finish`` when wandb is imported (and those of ``NoopRun``, the
run of ``WANDB_MODE=disabled``, which override them to do nothing), and applies the run's sweep
parameters to ``wandb.config`` where the SDK itself does not (``WANDB_MODE=disabled``).

Only the sweep's run is mirrored. A program may make W&B runs of its own besides it, as W&B's
k-fold example does in fold workers that clear the WANDB_* variables (so their runs get new
ids): those runs are left as the SDK makes them, with the sweep's mode (``offline`` unless the
user chose another) where the program names none, rather than the SDK's default, online. The
sweep's run may end and be resumed by its id (the same example logs the folds' mean so): what it
logs and its summary after that count too.

Standard library only: it runs inside the user's program.
"""

from __future__ import annotations

import atexit
import importlib.abc
import importlib.machinery
import json
import math
import os
import sys
import weakref
from collections.abc import Callable
from typing import Any

Sink = Callable[[str, dict], None]

_state: dict[str, Any] = {"sink": None, "pending": {}, "pending_step": None, "step": 0,
                          "last": {}, "summary_sent": False, "logged": False,
                          "other_runs": weakref.WeakSet()}


def _is_sweep_run(run: Any) -> bool:
    """Whether ``run`` is the sweep's run: the one with the run id the agent gave, or the one
    started while that id is still in WANDB_RUN_ID (a program that names its own ``id``)."""
    sweep_run_id = os.environ.get("SWEEPER_RUN_ID")
    return (not sweep_run_id or getattr(run, "id", None) == sweep_run_id
            or os.environ.get("WANDB_RUN_ID") == sweep_run_id)


def _is_other_run(run: Any) -> bool:
    try:
        return run in _state["other_runs"]
    except TypeError:
        return False


def file_sink(path: str) -> Sink:
    """A sink that appends one JSON line per event and flushes it at once."""
    handle = open(path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 - lives as long as the run

    def write(kind: str, data: dict) -> None:
        handle.write(json.dumps({"kind": kind, "data": data}) + "\n")
        handle.flush()

    return write


def scalars(data: Any) -> dict:
    """The JSON-able scalar values of a logged dict (media, tables and tensors of many values
    are left out); nested dicts become dotted keys, as W&B flattens them in the run table."""
    out: dict = {}
    if not isinstance(data, dict):
        return out
    for key, value in data.items():
        key = str(key)
        if isinstance(value, dict):
            for sub, sub_value in scalars(value).items():
                out[f"{key}.{sub}"] = sub_value
            continue
        if hasattr(value, "item") and callable(value.item):
            try:
                value = value.item()
            except (ValueError, TypeError, RuntimeError):
                continue
        if isinstance(value, bool) or isinstance(value, (int, str)) or value is None:
            out[key] = value
        elif isinstance(value, float):
            out[key] = value if math.isfinite(value) else None
    return out


def _emit(kind: str, data: dict) -> None:
    sink = _state["sink"]
    if sink is not None and data:
        sink(kind, data)


def _flush_pending() -> None:
    if _state["pending"]:
        row = dict(_state["pending"])
        if _state["pending_step"] is not None:
            row["_step"] = _state["pending_step"]
        _state["pending"] = {}
        _emit("log", row)
    _state["pending_step"] = None


def record_log(data: Any, step: Any = None, commit: Any = None) -> None:
    """One ``wandb.log`` call, merged into history rows as W&B merges them (``Run._log`` and
    its core): the calls of one step make one row, which ends when a later step is logged or
    a call without ``step`` (and without ``commit=False``) is made, or with ``commit=True``. A
    call whose ``step`` is below the run's current step is dropped, as W&B drops it ("Steps
    must be monotonically increasing, so this data will be ignored")."""
    if step is not None:
        try:
            behind, ahead = step < _state["step"], step > _state["step"]
        except TypeError:  # a step W&B itself would refuse
            behind = ahead = False
        if behind:
            return
        if ahead:
            _flush_pending()
            _state["step"] = step
        _state["pending_step"] = step
    values = scalars(data)
    _state["pending"].update(values)
    _state["last"].update(values)
    _state["logged"] = True
    if (step is None and commit is None) or commit:
        _flush_pending()
        try:
            _state["step"] += 1
        except TypeError:
            pass


def plain(value: Any, depth: int = 0) -> Any:
    """A summary value as JSON holds it, nesting kept (``define_metric(summary="max")`` makes
    ``{"max": ...}``); media, tables and tensors of many values are left out (None)."""
    if depth > 8:
        return None
    if isinstance(value, dict):
        out = {str(k): plain(v, depth + 1) for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not None}
    if hasattr(value, "item") and callable(value.item):
        try:
            value = value.item()
        except (ValueError, TypeError, RuntimeError):
            return None
    if isinstance(value, bool) or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return None


def record_summary(summary: Any) -> None:
    """The program's W&B summary, as the SDK holds it when the run ends."""
    _flush_pending()
    data: dict = {}
    try:
        if isinstance(summary, dict):  # NoopRun's SummaryDisabled, whose missing attrs raise KeyError
            values = dict(summary)
        elif hasattr(summary, "_as_dict"):  # wandb.sdk.wandb_summary.Summary
            values = summary._as_dict()
        elif hasattr(summary, "keys"):
            values = {key: summary.get(key) for key in summary.keys()}
        else:
            values = {}
        data = {k: v for k, v in (plain(values) or {}).items() if not k.startswith("_")}
    except Exception:  # noqa: BLE001 - a summary we cannot read must not fail the run
        pass
    _emit("summary", data or dict(_state["last"]))
    _state["summary_sent"] = True


def _sweep_params() -> dict:
    path = os.environ.get("SWEEPER_PARAMS_JSON")
    if not path:
        return {}
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except OSError:
        return {}


def _patch_class(run_class, finish_names: tuple[str, ...]) -> None:
    """Mirror ``log`` and the finishing methods that ``run_class`` itself defines: a subclass
    that overrides them (NoopRun) is patched on its own, one that inherits them is not twice."""
    if run_class.__dict__.get("_sweeper_patched"):
        return
    run_class._sweeper_patched = True
    if "log" in run_class.__dict__:
        original_log = run_class.log

        def log(self, data, step=None, commit=None, *args, **kwargs):
            result = original_log(self, data, step, commit, *args, **kwargs)
            if not _is_other_run(self):
                record_log(data, step, commit)
            return result

        log.__wrapped__ = original_log  # type: ignore[attr-defined]
        run_class.log = log
    for name in finish_names:
        if name in run_class.__dict__:
            setattr(run_class, name, _finishing(getattr(run_class, name)))


def _finishing(original_finish):
    def finish(self, *args, **kwargs):
        if not _state["summary_sent"] and not _is_other_run(self):
            record_summary(getattr(self, "summary", None))
        return original_finish(self, *args, **kwargs)

    finish.__wrapped__ = original_finish  # type: ignore[attr-defined]
    return finish


def _patch(wandb_run_module) -> None:
    """The SDK's Run: Run.finish() and the end of ``with wandb.init() as run:`` both pass
    through _finish."""
    run_class = wandb_run_module.Run
    _patch_class(run_class, ("_finish",) if hasattr(run_class, "_finish") else ("finish",))


def _patch_noop(noop_run_module) -> None:
    """WANDB_MODE=disabled's run (wandb >= 0.2x): a Run whose log and finish do nothing, and
    whose _finish (the end of a ``with`` block) is another method."""
    run_class = getattr(noop_run_module, "NoopRun", None)
    if run_class is not None:
        _patch_class(run_class, ("finish", "_finish"))


def _names_mode(settings: Any) -> bool:
    if isinstance(settings, dict):
        return settings.get("mode") is not None
    return "mode" in (getattr(settings, "model_fields_set", None) or ())


def _sweep_mode(kwargs: dict) -> None:
    """A run started with WANDB_MODE cleared and no mode of its own takes the sweep's."""
    mode = os.environ.get("SWEEPER_WANDB_MODE")
    if (mode and "WANDB_MODE" not in os.environ and kwargs.get("mode") is None
            and not _names_mode(kwargs.get("settings"))):
        kwargs["mode"] = mode


def _patch_init(wandb_module) -> None:
    """Apply the sweep parameters where the SDK ignores WANDB_SWEEP_PARAM_PATH (disabled mode),
    locked as the SDK locks them, so that the program's own ``config.update`` cannot change
    them (W&B: "Config item 'lr' was locked by 'sweep' (ignored update)"); tell the sweep's
    run from the program's other runs."""
    original_init = wandb_module.init
    if getattr(original_init, "__sweeper__", False):
        return

    def init(*args, **kwargs):
        _sweep_mode(kwargs)
        run = original_init(*args, **kwargs)
        if not _is_sweep_run(run):
            try:
                _state["other_runs"].add(run)
            except TypeError:
                pass
            return run
        _state["summary_sent"] = False  # the sweep's run resumed after it finished, too
        params = _sweep_params()
        try:
            lock = getattr(run.config, "update_locked", None)
            locked = getattr(run.config, "_locked", None)
            missing = {k: v for k, v in params.items() if run.config.get(k, object()) != v}
            if callable(lock) and isinstance(locked, dict) and set(params) - set(locked):
                # disabled mode applies the values (wandb >= 0.2x) but does not lock them
                lock(params, user="sweep", _allow_val_change=True)
            elif missing:
                run.config.update(missing, allow_val_change=True)
        except Exception:  # noqa: BLE001
            pass
        return run

    init.__sweeper__ = True  # type: ignore[attr-defined]
    init.__wrapped__ = original_init  # type: ignore[attr-defined]
    wandb_module.init = init


# What to patch in each SDK module, right after it is executed.
_PATCHES: dict[str, Callable[[Any], None]] = {
    "wandb.sdk.wandb_run": _patch, "wandb.sdk.lib.noop_run": _patch_noop, "wandb": _patch_init}


class _PatchOnImport(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Patch wandb's Run class right after the SDK's module is executed."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in _PATCHES:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return None
        original_exec = spec.loader.exec_module

        def exec_module(module):
            original_exec(module)
            _PATCHES[fullname](module)

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def _at_exit() -> None:
    _flush_pending()
    if _state["logged"] and not _state["summary_sent"]:
        _emit("summary", dict(_state["last"]))


def _on_sigterm(signum, _frame) -> None:
    """A run told to stop (hyperband, a time-out, cancel, preemption): end it as an exit would,
    so that the W&B run is finished and complete on disk (an offline run that dies of SIGTERM
    is lost), with exit code 143 as a SIGTERM gives."""
    import signal

    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM ends it at once
    _flush_pending()
    wandb = sys.modules.get("wandb")
    run = getattr(wandb, "run", None) if wandb is not None else None
    if run is not None and not _state["summary_sent"] and not _is_other_run(run):
        record_summary(getattr(run, "summary", None))
    raise SystemExit(128 + signum)


def end_runs_cleanly_on_sigterm() -> None:
    """In a run's process (not a notebook's): SIGTERM ends the program through Python's exit,
    unless the program handles SIGTERM itself."""
    import signal

    try:
        if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
            signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread
        pass


def install(sink: Sink) -> None:
    """Start mirroring wandb logging to ``sink``; patch now if wandb is imported, else on import."""
    _state["sink"] = sink
    for name in ("wandb.sdk.wandb_run", "wandb.sdk.lib.noop_run"):
        if name in sys.modules:
            _PATCHES[name](sys.modules[name])
    if "wandb" in sys.modules and hasattr(sys.modules["wandb"], "init"):
        _patch_init(sys.modules["wandb"])
    if not any(isinstance(f, _PatchOnImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _PatchOnImport())
    atexit.register(_at_exit)


def uninstall() -> None:
    """Stop mirroring (the patches stay, inert): in-process runs end with this."""
    _state["sink"] = None


def reset() -> None:
    """Forget the current run's rows (between in-process runs)."""
    _state.update(pending={}, pending_step=None, step=0, last={}, summary_sent=False,
                  logged=False)

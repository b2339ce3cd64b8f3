"""sweeper's records as an Optuna storage, read-only, for optuna-dashboard to show.

A sweep is a study (its runs' one value of the metric as the objective; several metrics for a
multi-objective sweep), a run is a trial: finished runs are complete, runs that hyperband or a
time-out stopped are pruned (they stay visibly stopped), failed, crashed and killed runs have
failed, running ones run, requeued ones wait. Each run's metric by step is its intermediate
values; its state, stop reason, attempt, log path and the end of its log are user attributes.

Every write raises: the dashboard cannot change a sweep.
"""

from __future__ import annotations

import json
import math
import os
import threading
from datetime import datetime
from typing import Any

from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.storages import BaseStorage
from optuna.study import StudyDirection
from optuna.study._frozen import FrozenStudy
from optuna.trial import FrozenTrial, TrialState

from .. import objectives as sweep_objectives
from ..run_value import lookup, summary_value
from ..spec import _params

STATES = {"finished": TrialState.COMPLETE, "stopped": TrialState.PRUNED,
          "running": TrialState.RUNNING, "pending": TrialState.WAITING,
          "failed": TrialState.FAIL, "crashed": TrialState.FAIL, "killed": TrialState.FAIL}
TRIALS_PER_STUDY = 1_000_000  # trial id = study id * this + trial number
LOG_LINES = 30


class ReadOnly(Exception):
    """The dashboard is a view: it does not change sweeps."""


def objectives(config: dict) -> list[dict]:
    """The sweep's metrics, each {name, goal}: ``metrics`` (several) or ``metric``."""
    return [{"name": o.name, "goal": o.goal} for o in sweep_objectives.of(config)]


class SweeperStorage(BaseStorage):
    """An Optuna storage over a local backend's sweeps (SQLite or PostgreSQL), read-only."""

    def __init__(self, backend, only: str | None = None):
        self.backend = backend
        self.only = only  # a sweep id: show that sweep alone
        self._lock = threading.Lock()
        self._trials: dict[str, tuple[tuple, FrozenTrial]] = {}  # run id -> (version, trial)
        self._logs: dict[str, tuple[tuple, str]] = {}

    # --- studies -----------------------------------------------------------------------------

    def _sweeps(self):
        sweeps = sorted(self.backend.sweeps(), key=lambda s: (s.created_at, s.id))
        numbered = [(i + 1, s) for i, s in enumerate(sweeps)]
        return [(n, s) for n, s in numbered if self.only in (None, s.id)]

    def _sweep(self, study_id: int):
        for number, sweep in self._sweeps():
            if number == study_id:
                return sweep
        raise KeyError(f"no study {study_id}")

    def get_all_studies(self) -> list[FrozenStudy]:
        return [self._study(number, sweep) for number, sweep in self._sweeps()]

    def _study(self, number: int, sweep) -> FrozenStudy:
        directions = self._directions(sweep.config)
        return FrozenStudy(study_name=sweep.name, direction=None, user_attrs=self._study_attrs(
            sweep), system_attrs=self._system_attrs(sweep), study_id=number,
            directions=directions)

    @staticmethod
    def _system_attrs(sweep) -> dict[str, Any]:
        names = [m["name"] for m in objectives(sweep.config)]
        return {"study:metric_names": names} if names else {}

    @staticmethod
    def _directions(config: dict) -> list[StudyDirection]:
        goals = [m["goal"] for m in objectives(config)] or ["minimize"]
        return [StudyDirection.MAXIMIZE if g == "maximize" else StudyDirection.MINIMIZE
                for g in goals]

    @staticmethod
    def _study_attrs(sweep) -> dict[str, Any]:
        metrics = objectives(sweep.config)
        return {"sweep": sweep.id, "state": sweep.state + (
            f" ({sweep.state_reason})" if sweep.state_reason else ""),
            "method": sweep.config.get("method"), "metric": ", ".join(
                f"{m['name']} ({m['goal']})" for m in metrics) or "none",
            "runs": sweep.runs_total, "storage": sweep.location}

    def get_study_id_from_name(self, study_name: str) -> int:
        for number, sweep in self._sweeps():
            if sweep.name == study_name:
                return number
        raise KeyError(f"no study named {study_name!r}")

    def get_study_name_from_id(self, study_id: int) -> str:
        return self._sweep(study_id).name

    def get_study_directions(self, study_id: int) -> list[StudyDirection]:
        return self._directions(self._sweep(study_id).config)

    def get_study_user_attrs(self, study_id: int) -> dict[str, Any]:
        return self._study_attrs(self._sweep(study_id))

    def get_study_system_attrs(self, study_id: int) -> dict[str, Any]:
        return self._system_attrs(self._sweep(study_id))

    # --- trials -------------------------------------------------------------------------------

    def get_all_trials(self, study_id: int, deepcopy: bool = True,
                       states: tuple[TrialState, ...] | None = None) -> list[FrozenTrial]:
        sweep = self._sweep(study_id)
        runs = self.backend.runs(sweep.id)
        with self._lock:
            changed = [r.id for r in runs if self._version(r) != self._trials.get(
                r.id, ((),))[0]]
            histories = self.backend.metric_histories(sweep.id, changed) if changed else {}
            distributions = self._distributions(sweep.config, runs)
            trials = []
            for run in runs:
                version = self._version(run)
                cached = self._trials.get(run.id)
                if cached is None or cached[0] != version or run.state == "running":
                    trial = self._trial(study_id, sweep.config, run, distributions,
                                        histories.get(run.id))
                    self._trials[run.id] = (version, trial)
                trials.append(self._trials[run.id][1])
        if states is not None:
            trials = [t for t in trials if t.state in states]
        return trials

    @staticmethod
    def _version(run) -> tuple:
        return (run.state, run.attempt, run.steps, run.metric_value, run.finished_at)

    def get_trial(self, trial_id: int) -> FrozenTrial:
        study_id, number = divmod(trial_id, TRIALS_PER_STUDY)
        for trial in self.get_all_trials(study_id, deepcopy=False):
            if trial.number == number:
                return trial
        raise KeyError(f"no trial {trial_id}")

    def _trial(self, study_id: int, config: dict, run, distributions, history) -> FrozenTrial:
        state = STATES.get(run.state, TrialState.FAIL)
        values = None
        if state in (TrialState.COMPLETE, TrialState.PRUNED):  # stopped runs rank too, as on W&B
            found = [summary_value(run.summary, m["name"], m["goal"])
                     for m in objectives(config)]
            if found and all(v is not None for v in found):
                values = found
            elif state == TrialState.COMPLETE:  # finished without the metric: nothing to rank
                state = TrialState.FAIL
        found = {k: lookup(run.params, k, _MISSING) for k in distributions}
        params = {k: _hashable(v) for k, v in found.items() if v is not _MISSING}
        if history is None:
            cached = self._trials.get(run.id)
            intermediate = cached[1].intermediate_values if cached else {}
        else:
            intermediate = {i: float(v) for i, v in enumerate(history)
                            if isinstance(v, (int, float)) and math.isfinite(v)}
        attrs = {"state": run.state, "run": run.name, "attempt": run.attempt,
                 "stop reason": run.stop_reason or "", "log": run.log_path or "",
                 "end of log": self._log_tail(run.log_path)}
        return FrozenTrial(
            number=run.number - 1, state=state, value=None,
            datetime_start=_time(run.started_at), datetime_complete=_time(
                run.finished_at if state not in (TrialState.RUNNING, TrialState.WAITING)
                else None), params=params, distributions={k: distributions[k] for k in params},
            user_attrs=attrs, system_attrs={}, intermediate_values=intermediate,
            trial_id=study_id * TRIALS_PER_STUDY + run.number - 1, values=values)

    def _log_tail(self, path: str | None) -> str:
        if not path:
            return ""
        try:
            stat = os.stat(path)
        except OSError:
            return ""
        version = (stat.st_mtime_ns, stat.st_size)
        cached = self._logs.get(path)
        if cached and cached[0] == version:
            return cached[1]
        with open(path, "rb") as handle:
            handle.seek(max(0, stat.st_size - 8192))
            text = handle.read().decode("utf-8", "replace")
        tail = "\n".join(text.splitlines()[-LOG_LINES:])
        self._logs[path] = (version, tail)
        return tail

    @staticmethod
    def _distributions(config: dict, runs) -> dict[str, BaseDistribution]:
        """A distribution per swept parameter: the sweep's own, widened to what the runs drew."""
        out: dict[str, BaseDistribution] = {}
        for _, name, spec in _params.walk(config.get("parameters") or {}):
            # by dotted name: a mapping among the values comes back whole, not spread in its keys
            values = [_hashable(v) for v in (lookup(r.params, name, _MISSING) for r in runs)
                      if v is not _MISSING]
            dist = spec.get("distribution") if isinstance(spec, dict) else None
            if dist == "constant":
                continue
            numbers = [v for v in values if isinstance(v, (int, float))
                       and not isinstance(v, bool) and math.isfinite(v)]
            if dist in ("categorical", "categorical_w_probabilities") or not numbers \
                    or len(numbers) != len(values):
                choices = list(dict.fromkeys([_hashable(v) for v in spec.get("values", [])]
                                             + values))
                out[name] = CategoricalDistribution(choices or [None])
                continue
            low = min([*numbers, *[spec[b] for b in ("min",) if _is_num(spec.get(b))]])
            high = max([*numbers, *[spec[b] for b in ("max",) if _is_num(spec.get(b))]])
            if dist in ("log_uniform", "q_log_uniform", "inv_log_uniform"):
                low, high = min(numbers), max(numbers)
            log = dist in ("log_uniform_values", "log_uniform", "q_log_uniform_values",
                           "q_log_uniform", "inv_log_uniform", "inv_log_uniform_values") \
                and low > 0
            if all(isinstance(v, int) for v in numbers) and dist == "int_uniform":
                out[name] = IntDistribution(int(low), int(high), log=log)
            else:
                out[name] = FloatDistribution(float(low), float(high), log=log)
        return out

    # --- writes: refused ---------------------------------------------------------------------

    def _refuse(self, *_args, **_kwargs):
        raise ReadOnly("the sweeper dashboard is read-only: change sweeps with the sweeper CLI")

    create_new_study = delete_study = set_study_user_attr = set_study_system_attr = _refuse
    create_new_trial = set_trial_param = set_trial_state_values = _refuse
    set_trial_intermediate_value = set_trial_user_attr = set_trial_system_attr = _refuse


_MISSING = object()  # a run without the parameter (None may be one of its values)


def _is_num(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _hashable(value: Any) -> Any:
    if isinstance(value, (list, dict)):
        return json.dumps(value, sort_keys=True)
    return value


def _time(stamp: float | None) -> datetime | None:
    return datetime.fromtimestamp(stamp) if stamp is not None else None

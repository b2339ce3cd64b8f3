"""``Trainer.hyperparameter_search``, with sweeper: the trials are a sweeper sweep.

HF's W&B backend takes a W&B sweep config as ``hp_space`` and runs ``wandb.agent`` over a
function that trains the ``Trainer`` once per trial. This does the same, with what a sweep has
under sweeper: the sweep lives on the embedded default (no account, no server) or on W&B, so
``sweeper status``, ``results``, ``dashboard`` and ``promote`` see the trials; each trial is one
W&B run, finished before the next starts; hyperband stops a trial on its ``objective``; and each
trial's model is kept for ``promote``.

>>> # best = sweeper.hf.hyperparameter_search(trainer, hp_space, n_trials=20,
>>> #                                         direction="maximize")
>>> # best.hyperparameters, best.objective, best.run_summary["checkpoint"]

Several objectives, as HF's Optuna backend takes them: ``direction=["maximize", "minimize"]`` and
a ``compute_objective`` returning one value per direction make a multi-objective sweep (metrics
``objective_0``, ``objective_1``, ...; the local backend; ``hp_space``'s method tpe by default) and
return the Pareto front as a list of ``BestRun``, as HF does.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

from transformers import TrainerCallback
from transformers.integrations import WandbCallback

from .errors import BadInput, SweeperError

DIRECTIONS = ("minimize", "maximize")
OBJECTIVE = "objective"  # what each trial logs at every evaluation: compute_objective(metrics)


def hyperparameter_search(trainer: Any, hp_space: dict | Callable | None = None,
                          n_trials: int = 20, direction: str | list[str] = "minimize",
                          compute_objective: Callable[[dict], Any] | None = None, *,
                          backend: str = "local", storage: str | None = None,
                          sweep_id: str | None = None, name: str | None = None,
                          project: str | None = None, entity: str | None = None,
                          keep_models: bool = True) -> Any:
    """Run ``n_trials`` trials of ``trainer`` (built with ``model_init``) over ``hp_space``;
    return HF's ``BestRun`` (``run_summary``: the sweep, the run's name and its model folder).

    ``hp_space``: a W&B sweep config (a dict, or a function of the trial returning one, as HF's
    ``backend="wandb"`` takes); its ``parameters`` are ``TrainingArguments`` fields or
    ``model_init``'s trial keys. Default: HF's own W&B space. The sweep's metric is
    ``objective`` (``compute_objective`` of each evaluation's metrics; HF's default: the eval
    loss, or the sum of the other metrics) unless ``hp_space`` names another logged metric.
    ``direction`` sets its goal. ``backend``: ``local`` (``storage``: a SQLite file or a
    PostgreSQL URL; default ``.sweeper/sweeper.db`` or SWEEPER_STORAGE) or ``wandb``
    (``entity``/``project``). ``sweep_id``: run more trials of an existing sweep.
    ``keep_models``: save each trial's final model to ``OUTPUT_DIR/run-<id>/model``.
    """
    from transformers.trainer_utils import BestRun, HPSearchBackend, default_compute_objective

    from .backends import open_backend

    if getattr(trainer, "model_init", None) is None:
        raise BadInput("trainer: build it with model_init (each trial needs a fresh model), as "
                       "Trainer.hyperparameter_search asks")
    directions = list(direction) if isinstance(direction, (list, tuple)) else [direction]
    bad = [d for d in directions if d not in DIRECTIONS]
    if bad or not directions:
        raise BadInput(f"direction: {bad[0] if bad else direction!r}; one of "
                       f"{', '.join(DIRECTIONS)} (or a list of them, one per objective)")
    if not isinstance(n_trials, int) or isinstance(n_trials, bool) or n_trials < 1:
        raise BadInput(f"n_trials: a whole number >= 1, got {n_trials!r}")
    where = open_backend(storage, kind=backend, entity=entity, project=project)
    if sweep_id:
        sweep = where.find_sweep(sweep_id)
    else:
        config = sweep_config(hp_space, directions if len(directions) > 1 else directions[0],
                              n_trials, name)
        sweep = where.create_sweep(config)
    compute = compute_objective or default_compute_objective
    saved = (copy.deepcopy(trainer.args), trainer.hp_search_backend,
             getattr(trainer, "compute_objective", None))
    trainer.hp_search_backend = HPSearchBackend.WANDB  # trial dicts set TrainingArguments
    trainer.compute_objective = compute
    callbacks = _TrialCallbacks(trainer, compute)
    try:
        where.run_function(sweep.id, lambda: _trial(trainer, callbacks, keep_models),
                           count=n_trials)
    finally:
        callbacks.remove()
        trainer.args, trainer.hp_search_backend, trainer.compute_objective = saved
    if len(directions) > 1:
        return _front(where, sweep.id, BestRun)
    return _best_run(where, sweep.id, BestRun)


def objective_names(count: int) -> list[str]:
    """The metrics a trial logs for ``count`` objectives: ``objective``, or ``objective_0``..."""
    return [OBJECTIVE] if count == 1 else [f"{OBJECTIVE}_{i}" for i in range(count)]


def sweep_config(hp_space: dict | Callable | None, direction: str | list[str], n_trials: int,
                 name: str | None) -> dict:
    """The sweep for ``hp_space``: W&B's config, its metric's goal set by ``direction`` and
    ``run_cap`` by ``n_trials`` (where the space sets neither). Several directions: a sweep
    of several metrics (``objective_0``, ...), by tpe unless the space names a method."""
    from transformers.trainer_utils import default_hp_space_wandb

    space = hp_space(None) if callable(hp_space) else hp_space
    space = default_hp_space_wandb(None) if space is None else space
    if not isinstance(space, dict):
        raise BadInput(f"hp_space: a W&B sweep config (a dict with method and parameters, or "
                       f"a function returning one), got {type(space).__name__}")
    config = copy.deepcopy(space)
    if isinstance(direction, (list, tuple)) and len(direction) > 1:
        config.pop("metric", None)
        config.setdefault("method", "tpe")
        config["metrics"] = [{"name": n, "goal": g} for n, g in
                             zip(objective_names(len(direction)), direction, strict=True)]
    else:
        config.setdefault("method", "random")
        metric = dict(config.get("metric") or {})
        metric["name"] = metric.get("name") or OBJECTIVE
        metric["goal"] = direction if isinstance(direction, str) else direction[0]
        config["metric"] = metric
    config.setdefault("run_cap", n_trials)
    if name:
        config["name"] = name
    return config


def _trial(trainer: Any, callbacks: _TrialCallbacks, keep_models: bool) -> None:
    """One trial, as HF's W&B backend runs it: the run's config is the trial; train (with
    ``model_init``), evaluate where training did not; keep the model."""
    import wandb

    run = wandb.run or wandb.init()
    params = dict(run.config)
    trainer.objective = None
    callbacks.start_trial()
    trainer.train(resume_from_checkpoint=None, trial=params)
    if getattr(trainer, "objective", None) is None:
        trainer.evaluate()  # the objective callback logs it
    for key, value in _objective_row(trainer.objective).items():
        run.summary[key] = value
    if keep_models:
        folder = (Path(trainer.args.output_dir) / f"run-{run.id}" / "model").resolve()
        trainer.save_model(str(folder))
        run.summary["checkpoint"] = str(folder)


class _TrialCallbacks:
    """The callbacks a trial needs: HF's W&B callback logging into the trial's run (HF's own
    search finishes the agent's run at train start and opens another), and the objective."""

    def __init__(self, trainer: Any, compute: Callable[[dict], float]):
        self.trainer = trainer
        handler = trainer.callback_handler
        self.replaced = [c for c in handler.callbacks if isinstance(c, WandbCallback)]
        for callback in self.replaced:
            handler.remove_callback(callback)
        self.added = [_TrialWandbCallback(), _ObjectiveCallback(trainer, compute)]
        for callback in self.added:
            handler.add_callback(callback)

    def start_trial(self) -> None:
        self.added[0]._initialized = False  # each trial's run gets its own config

    def remove(self) -> None:
        for callback in self.added:
            self.trainer.callback_handler.remove_callback(callback)
        for callback in self.replaced:
            self.trainer.callback_handler.add_callback(callback)


class _TrialWandbCallback(WandbCallback):
    def on_train_begin(self, args, state, control, model=None, **kwargs):
        searching, state.is_hyper_param_search = state.is_hyper_param_search, False
        try:  # not a search to HF's callback: it logs into the open run, not a new one
            super().on_train_begin(args, state, control, model=model, **kwargs)
        finally:
            state.is_hyper_param_search = searching


class _ObjectiveCallback(TrainerCallback):
    """Log ``objective`` at each evaluation: the sweep's metric, for hyperband and ranking."""

    def __init__(self, trainer: Any, compute: Callable[[dict], float]):
        self.trainer, self.compute = trainer, compute

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        import wandb

        value = self.compute(dict(metrics or {}))
        value = [float(v) for v in value] if isinstance(value, (list, tuple)) else float(value)
        self.trainer.objective = value
        if wandb.run is not None:
            wandb.log({**_objective_row(value), "train/global_step": state.global_step})


def _objective_row(value: Any) -> dict[str, float]:
    """What a trial logs: ``objective``, or one ``objective_i`` per objective."""
    values = list(value) if isinstance(value, (list, tuple)) else [value]
    return dict(zip(objective_names(len(values)), values, strict=True))


def _best_run(backend: Any, sweep_id: str, best_run_class: type) -> Any:
    """The sweep's best run (as ``status`` and ``results`` rank it), as HF's ``BestRun``."""
    sweep = backend.sweep(sweep_id)
    runs = backend.runs(sweep_id)
    best = next((run for run in runs if run.name == sweep.best_run), None)
    if best is None:
        failed = [run for run in runs if run.state == "failed"]
        where = f"; the logs: {failed[-1].log_path}" if failed and failed[-1].log_path else ""
        raise SweeperError(f"sweep {sweep.name}: no trial reported {sweep.metric['name']!r} "
                           f"({len(runs)} runs, {len(failed)} failed{where})")
    return best_run_class(best.id, best.metric_value, dict(best.params), _summary(sweep, best))


def _summary(sweep: Any, run: Any) -> dict:
    """A ``BestRun``'s run_summary: where the run is, and its checkpoint for ``promote``."""
    return {"sweep": sweep.id, "sweep_name": sweep.name, "location": sweep.location,
            "run_name": run.name, "checkpoint": run.summary.get("checkpoint")}


def _front(backend: Any, sweep_id: str, best_run_class: type) -> list:
    """A multi-objective search's Pareto front, as HF's list of ``BestRun``."""
    from .progress import pareto_front

    sweep = backend.sweep(sweep_id)
    front = pareto_front(sweep, backend.runs(sweep_id))
    if not front:
        raise SweeperError(f"sweep {sweep.name}: no trial reported every objective")
    return [best_run_class(run.id, list(values), dict(run.params), _summary(sweep, run))
            for run, values in front]

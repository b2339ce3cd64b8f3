"""What every task model shares: loading from a local path, the Trainer, W&B, the best model."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from transformers import TrainerCallback

from ..errors import BadInput
from . import _checkpoints, _features, _wandb
from ._args import build_args, training_arguments
from ._source import check_model_path, resolve_model  # noqa: F401 - check_model_path: API


def require_columns(df: Any, columns: tuple[str, ...], what: str) -> pd.DataFrame:
    if not isinstance(df, pd.DataFrame):
        raise BadInput(f"{what}: expected a pandas DataFrame, got {type(df).__name__}")
    if df.empty:
        raise BadInput(f"{what}: the frame is empty")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise BadInput(f"{what}: missing column {missing[0]!r} (has {', '.join(map(str, df.columns))})")
    return df


class EvaluateAtEpochEnd(TrainerCallback):
    """evaluate_each_epoch, early_stopping_consider_epochs: evaluate (and so check early
    stopping) at each epoch end, unless an evaluation was just made at this step."""

    def on_epoch_end(self, args, state, control, **kwargs):
        steps = args.eval_steps
        if not (isinstance(steps, int) and steps > 0 and state.global_step % steps == 0):
            control.should_evaluate = True
        return control


class TaskModel:
    """The Simple Transformers shape on the HF Trainer; subclasses say what the task needs."""

    auto_class: Any = None
    # What picks the best model and drives early stopping when the args leave it at eval_loss
    # and the task's evaluation computes no loss.
    default_metric = "eval_loss"
    metric_minimize = True
    evaluates_loss = True

    def __init__(self, model_type: str, model_name_or_path: str, num_labels: int | None = None,
                 args: dict | None = None, use_cuda: bool = True, cuda_device: int = -1,
                 **kwargs: Any):
        import torch
        from transformers import AutoConfig, AutoTokenizer, set_seed

        self.args = build_args(args)
        _features.configure_workers(self.args)
        self.model_type = model_type
        self.path = resolve_model(model_name_or_path)
        if use_cuda and not torch.cuda.is_available():
            use_cuda = False  # Simple Transformers raises; a sweep on a CPU host should still run
        self.use_cuda = use_cuda
        if cuda_device >= 0 and use_cuda:
            torch.cuda.set_device(cuda_device)
        if self.args["manual_seed"] is not None:
            set_seed(self.args["manual_seed"])
        self.num_labels = num_labels
        self._setup_labels(num_labels, kwargs)
        source = self.args["tokenizer_name"] or self.path
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(
                source if source == self.path or Path(source).is_dir() else resolve_model(source),
                do_lower_case=self.args["do_lower_case"])
        except (OSError, ValueError) as exc:
            raise BadInput(f"tokenizer {source!r}: cannot load it: "
                           f"{str(exc).splitlines()[0]}") from None
        config = AutoConfig.from_pretrained(self.path, **{**self._config_kwargs(),
                                                          **self.args["config"]})
        self.model = self.auto_class.from_pretrained(self.path, config=config)
        if self.args["special_tokens_list"]:
            self.tokenizer.add_special_tokens(
                {"additional_special_tokens": list(self.args["special_tokens_list"])})
            self.model.resize_token_embeddings(len(self.tokenizer))
        self.results: dict[str, float] = {}

    def _input(self, data: Any, what: str) -> Any:
        """Data as the task takes it. With use_hf_datasets, also a data file's path (or a list
        of them) or an HF ``datasets.Dataset``, read with the datasets library."""
        if self.args["use_hf_datasets"] and data is not None \
                and not isinstance(data, pd.DataFrame) and not _is_records(data):
            from .data import from_hf_datasets

            data = self._from_frame(from_hf_datasets(data, what), what)
        elif isinstance(data, (str, os.PathLike)):
            raise BadInput(f"{what}: a path ({str(data)!r}); give the data itself, or set "
                           "use_hf_datasets: true to read files with the datasets library")
        return self._prepare(data, what) if data is not None else None

    def _from_frame(self, df: pd.DataFrame, what: str) -> Any:
        """A frame read by the datasets library, as the task takes its data."""
        return df

    def _prepare(self, data: Any, what: str) -> Any:
        """The user's data in the model's terms (label names as class indexes, ...)."""
        return data

    # --- what subclasses provide -----------------------------------------------------------

    def _setup_labels(self, num_labels: int | None, kwargs: dict) -> None:
        pass

    def _config_kwargs(self) -> dict:
        return {}

    def _check_frame(self, df: Any, what: str) -> None:
        raise NotImplementedError

    def _dataset(self, df: Any, evaluate: bool):
        raise NotImplementedError

    def _compute_metrics(self, prediction) -> dict[str, float]:
        raise NotImplementedError

    def _samples(self, limit: int) -> list[tuple]:
        return []

    def _collator(self):
        return None

    def _trainer_class(self):
        from transformers import Trainer

        return Trainer

    def _cache_key(self, data: Any) -> list:
        """What shapes the features: the data, the tokenizer and the feature args."""
        if isinstance(data, pd.DataFrame):
            fingerprint = int(pd.util.hash_pandas_object(data.astype(str), index=False).sum())
        else:
            fingerprint = json.dumps(data, sort_keys=True, default=str)
        return [type(self).__name__, self.path, self.args["max_seq_length"],
                self.args["do_lower_case"], getattr(self, "num_labels", None), fingerprint]

    def _features(self, data: Any, evaluate: bool, build):
        return _features.cached(self.args, type(self).__name__, self._cache_key(data), evaluate,
                                build)

    # --- the shared verbs --------------------------------------------------------------------

    def train_model(self, train_df: Any, eval_df: Any = None, output_dir: str | None = None,
                    args: dict | None = None, **kwargs: Any) -> tuple[int, dict[str, float]]:
        """Fine-tune on ``train_df``; with ``evaluate_during_training``, evaluate on ``eval_df``.

        Returns ``(global_step, results)``; every check on the data runs before training starts.
        """
        if args:
            self.args = build_args(args, base=self.args)
        train_df = self._input(train_df, "train_df")
        eval_df = self._input(eval_df, "eval_df")
        self._check_frame(train_df, "train_df")
        if eval_df is not None:
            self._check_frame(eval_df, "eval_df")
        output_dir = output_dir or self.args["output_dir"]
        self._check_output_dir(output_dir)
        train_ds = self._dataset(train_df, evaluate=False)
        eval_ds = self._dataset(eval_df, evaluate=True) if eval_df is not None else None
        self._eval_df = eval_df
        start = _checkpoints.resume_point(output_dir, self.args["resume_from_checkpoint"])
        if start is not None:
            print(f"resuming from {start}", flush=True)
        with _wandb.session(self.args) as run:
            trainer = self._make_trainer(output_dir, train_ds, eval_ds, run)
            outcome = trainer.train(resume_from_checkpoint=start)
            self.resumed_from = start
            self.train_metrics = dict(outcome.metrics)
            self.results = {"train_loss": float(outcome.training_loss)}
            if eval_ds is not None:
                self.results.update(self._evaluate(trainer, eval_df, eval_ds))
            self._save_best(trainer)
        if not self.args["keep_checkpoints"] and getattr(self, "best_model_dir", None):
            _checkpoints.drop_checkpoints(output_dir)  # the run is done: its best model stays
        return outcome.global_step, self.results

    def _make_trainer(self, output_dir: str, train_ds, eval_ds, run):
        from transformers import EarlyStoppingCallback

        metric = self.args["early_stopping_metric"]
        minimize = self.args["early_stopping_metric_minimize"]
        if metric == "eval_loss" and not self.evaluates_loss:
            metric, minimize = self.default_metric, self.metric_minimize
        report_to = ["wandb"] if run is not None else []
        training_args = training_arguments(
            self.args, output_dir, report_to=report_to,
            run_name=getattr(run, "name", None), use_cpu=not self.use_cuda,
            has_eval=eval_ds is not None, metric_for_best=metric,
            greater_is_better=not minimize)
        callbacks = [_checkpoints.MarkComplete()]
        if self.args["use_early_stopping"]:
            callbacks.append(EarlyStoppingCallback(
                early_stopping_patience=self.args["early_stopping_patience"],
                early_stopping_threshold=self.args["early_stopping_delta"]))
        if eval_ds is not None and (self.args["early_stopping_consider_epochs"] or (
                self.args["evaluate_each_epoch"] and self.args["evaluate_during_training"])):
            callbacks.append(EvaluateAtEpochEnd())
        if run is not None and eval_ds is not None:
            callbacks.append(_wandb.EvalSamplesCallback(self._samples,
                                                        every=_samples_every()))
        elif eval_ds is not None:
            callbacks.append(_wandb.SweepMetricsCallback())
        trainer_class = self._trainer_class()
        with _wandb.hf_log_model_setting() as log_checkpoints:
            if log_checkpoints and run is not None:
                callbacks.append(_wandb.CheckpointArtifacts())
            trainer = trainer_class(model=self.model, args=training_args, train_dataset=train_ds,
                                    eval_dataset=eval_ds, data_collator=self._collator(),
                                    compute_metrics=self._compute_metrics, callbacks=callbacks,
                                    **self._trainer_kwargs())
        if self.args["evaluate_during_training_verbose"]:
            from transformers import PrinterCallback

            trainer.add_callback(PrinterCallback())
        self.trainer = trainer
        return trainer

    def _trainer_kwargs(self) -> dict:
        return {}

    def _evaluate(self, trainer, eval_df, eval_ds) -> dict[str, float]:
        metrics = trainer.evaluate(eval_ds)
        return {k.removeprefix("eval_"): float(v) for k, v in metrics.items()
                if isinstance(v, (int, float)) and math.isfinite(v)}

    def _check_output_dir(self, output_dir: str) -> None:
        """Refuse a non-empty output_dir unless overwrite_output_dir (or resuming from it);
        never delete anything."""
        folder = Path(output_dir)
        resuming = _checkpoints.resume_point(output_dir, self.args["resume_from_checkpoint"])
        if folder.is_dir() and any(folder.iterdir()) and not self.args["overwrite_output_dir"] \
                and not resuming:
            raise BadInput(f"output_dir {output_dir!r} exists and is not empty; set "
                           "overwrite_output_dir: true to train into it")

    def _save_best(self, trainer) -> None:
        """Keep the best model (the final one when nothing picked a best) in best_model_dir."""
        if self.args["no_save"] or not self.args["save_best_model"]:
            return
        best_dir = Path(self.args["best_model_dir"])
        best_dir.mkdir(parents=True, exist_ok=True)
        trainer.save_model(str(best_dir))
        self.tokenizer.save_pretrained(str(best_dir))
        self.best_model_dir = str(best_dir)

    def _predict_logits(self, dataset) -> np.ndarray:
        """Raw outputs for a dataset, through a Trainer of its own: prediction reports to no one
        (the training Trainer's W&B callback would log it as test metrics)."""
        from transformers import Trainer, TrainingArguments

        if getattr(self, "_predictor", None) is None:
            self._predictor = Trainer(
                model=self.model, data_collator=self._collator(),
                args=TrainingArguments(output_dir=self.args["output_dir"], report_to=[],
                                       use_cpu=not self.use_cuda, disable_tqdm=True,
                                       per_device_eval_batch_size=self.args["eval_batch_size"]))
        self._predictor.callback_handler.callbacks = []
        return self._predictor.predict(dataset).predictions


def _is_records(data: Any) -> bool:
    """A list of items (QA's {context, qas} dicts), not a list of file paths."""
    return isinstance(data, list) and bool(data) and isinstance(data[0], dict)


def _samples_every() -> int:
    try:
        return int(os.environ.get("SWEEPER_EVAL_SAMPLES_EVERY", "1"))
    except ValueError:
        return 1

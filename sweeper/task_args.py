"""The catalogue of documented task args: name, type, default and valid range.

One table serves two readers: the sweep definition checks a sweep's parameters against it, and
the model layer builds its args from it (unknown keys are an error that names the key). The
table is ``shared/reference/global_args.md``, the Simple Transformers args that the W&B docs show.

>>> ARGS["learning_rate"].default
4e-05
>>> ARGS["learning_rate"].problem(0)
'must be > 0'
>>> suggest_name("learnin_rate")
'learning_rate'
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from typing import Any

# Kinds of value an arg takes. "optional_*" also accepts None (YAML null).
FLOAT, INT, BOOL, STR, DICT, LIST = "float", "int", "bool", "str", "dict", "list"


@dataclass(frozen=True)
class TaskArg:
    """One documented arg: its type, default, valid range and what it does."""

    name: str
    kind: str
    default: Any
    help: str
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    choices: tuple[Any, ...] | None = None
    nullable: bool = False

    def problem(self, value: Any) -> str | None:
        """Why ``value`` is not a valid value of this arg, or None when it is."""
        if value is None:
            return None if self.nullable else f"must be a {self._kind_word()}, not null"
        if self.kind == FLOAT:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return f"must be a number, got {_shown(value)}"
        elif self.kind == INT:
            if isinstance(value, bool) or not (
                isinstance(value, int) or (isinstance(value, float) and value.is_integer())
            ):
                return f"must be an integer, got {_shown(value)}"
        elif self.kind == BOOL:
            if not isinstance(value, bool):
                return f"must be true or false, got {_shown(value)}"
        elif self.kind == STR:
            if not isinstance(value, str):
                return f"must be a string, got {_shown(value)}"
        elif self.kind == DICT:
            if not isinstance(value, dict):
                return f"must be a mapping, got {_shown(value)}"
        elif self.kind == LIST:
            if not isinstance(value, (list, tuple)):
                return f"must be a list, got {_shown(value)}"
        if self.choices is not None and value not in self.choices:
            return f"must be one of {', '.join(map(str, self.choices))}; got {_shown(value)}"
        if self.minimum is not None:
            if self.exclusive_minimum and value <= self.minimum:
                return f"must be > {_num(self.minimum)}"
            if not self.exclusive_minimum and value < self.minimum:
                return f"must be >= {_num(self.minimum)}"
        if self.maximum is not None and value > self.maximum:
            return f"must be <= {_num(self.maximum)}"
        return None

    @property
    def is_numeric(self) -> bool:
        return self.kind in (FLOAT, INT)

    def _kind_word(self) -> str:
        return {FLOAT: "number", INT: "integer", BOOL: "boolean", STR: "string",
                DICT: "mapping", LIST: "list"}[self.kind]


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _default_process_count() -> int:
    cpus = os.cpu_count() or 1
    return cpus - 2 if cpus > 2 else 1


_TABLE: list[TaskArg] = [
    TaskArg("adam_epsilon", FLOAT, 1e-8, "optimizer epsilon", minimum=0, exclusive_minimum=True),
    TaskArg("best_model_dir", STR, "outputs/best_model", "where the best checkpoint is kept"),
    TaskArg("cache_dir", STR, "cache_dir/", "feature cache"),
    TaskArg("config", DICT, {}, "overrides for the model config (e.g. dropout)"),
    TaskArg("do_lower_case", BOOL, False, "tokenizer lower-casing"),
    TaskArg("early_stopping_consider_epochs", BOOL, False, "also check early stopping at epoch ends"),
    TaskArg("early_stopping_delta", FLOAT, 0, "minimum improvement that counts", minimum=0),
    TaskArg("early_stopping_metric", STR, "eval_loss", "metric watched for early stopping"),
    TaskArg("early_stopping_metric_minimize", BOOL, True, "direction of that metric"),
    TaskArg("early_stopping_patience", INT, 3, "evaluations without improvement before stopping",
            minimum=1),
    TaskArg("encoding", STR, None, "text encoding of input files", nullable=True),
    TaskArg("eval_batch_size", INT, 8, "per-device eval batch size", minimum=1),
    TaskArg("evaluate_during_training", BOOL, False, "evaluate every evaluate_during_training_steps"),
    TaskArg("evaluate_during_training_silent", BOOL, True, "no progress bar for those evaluations"),
    TaskArg("evaluate_during_training_steps", INT, 2000, "steps between evaluations", minimum=1),
    TaskArg("evaluate_during_training_verbose", BOOL, False, "print results of those evaluations"),
    TaskArg("fp16", BOOL, True, "mixed precision where the GPU supports it"),
    TaskArg("fp16_opt_level", STR, "O1", "legacy apex level (accepted, ignored)",
            choices=("O0", "O1", "O2", "O3")),
    TaskArg("gradient_accumulation_steps", INT, 1, "steps per optimizer update", minimum=1),
    TaskArg("learning_rate", FLOAT, 4e-5, "peak learning rate", minimum=0, exclusive_minimum=True,
            maximum=1),
    TaskArg("local_rank", INT, -1, "distributed rank", minimum=-1),
    TaskArg("logging_steps", INT, 50, "steps between metric pushes to W&B", minimum=1),
    TaskArg("manual_seed", INT, None, "seed for full reproducibility", minimum=0, nullable=True),
    TaskArg("max_grad_norm", FLOAT, 1.0, "gradient clipping", minimum=0),
    TaskArg("max_seq_length", INT, 128, "tokenizer truncation length", minimum=1, maximum=8192),
    TaskArg("multiprocessing_chunksize", INT, 500, "feature-conversion chunking", minimum=1),
    TaskArg("n_gpu", INT, 1, "GPUs per run", minimum=0),
    TaskArg("no_cache", BOOL, False, "never cache features"),
    TaskArg("no_save", BOOL, False, "save no model at all"),
    TaskArg("num_train_epochs", INT, 1, "training epochs", minimum=1),
    TaskArg("output_dir", STR, "outputs/", "where checkpoints go"),
    TaskArg("overwrite_output_dir", BOOL, False, "refuse to overwrite unless true"),
    TaskArg("process_count", INT, _default_process_count(), "feature-conversion workers", minimum=1),
    TaskArg("reprocess_input_data", BOOL, True, "rebuild cached features"),
    TaskArg("save_best_model", BOOL, True, "keep the best checkpoint in best_model_dir"),
    TaskArg("save_eval_checkpoints", BOOL, True, "checkpoint at each evaluation"),
    TaskArg("save_model_every_epoch", BOOL, True, "checkpoint at each epoch"),
    TaskArg("save_steps", INT, 2000, "steps between checkpoints", minimum=0),
    TaskArg("save_optimizer_and_scheduler", BOOL, True, "checkpoints include optimizer state"),
    TaskArg("silent", BOOL, False, "no progress bars"),
    TaskArg("tensorboard_dir", STR, None, "TensorBoard log folder", nullable=True),
    TaskArg("train_batch_size", INT, 8, "per-device train batch size", minimum=1),
    TaskArg("use_cached_eval_features", BOOL, False, "reuse cached eval features"),
    TaskArg("use_early_stopping", BOOL, False, "stop when the watched metric stalls"),
    TaskArg("use_multiprocessing", BOOL, True, "parallel feature conversion"),
    TaskArg("wandb_kwargs", DICT, {}, "extra arguments for wandb.init"),
    TaskArg("wandb_project", STR, None, "W&B project for the model layer's own logging",
            nullable=True),
    TaskArg("warmup_ratio", FLOAT, 0.06, "share of steps for LR warm-up", minimum=0, maximum=1),
    TaskArg("warmup_steps", INT, 0, "overrides warmup_ratio when > 0", minimum=0),
    TaskArg("weight_decay", FLOAT, 0, "L2 weight decay", minimum=0),
]

# Beyond the global list: checkpoint keeping and resuming (sweeper's own, and HF's
# save_total_limit with its TrainingArguments meaning).
_CHECKPOINTS: list[TaskArg] = [
    TaskArg("save_total_limit", INT, 1, "checkpoints kept while a run trains (HF's meaning; "
            "null keeps all)", minimum=1, nullable=True),
    TaskArg("keep_checkpoints", BOOL, False, "keep the training checkpoints (optimizer state "
            "included) once a run has finished; by default only best_model_dir stays"),
    TaskArg("resume_from_checkpoint", STR, None, "a checkpoint folder to start from, or "
            "'latest'; a run the agent resumes starts from its newest complete checkpoint",
            nullable=True),
]

# The Simple Transformers args people commonly pass beyond the global list, with their
# Simple Transformers names and defaults.
SCHEDULERS = ("constant_schedule", "constant_schedule_with_warmup",
              "linear_schedule_with_warmup", "cosine_schedule_with_warmup",
              "cosine_with_hard_restarts_schedule_with_warmup",
              "polynomial_decay_schedule_with_warmup")
_SIMPLE_TRANSFORMERS: list[TaskArg] = [
    TaskArg("labels_list", LIST, [], "the class names (string labels; predict returns them)"),
    TaskArg("labels_map", DICT, {}, "label -> class index (default: labels_list's order)"),
    TaskArg("scheduler", STR, "linear_schedule_with_warmup", "learning-rate schedule",
            choices=SCHEDULERS),
    TaskArg("cosine_schedule_num_cycles", FLOAT, 0.5, "cycles of the cosine schedules",
            minimum=0, exclusive_minimum=True),
    TaskArg("polynomial_decay_schedule_lr_end", FLOAT, 1e-7, "final learning rate of the "
            "polynomial schedule", minimum=0),
    TaskArg("polynomial_decay_schedule_power", FLOAT, 1.0, "power of the polynomial schedule",
            minimum=0, exclusive_minimum=True),
    TaskArg("optimizer", STR, "AdamW", "optimizer", choices=("AdamW", "Adafactor")),
    TaskArg("use_hf_datasets", BOOL, False, "train/eval data given as file paths or HF "
            "datasets, loaded with the datasets library"),
    TaskArg("special_tokens_list", LIST, [], "tokens added to the tokenizer (and embeddings)"),
    TaskArg("dataloader_num_workers", INT, 0, "data-loading worker processes", minimum=0),
    TaskArg("max_steps", INT, -1, "stop after this many steps (-1: num_train_epochs decides)",
            minimum=-1),
    TaskArg("evaluate_each_epoch", BOOL, True, "with evaluate_during_training, also evaluate "
            "at each epoch's end"),
    TaskArg("tokenizer_name", STR, None, "load the tokenizer from here instead",
            nullable=True),
    TaskArg("sliding_window", BOOL, False, "not supported (long texts are truncated)"),
    TaskArg("stride", FLOAT, 0.8, "sliding-window stride (sliding_window is not supported)",
            minimum=0),
    TaskArg("regression", BOOL, False, "not supported (classification only)"),
    TaskArg("lazy_loading", BOOL, False, "not supported (data is read into memory)"),
    TaskArg("use_multiprocessing_for_evaluation", BOOL, True, "tokenizer workers at evaluation "
            "(the same as for training)"),
    TaskArg("thread_count", INT, None, "torch threads (left to torch)", minimum=1,
            nullable=True),
]
# Simple Transformers args whose feature the model layer does not have: refused when turned on.
UNSUPPORTED = {
    "sliding_window": "sliding windows over long texts are not supported; texts are truncated "
                      "at max_seq_length (raise it, or split long texts)",
    "regression": "regression is not supported; the model layer classifies",
    "lazy_loading": "lazy loading is not supported; data is read into memory (use "
                    "use_hf_datasets: true for large files)",
}

GLOBAL_ARGS: dict[str, TaskArg] = {arg.name: arg for arg in _TABLE}
ARGS: dict[str, TaskArg] = {arg.name: arg for arg in [*_TABLE, *_CHECKPOINTS,
                                                      *_SIMPLE_TRANSFORMERS]}

# What the ready agent entrypoint (agents/train.py) reads besides the task args: which task,
# which model, which data. A sweep may set these too (as constants, or swept).
TASK_CHOICES: dict[str, TaskArg] = {
    arg.name: arg
    for arg in [
        TaskArg("task", STR, "classification", "which model layer trains",
                choices=("classification", "multilabel", "ner", "qa")),
        TaskArg("model_type", STR, "bert", "model family (bert, roberta, ...)"),
        TaskArg("model_name_or_path", STR, None, "a Hub model id or a local model folder",
                nullable=True),
        TaskArg("train_file", STR, None, "training data (csv, json, jsonl)", nullable=True),
        TaskArg("eval_file", STR, None, "evaluation data (csv, json, jsonl)", nullable=True),
        TaskArg("text_column", STR, "text", "column with the input text"),
        TaskArg("label_column", STR, "labels", "column with the labels"),
        TaskArg("num_labels", INT, None, "number of classes", minimum=1, nullable=True),
        TaskArg("max_train_samples", INT, None, "use only the first N training rows",
                minimum=1, nullable=True),
        TaskArg("max_eval_samples", INT, None, "use only the first N evaluation rows",
                minimum=1, nullable=True),
    ]
}

KNOWN: dict[str, TaskArg] = {**ARGS, **TASK_CHOICES}


def defaults() -> dict[str, Any]:
    """A fresh dict of every documented arg at its default."""
    return {name: (type(arg.default)(arg.default) if isinstance(arg.default, (dict, list))
                   else arg.default) for name, arg in ARGS.items()}


def suggest_name(name: str, names: dict[str, Any] | None = None) -> str | None:
    """The closest known name to a misspelt one, or None when nothing is close."""
    matches = difflib.get_close_matches(name, list(names or KNOWN), n=1, cutoff=0.75)
    return matches[0] if matches else None


def unknown_name_message(name: str, names: dict[str, Any] | None = None) -> str:
    """'unknown task arg; did you mean X?' or just 'unknown task arg'."""
    guess = suggest_name(name, names)
    return f"unknown task arg; did you mean {guess}?" if guess else "unknown task arg"

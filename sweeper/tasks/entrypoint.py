"""The ready sweep program (``agents/train.py``): read ``wandb.config`` into task args, train
through the model layer, report the metric at every evaluation and in the summary.

A plain W&B program: it runs under ``sweeper agent`` and, unchanged, under ``wandb agent``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from .. import task_args
from ..errors import BadInput, SweeperError


def split_config(config: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(task choice, task args)`` from a run's config; an unknown key raises BadInput."""
    choice = {name: arg.default for name, arg in task_args.TASK_CHOICES.items()}
    args: dict[str, Any] = {}
    for key, value in config.items():
        if key.startswith("_"):
            continue
        if key in task_args.TASK_CHOICES:
            choice[key] = value
        elif key in task_args.ARGS:
            args[key] = value
        else:
            raise BadInput(f"config.{key}: {task_args.unknown_name_message(key)}")
    return choice, args


def load_data(choice: dict[str, Any], encoding: str | None):
    """Train and eval data for the task (offline defaults for classification)."""
    from . import data

    task = choice["task"]
    if task == "qa":
        if not choice["train_file"]:
            raise BadInput("train_file: the qa task needs SQuAD-style data (train_file, eval_file)")
        train = data.read_squad(choice["train_file"], encoding)
        evals = data.read_squad(choice["eval_file"], encoding) if choice["eval_file"] else None
        if choice["max_train_samples"]:
            train = train[: choice["max_train_samples"]]
        if evals is not None and choice["max_eval_samples"]:
            evals = evals[: choice["max_eval_samples"]]
        return train, evals
    if choice["train_file"]:
        train = data.read_table(choice["train_file"], encoding)
        evals = data.read_table(choice["eval_file"], encoding) if choice["eval_file"] else None
    elif task == "classification":
        train, evals = data.rotten_tomatoes()
    else:
        raise BadInput(f"train_file: the {task} task needs data (train_file, eval_file)")
    train = data.to_task_frame(train, task, choice["text_column"], choice["label_column"],
                               "train_file")
    if evals is not None:
        evals = data.to_task_frame(evals, task, choice["text_column"], choice["label_column"],
                                   "eval_file")
    if choice["max_train_samples"]:
        train = train.head(choice["max_train_samples"])
    if evals is not None and choice["max_eval_samples"]:
        evals = evals.head(choice["max_eval_samples"])
    return train, evals


def train(config: dict[str, Any], run_dir: Path, run=None) -> dict[str, Any]:
    """Train one run of the sweep; return its final results (eval metrics, checkpoint path)."""
    from . import TASKS, data

    choice, args = split_config(config)
    task = choice["task"]
    if task not in TASKS:
        raise BadInput(f"config.task: unknown task {task!r}; one of {', '.join(TASKS)}")
    path = choice["model_name_or_path"] or data.default_model_path()
    train_data, eval_data = load_data(choice, args.get("encoding"))
    kwargs: dict[str, Any] = {}
    if task == "classification":
        train_data, eval_data, names = data.class_labels(train_data, eval_data)
        if not args.get("labels_list") and names and isinstance(names[0], str):
            args["labels_list"] = names  # saved in the model's config: predictions say them
        kwargs["num_labels"] = choice["num_labels"] or (
            None if args.get("labels_list") else max(2, len(names)))
    elif task == "multilabel":
        kwargs["num_labels"] = choice["num_labels"] or len(train_data["labels"].iloc[0])
    elif task == "ner":
        kwargs["labels"] = sorted(set(train_data["labels"]) | (
            set(eval_data["labels"]) if eval_data is not None else set()))
    args.setdefault("output_dir", str(run_dir / "outputs"))
    args.setdefault("best_model_dir", str(run_dir / "best_model"))
    args.setdefault("overwrite_output_dir", True)
    from . import MODELS

    model = MODELS[task](choice["model_type"], path, args=args, **kwargs)
    model.train_model(train_data, eval_df=eval_data)
    results = {f"eval/{k}": v for k, v in model.results.items() if k != "train_loss"}
    results["train/loss"] = model.results.get("train_loss")
    if getattr(model, "best_model_dir", None):
        results["checkpoint"] = model.best_model_dir
    if run is not None:
        for key, value in results.items():
            run.summary[key] = value
    return results


def main() -> int:
    """``wandb.init()``, train, finish. Bad config or data: one line on stderr, exit 2."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import wandb

    run = wandb.init()
    run_dir = Path(os.environ.get("SWEEPER_RUN_DIR") or Path("outputs") / run.id)
    try:
        results = train(dict(wandb.config), run_dir, run)
    except SweeperError as exc:
        print(f"sweeper: error: {exc}", file=sys.stderr)
        wandb.finish(exit_code=exc.exit_code)
        return exc.exit_code
    shown = ", ".join(f"{k}={v:.4g}" for k, v in results.items() if isinstance(v, float))
    print(f"done: {shown}")
    wandb.finish()
    return 0

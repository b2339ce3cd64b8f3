"""Task args: the documented defaults merged with the user's, checked, and mapped onto HF's
``TrainingArguments``."""

from __future__ import annotations

import logging
import os
from typing import Any

from .. import task_args
from ..errors import BadInput

log = logging.getLogger("sweeper.tasks")

# Accepted for compatibility with Simple Transformers; they have no counterpart in the HF Trainer.
NO_EFFECT = {
    "fp16_opt_level": "apex opt levels are gone; mixed precision uses torch.amp",
    "n_gpu": "a run uses the GPUs in CUDA_VISIBLE_DEVICES (sweeper agent sets it)",
    "use_multiprocessing_for_evaluation": "evaluation uses the training's tokenizer workers",
    "thread_count": "torch chooses its threads",
    "stride": "sliding_window is not supported",
}
# Simple Transformers' schedules as HF's lr_scheduler_type.
SCHEDULES = {"constant_schedule": "constant", "constant_schedule_with_warmup":
             "constant_with_warmup", "linear_schedule_with_warmup": "linear",
             "cosine_schedule_with_warmup": "cosine",
             "cosine_with_hard_restarts_schedule_with_warmup": "cosine_with_restarts",
             "polynomial_decay_schedule_with_warmup": "polynomial"}


def build_args(user: dict[str, Any] | None, base: dict[str, Any] | None = None) -> dict[str, Any]:
    """Defaults (or ``base``) updated with ``user``; unknown keys and bad values raise BadInput."""
    args = dict(base) if base is not None else task_args.defaults()
    for key, value in (user or {}).items():
        arg = task_args.ARGS.get(key)
        if arg is None:
            raise BadInput(f"args.{key}: {task_args.unknown_name_message(key, task_args.ARGS)}")
        if arg.kind == task_args.FLOAT and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        problem = arg.problem(value)
        if problem:
            raise BadInput(f"args.{key}: {problem}")
        if key in task_args.UNSUPPORTED and value != arg.default:
            raise BadInput(f"args.{key}: {task_args.UNSUPPORTED[key]}")
        if key in NO_EFFECT and value != arg.default:
            log.info("args.%s has no effect: %s", key, NO_EFFECT[key])
        args[key] = value
    if args["use_early_stopping"] and not args["evaluate_during_training"]:
        raise BadInput("args.use_early_stopping: needs evaluate_during_training (early stopping "
                       "watches the evaluations made during training)")
    return args


def _schedule_kwargs(args: dict[str, Any]) -> dict[str, Any]:
    schedule = args["scheduler"]
    if schedule == "cosine_schedule_with_warmup":
        return {"num_cycles": args["cosine_schedule_num_cycles"]}
    if schedule == "cosine_with_hard_restarts_schedule_with_warmup":
        return {"num_cycles": max(1, round(args["cosine_schedule_num_cycles"]))}
    if schedule == "polynomial_decay_schedule_with_warmup":
        return {"lr_end": args["polynomial_decay_schedule_lr_end"],
                "power": args["polynomial_decay_schedule_power"]}
    return {}


def precision(args: dict[str, Any]) -> dict[str, bool]:
    """fp16/bf16 only where a GPU supports them: bf16 where the GPU has it, else fp16."""
    import torch

    if not args["fp16"] or not torch.cuda.is_available():
        return {"fp16": False, "bf16": False}
    if torch.cuda.is_bf16_supported():
        return {"fp16": False, "bf16": True}
    return {"fp16": True, "bf16": False}


def training_arguments(args: dict[str, Any], output_dir: str, *, report_to: list[str],
                       run_name: str | None, use_cpu: bool, has_eval: bool,
                       metric_for_best: str | None, greater_is_better: bool | None):
    """HF ``TrainingArguments`` for the task args."""
    from transformers import TrainingArguments

    evaluate = args["evaluate_during_training"] and has_eval
    if args["evaluate_during_training"] and not has_eval:
        raise BadInput("args.evaluate_during_training: needs eval_df (data to evaluate on)")
    eval_strategy = "steps" if evaluate else "no"  # epoch ends: see EvaluateAtEpochEnd
    if args["no_save"]:
        save_strategy, save_steps = "no", None
    elif evaluate and (args["save_eval_checkpoints"] or args["save_best_model"]
                       or args["use_early_stopping"]):
        # Picking the best model needs a checkpoint at every evaluation (at most 2 are kept).
        save_strategy, save_steps = "steps", args["evaluate_during_training_steps"]
    elif args["save_model_every_epoch"]:
        save_strategy, save_steps = "epoch", None
    elif args["save_steps"] > 0:
        save_strategy, save_steps = "steps", args["save_steps"]
    else:
        save_strategy, save_steps = "no", None
    load_best = bool(evaluate and args["save_best_model"] and save_strategy == "steps"
                     and metric_for_best)
    if args["use_early_stopping"] and not load_best:
        # HF's EarlyStoppingCallback needs a best metric to watch.
        load_best = bool(evaluate and metric_for_best and save_strategy == "steps")
    warmup: float | int = args["warmup_steps"] if args["warmup_steps"] > 0 else min(
        float(args["warmup_ratio"]), 0.9999)
    seed = args["manual_seed"]
    kwargs: dict[str, Any] = dict(
        output_dir=output_dir,
        learning_rate=args["learning_rate"],
        num_train_epochs=args["num_train_epochs"],
        per_device_train_batch_size=args["train_batch_size"],
        per_device_eval_batch_size=args["eval_batch_size"],
        gradient_accumulation_steps=args["gradient_accumulation_steps"],
        weight_decay=args["weight_decay"],
        adam_epsilon=args["adam_epsilon"],
        max_grad_norm=args["max_grad_norm"],
        warmup_steps=warmup,
        logging_steps=args["logging_steps"],
        logging_strategy="steps",
        eval_strategy=eval_strategy,
        eval_steps=args["evaluate_during_training_steps"] if evaluate else None,
        save_strategy=save_strategy,
        save_steps=save_steps,
        save_only_model=not args["save_optimizer_and_scheduler"],
        save_total_limit=args["save_total_limit"],  # the Trainer keeps the best one too
        load_best_model_at_end=load_best,
        metric_for_best_model=metric_for_best if load_best else None,
        greater_is_better=greater_is_better if load_best else None,
        report_to=report_to,
        run_name=run_name,
        disable_tqdm=args["silent"],
        seed=seed if seed is not None else 42,
        data_seed=seed,
        full_determinism=False,
        use_cpu=use_cpu,
        dataloader_num_workers=args["dataloader_num_workers"],
        max_steps=args["max_steps"],
        optim="adafactor" if args["optimizer"] == "Adafactor" else "adamw_torch",
        lr_scheduler_type=SCHEDULES[args["scheduler"]],
        lr_scheduler_kwargs=_schedule_kwargs(args),
        **precision(args) if not use_cpu else {"fp16": False, "bf16": False},
    )
    if args["tensorboard_dir"]:
        from transformers.integrations import is_tensorboard_available

        if not is_tensorboard_available():
            raise BadInput("args.tensorboard_dir: TensorBoard logging needs the tensorboard "
                           "package (pip install tensorboard)")
        kwargs["report_to"] = [*report_to, "tensorboard"]
        os.environ["TENSORBOARD_LOGGING_DIR"] = args["tensorboard_dir"]
    if args["local_rank"] != -1:
        os.environ.setdefault("LOCAL_RANK", str(args["local_rank"]))
    return TrainingArguments(**kwargs)

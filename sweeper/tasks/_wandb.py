"""W&B for the model layer, as the HF integration page describes it.

``report_to="wandb"`` with the HF ``WandbCallback`` (which itself honours WANDB_PROJECT,
WANDB_LOG_MODEL and WANDB_WATCH); ``wandb_project``/``wandb_kwargs`` as Simple Transformers
documents them; WANDB_DISABLED and WANDB_MODE=disabled switch it off; a callback logs evaluation
samples as a ``wandb.Table``; ``wandb.finish()`` at the end so two models never share a run.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Any

from transformers import TrainerCallback

from .. import _wandb_env


def disabled() -> bool:
    return _wandb_env.disabled(os.environ)


def _wandb_module():
    try:
        import wandb
    except ImportError:
        return None
    return wandb


def wanted(args: dict[str, Any]) -> bool:
    """Report to W&B when the user asked for it: wandb_project, WANDB_PROJECT, or a W&B run that
    is already active (a sweep's program calls wandb.init() before training)."""
    if disabled() or _wandb_module() is None:
        return False
    wandb = _wandb_module()
    return bool(args["wandb_project"] or os.environ.get("WANDB_PROJECT")
                or getattr(wandb, "run", None) is not None)


@contextmanager
def session(args: dict[str, Any]):
    """The W&B run the training logs to: the active one, or one started here (and finished here)."""
    if not wanted(args):
        yield None
        return
    wandb = _wandb_module()
    started_here = False
    if wandb.run is None:
        kwargs = dict(args["wandb_kwargs"] or {})
        if args["wandb_project"]:
            kwargs.setdefault("project", args["wandb_project"])
        wandb.init(**kwargs)
        started_here = True
    try:
        yield wandb.run
    finally:
        if started_here:
            wandb.finish()


class EvalSamplesCallback(TrainerCallback):
    """Every ``every`` evaluations, log a ``wandb.Table`` of inputs, predictions and labels."""

    def __init__(self, samples_fn, every: int = 1, limit: int = 50):
        self.samples_fn = samples_fn
        self.every = max(1, every)
        self.limit = limit
        self.evaluations = 0

    def on_evaluate(self, args, state, control, **kwargs):
        self.evaluations += 1
        wandb = _wandb_module()
        if wandb is None or wandb.run is None or self.evaluations % self.every:
            return
        rows = self.samples_fn(self.limit)
        if rows:
            table = wandb.Table(columns=["input", "prediction", "label"],
                                data=[[str(a), str(b), str(c)] for a, b, c in rows])
            wandb.log({"eval/samples": table}, commit=False)


class CheckpointArtifacts(TrainerCallback):
    """WANDB_LOG_MODEL=checkpoint: each saved checkpoint becomes a version of the model
    artifact ``checkpoint-{run_name}`` (aliased by step), as the HF integration page names them;
    the final (or best) model still goes to ``model-{run_name}``."""

    def on_save(self, args, state, control, **kwargs):
        wandb = _wandb_module()
        if wandb is None or wandb.run is None or not state.is_world_process_zero:
            return
        folder = os.path.join(args.output_dir, f"checkpoint-{state.global_step}")
        if not os.path.isdir(folder):
            return
        name = args.run_name or wandb.run.name or wandb.run.id
        artifact = wandb.Artifact(f"checkpoint-{name}", type="model",
                                  metadata={"global_step": state.global_step,
                                            "epoch": state.epoch})
        artifact.add_dir(folder)
        wandb.run.log_artifact(artifact, aliases=[f"step_{state.global_step}", "latest"])


@contextmanager
def hf_log_model_setting():
    """While the Trainer is made: HF reads WANDB_LOG_MODEL then. For ``checkpoint`` it is told
    ``end`` (the final model) and CheckpointArtifacts logs the checkpoints under their own name.
    Yields whether checkpoints are to be logged."""
    value = os.environ.get("WANDB_LOG_MODEL", "false").lower()
    if value != "checkpoint":
        yield False
        return
    os.environ["WANDB_LOG_MODEL"] = "end"
    try:
        yield True
    finally:
        os.environ["WANDB_LOG_MODEL"] = value


class SweepMetricsCallback(TrainerCallback):
    """Where the HF WandbCallback is off, still give the sweep one point per evaluation: log the
    evaluation metrics under ``eval/`` through wandb (a local sweep's agent reads them)."""

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        wandb = _wandb_module()
        if wandb is None or wandb.run is None or not metrics:
            return
        wandb.log({f"eval/{k.removeprefix('eval_')}": v for k, v in metrics.items()
                   if isinstance(v, (int, float))})

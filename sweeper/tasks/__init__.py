"""The thin model layer: Simple Transformers' shape on the HF Trainer and its W&B callback.

``ClassificationModel``, ``MultiLabelClassificationModel``, ``NERModel`` and
``QuestionAnsweringModel`` take ``(model_type, model_name_or_path, ..., args={...})`` with the
documented task args, and offer ``train_model``, ``eval_model`` and ``predict``.

The models load on first use (they import torch and transformers, seconds of a run's start), so
that the sweep program refuses a bad config before it pays for them.
"""

from __future__ import annotations

import importlib
from typing import Any

_MODULES = {
    "ClassificationModel": "classification",
    "MultiLabelClassificationModel": "classification",
    "NERModel": "ner",
    "QuestionAnsweringModel": "qa",
}
TASKS = {"classification": "ClassificationModel", "multilabel": "MultiLabelClassificationModel",
         "ner": "NERModel", "qa": "QuestionAnsweringModel"}

__all__ = ["MODELS", "TASKS", *_MODULES]


def __getattr__(name: str) -> Any:
    if name in _MODULES:
        return getattr(importlib.import_module(f".{_MODULES[name]}", __name__), name)
    if name == "MODELS":
        return {task: __getattr__(model) for task, model in TASKS.items()}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

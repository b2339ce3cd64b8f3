"""The thin model layer: Simple Transformers' shape on the HF Trainer and its W&B callback.

``ClassificationModel``, ``MultiLabelClassificationModel``, ``NERModel`` and
``QuestionAnsweringModel`` take ``(model_type, model_name_or_path, ..., args={...})`` with the
documented task args, and offer ``train_model``, ``eval_model`` and ``predict``.
"""

from .classification import ClassificationModel, MultiLabelClassificationModel
from .ner import NERModel
from .qa import QuestionAnsweringModel

MODELS = {
    "classification": ClassificationModel,
    "multilabel": MultiLabelClassificationModel,
    "ner": NERModel,
    "qa": QuestionAnsweringModel,
}

__all__ = ["MODELS", "ClassificationModel", "MultiLabelClassificationModel", "NERModel",
           "QuestionAnsweringModel"]

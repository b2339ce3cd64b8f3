"""Sequence classification: binary, multi-class and multi-label."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, f1_score, matthews_corrcoef
from transformers import AutoModelForSequenceClassification, DataCollatorWithPadding

from ..errors import BadInput
from . import _features
from ._base import TaskModel, require_columns


class _TextDataset:
    """Tokenised texts (one or a pair) with their labels, for the Trainer."""

    def __init__(self, encodings: dict, labels: Any = None):
        self.encodings = encodings
        self.labels = labels

    def __len__(self) -> int:
        return len(self.encodings["input_ids"])

    def __getitem__(self, i: int) -> dict:
        item = {k: v[i] for k, v in self.encodings.items()}
        if self.labels is not None:
            item["labels"] = self.labels[i]
        return item


class ClassificationModel(TaskModel):
    """Binary and multi-class classification of texts (``text``, or ``text_a`` + ``text_b``).

    >>> # model = ClassificationModel("bert", "path/to/model", num_labels=2, args={...})
    >>> # model.train_model(train_df); result, outputs, wrong = model.eval_model(eval_df)
    """

    auto_class = AutoModelForSequenceClassification

    def _setup_labels(self, num_labels, kwargs):
        names = list(self.args["labels_list"])
        if names and num_labels and num_labels != len(names):
            raise BadInput(f"num_labels: {num_labels}, but labels_list has {len(names)} labels")
        self.num_labels = len(names) or num_labels or 2
        if self.num_labels < 2:
            raise BadInput(f"num_labels: must be >= 2 for classification, got {self.num_labels}")
        self.labels_map = _labels_map(names, self.args["labels_map"])
        self.label_names = sorted(self.labels_map, key=self.labels_map.get) if names else None

    def _config_kwargs(self) -> dict:
        kwargs: dict = {"num_labels": self.num_labels}
        if self.label_names:  # saved with the model: HF pipelines then say the names too
            kwargs["id2label"] = {i: str(name) for i, name in enumerate(self.label_names)}
            kwargs["label2id"] = {str(name): i for i, name in enumerate(self.label_names)}
        return kwargs

    def _prepare(self, df: Any, what: str) -> Any:
        """With labels_list, the labels as the class indexes labels_map gives them."""
        if not self.labels_map or not isinstance(df, pd.DataFrame) or "labels" not in df:
            return df
        codes = []
        for value in df["labels"]:
            code = _lookup(self.labels_map, value)
            if code is None:
                raise BadInput(f"{what}: label {_plain(value)!r} is not in labels_list "
                               f"({', '.join(map(str, self.labels_map))})")
            codes.append(code)
        return df.assign(labels=codes)

    def _named(self, predicted) -> list:
        """Class indexes as the user's labels (labels_list), else as ints."""
        if self.label_names:
            return [self.label_names[int(p)] for p in predicted]
        return [int(p) for p in predicted]

    def _text_columns(self, df: pd.DataFrame) -> tuple[str, ...]:
        return ("text_a", "text_b") if "text_a" in df.columns else ("text",)

    def _check_frame(self, df: Any, what: str) -> None:
        columns = self._text_columns(df) if isinstance(df, pd.DataFrame) else ("text",)
        require_columns(df, (*columns, "labels"), what)
        labels = df["labels"]
        bad = [v for v in labels if isinstance(v, bool) or not isinstance(v, (int, np.integer))
               or not 0 <= int(v) < self.num_labels]
        if bad:
            raise BadInput(f"{what}: label {bad[0]!r} is outside 0..{self.num_labels - 1} "
                           f"(num_labels={self.num_labels})")

    def _encode(self, df: pd.DataFrame) -> dict:
        columns = self._text_columns(df)
        rows = list(zip(*[df[c].astype(str).tolist() for c in columns], strict=True))

        def convert(chunk: list) -> dict:
            return self.tokenizer(*[list(col) for col in zip(*chunk, strict=True)],
                                  truncation=True, max_length=self.args["max_seq_length"])

        return _features.in_chunks(convert, rows, self.args["multiprocessing_chunksize"])

    def _dataset(self, df: pd.DataFrame, evaluate: bool):
        encodings = self._features(df, evaluate, lambda: self._encode(df))
        return _TextDataset(encodings, self._labels_of(df))

    def _labels_of(self, df: pd.DataFrame) -> list:
        return [int(v) for v in df["labels"]]

    def _collator(self):
        return DataCollatorWithPadding(self.tokenizer)

    def _compute_metrics(self, prediction) -> dict[str, float]:
        logits, labels = prediction.predictions, prediction.label_ids
        return self._scores(np.argmax(logits, axis=-1), labels)

    def _scores(self, predicted, labels) -> dict[str, float]:
        return {"accuracy": float(accuracy_score(labels, predicted)),
                "f1_macro": float(f1_score(labels, predicted, average="macro", zero_division=0)),
                "mcc": float(matthews_corrcoef(labels, predicted))}

    def eval_model(self, eval_df: pd.DataFrame, **kwargs) -> tuple[dict, np.ndarray, list]:
        """``(result, model_outputs, wrong_predictions)``, as Simple Transformers returns them."""
        given = eval_df
        eval_df = self._input(eval_df, "eval_df")
        self._check_frame(eval_df, "eval_df")
        logits = self._predict_logits(self._dataset(eval_df, evaluate=True))
        predicted = np.argmax(logits, axis=-1)
        labels = np.array([int(v) for v in eval_df["labels"]])
        result = self._scores(predicted, labels)
        result.update(_confusion(predicted, labels, self.num_labels))
        rows = given if isinstance(given, pd.DataFrame) else eval_df
        wrong = [row for row, p, y in zip(rows.to_dict("records"), predicted, labels,
                                          strict=True) if p != y]
        return result, logits, wrong

    def predict(self, to_predict: list) -> tuple[list, np.ndarray]:
        """Predicted labels (labels_list's names where given) and raw outputs for texts (or
        ``[text_a, text_b]`` pairs)."""
        if not to_predict:
            raise BadInput("to_predict: nothing to predict (an empty list)")
        if isinstance(to_predict[0], (list, tuple)):
            df = pd.DataFrame({"text_a": [p[0] for p in to_predict],
                               "text_b": [p[1] for p in to_predict]})
        else:
            df = pd.DataFrame({"text": [str(t) for t in to_predict]})
        logits = self._predict_logits(_TextDataset(self._encode(df)))
        return self._named(np.argmax(logits, axis=-1)), logits

    def _samples(self, limit: int) -> list[tuple]:
        df = getattr(self, "_eval_df", None)
        if df is None:
            return []
        head = df.head(limit)
        logits = self._predict_logits(self._dataset(head, evaluate=True))
        return list(zip(head[self._text_columns(head)[0]], self._named(np.argmax(logits, -1)),
                        self._named(head["labels"]), strict=True))


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _lookup(labels_map: dict, value: Any) -> int | None:
    """A label's class index; YAML and JSON keys are strings, so "1" finds the label 1."""
    value = _plain(value)
    if value in labels_map:
        return labels_map[value]
    return next((code for name, code in labels_map.items() if str(name) == str(value)), None)


def _labels_map(names: list, given: dict) -> dict:
    """labels_list's names -> class indexes: labels_map where given (Simple Transformers'
    meaning), else the list's order. BadInput where the two disagree."""
    if len({str(n) for n in names}) != len(names):
        raise BadInput("labels_list: a label is listed twice")
    if not given:
        return {name: i for i, name in enumerate(names)}
    if not names:
        raise BadInput("labels_map: needs labels_list (the labels it maps)")
    mapped = {}
    for name in names:
        code = _lookup(given, name)
        if code is None:
            raise BadInput(f"labels_map: has no entry for {name!r} of labels_list")
        mapped[name] = code
    if sorted(map(str, mapped.values())) != sorted(map(str, range(len(names)))) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in mapped.values()):
        raise BadInput(f"labels_map: its values must be the class indexes 0..{len(names) - 1}, "
                       f"each once; got {', '.join(map(repr, mapped.values()))}")
    extra = [key for key in given if str(key) not in {str(name) for name in names}]
    if extra:
        raise BadInput(f"labels_map: {extra[0]!r} is not in labels_list")
    return mapped


def _confusion(predicted, labels, num_labels: int) -> dict[str, int]:
    if num_labels != 2:
        return {}
    return {"tp": int(((predicted == 1) & (labels == 1)).sum()),
            "tn": int(((predicted == 0) & (labels == 0)).sum()),
            "fp": int(((predicted == 1) & (labels == 0)).sum()),
            "fn": int(((predicted == 0) & (labels == 1)).sum())}


class MultiLabelClassificationModel(ClassificationModel):
    """Multi-label classification: ``labels`` is a multi-hot list of length ``num_labels``."""


    def _setup_labels(self, num_labels, kwargs):
        names = list(self.args["labels_list"])
        if names and num_labels and num_labels != len(names):
            raise BadInput(f"num_labels: {num_labels}, but labels_list has {len(names)} labels")
        num_labels = len(names) or num_labels
        if not num_labels or num_labels < 1:
            raise BadInput("num_labels: a multi-label model needs num_labels (the length of each "
                           "multi-hot label list) or labels_list")
        if len({str(n) for n in names}) != len(names):
            raise BadInput("labels_list: a label is listed twice")
        self.num_labels = num_labels
        self.label_names = names or None
        self.labels_map = {}
        self.threshold = float(kwargs.get("threshold", 0.5))

    def _config_kwargs(self) -> dict:
        return {**super()._config_kwargs(), "problem_type": "multi_label_classification"}

    def _prepare(self, df: Any, what: str) -> Any:
        """Label lists read from a file as text ("[0, 1, 0]") as lists."""
        if isinstance(df, pd.DataFrame) and "labels" in df and len(df) and isinstance(
                df["labels"].iloc[0], str):
            from .data import _as_list

            return df.assign(labels=[_as_list(v, what) for v in df["labels"]])
        return df

    def _check_frame(self, df: Any, what: str) -> None:
        require_columns(df, (*(self._text_columns(df) if isinstance(df, pd.DataFrame)
                               else ("text",)), "labels"), what)
        for i, value in enumerate(df["labels"]):
            values = list(value) if isinstance(value, (list, tuple, np.ndarray)) else None
            if values is None or len(values) != self.num_labels or any(
                    v not in (0, 1) for v in values):
                raise BadInput(f"{what}: row {i}: labels must be a list of {self.num_labels} "
                               f"zeros and ones, got {value!r}")

    def _labels_of(self, df: pd.DataFrame) -> list:
        return [[float(v) for v in row] for row in df["labels"]]

    def _compute_metrics(self, prediction) -> dict[str, float]:
        probabilities = 1 / (1 + np.exp(-prediction.predictions))
        return self._scores((probabilities >= self.threshold).astype(int),
                            prediction.label_ids.astype(int))

    def _scores(self, predicted, labels) -> dict[str, float]:
        return {"f1_micro": float(f1_score(labels, predicted, average="micro", zero_division=0)),
                "f1_macro": float(f1_score(labels, predicted, average="macro", zero_division=0)),
                "exact_match": float(accuracy_score(labels, predicted))}

    def eval_model(self, eval_df: pd.DataFrame, **kwargs) -> tuple[dict, np.ndarray, list]:
        eval_df = self._input(eval_df, "eval_df")
        self._check_frame(eval_df, "eval_df")
        logits = self._predict_logits(self._dataset(eval_df, evaluate=True))
        probabilities = 1 / (1 + np.exp(-logits))
        predicted = (probabilities >= self.threshold).astype(int)
        labels = np.array([list(map(int, row)) for row in eval_df["labels"]])
        wrong = [row for row, p, y in zip(eval_df.to_dict("records"), predicted, labels,
                                          strict=True) if (p != y).any()]
        return self._scores(predicted, labels), probabilities, wrong

    def predict(self, to_predict: list) -> tuple[list[list[int]], np.ndarray]:
        if not to_predict:
            raise BadInput("to_predict: nothing to predict (an empty list)")
        df = pd.DataFrame({"text": [str(t) for t in to_predict]})
        logits = self._predict_logits(_TextDataset(self._encode(df)))
        probabilities = 1 / (1 + np.exp(-logits))
        return (probabilities >= self.threshold).astype(int).tolist(), probabilities

    def _samples(self, limit: int) -> list[tuple]:
        df = getattr(self, "_eval_df", None)
        if df is None:
            return []
        head = df.head(limit)
        predicted, _ = self.predict(head["text"].tolist())
        return list(zip(head["text"], predicted, head["labels"], strict=True))

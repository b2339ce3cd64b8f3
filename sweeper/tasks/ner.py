"""Named-entity recognition: one row per word (sentence_id, words, labels) in BIO tags."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from seqeval.metrics import f1_score, precision_score, recall_score
from transformers import AutoModelForTokenClassification, DataCollatorForTokenClassification

from ..errors import BadInput
from ._base import TaskModel, require_columns
from .classification import _TextDataset

CONLL_LABELS = ["O", "B-MISC", "I-MISC", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]
IGNORE = -100  # the label of sub-word pieces after the first, and of special tokens


class NERModel(TaskModel):
    """Token classification with entity-level precision, recall and F1 (seqeval).

    ``NERModel("bert", path, labels=["O", "B-PER", "I-PER"], args={...})``.
    """

    auto_class = AutoModelForTokenClassification

    def _setup_labels(self, num_labels, kwargs):
        given, listed = kwargs.get("labels"), list(self.args["labels_list"])
        if given and listed and list(given) != listed:
            raise BadInput("labels: differs from args.labels_list; give one of them")
        labels = given or listed or CONLL_LABELS
        if len(set(labels)) != len(labels):
            raise BadInput("labels: a tag is listed twice")
        self.labels = list(labels)
        self.label_ids = {label: i for i, label in enumerate(self.labels)}
        self.num_labels = len(self.labels)

    def _config_kwargs(self) -> dict:
        return {"num_labels": self.num_labels,
                "id2label": dict(enumerate(self.labels)), "label2id": self.label_ids}

    def _check_frame(self, df: Any, what: str) -> None:
        require_columns(df, ("sentence_id", "words", "labels"), what)
        unknown = sorted(set(df["labels"]) - set(self.labels))
        if unknown:
            raise BadInput(f"{what}: tag {unknown[0]!r} is not in the label list "
                           f"({', '.join(self.labels)})")

    @staticmethod
    def _sentences(df: pd.DataFrame) -> tuple[list[list[str]], list[list[str]]]:
        words, tags = [], []
        for _, group in df.groupby("sentence_id", sort=False):
            words.append([str(w) for w in group["words"]])
            tags.append(list(group["labels"]) if "labels" in group else [])
        return words, tags

    def _encode(self, words: list[list[str]], tags: list[list[str]] | None):
        encodings = self.tokenizer(words, is_split_into_words=True, truncation=True,
                                   max_length=self.args["max_seq_length"])
        if tags is None:
            return encodings, None
        aligned = []
        for i, sentence_tags in enumerate(tags):
            previous, ids = None, []
            for word in encodings.word_ids(i):
                if word is None or word == previous:
                    ids.append(IGNORE)
                else:
                    ids.append(self.label_ids[sentence_tags[word]])
                previous = word
            aligned.append(ids)
        return encodings, aligned

    def _dataset(self, df: pd.DataFrame, evaluate: bool):
        def build():
            words, tags = self._sentences(df)
            encodings, labels = self._encode(words, tags)
            return _TextDataset(dict(encodings), labels)

        return self._features(df, evaluate, build)

    def _collator(self):
        return DataCollatorForTokenClassification(self.tokenizer)

    def _tags(self, logits: np.ndarray, label_ids: np.ndarray) -> tuple[list, list]:
        predicted = np.argmax(logits, axis=-1)
        true_tags, predicted_tags = [], []
        for p_row, l_row in zip(predicted, label_ids, strict=True):
            keep = l_row != IGNORE
            true_tags.append([self.labels[i] for i in l_row[keep]])
            predicted_tags.append([self.labels[i] for i in p_row[keep]])
        return true_tags, predicted_tags

    def _compute_metrics(self, prediction) -> dict[str, float]:
        true_tags, predicted_tags = self._tags(prediction.predictions, prediction.label_ids)
        return _scores(true_tags, predicted_tags)

    def eval_model(self, eval_df: pd.DataFrame, **kwargs) -> tuple[dict, list, list]:
        """``(result, predicted tags per sentence, sentences with a wrong tag)``."""
        eval_df = self._input(eval_df, "eval_df")
        self._check_frame(eval_df, "eval_df")
        dataset = self._dataset(eval_df, evaluate=True)
        logits = self._predict_logits(dataset)
        label_ids = _pad([np.array(x) for x in dataset.labels], logits.shape[1])
        true_tags, predicted_tags = self._tags(logits, label_ids)
        words, _ = self._sentences(eval_df)
        wrong = [list(zip(w, p, t, strict=True)) for w, p, t in zip(words, predicted_tags,
                                                                       true_tags, strict=True)
                 if p != t]
        return _scores(true_tags, predicted_tags), predicted_tags, wrong

    def predict(self, to_predict: list, split_on_space: bool = True) -> tuple[list, np.ndarray]:
        """``[[{word: tag}, ...], ...]`` per sentence, and the raw outputs."""
        if not to_predict:
            raise BadInput("to_predict: nothing to predict (an empty list)")
        words = [s.split() if split_on_space and isinstance(s, str) else list(s)
                 for s in to_predict]
        encodings, _ = self._encode(words, None)
        logits = self._predict_logits(_TextDataset(encodings))
        out = []
        for i, sentence in enumerate(words):
            tags: dict[int, str] = {}
            for position, word in enumerate(encodings.word_ids(i)):
                if word is not None and word not in tags and position < logits.shape[1]:
                    tags[word] = self.labels[int(np.argmax(logits[i, position]))]
            out.append([{w: tags.get(j, "O")} for j, w in enumerate(sentence)])
        return out, logits

    def _samples(self, limit: int) -> list[tuple]:
        df = getattr(self, "_eval_df", None)
        if df is None:
            return []
        words, tags = self._sentences(df)
        predicted, _ = self.predict(words[:limit], split_on_space=False)
        return [(" ".join(w), " ".join(next(iter(d.values())) for d in p), " ".join(t))
                for w, p, t in zip(words[:limit], predicted, tags[:limit], strict=True)]


def _scores(true_tags: list, predicted_tags: list) -> dict[str, float]:
    return {"precision": float(precision_score(true_tags, predicted_tags, zero_division=0)),
            "recall": float(recall_score(true_tags, predicted_tags, zero_division=0)),
            "f1": float(f1_score(true_tags, predicted_tags, zero_division=0))}


def _pad(rows: list[np.ndarray], width: int) -> np.ndarray:
    out = np.full((len(rows), width), IGNORE)
    for i, row in enumerate(rows):
        out[i, : min(width, len(row))] = row[:width]
    return out

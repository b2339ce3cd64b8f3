"""Extractive question answering on SQuAD-style data.

Data: ``[{"context": str, "qas": [{"id": str, "question": str,
"answers": [{"text": str, "answer_start": int}]}]}]`` (Simple Transformers' format). Long
contexts are cut into overlapping windows; the answer is the best-scoring span over all windows.
"""

from __future__ import annotations

import collections
import os
import re
import string
from typing import Any

import numpy as np
import pandas as pd
from transformers import AutoModelForQuestionAnswering, DataCollatorWithPadding, Trainer

from ..errors import BadInput
from ._base import TaskModel
from .classification import _TextDataset

N_BEST = 20
MAX_ANSWER_TOKENS = 30


# --- the SQuAD v1.1 definitions of exact match and F1 ------------------------------------------

def normalize_answer(text: str) -> str:
    """Lower case, drop punctuation, articles and extra whitespace (SQuAD v1.1's evaluate script)."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in set(string.punctuation))
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def exact_match(prediction: str, truth: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(truth))


def f1(prediction: str, truth: str) -> float:
    predicted, gold = normalize_answer(prediction).split(), normalize_answer(truth).split()
    common = collections.Counter(predicted) & collections.Counter(gold)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision, recall = same / len(predicted), same / len(gold)
    return 2 * precision * recall / (precision + recall)


def squad_scores(predictions: dict[str, str], answers: dict[str, list[str]]) -> dict[str, float]:
    """Mean exact match and F1 (in percent, as SQuAD reports them), best over the gold answers."""
    em = [max(exact_match(predictions.get(i, ""), a) for a in golds) for i, golds in answers.items()]
    f = [max(f1(predictions.get(i, ""), a) for a in golds) for i, golds in answers.items()]
    return {"exact_match": 100.0 * float(np.mean(em)), "f1": 100.0 * float(np.mean(f))}


# --- the model ---------------------------------------------------------------------------------

class _QATrainer(Trainer):
    """Evaluation maps window logits back to answers and scores them with SQuAD's EM and F1."""

    def __init__(self, *args, qa_evaluate=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.qa_evaluate = qa_evaluate

    def evaluate(self, eval_dataset=None, ignore_keys=None, metric_key_prefix="eval"):
        dataset = eval_dataset if eval_dataset is not None else self.eval_dataset
        output = self.predict(dataset, metric_key_prefix=metric_key_prefix)
        metrics = {f"{metric_key_prefix}_{k}": v
                   for k, v in self.qa_evaluate(dataset, output.predictions).items()}
        self.log(metrics)
        self.control = self.callback_handler.on_evaluate(self.args, self.state, self.control,
                                                         metrics)
        return metrics


class QuestionAnsweringModel(TaskModel):
    """Extractive QA with exact match and F1 as SQuAD defines them."""

    auto_class = AutoModelForQuestionAnswering
    default_metric, metric_minimize, evaluates_loss = "f1", False, False

    def _setup_labels(self, num_labels, kwargs):
        self.doc_stride = int(kwargs.get("doc_stride", 0)) or None

    def _input(self, data: Any, what: str) -> Any:
        """As Simple Transformers takes it: a list of {context, qas}, or a SQuAD JSON file's
        path; with use_hf_datasets, rows of id, context, question, answers (SQuAD on the Hub)."""
        if isinstance(data, (str, os.PathLike)) and not self.args["use_hf_datasets"]:
            from .data import read_squad

            return read_squad(str(data))
        return super()._input(data, what)

    def _from_frame(self, df: pd.DataFrame, what: str) -> list:
        missing = [c for c in ("id", "context", "question") if c not in df.columns]
        if missing:
            raise BadInput(f"{what}: rows need id, context, question and answers (SQuAD's "
                           f"columns); no {missing[0]!r}")
        items: dict[str, dict] = {}
        for row in df.to_dict("records"):
            answers = row.get("answers") or {"text": [], "answer_start": []}
            qa = {"id": str(row["id"]), "question": row["question"],
                  "answers": [{"text": str(t), "answer_start": int(a)} for t, a in zip(
                      list(answers["text"]), list(answers["answer_start"]), strict=True)]}
            qa["is_impossible"] = not qa["answers"]
            items.setdefault(row["context"], {"context": row["context"], "qas": []})["qas"] \
                .append(qa)
        return list(items.values())

    def _check_frame(self, data: Any, what: str, need_answers: bool = True) -> None:
        if not isinstance(data, list) or not data:
            raise BadInput(f"{what}: expected a non-empty list of {{context, qas}} items")
        for i, item in enumerate(data):
            if not isinstance(item, dict) or "context" not in item or "qas" not in item:
                raise BadInput(f"{what}[{i}]: each item needs 'context' and 'qas'")
            for qa in item["qas"]:
                for key in ("id", "question") + (("answers",) if need_answers else ()):
                    if key not in qa:
                        raise BadInput(f"{what}[{i}].qas: question {qa.get('id', '?')!r} has "
                                       f"no {key!r}")
                for answer in qa.get("answers", []) if need_answers else []:
                    start, text = answer.get("answer_start"), answer.get("text", "")
                    if item["context"][start: start + len(text)] != text if isinstance(
                            start, int) else True:
                        raise BadInput(f"{what}[{i}].qas[{qa['id']!r}]: answer {text!r} is not "
                                       f"in its context at answer_start {start!r}")

    def _stride(self) -> int:
        return self.doc_stride or max(16, self.args["max_seq_length"] // 4)

    def _windows(self, data: list, train: bool):
        questions, contexts, ids, answers = [], [], [], []
        for item in data:
            for qa in item["qas"]:
                questions.append(qa["question"])
                contexts.append(item["context"])
                ids.append(str(qa["id"]))
                answers.append(qa.get("answers", []))
        enc = self.tokenizer(questions, contexts, truncation="only_second",
                             max_length=self.args["max_seq_length"], stride=self._stride(),
                             return_overflowing_tokens=True, return_offsets_mapping=True)
        sample_of = enc.pop("overflow_to_sample_mapping")
        offsets = enc.pop("offset_mapping")
        starts, ends, kept_offsets = [], [], []
        for f, sample in enumerate(sample_of):
            sequence = enc.sequence_ids(f)
            kept_offsets.append([o if sequence[k] == 1 else None for k, o in enumerate(offsets[f])])
            if not train:
                continue
            start_token = end_token = 0  # no answer in this window: point at [CLS]
            if answers[sample]:
                a = answers[sample][0]
                first, last = a["answer_start"], a["answer_start"] + len(a["text"])
                tokens = [k for k, o in enumerate(kept_offsets[-1]) if o is not None]
                if tokens and offsets[f][tokens[0]][0] <= first and offsets[f][tokens[-1]][1] >= last:
                    start_token = next(k for k in tokens if offsets[f][k][1] > first)
                    end_token = max(k for k in tokens if offsets[f][k][0] < last)
            starts.append(start_token)
            ends.append(end_token)
        if train:
            enc["start_positions"] = starts
            enc["end_positions"] = ends
        dataset = _TextDataset(dict(enc))
        dataset.sample_of = list(sample_of)
        dataset.offsets = kept_offsets
        dataset.ids, dataset.contexts, dataset.answers = ids, contexts, answers
        return dataset

    def _dataset(self, data: list, evaluate: bool):
        return self._features(data, evaluate, lambda: self._windows(data, train=not evaluate))

    def _collator(self):
        return DataCollatorWithPadding(self.tokenizer)

    def _trainer_class(self):
        return _QATrainer

    def _trainer_kwargs(self) -> dict:
        return {"qa_evaluate": self._evaluate_features}

    def _compute_metrics(self, prediction):
        return {}

    def _answers(self, dataset, logits, n_best: int = N_BEST
                 ) -> tuple[dict[str, str], dict[str, float]]:
        start_logits, end_logits = logits
        best: dict[str, tuple[float, str]] = {}
        for f, sample in enumerate(dataset.sample_of):
            offsets = dataset.offsets[f]
            context = dataset.contexts[sample]
            qid = dataset.ids[sample]
            starts = np.argsort(start_logits[f])[::-1][:n_best]
            ends = np.argsort(end_logits[f])[::-1][:n_best]
            for s in starts:
                for e in ends:
                    if (s >= len(offsets) or e >= len(offsets) or offsets[s] is None
                            or offsets[e] is None or e < s or e - s + 1 > MAX_ANSWER_TOKENS):
                        continue
                    score = float(start_logits[f][s] + end_logits[f][e])
                    if qid not in best or score > best[qid][0]:
                        best[qid] = (score, context[offsets[s][0]: offsets[e][1]])
        texts = {qid: best.get(qid, (0.0, ""))[1] for qid in dict.fromkeys(dataset.ids)}
        scores = {qid: best.get(qid, (float("-inf"), ""))[0] for qid in texts}
        return texts, scores

    def _evaluate_features(self, dataset, logits) -> dict[str, float]:
        texts, _ = self._answers(dataset, logits)
        gold = {qid: [a["text"] for a in answers] or [""]
                for qid, answers in zip(dataset.ids, dataset.answers, strict=True)}
        return squad_scores(texts, gold)

    def _evaluate(self, trainer, eval_data, eval_ds) -> dict[str, float]:
        return {k.removeprefix("eval_"): v for k, v in trainer.evaluate(eval_ds).items()}

    def eval_model(self, eval_data: list, **kwargs) -> tuple[dict, dict, list]:
        """``(result, answers by question id, wrong predictions)``."""
        eval_data = self._input(eval_data, "eval_data")
        self._check_frame(eval_data, "eval_data")
        dataset = self._windows(eval_data, train=False)
        texts, _ = self._answers(dataset, self._predict_logits(dataset))
        gold = {qid: [a["text"] for a in answers] or [""]
                for qid, answers in zip(dataset.ids, dataset.answers, strict=True)}
        wrong = [{"id": qid, "predicted": texts[qid], "truth": gold[qid]} for qid in gold
                 if not any(exact_match(texts[qid], g) for g in gold[qid])]
        return squad_scores(texts, gold), texts, wrong

    def predict(self, to_predict: list, n_best_size: int | None = None) -> tuple[list, list]:
        """``([{"id", "answer"}], [{"id", "probability"}])`` for ``{context, qas}`` items."""
        self._check_frame(to_predict, "to_predict", need_answers=False)
        dataset = self._windows(to_predict, train=False)
        texts, scores = self._answers(dataset, self._predict_logits(dataset),
                                      n_best=n_best_size or N_BEST)
        return ([{"id": q, "answer": [t]} for q, t in texts.items()],
                [{"id": q, "probability": [scores[q]]} for q in texts])

    def _samples(self, limit: int) -> list[tuple]:
        data = getattr(self, "_eval_df", None)
        if not data:
            return []
        answers, _ = self.predict(data[:limit])
        truth = {str(qa["id"]): qa.get("answers", [{}])[0].get("text", "")
                 for item in data[:limit] for qa in item["qas"]}
        return [(a["id"], a["answer"][0], truth.get(a["id"], "")) for a in answers]

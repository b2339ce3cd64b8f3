"""The Simple Transformers args people pass beyond the global list, and models from the Hub's
cache: string labels, schedules, special tokens, config overrides, HF datasets, refusals."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from sweeper.errors import BadInput
from sweeper.tasks import (
    ClassificationModel,
    MultiLabelClassificationModel,
    NERModel,
    QuestionAnsweringModel,
)

from .test_tasks import FAST, sentiment

NAMED = {"silent": True, "overwrite_output_dir": True, "save_model_every_epoch": False,
         "save_eval_checkpoints": False, "logging_steps": 5, "learning_rate": 5e-3,
         "num_train_epochs": 10, "manual_seed": 1}


def named(n: int = 40) -> pd.DataFrame:
    return sentiment(n).assign(labels=lambda df: df["labels"].map({1: "positive", 0: "negative"}))


def test_labels_list_trains_on_names_and_predicts_names(tiny_model, in_tmp):
    model = ClassificationModel("bert", tiny_model,
                                args={**NAMED, "labels_list": ["negative", "positive"]})
    assert model.num_labels == 2
    model.train_model(named(), eval_df=named(12))
    predictions, outputs = model.predict(["great movie", "awful plot"])
    assert predictions == ["positive", "negative"] and outputs.shape == (2, 2)
    result, _, wrong = model.eval_model(named(12))
    assert result["accuracy"] == 1.0 and wrong == []
    # The saved model says the names too: a plain HF pipeline on it answers with them.
    from transformers import pipeline

    saved = json.loads((in_tmp / "outputs/best_model/config.json").read_text())
    assert saved["id2label"] == {"0": "negative", "1": "positive"}
    classify = pipeline("text-classification", model=str(in_tmp / "outputs/best_model"),
                        device="cpu")
    assert classify("great film")[0]["label"] == "positive"


def test_labels_map_sets_which_class_index_each_name_takes(tiny_model, in_tmp):
    model = ClassificationModel("bert", tiny_model, args={
        **NAMED, "labels_list": ["negative", "positive"],
        "labels_map": {"negative": 1, "positive": 0}})
    assert model.model.config.id2label == {0: "positive", 1: "negative"}
    model.train_model(named())
    predictions, outputs = model.predict(["great movie", "awful plot"])
    assert predictions == ["positive", "negative"]
    assert outputs[0].argmax() == 0 and outputs[1].argmax() == 1  # positive is class 0 here


@pytest.mark.parametrize("args, num_labels, message", [
    ({"labels_list": ["a", "b"], "labels_map": {"a": 0}}, None,
     "labels_map: has no entry for 'b'"),
    ({"labels_list": ["a", "b"], "labels_map": {"a": 0, "b": 0}}, None,
     "labels_map: its values must be the class indexes 0..1"),
    ({"labels_list": ["a", "b"], "labels_map": {"a": 0, "b": 1, "c": 2}}, None,
     "labels_map: 'c' is not in labels_list"),
    ({"labels_list": ["a", "a"]}, None, "labels_list: a label is listed twice"),
    ({"labels_list": ["a", "b"]}, 3, "num_labels: 3, but labels_list has 2 labels"),
    ({"labels_list": "a,b"}, None, "args.labels_list: must be a list"),
    ({"sliding_window": True}, None, "args.sliding_window: sliding windows over long texts "
                                     "are not supported"),
    ({"regression": True}, None, "args.regression: regression is not supported"),
    ({"lazy_loading": True}, None, "args.lazy_loading: lazy loading is not supported"),
    ({"scheduler": "cosine"}, None, "args.scheduler: must be one of constant_schedule"),
])
def test_bad_label_and_unsupported_args_are_one_line(tiny_model, in_tmp, args, num_labels,
                                                      message):
    with pytest.raises(BadInput, match=message) as caught:
        ClassificationModel("bert", tiny_model, num_labels=num_labels, args={**FAST, **args})
    assert "\n" not in str(caught.value)


def test_a_label_outside_labels_list_is_named(tiny_model, in_tmp):
    model = ClassificationModel("bert", tiny_model, args={**FAST, "labels_list": ["neg", "pos"]})
    with pytest.raises(BadInput, match="train_df: label 'neutral' is not in labels_list"):
        model.train_model(pd.DataFrame({"text": ["a", "b"], "labels": ["pos", "neutral"]}))


def _learning_rates(tiny_model, scheduler: str, **extra) -> list[float]:
    model = ClassificationModel("bert", tiny_model, num_labels=2, args={
        **FAST, "logging_steps": 1, "max_steps": 8, "train_batch_size": 4, "warmup_steps": 2,
        "learning_rate": 1e-3, "scheduler": scheduler, "no_save": True, **extra})
    model.train_model(sentiment(40))
    return [entry["learning_rate"] for entry in model.trainer.state.log_history
            if "learning_rate" in entry]


def test_schedulers_shape_the_learning_rate_as_simple_transformers_names_them(tiny_model,
                                                                             in_tmp):
    constant = _learning_rates(tiny_model, "constant_schedule")
    assert len(constant) == 8 and set(constant) == {1e-3}  # no warmup, no decay
    linear = _learning_rates(tiny_model, "linear_schedule_with_warmup")
    assert linear[0] < linear[1] < linear[2] == 1e-3  # two warmup steps, then down
    assert linear[2] > linear[3] > linear[-1]
    cosine = _learning_rates(tiny_model, "cosine_schedule_with_warmup")
    assert cosine[3] > linear[3] and cosine[-1] < linear[-1]  # holds high, then falls lower
    polynomial = _learning_rates(tiny_model, "polynomial_decay_schedule_with_warmup",
                                 polynomial_decay_schedule_lr_end=1e-4,
                                 polynomial_decay_schedule_power=2.0)
    assert polynomial[3] < linear[3] and polynomial[-1] > 1e-4  # power 2, down to lr_end


def test_special_tokens_config_overrides_and_loader_workers(tiny_model, in_tmp):
    model = ClassificationModel("bert", tiny_model, num_labels=2, args={
        **FAST, "special_tokens_list": ["[PRODUCT]"], "config": {"hidden_dropout_prob": 0.3},
        "dataloader_num_workers": 1, "max_steps": 2, "no_save": True})
    assert model.tokenizer.tokenize("a [PRODUCT] here") == ["a", "[PRODUCT]", "here"]
    assert model.model.get_input_embeddings().num_embeddings == len(model.tokenizer)
    assert model.model.config.hidden_dropout_prob == 0.3
    step, _ = model.train_model(sentiment(16).assign(text=lambda d: d["text"] + " [PRODUCT]"))
    assert step == 2 and model.trainer.args.dataloader_num_workers == 1


def test_use_hf_datasets_reads_files_and_datasets(tiny_model, in_tmp):
    import datasets

    named(40).to_csv(in_tmp / "train.csv", index=False)
    named(12).to_json(in_tmp / "eval.jsonl", orient="records", lines=True)
    args = {**NAMED, "use_hf_datasets": True, "labels_list": ["negative", "positive"]}
    model = ClassificationModel("bert", tiny_model, args=args)
    _, results = model.train_model(str(in_tmp / "train.csv"), eval_df=str(in_tmp / "eval.jsonl"))
    assert results["accuracy"] == 1.0
    result, _, _ = model.eval_model(datasets.Dataset.from_pandas(named(12)))
    assert result["accuracy"] == 1.0
    with pytest.raises(BadInput, match="eval_df: a DatasetDict .*give one split"):
        model.eval_model(datasets.DatasetDict({"test": datasets.Dataset.from_pandas(named(4))}))
    with pytest.raises(BadInput, match="no such file"):
        model.eval_model(str(in_tmp / "missing.csv"))
    plain = ClassificationModel("bert", tiny_model, args={**FAST, "labels_list": ["a", "b"]})
    with pytest.raises(BadInput, match="train_df: a path .* set use_hf_datasets: true"):
        plain.train_model(str(in_tmp / "train.csv"))


def test_use_hf_datasets_for_multilabel_ner_and_qa(tiny_model, in_tmp):
    pd.DataFrame({"text": ["red apple", "blue sky"] * 4,
                  "labels": ["[1, 0]", "[0, 1]"] * 4}).to_csv(in_tmp / "ml.csv", index=False)
    multilabel = MultiLabelClassificationModel("bert", tiny_model, args={
        **FAST, "use_hf_datasets": True, "labels_list": ["red", "blue"], "max_steps": 1})
    assert multilabel.num_labels == 2
    assert multilabel.model.config.id2label == {0: "red", 1: "blue"}
    multilabel.train_model(str(in_tmp / "ml.csv"))
    pd.DataFrame({"sentence_id": [0, 0], "words": ["Mary", "sings"],
                  "labels": ["B-PER", "O"]}).to_csv(in_tmp / "ner.csv", index=False)
    ner = NERModel("bert", tiny_model, args={**FAST, "use_hf_datasets": True,
                                             "labels_list": ["O", "B-PER"], "max_steps": 1})
    assert ner.labels == ["O", "B-PER"]
    ner.train_model(str(in_tmp / "ner.csv"))
    context = "The cat sat on the mat."
    rows = [{"id": str(i), "title": "t", "context": context, "question": "Where?",
             "answers": {"text": ["on the mat"], "answer_start": [context.index("on the mat")]}}
            for i in range(4)]
    (in_tmp / "squad.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    qa = QuestionAnsweringModel("bert", tiny_model, args={**FAST, "use_hf_datasets": True,
                                                          "max_steps": 1, "max_seq_length": 64})
    qa.train_model(str(in_tmp / "squad.jsonl"))
    result, _, _ = qa.eval_model(str(in_tmp / "squad.jsonl"))
    assert set(result) >= {"exact_match", "f1"}
    # A SQuAD JSON file's path works for QA as in Simple Transformers, datasets or not.
    (in_tmp / "squad.json").write_text(json.dumps(
        [{"context": context, "qas": [{"id": "1", "question": "Where?", "answers": [
            {"text": "on the mat", "answer_start": context.index("on the mat")}]}]}]))
    plain = QuestionAnsweringModel("bert", tiny_model, args={**FAST, "max_seq_length": 64})
    assert set(plain.eval_model(str(in_tmp / "squad.json"))[0]) >= {"exact_match", "f1"}


def _hub_cache(home: Path, repo: str, files: Path) -> None:
    """A model in an HF cache, laid out as huggingface_hub lays it out."""
    folder = home / "hub" / f"models--{repo.replace('/', '--')}"
    commit = "0123456789abcdef0123456789abcdef01234567"
    (folder / "refs").mkdir(parents=True)
    (folder / "refs" / "main").write_text(commit)
    shutil.copytree(files, folder / "snapshots" / commit)


HUB_SCRIPT = """
import sys
from sweeper.errors import BadInput
from sweeper.tasks import ClassificationModel
model = ClassificationModel("bert", sys.argv[1], args={"silent": True})
print("loaded", model.path.split("/hub/")[1], model.predict(["good"])[0])
try:
    ClassificationModel("roberta", "roberta-base")
except BadInput as exc:
    print("refused", exc)
"""


def test_hub_models_load_from_the_hf_cache_and_a_miss_is_one_line(tiny_model, tmp_path):
    _hub_cache(tmp_path / "hf", "tiny-org/tiny-bert", Path(tiny_model))
    env = {"PATH": str(Path(sys.executable).parent), "HOME": str(tmp_path),
           "HF_HOME": str(tmp_path / "hf"), "HF_HUB_OFFLINE": "1", "WANDB_MODE": "disabled"}
    done = subprocess.run([sys.executable, "-c", HUB_SCRIPT, "tiny-org/tiny-bert"], env=env,
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    assert lines[0].startswith("loaded models--tiny-org--tiny-bert/snapshots/0123")
    assert lines[0].endswith("[0]") or lines[0].endswith("[1]")
    assert lines[1].startswith("refused model_name_or_path 'roberta-base': not in the HF cache")
    assert "HF_HUB_OFFLINE=1" in lines[1] and "huggingface-cli download roberta-base" in lines[1]
    assert len(lines) == 2


def test_a_sweep_names_a_hub_model(tiny_model, tmp_path):
    """model_name_or_path: org/name in a sweep run trains from the cache; the string labels of
    the data become the saved model's label names."""
    _hub_cache(tmp_path / "hf", "tiny-org/tiny-bert", Path(tiny_model))
    named(24).to_csv(tmp_path / "train.csv", index=False)
    config = {"model_name_or_path": "tiny-org/tiny-bert", "train_file": str(tmp_path / "train.csv"),
              "num_train_epochs": 1, "learning_rate": 1e-3, "silent": True}
    script = ("import json, sys, pathlib\n"
              "from sweeper.tasks.entrypoint import train\n"
              "print(json.dumps(train(json.loads(sys.argv[1]), pathlib.Path('run'))))\n")
    env = {"PATH": str(Path(sys.executable).parent), "HOME": str(tmp_path),
           "HF_HOME": str(tmp_path / "hf"), "HF_HUB_OFFLINE": "1", "WANDB_MODE": "disabled"}
    done = subprocess.run([sys.executable, "-c", script, json.dumps(config)], env=env,
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    saved = json.loads((tmp_path / "run/best_model/config.json").read_text())
    assert saved["id2label"] == {"0": "negative", "1": "positive"}

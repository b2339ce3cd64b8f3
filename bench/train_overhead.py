"""Benchmark: does the model layer train as fast as a hand-written HF Trainer script?

The same model (the MiniLM shipped on PyPI), the same Rotten Tomatoes sentences and the same
args, trained through `sweeper.tasks.ClassificationModel` and through a plain `Trainer`,
alternating, several rounds in one process. Reports training samples per second of each (the
Trainer's own train_samples_per_second) and their ratio.

    python bench/train_overhead.py [--rounds 3] [--samples 512] [--out FILE]

Prints a table and writes JSON (default bench/results/train_overhead.json).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("WANDB_MODE", "disabled")

ARGS = {"learning_rate": 5e-5, "num_train_epochs": 1, "train_batch_size": 16,
        "max_seq_length": 64, "warmup_ratio": 0.06, "weight_decay": 0.01, "manual_seed": 0,
        "logging_steps": 50}


def layer(model_path: str, train, out: str) -> float:
    from sweeper.tasks import ClassificationModel

    model = ClassificationModel("bert", model_path, num_labels=2, args={
        **ARGS, "no_save": True, "silent": True, "overwrite_output_dir": True, "output_dir": out})
    model.train_model(train)
    return float(model.train_metrics["train_samples_per_second"])


def handwritten(model_path: str, train, out: str) -> float:
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        DataCollatorWithPadding,
        Trainer,
        TrainingArguments,
        set_seed,
    )

    set_seed(ARGS["manual_seed"])
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    model = AutoModelForSequenceClassification.from_pretrained(model_path, num_labels=2)
    enc = tokenizer(train["text"].tolist(), truncation=True, max_length=ARGS["max_seq_length"])
    labels = train["labels"].tolist()
    dataset = [{**{k: v[i] for k, v in enc.items()}, "labels": labels[i]}
               for i in range(len(labels))]
    args = TrainingArguments(output_dir=out, learning_rate=ARGS["learning_rate"],
                             num_train_epochs=ARGS["num_train_epochs"],
                             per_device_train_batch_size=ARGS["train_batch_size"],
                             warmup_steps=ARGS["warmup_ratio"], weight_decay=ARGS["weight_decay"],
                             seed=ARGS["manual_seed"], logging_steps=ARGS["logging_steps"],
                             report_to=[], save_strategy="no", disable_tqdm=True)
    trainer = Trainer(model=model, args=args, train_dataset=dataset,
                      data_collator=DataCollatorWithPadding(tokenizer))
    return float(trainer.train().metrics["train_samples_per_second"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--samples", type=int, default=512)
    parser.add_argument("--out", default="bench/results/train_overhead.json")
    args = parser.parse_args()
    from sweeper.tasks.data import default_model_path, rotten_tomatoes

    model_path = default_model_path()
    train = rotten_tomatoes()[0].head(args.samples)
    out = tempfile.mkdtemp(prefix="sweeper-train-bench-")
    ours, theirs = [], []
    for _ in range(args.rounds):
        theirs.append(handwritten(model_path, train, out))
        ours.append(layer(model_path, train, out))
        print(f"  round: hand-written {theirs[-1]:.1f} samples/s, model layer {ours[-1]:.1f}",
              flush=True)
    result = {"samples": args.samples, "rounds": args.rounds, "args": ARGS,
              "handwritten_samples_per_s": statistics.median(theirs),
              "layer_samples_per_s": statistics.median(ours),
              "ratio": statistics.median(ours) / statistics.median(theirs),
              "all_handwritten": theirs, "all_layer": ours}
    print(f"{'':22}{'samples/s (median)':>20}")
    print(f"{'hand-written Trainer':22}{result['handwritten_samples_per_s']:>20.1f}")
    print(f"{'sweeper model layer':22}{result['layer_samples_per_s']:>20.1f}")
    print(f"model layer / hand-written: {result['ratio']:.3f}x")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

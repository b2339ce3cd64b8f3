"""An HF user's script: a Trainer built with model_init, searched with sweeper.hf.

argv: MODEL_DIR BACKEND N_TRIALS OUT_JSON [multi]. It records what each trial trained with (the
learning rate the Trainer used, and the W&B run open at model_init) and the BestRun; with
``multi``, two objectives (accuracy up, loss down) and the front of BestRuns."""

import json
import sys

import datasets
from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    Trainer,
    TrainerCallback,
    TrainingArguments,
)

import sweeper.hf

model_dir, backend, n_trials, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
multi = sys.argv[5:] == ["multi"]
tokenizer = AutoTokenizer.from_pretrained(model_dir)
data = datasets.Dataset.from_dict({"text": ["good movie", "bad movie", "great film",
                                            "awful film"] * 4, "label": [1, 0, 1, 0] * 4})
data = data.map(lambda batch: tokenizer(batch["text"], truncation=True), batched=True)
seen = {"runs_at_init": [], "trained_lr": [], "dropout": []}


def model_init(trial):
    import wandb

    dropout = (trial or {}).get("dropout", 0.1)
    if trial is not None:  # not the Trainer's own call at construction
        seen["runs_at_init"].append(wandb.run.id if wandb.run else None)
        seen["dropout"].append(dropout)
    return AutoModelForSequenceClassification.from_pretrained(
        model_dir, num_labels=2, hidden_dropout_prob=dropout)


class Record(TrainerCallback):
    def on_train_begin(self, args, state, control, **kwargs):
        seen["trained_lr"].append(args.learning_rate)


def accuracy(prediction):
    return {"accuracy": float((prediction.predictions.argmax(-1) == prediction.label_ids).mean())}


args = TrainingArguments("out", eval_strategy="epoch", num_train_epochs=2, learning_rate=5e-5,
                         per_device_train_batch_size=8, save_strategy="no", logging_steps=1,
                         report_to="none", disable_tqdm=True, use_cpu=True)
trainer = Trainer(args=args, model_init=model_init, train_dataset=data, eval_dataset=data,
                  processing_class=tokenizer, compute_metrics=accuracy, callbacks=[Record()])
space = {"method": "random", "name": "hf-search",
         "parameters": {"learning_rate": {"distribution": "log_uniform_values", "min": 1e-4,
                                          "max": 1e-2},
                        "dropout": {"values": [0.0, 0.2]}}}
if multi:
    space = {**space, "method": "tpe"}
    front = sweeper.hf.hyperparameter_search(
        trainer, space, n_trials=n_trials, direction=["maximize", "minimize"], backend=backend,
        compute_objective=lambda m: [m["eval_accuracy"], m["eval_loss"]])
    json.dump({"front": [{"run_id": b.run_id, "objective": b.objective,
                          "hyperparameters": b.hyperparameters, "run_summary": b.run_summary}
                         for b in front]}, open(out, "w"))
    sys.exit(0)
best = sweeper.hf.hyperparameter_search(trainer, space, n_trials=n_trials, direction="maximize",
                                        backend=backend, project="proj",
                                        compute_objective=lambda m: m["eval_accuracy"])
import wandb  # noqa: E402

json.dump({"best": {"type": type(best).__module__ + "." + type(best).__name__,
                    "run_id": best.run_id, "objective": best.objective,
                    "hyperparameters": best.hyperparameters, "run_summary": best.run_summary},
           "seen": seen, "lr_after": trainer.args.learning_rate,
           "run_after": wandb.run is not None}, open(out, "w"))

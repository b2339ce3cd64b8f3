"""A sweep written in a W&B notebook: no `program`, parameters of the notebook's own training
function. W&B accepts it (the notebook runs it with `wandb.agent(id, function=train)`), so
sweeper accepts it; only running it with the built-in trainer reports, before any run starts,
which parameters that trainer cannot take."""

from __future__ import annotations

import wandb

from sweeper.agent import agent
from sweeper.backends import open_backend

from ..conftest import sweeper_process
from .conftest import run_sweep, sweep_yaml

NOTEBOOK_SWEEP = """
method: random
metric:
  name: loss
  goal: minimize
parameters:
  optimizer:
    values: [adam, sgd]
  fc_layer_size:
    values: [128, 256, 512]
  dropout:
    values: [0.3, 0.4, 0.5]
  epochs:
    value: 2
  learning_rate:
    distribution: uniform
    min: 0
    max: 0.1
  batch_size:
    distribution: q_log_uniform_values
    q: 8
    min: 32
    max: 256
"""


def test_validate_and_create_accept_it(work):
    path = sweep_yaml(work, NOTEBOOK_SWEEP)
    checked = sweeper_process("validate", path, cwd=work)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.strip() == f"{path}: ok"
    created = sweeper_process("create", path, cwd=work)
    assert created.returncode == 0, created.stderr


def test_the_notebooks_function_runs_it_as_wandb_agent_would(work):
    path = sweep_yaml(work, NOTEBOOK_SWEEP)
    sweep_id = sweeper_process("create", path, cwd=work).stdout.strip().splitlines()[-1]

    def train():
        with wandb.init() as run:
            config = run.config
            for epoch in range(config.epochs):
                run.log({"loss": config.dropout + config.learning_rate / (epoch + 1),
                         "epoch": epoch})

    assert agent(sweep_id, function=train, count=2) == 2
    runs = open_backend().runs(sweep_id)
    assert [r.state for r in runs] == ["finished", "finished"]
    for run in runs:
        assert run.params["optimizer"] in ("adam", "sgd") and run.steps == 2
        expected = run.params["dropout"] + run.params["learning_rate"] / 2
        assert abs(run.metric_value - expected) < 1e-9


def test_the_built_in_trainer_says_what_it_cannot_take_before_any_run(work):
    path = sweep_yaml(work, NOTEBOOK_SWEEP)
    ran = run_sweep(work, path)
    assert ran.code == 2
    lines = ran.err.strip().splitlines()
    named = sorted(line.removeprefix("sweeper: error: ").split(":")[0] for line in lines)
    # optimizer is the trainer's too (AdamW, Adafactor): each value it cannot take is named
    assert named == sorted(f"parameters.{p}" for p in ("optimizer.values[0]",
                                                       "optimizer.values[1]", "fc_layer_size",
                                                       "dropout", "epochs", "batch_size",
                                                       "learning_rate.min"))
    for line in lines:
        assert line.startswith("sweeper: error: parameters.")
        assert "the sweep names no program, so sweeper runs its built-in trainer" in line
        assert "`program:`" in line
    assert "Traceback" not in ran.out + ran.err
    assert ran.runs == []  # nothing started


def test_the_built_in_trainer_refuses_a_task_it_has_no_data_for_before_any_run(work):
    """ner (like qa and multilabel) has no built-in data: without train_file every run would
    fail the same way, so the agent says so once, before the first."""
    path = sweep_yaml(work, """
method: random
metric: {name: eval/f1, goal: maximize}
parameters:
  task: {value: ner}
  learning_rate: {min: 0.00001, max: 0.0001}
""")
    ran = run_sweep(work, path)
    assert ran.code == 2
    line = ran.err.strip()
    assert line.startswith("sweeper: error: parameters.train_file: the ner task has no "
                           "built-in data: set train_file (and eval_file)"), ran.err
    assert "\n" not in line and "Traceback" not in ran.out + ran.err
    assert ran.runs == []

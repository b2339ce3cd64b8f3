"""`5e-05` in a sweep file: YAML 1.1 (PyYAML, and so `wandb sweep`) reads it as text; sweeper
reads the number it means, and warns once per value how to write it so that both agree."""

from __future__ import annotations

from ..conftest import sweeper_process
from .conftest import run_sweep, sweep_yaml, write

SWEEP = """
program: train.py
method: grid
metric: {name: loss, goal: minimize}
parameters:
  learning_rate:
    values: [5e-05, 1e-3, 2.0e-5]
"""


def test_validate_warns_once_per_value_and_accepts(work):
    path = sweep_yaml(work, SWEEP)
    checked = sweeper_process("validate", path, cwd=work)
    assert checked.returncode == 0 and checked.stdout.strip() == f"{path}: ok"
    warnings = checked.stderr.strip().splitlines()
    assert warnings == [
        f"{path}: parameters.learning_rate.values[0]: warning: 5e-05 is read as the number 5e-05 "
        "here, but W&B's own loader (PyYAML, YAML 1.1) reads it as the text '5e-05'; write it "
        "with a dot (5.0e-05) so both agree",
        f"{path}: parameters.learning_rate.values[1]: warning: 1e-3 is read as the number 0.001 "
        "here, but W&B's own loader (PyYAML, YAML 1.1) reads it as the text '1e-3'; write it "
        "with a dot (1.0e-3) so both agree"]


def test_the_runs_get_numbers(work):
    write(work, "train.py", """
        import wandb

        with wandb.init() as run:
            lr = run.config.learning_rate
            assert isinstance(lr, float), type(lr)
            run.log({"loss": lr * 1000})
        """)
    ran = run_sweep(work, sweep_yaml(work, SWEEP))
    assert ran.code == 0, ran.out + ran.err
    assert "so both agree" in ran.err  # create warns too
    assert [r.params["learning_rate"] for r in ran.runs] == [5e-05, 1e-3, 2e-05]
    assert all(r.state == "finished" for r in ran.runs)

"""NaN and infinities in a sweep: refused by validate and create with one line naming the key
path (they would otherwise crash the agent, or a PostgreSQL database refuses to store them)."""

from __future__ import annotations

import pytest

from ..conftest import sweeper_process
from .conftest import run_sweep, sweep_yaml

CASES = {
    "min": ("parameters:\n  lr: {distribution: uniform, min: .nan, max: 1.0}\n",
            "parameters.lr.min: must be a finite number, got nan"),
    "max": ("parameters:\n  lr: {min: 0.0, max: .inf}\n",
            "parameters.lr.max: must be a finite number, got inf"),
    "values": ("parameters:\n  lr: {values: [0.1, -.inf]}\n",
               "parameters.lr.values[1]: must be a finite number, got -inf"),
    "eta": ("metric: {name: loss}\nearly_terminate: {type: hyperband, min_iter: 1, eta: .nan}\n"
            "parameters:\n  lr: {values: [0.1]}\n",
            "early_terminate.eta: must be a finite number, got nan"),
    "run_cap": ("run_cap: .inf\nparameters:\n  lr: {values: [0.1]}\n",
                "run_cap: must be a finite number, got inf"),
    "log_uniform_draws_inf": (
        "parameters:\n  lr: {distribution: log_uniform, min: 1, max: 800}\n",
        "parameters.lr.max: e**800 is not a finite number"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_impossible_numbers_are_one_line_naming_the_key(work, case):
    body, expected = CASES[case]
    path = sweep_yaml(work, f"program: train.py\nmethod: random\n{body}")
    for command in ("validate", "create", "explain"):
        done = sweeper_process(command, path, cwd=work)
        assert done.returncode == 2, (command, done.stderr)
        (line,) = [line for line in done.stderr.splitlines() if ": warning: " not in line]
        assert expected in line and "Traceback" not in done.stderr


def test_run_refuses_before_anything_starts(work):
    path = sweep_yaml(work, "program: train.py\nmethod: random\n" + CASES["min"][0])
    ran = run_sweep(work, path)
    assert ran.code == 2 and CASES["min"][1] in ran.err
    assert ran.sweep is None

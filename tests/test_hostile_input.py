"""Hostile and odd sweep files: every one ends in one line naming the key and exit 2, fast and
in bounded memory; and what validate accepts, create stores and agents run, on both databases."""

from __future__ import annotations

import math
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sweeper import controller, spec
from sweeper.backends import Assignment, open_backend
from sweeper.errors import SpecError

TOP = "program: train.py\nmethod: random\n"
CASES = {
    "nan_bound": (TOP + "parameters:\n  x: {min: .nan, max: 1.0}\n",
                  "parameters.x.min: must be a finite number, got nan"),
    "inf_value": (TOP + "parameters:\n  x: {values: [1, .inf]}\n",
                  "parameters.x.values[1]: must be a finite number, got inf"),
    "log_uniform_inf": (TOP + "parameters:\n  x: {distribution: log_uniform, min: 0, max: 710}\n",
                        "parameters.x.max: e**710 is not a finite number"),
    "inv_log_uniform_inf": (
        TOP + "parameters:\n  x: {distribution: inv_log_uniform, min: -800, max: 1}\n",
        "parameters.x.min: 1/e**-800 is not a finite number"),
    "log_normal_inf": (TOP + "parameters:\n  x: {distribution: log_normal, mu: 700, sigma: 5}\n",
                       "parameters.x: e**x with x = mu + 10 sigma"),
    "uniform_too_wide": (TOP + "parameters:\n  x: {min: -1.0e308, max: 1.0e308}\n",
                         "is wider than the largest number"),
    "huge_grid": ("program: train.py\nmethod: grid\nparameters:\n"
                  + "".join(f"  p{i}: {{values: [{', '.join(map(str, range(1000)))}]}}\n"
                            for i in range(5)),
                  "parameters: the grid has 1,000,000,000,000,000 combinations; at most 100,000"),
    "binary": (TOP + "parameters:\n  x: {value: !!binary aGVsbG8=}\n",
               "parameters.x.value: binary data (!!binary)"),
    "set": (TOP + "parameters:\n  x: {values: !!set {a, b}}\n", "parameters.x.values: a set"),
    "date": (TOP + "parameters:\n  x: {value: 2024-05-01}\n",
             "parameters.x.value: a date or time; quote it"),
    "python_tag": (TOP + "parameters:\n  x: {value: !!python/object:os.system ls}\n",
                   "parameters.x.value: the YAML tag !!python/object:os.system is not plain"),
    "custom_tag": (TOP + "parameters:\n  x: {value: !secret abc}\n",
                   "parameters.x.value: the YAML tag !secret is not plain data"),
    "self_reference": (TOP + "parameters: &p\n  x: {values: *p}\n",
                       "refers to the value that holds it (a loop)"),
    "alias_bomb": (
        "a: &a [1,1,1,1,1,1,1,1,1]\n" + "".join(
            f"{c}: &{c} [{','.join(['*' + p] * 9)}]\n"
            for p, c in zip("abcdefghi", "bcdefghij", strict=True)),
        "expands to over 200,000 values (through aliases)"),
    "huge_int": (TOP + "run_cap: " + "9" * 5000 + "\nparameters:\n  x: {value: 1}\n",
                 "run_cap: integer too large (5000 digits)"),
    "big_int": (TOP + "run_cap: 99999999999999999999\nparameters:\n  x: {value: 1}\n",
                "run_cap: integer too large (20 digits); at most 2**53"),
    "deep_nesting": (TOP + "parameters:\n  x: {value: " + "[" * 100 + "]" * 100 + "}\n",
                     "nested deeper than 64 levels"),
    "very_deep_nesting": (TOP + "parameters:\n  x: {value: " + "[" * 100000 + "]" * 100000
                          + "}\n", "exceeded maximum nesting depth"),
    "complex_key": (TOP + "parameters:\n  ? [a, b]\n  : {value: 1}\n",
                    "parameters: a mapping or list used as a key"),
    "int_key": (TOP + "parameters:\n  1: {value: 1}\n",
                "parameters: key 1 is not text; quote it"),
    "two_documents": (TOP + "parameters:\n  x: {value: 1}\n---\nmethod: grid\n",
                      "a second YAML document"),
    "duplicate_key": (TOP + "method: grid\nparameters:\n  x: {value: 1}\n",
                      "duplicate key 'method'"),
    "json_nan": ('{"program": "t.py", "method": "random", "parameters": {"x": {"min": NaN, '
                 '"max": 1}}}', "parameters.x.min: must be a finite number, got nan"),
    "json_deep": ('{"method": "grid", "parameters": {"x": {"value": ' + "[" * 5000 + "]" * 5000
                  + "}}}", "nested deeper than 64 levels"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_hostile_file_is_one_line_naming_the_key(tmp_path, run_cli, case):
    text, expected = CASES[case]
    path = tmp_path / ("s.json" if case.startswith("json") else "s.yaml")
    path.write_text(text)
    for command in ("validate", "explain", "create"):
        started = time.monotonic()
        done = run_cli(command, path, "--storage", str(tmp_path / "db.sqlite")) \
            if command == "create" else run_cli(command, path)
        assert time.monotonic() - started < 2, command
        assert done.code == 2, (command, done.err)
        errors = [line for line in done.err.splitlines() if ": warning: " not in line]
        assert len(errors) == 1 and expected in errors[0], (command, errors)
        assert "Traceback" not in done.err + done.out
    assert not (tmp_path / "db.sqlite").exists() or not open_backend(
        str(tmp_path / "db.sqlite")).sweeps()


def test_merge_keys_are_read_as_pyyaml_reads_them(tmp_path, run_cli):
    path = tmp_path / "s.yaml"
    path.write_text(
        "program: train.py\nmethod: random\nparameters:\n"
        "  lr: &range {distribution: uniform, min: 0.0, max: 1.0}\n"
        "  momentum:\n    <<: *range\n    max: 0.99\n"
        "  wd:\n    <<: [*range, {q: 0.1}]\n    distribution: q_uniform\n")
    assert run_cli("validate", path).code == 0
    config = spec.load(path)
    import yaml

    assert {k: {f: v[f] for f in ("min", "max")} for k, v in config["parameters"].items()} == \
        {k: {f: v[f] for f in ("min", "max")} for k, v in yaml.safe_load(
            path.read_text())["parameters"].items()}
    assert config["parameters"]["momentum"]["max"] == 0.99
    assert config["parameters"]["wd"]["q"] == 0.1


def test_a_ten_megabyte_file_ends_in_two_seconds_and_200_mb(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("program: t.py\nmethod: grid\nparameters:\n  x:\n    values: ["
                    + ", ".join(str(i) for i in range(1_500_000)) + "]\n")
    assert path.stat().st_size > 10_000_000
    timer = shutil.which("time") or "/usr/bin/time"
    if not os.path.exists(timer):
        pytest.skip("GNU time is needed to read the command's own peak memory")
    started = time.monotonic()
    # GNU time reports the command's own peak (a child forked from this large process would
    # count this process's pages until it execs)
    done = subprocess.run([timer, "-f", "%M", str(Path(sys.executable).with_name("sweeper")),
                           "validate", str(path)], capture_output=True, text=True)
    took = time.monotonic() - started
    *lines, peak_kb = [line for line in done.stderr.strip().splitlines()
                       if not line.startswith("Command exited")]  # GNU time's own line
    assert done.returncode == 2 and len(lines) == 1
    assert "a sweep file may be at most 1 MiB" in lines[0]
    assert took < 2 and int(peak_kb) < 200 * 1024


# --- what validate accepts, create stores and agents run ------------------------------------

def _random_parameter(rng: random.Random, method: str):
    kind = rng.choice(["value", "values", "uniform", "int", "log", "q"] if method != "grid"
                      else ["value", "values", "int", "q"])
    big = rng.choice([1, 1e3, 1e300, 2**52])
    if kind == "value":
        return {"value": rng.choice([0, -1.5, "text", True, None, big, [1, 2], {"a": 1}])}
    if kind == "values":
        return {"values": [rng.choice([0, 1e-9, -big, "a", False]) for _ in range(
            rng.randint(1, 4))]}
    if kind == "uniform":
        low = rng.uniform(-big, big)
        return {"min": low, "max": low + rng.choice([1e-9, 1.0, big])}
    if kind == "int":
        low = rng.randint(-1000, 1000)
        return {"min": low, "max": low + rng.randint(1, 50)}
    if kind == "log":
        return {"distribution": "log_uniform_values", "min": rng.choice([1e-300, 1e-5]),
                "max": rng.choice([1.0, 1e300])}
    low = rng.uniform(-10, 10)
    return {"distribution": "q_uniform", "min": low, "max": low + rng.uniform(0.5, 20),
            "q": rng.choice([0.1, 1.0, 3.0])}


def _random_config(rng: random.Random) -> dict:
    method = rng.choice(["grid", "random", "bayes", "tpe"])
    config = {"program": "t.py", "method": method,
              "parameters": {f"p{i}": _random_parameter(rng, method)
                             for i in range(rng.randint(1, 4))}}
    if method in ("bayes", "tpe") or rng.random() < 0.3:
        config["metric"] = {"name": "loss", "goal": rng.choice(["minimize", "maximize"])}
    return config


@pytest.mark.parametrize("seed", range(4))
def test_what_validate_accepts_create_stores_and_the_controller_runs(storage, seed):
    rng = random.Random(seed)
    backend = open_backend(storage)
    accepted = 0
    for i in range(30):
        config = _random_config(rng)
        try:
            checked = spec.validate(config)
        except SpecError:
            continue
        accepted += 1
        sweep = backend.create_sweep({**config, "name": f"fuzz-{seed}-{i}"})
        assert sweep.config == {**checked, "name": f"fuzz-{seed}-{i}"}
        agent = backend.register_agent(sweep.id, "h", 1, None)
        for _ in range(2):
            got = backend.next_run(sweep.id, agent)
            if not isinstance(got, Assignment):
                break
            for value in controller.flatten(got.params).values():
                assert not isinstance(value, float) or math.isfinite(value)
            backend.log(got.run_id, [{"loss": rng.random()}])
            backend.finish_run(got.run_id, "finished", None, 0)
    assert accepted >= 5


def test_a_sweep_name_never_leaves_the_runs_folder(tmp_path, run_cli):
    path = tmp_path / "s.yaml"
    path.write_text("program: t.py\nmethod: grid\nparameters:\n  x: {values: [1]}\n")
    for name in ("../../x", "/etc/cron.d/x", "a/b", ".hidden", "..", "x\x00y"):
        done = run_cli("create", path, "--name", name, "--storage", str(tmp_path / "db.sqlite"))
        assert done.code == 2 and done.err.count("\n") == 1, (name, done.err)
        assert "sweep name" in done.err
    path.write_text("name: ../../escape\nprogram: t.py\nmethod: grid\n"
                    "parameters:\n  x: {values: [1]}\n")
    done = run_cli("create", path, "--storage", str(tmp_path / "db.sqlite"))
    assert done.code == 2 and "sweep name '../../escape'" in done.err
    from sweeper.agent._command import RunFiles

    runs = tmp_path / "runs"
    runs.mkdir()
    for run_name in ("../../x-1", "a/../../b-2", "..", "ok-3"):
        folder = RunFiles.under(runs, run_name, "id123").folder
        assert folder.resolve().parent == runs.resolve(), run_name


def test_run_folders_and_logs_are_private(tmp_path):
    program = tmp_path / "t.py"
    program.write_text("import wandb\nwith wandb.init() as run:\n    run.log({'loss': 1.0})\n")
    path = tmp_path / "s.yaml"
    path.write_text("program: t.py\nmethod: grid\nparameters:\n  x: {values: [1]}\n")
    done = subprocess.run([str(Path(sys.executable).with_name("sweeper")), "run", str(path)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env={**__import__("os").environ, "WANDB_SILENT": "true"})
    assert done.returncode == 0, done.stdout + done.stderr
    (run_dir,) = tmp_path.glob(".sweeper/runs/*/*")
    assert (tmp_path / ".sweeper").stat().st_mode & 0o077 == 0
    assert run_dir.stat().st_mode & 0o777 == 0o700
    for name in ("output.log", "params.json", "params.yaml"):
        assert (run_dir / name).stat().st_mode & 0o077 == 0, name
    assert (tmp_path / ".sweeper" / "sweeper.db").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize("variable", ["SWEEPER_HEARTBEAT_TIMEOUT", "SWEEPER_SQLITE_BUSY_TIMEOUT_S",
                                      "SWEEPER_STORAGE_RETRY_S"])
def test_a_mistyped_setting_is_refused_in_one_line_naming_it(tmp_path, run_cli, monkeypatch,
                                                             variable):
    """Not a traceback, nor the default in its place: a typo in a timeout stays unseen."""
    path = tmp_path / "s.yaml"
    path.write_text("program: t.py\nmethod: grid\nparameters:\n  x: {values: [1]}\n")
    monkeypatch.setenv(variable, "30 seconds")
    done = run_cli("create", path, "--storage", str(tmp_path / "db.sqlite"))
    assert done.code == 2 and done.err.count("\n") == 1, done.err
    assert f"{variable} '30 seconds': not a duration" in done.err
    monkeypatch.setenv(variable, "2m")  # durations as the other options take them
    assert run_cli("create", path, "--storage", str(tmp_path / "db.sqlite")).code == 0


def test_a_folder_the_system_refuses_is_one_line_naming_it(tmp_path, run_cli):
    storage = str(tmp_path / "db.sqlite")
    path = tmp_path / "s.yaml"
    path.write_text("program: t.py\nmethod: grid\nparameters:\n  x: {values: [1]}\n")
    sweep = run_cli("create", path, "--storage", storage).out.strip().splitlines()[-1]
    (tmp_path / "file").write_text("")
    done = run_cli("plot", sweep, "--out", tmp_path / "file" / "plots", "--storage", storage)
    assert done.code == 2 and done.err.count("\n") == 1, done.err  # the option is bad input
    assert f"--out {tmp_path / 'file' / 'plots'}: cannot make the folder" in done.err

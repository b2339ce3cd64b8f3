"""The sweep definition: W&B's schema plus our checks, normalisation, builders, explain."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import sweeps
from sweeper import spec, task_args
from sweeper.errors import SpecError
from sweeper.spec import _task_arg_checks as spec_checks

from .conftest import ROOT, sweeper_process

MALFORMED = sorted(p for p in (ROOT / "tests/data/malformed").iterdir()
                   if not p.name.endswith(".expect"))
EXAMPLES = sorted((ROOT / "sweeps").glob("*.yaml"))


def test_the_malformed_corpus_is_large():
    assert len(MALFORMED) >= 50
    assert len({p.read_bytes() for p in MALFORMED}) == len(MALFORMED)


@pytest.mark.parametrize("path", MALFORMED, ids=lambda p: p.name)
def test_each_malformed_file_gives_its_one_line_error_and_exit_2(path: Path, run_cli):
    expected = Path(f"{path}.expect").read_text().strip()
    result = run_cli("validate", path)
    assert result.code == 2
    assert "Traceback" not in result.err + result.out
    lines = [line for line in result.err.splitlines() if ": warning: " not in line]
    assert lines, "no error printed"
    assert all(line.startswith(f"{path}: ") for line in lines)
    assert any(expected in line for line in lines), f"{expected!r} not in {lines}"


def test_validate_reports_each_file_and_fails_if_any_fails(run_cli, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("program: agents/train.py\nmethod: grid\nparameters:\n"
                   "  learnin_rate: {values: [1]}\n")
    result = run_cli("validate", EXAMPLES[0], bad)
    assert result.code == 2
    assert f"{EXAMPLES[0]}: ok" in result.out
    assert f"{bad}: parameters.learnin_rate: unknown task arg; did you mean learning_rate?" in result.err


def test_validate_a_directory_and_a_missing_file(run_cli, tmp_path):
    result = run_cli("validate", tmp_path, tmp_path / "nope.yaml")
    assert result.code == 2
    assert result.err.splitlines() == [f"{tmp_path}: is a directory, not a sweep file",
                                       f"{tmp_path / 'nope.yaml'}: no such file"]


def test_console_script_prints_no_traceback_on_junk(tmp_path):
    junk = tmp_path / "junk.yaml"
    junk.write_bytes(bytes(range(256)))
    proc = sweeper_process("validate", junk)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"{junk}: not a text file (binary content)"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_pass_our_checks_and_wandb_schema(path: Path, run_cli):
    assert run_cli("validate", path).code == 0
    config = spec.read_config(path)
    if "metrics" in config:  # sweeper's extension: W&B refuses it, in one line
        refused = run_cli("validate", "--backend", "wandb", path)
        assert refused.code == 2 and refused.err.count("\n") == 2  # method tpe, metrics
        assert f"{path}: metrics: several metrics" in refused.err
        return
    server_side = {k: v for k, v in config.items() if k not in ("run_cap",)}
    assert sweeps.schema_violations_from_proposed_config(server_side) == []


@pytest.mark.parametrize("method", spec.W_AND_B_METHODS)
@pytest.mark.parametrize("task", list(spec.TASK_METRICS))
def test_builder_output_passes_both_checks(method, task):
    data = None if task == "classification" else {"train_file": "train.csv"}
    config = spec.build_sweep(method, task=task, fixed=data)
    assert spec.find_problems(config) == ([], [])
    server_side = {k: v for k, v in config.items() if k != "run_cap"}
    assert sweeps.schema_violations_from_proposed_config(server_side) == []
    assert config["metric"]["name"] == spec.TASK_METRICS[task][0]


def test_init_writes_a_ready_valid_sweep(run_cli, tmp_path):
    result = run_cli("init", "--task", "classification", "--method", "bayes")
    assert result.code == 0
    path = tmp_path / "my.yaml"
    path.write_text(result.out)
    assert run_cli("validate", path).code == 0
    config = yaml.safe_load(result.out)
    assert config["method"] == "bayes"
    assert config["early_terminate"]["type"] == "hyperband"
    assert set(spec.DEFAULT_SPACE) <= set(config["parameters"])
    # hyperband compares what runs report as they train: the built-in trainer evaluates then
    assert config["parameters"]["evaluate_during_training"] == {"value": True}
    assert config["parameters"]["evaluate_during_training_steps"] == {"value": 100}
    assert "warning" not in run_cli("validate", path).err
    plain = yaml.safe_load(run_cli("init", "--method", "random").out)
    assert "early_terminate" not in plain and "evaluate_during_training" not in plain["parameters"]


@pytest.mark.parametrize("program, evaluate, warned", [
    ("agents/train.py", None, True), ("agents/train.py", {"value": False}, True),
    ("agents/train.py", {"values": [True, False]}, False), (None, None, True),
    ("my_script.py", None, False)])
def test_hyperband_on_the_builtin_trainer_without_evaluation_is_a_warning(program, evaluate,
                                                                         warned):
    config = {"method": "bayes", "metric": {"name": "eval/accuracy", "goal": "maximize"},
              "early_terminate": {"type": "hyperband", "min_iter": 2},
              "parameters": {"learning_rate": {"min": 1e-5, "max": 1e-3}}}
    if program:
        config["program"] = program
    if evaluate:
        config["parameters"]["evaluate_during_training"] = evaluate
    errors, warnings = spec.find_problems(config)
    assert errors == []
    said = [message for key, message in warnings if key == "early_terminate"]
    assert bool(said) == warned
    if warned:
        assert "evaluate_during_training" in said[0] and "no run would be stopped" in said[0]


@pytest.mark.parametrize("task", ["multilabel", "ner", "qa"])
def test_a_task_without_built_in_data_needs_a_train_file(task, run_cli, tmp_path):
    """Every run of it would fail the same way: refused before the first, in one line."""
    refused = run_cli("init", "--task", task, "--method", "random")
    assert refused.code == 2 and "--train-file" in refused.err and refused.out == ""
    assert f"the {task} task has no built-in data" in refused.err
    made = run_cli("init", "--task", task, "--method", "random", "--train-file", "data/t.json",
                   "--eval-file", "data/e.json")
    assert made.code == 0
    config = yaml.safe_load(made.out)
    assert config["parameters"]["train_file"] == {"value": "data/t.json"}
    assert config["parameters"]["eval_file"] == {"value": "data/e.json"}
    path = tmp_path / "made.yaml"
    path.write_text(made.out)
    assert run_cli("validate", path).code == 0
    del config["parameters"]["train_file"]
    path.write_text(yaml.safe_dump(config))
    result = run_cli("validate", path)
    assert result.code == 2
    assert result.err.strip() == (f"{path}: parameters.train_file: the {task} task has no "
                                  "built-in data: set train_file (and eval_file) to "
                                  f"{spec_checks.DATA_FORMATS[task]}")


def test_a_sweep_that_may_draw_a_task_without_data_needs_a_train_file():
    config = {"program": "agents/train.py", "method": "grid", "parameters": {
        "task": {"values": ["classification", "ner"]}, "learning_rate": {"values": [1e-5]}}}
    errors, _ = spec.find_problems(config)
    assert [key for key, _ in errors] == ["parameters.train_file"]
    config["parameters"]["task"] = {"value": "classification"}  # Rotten Tomatoes by default
    assert spec.find_problems(config)[0] == []
    config["parameters"]["task"] = {"value": "ner"}
    config["program"] = "my_train.py"  # the user's program reads its own data
    assert spec.find_problems(config)[0] == []


def test_init_refuses_an_arg_without_default_range(run_cli):
    result = run_cli("init", "--param", "adam_epsilon")
    assert result.code == 2
    assert "adam_epsilon" in result.err


def _engine_grid_runs(config: dict) -> int:
    runs: list = []
    while True:
        suggestion = sweeps.next_run(config, runs)
        if suggestion is None:
            return len(runs)
        suggestion.state = sweeps.RunState.finished
        runs.append(suggestion)


@pytest.mark.parametrize("parameters", [
    {"learning_rate": {"values": [1e-5, 2e-5, 3e-5]}, "num_train_epochs": {"min": 1, "max": 4}},
    {"train_batch_size": {"distribution": "q_uniform", "min": 8, "max": 64, "q": 8},
     "warmup_ratio": {"value": 0.1}},
    {"weight_decay": {"distribution": "q_uniform", "min": 0.0, "max": 0.1, "q": 0.025},
     "manual_seed": {"values": [1, 2]}, "do_lower_case": {"values": [True, False]}},
])
def test_explained_grid_size_equals_what_the_engine_produces(parameters, run_cli, tmp_path):
    config = spec.validate({"method": "grid", "parameters": parameters})
    path = tmp_path / "grid.yaml"
    path.write_text(yaml.safe_dump({"method": "grid", "parameters": parameters}))
    size = _engine_grid_runs(config)
    assert spec.grid_size(config) == size
    assert f"grid size: {size} combinations" in run_cli("explain", path).out


def _number_in_words(text: str) -> float:
    """A bound as explain writes it: 0.01, 1/128 or e^-2."""
    import math

    if text.startswith("e^"):
        return math.exp(float(text[2:]))
    if text.startswith("1/"):
        return 1 / float(text[2:])
    return float(text)


@pytest.mark.parametrize("shape", [
    {"distribution": "inv_log_uniform_values", "min": 8, "max": 128},
    {"distribution": "inv_log_uniform", "min": -2, "max": 3},
    {"distribution": "log_uniform_values", "min": 1e-5, "max": 1e-2},
    {"distribution": "q_log_uniform_values", "min": 1e-4, "max": 0.1, "q": 1e-4},
])
def test_explained_range_holds_what_the_engine_draws(shape):
    """Each range explain names holds W&B's engine's draws: of x for "1/x with x ... between
    A and B", of the value for "from A to B". inv_log_uniform_values once said "1/x with x
    log-uniform between 8 and 128" of draws from 8 to 128."""
    import math
    import re

    config = spec.validate({"method": "random", "parameters": {"x": shape}})
    words = spec.describe_parameter(config["parameters"]["x"])
    draws = [sweeps.next_run(config, []).config["x"]["value"] for _ in range(300)]
    number = r"((?:e\^|1/)?[-\d.e+]+)"
    ranges = []
    for whole, low, high in re.findall(rf"((?:from|between) {number} (?:to|and) {number})",
                                       words):
        of_reciprocal = words.startswith("1/x") and not whole.startswith("from")
        ranges.append((_number_in_words(low), _number_in_words(high),
                       [1 / d for d in draws] if of_reciprocal else draws))
    assert ranges, words
    assert not words.startswith("1/x") or " from " in words, f"no range of values: {words}"
    for low, high, seen in ranges:
        assert low * (1 - 1e-2) <= min(seen) and max(seen) <= high * (1 + 1e-2), words
        assert math.log(max(seen) / min(seen)) > 0.8 * math.log(high / low), words


def test_explain_names_every_parameter_and_hyperband_iterations(run_cli):
    result = run_cli("explain", ROOT / "sweeps/bayes_hyperband.yaml")
    assert result.code == 0
    for name in ("learning_rate", "num_train_epochs", "train_batch_size", "warmup_ratio"):
        assert name in result.out
    assert "log-uniform between 1e-05 and 0.0002" in result.out
    assert "metric iterations 2, 4, 8, 16" in result.out
    assert "run_cap: 24 runs" in result.out


def _engine_bands(config: dict) -> list[int]:
    probe = sweeps.SweepRun(name="probe", state=sweeps.RunState.running,
                            sampledHistory=[{config["metric"]["name"]: 0.0}])
    sweeps.stop_runs(config, [probe])
    return list(probe.early_terminate_info["bands"])


@pytest.mark.parametrize("early_terminate", [
    {"type": "hyperband", "max_iter": 27, "s": 3, "eta": 3},
    {"type": "hyperband", "min_iter": 2, "eta": 2},
    {"type": "hyperband", "min_iter": 3},
    {"type": "hyperband", "max_iter": 100, "s": 5, "eta": 2.5},
])
def test_hyperband_bands_are_the_engines(early_terminate):
    config = spec.validate({"method": "random", "metric": {"name": "loss"},
                            "early_terminate": early_terminate,
                            "parameters": {"learning_rate": {"min": 1e-5, "max": 1e-3}}})
    assert spec.hyperband_bands(config) == _engine_bands(config)


def test_normalise_keeps_nested_groups_that_the_engine_drops():
    config = spec.validate({"method": "random", "parameters": {
        "config": {"parameters": {"hidden_dropout_prob": {"min": 0.0, "max": 0.3}}},
        "learning_rate": {"min": 1e-5, "max": 1e-3}}})
    nested = config["parameters"]["config"]["parameters"]["hidden_dropout_prob"]
    assert nested["distribution"] == "uniform"


def test_yaml_reads_exponent_without_dot_as_a_number():
    assert spec.parse_text("lr: 1e-5")["lr"] == 1e-5


def test_programs_other_than_the_agent_are_checked_against_the_schema_only():
    config = {"program": "train.py", "method": "grid",
              "parameters": {"anything_goes": {"values": [1, 2]}}}
    assert spec.find_problems(config) == ([], [])


def test_local_only_methods_validate():
    config = spec.validate({"method": "tpe", "metric": {"name": "loss"},
                            "parameters": {"learning_rate": {"min": 1e-5, "max": 1e-3}}})
    assert config["method"] == "tpe"


def test_deprecated_distribution_is_a_warning_not_an_error():
    errors, warnings = spec.find_problems({"method": "random", "program": "x.py", "parameters": {
        "lr": {"distribution": "log_uniform", "min": -9, "max": -3}}})
    assert errors == []
    assert "log_uniform_values" in warnings[0][1]


def test_a_command_macro_the_agent_would_not_expand_is_a_warning():
    """W&B's agent drops an unknown ${macro} and passes one inside other text as written: the
    file runs, but not as meant, on either backend."""
    command = ["${env}", "${interpreter}", "${program}", "${argz}", "--config=${args_json_file}",
               "${args_no_hyphens}", "${args_json_file}", "--seed=1"]
    errors, warnings = spec.find_problems({"method": "random", "program": "x.py",
                                           "command": command,
                                           "parameters": {"lr": {"min": 0.1, "max": 0.2}}})
    assert errors == []
    assert [(key, message.split(":")[0]) for key, message in warnings] == [
        ("command[3]", "${argz} is not a macro W&B's agent knows (env, interpreter, program, "
                       "args_json_file, args, args_no_equals, args_no_hyphens, "
                       "args_no_boolean_flags, args_json, args_dict, args_append_hydra, "
                       "args_override_hydra); it is dropped from the command line"),
        ("command[4]", "'--config=${args_json_file}'")]


def test_the_known_command_macros_are_the_ones_the_wandb_agent_expands():
    from wandb.sdk.launch.sweeps.utils import create_sweep_command_args

    from sweeper.spec._across import COMMAND_MACROS

    expanded = create_sweep_command_args({"args": {"lr": {"value": 0.1}}})
    assert set(COMMAND_MACROS) == {"env", "interpreter", "program", "args_json_file", *expanded}


def test_spec_error_lists_every_problem():
    with pytest.raises(SpecError) as info:
        spec.validate({"program": "agents/train.py", "method": "gird",
                       "parameters": {"learnin_rate": {"value": 1}}}, "f.yaml")
    assert info.value.lines() == [
        "f.yaml: method: unknown method 'gird' (did you mean grid?); one of grid, random, bayes, tpe, gp, nsga2, auto",
        "f.yaml: parameters.learnin_rate: unknown task arg; did you mean learning_rate?",
    ]


def test_catalogue_covers_the_documented_args():
    # The W&B page's table of global args (shared/reference/global_args.md), kept in the checkout
    reference = ROOT / "tests/data/global_args.md"
    documented = {line.split("|")[1].strip() for line in reference.read_text().splitlines()
                  if line.startswith("| ") and not line.startswith("| arg")
                  and not line.startswith("|---")}
    assert documented == set(task_args.GLOBAL_ARGS) and documented <= set(task_args.ARGS)


def test_a_mis_indented_file_reports_every_problem(run_cli, tmp_path):
    path = tmp_path / "mis.yaml"
    path.write_text("program: train.py\nmethod: grid\nparameters:\n  learning_rate:\n"
                    "  values: [1, 2]\n  batch_size:\n    valus: [1]\n")
    done = run_cli("validate", path)
    assert done.code == 2
    assert done.err.splitlines() == [
        f"{path}: parameters.learning_rate: has nothing under it (are the lines below it "
        "indented under it?); give value, values, or a distribution with its bounds",
        f"{path}: parameters.values: must be a mapping such as {{value: x}}, {{values: [...]}} "
        "or {distribution: uniform, min: a, max: b}",
        f"{path}: parameters.batch_size.valus: unknown key; did you mean values?"]
    explained = run_cli("explain", path)
    assert explained.code == 2 and len(explained.err.splitlines()) == 3  # one per line


def test_keys_get_did_you_mean_and_launch_keys_one_line(run_cli, tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("program: t.py\nmethod: random\nRUN: 3\nMetric: {name: x}\njob: me/job:v1\n"
                    "scheduler: {job: sweep-job}\nparameters:\n  x: {values: [1]}\n")
    lines = run_cli("validate", path).err.splitlines()
    assert f"{path}: RUN: unknown key; did you mean run_cap?" in lines
    assert f"{path}: Metric: unknown key; did you mean metric?" in lines
    (launch,) = [line for line in lines if "Launch" in line]
    assert launch.startswith(f"{path}: job, scheduler: W&B Launch sweep keys: sweeper does not "
                             "run Launch sweeps")


def test_hyperband_with_both_iterations_warns_which_one_is_ignored(run_cli, tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("program: t.py\nmethod: random\nmetric: {name: loss}\n"
                    "early_terminate: {type: hyperband, min_iter: 3, max_iter: 27, s: 2}\n"
                    "parameters:\n  x: {min: 0.0, max: 1.0}\n")
    done = run_cli("validate", path)
    assert done.code == 0
    assert (f"{path}: early_terminate.min_iter: warning: ignored: with max_iter and s, W&B's "
            "hyperband engine computes the brackets from max_iter and s alone") in done.err
    assert spec.hyperband_bands(spec.load(path)) == _engine_bands(spec.load(path)) == [3, 9]


def test_explain_says_one_combination(run_cli, tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("program: t.py\nmethod: grid\nparameters:\n  x: {value: 1}\n")
    assert "grid size: 1 combination\n" in run_cli("explain", path).out


def test_our_parameter_rule_is_the_engines(tmp_path):
    """spec reads W&B's schema without importing the engine; its rule for each parameter's
    distribution must stay the engine's own."""
    from sweeps.config.schema import fill_parameter

    from sweeper.spec import _schema

    shapes = [{"value": 1}, {"values": [1, 2]}, {"min": 0, "max": 3}, {"min": 0.0, "max": 1.0},
              {"min": 0, "max": 1.5}, {"distribution": "log_uniform_values", "min": 1e-5,
                                       "max": 1e-2},
              {"distribution": "q_uniform", "min": 0, "max": 1, "q": 0.1},
              {"distribution": "normal", "mu": 0, "sigma": 2}, {"distribution": "normal"},
              {"distribution": "beta", "a": 2, "b": 3}, {"distribution": "q_log_uniform",
                                                          "min": 0, "max": 3},
              {"values": [1, 2], "probabilities": [0.4, 0.6]}, {"min": 3, "max": 1},
              {"distribution": "int_uniform", "min": 1.5, "max": 3}, {"parameters": {}},
              {"distribution": "inv_log_uniform_values", "min": 0.1, "max": 1}]
    for shape in shapes:
        try:
            theirs = fill_parameter("p", shape)
        except ValueError:
            theirs = None
        ours = _schema.fill_parameter(shape)
        assert ours == theirs, shape


MULTI = ("program: t.py\nmethod: tpe\nmetrics:\n  - {name: acc, goal: maximize}\n"
         "  - {name: latency}\nparameters:\n  x: {values: [1, 2, 3]}\n")


def test_a_sweep_of_several_metrics_validates_and_says_what_it_does(run_cli, tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text(MULTI)
    assert run_cli("validate", path).code == 0
    config = spec.load(path)
    assert config["metrics"] == [{"name": "acc", "goal": "maximize"},
                                 {"name": "latency", "goal": "minimize"}]
    explained = run_cli("explain", path).out
    assert "metrics: acc (maximize), latency (minimize): a multi-objective sweep" in explained


@pytest.mark.parametrize("change, expected", [
    (lambda c: c.update(metric={"name": "acc"}),
     "metrics: give either metric (one) or metrics (several), not both"),
    (lambda c: c["metrics"].pop(), "metrics: a multi-objective sweep names at least two"),
    (lambda c: c["metrics"][1].update(name="acc"), "metrics[1].name: 'acc' is named twice"),
    (lambda c: c["metrics"][1].update(goal="lower"),
     "metrics[1].goal: must be maximize or minimize; got 'lower'"),
    (lambda c: c["metrics"][0].update(target=0.9), "metrics[0].target: unknown key (a target"),
    (lambda c: c["metrics"][1].pop("name"), "metrics[1].name: missing"),
    (lambda c: c.update(metrics="acc"), "metrics: must be a list of metrics"),
    (lambda c: c.update(method="bayes"), "method: bayes optimises one metric (W&B's engine); "
                                         "for several metrics use tpe, gp, nsga2"),
    (lambda c: c.update(early_terminate={"type": "hyperband", "min_iter": 1}),
     "early_terminate: hyperband compares runs on one metric"),
])
def test_a_bad_metrics_list_gets_one_line_naming_the_key(change, expected, run_cli, tmp_path):
    config = yaml.safe_load(MULTI)
    change(config)
    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump(config))
    done = run_cli("validate", path)
    assert done.code == 2
    assert [line for line in done.err.splitlines() if expected in line] == \
        [line for line in done.err.splitlines() if line.startswith(f"{path}: ") and
         ": warning: " not in line][:1], done.err


def test_random_and_grid_run_several_metrics(tmp_path, run_cli):
    for method in ("random", "grid", "gp", "nsga2"):
        path = tmp_path / f"{method}.yaml"
        path.write_text(MULTI.replace("method: tpe", f"method: {method}"))
        assert run_cli("validate", path).code == 0, method


def test_the_wandb_backend_refuses_several_metrics_in_one_line(run_cli, tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text(MULTI.replace("method: tpe", "method: random"))
    done = run_cli("validate", "--backend", "wandb", path)
    assert done.code == 2
    assert done.err.splitlines() == [f"{path}: metrics: several metrics (a multi-objective "
                                     "sweep) run only on the local backend; a W&B sweep "
                                     "optimises one metric: name it under metric:"]
    assert run_cli("validate", "--backend", "local", path).code == 0


def test_nsga2_on_a_few_dozen_runs_is_a_warning(run_cli, tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text(MULTI.replace("method: tpe", "method: nsga2") + "run_cap: 40\n")
    done = run_cli("validate", path)
    assert done.code == 0
    assert "method: warning: nsga2 evolves its runs over generations and needs hundreds of " \
           "runs; with run_cap 40" in done.err
    path.write_text(MULTI.replace("method: tpe", "method: nsga2") + "run_cap: 400\n")
    assert "warning" not in run_cli("validate", path).err

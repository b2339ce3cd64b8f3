"""Checks across keys of a sweep: metric with method and early_terminate, hyperband's
brackets, and hyperband with a built-in trainer that reports the metric once."""

from __future__ import annotations

import re

from . import _hyperband
from ._names import NEEDS_METRIC
from ._numbers import is_number

Problem = tuple[str, str]


def cross_field_problems(config: dict) -> list[Problem]:
    problems: list[Problem] = []
    method = config.get("method")
    metric = config.get("metric")
    named = "metric" in config or "metrics" in config  # metrics: checked in _metrics
    if method in NEEDS_METRIC and not named:
        problems.append(("metric", f"method {method} needs a metric to optimise "
                                   "(metric: {name: ..., goal: minimize|maximize})"))
    et = config.get("early_terminate")
    if et is not None:
        if not named:
            problems.append(("early_terminate", "early termination needs a metric "
                                                "(metric: {name: ..., goal: ...})"))
        if isinstance(et, dict) and et.get("type") == "hyperband":
            problems += hyperband_problems(et)
    if isinstance(metric, dict) and "target" in metric and "goal" not in metric:
        problems.append(("metric.goal", "a target needs a goal (minimize or maximize)"))
    return problems


# The macros W&B's agent expands in `command` (wandb_agent.py: the agent's own four, and the
# keys of wandb.sdk.launch.sweeps.utils.create_sweep_command_args); it drops any other.
COMMAND_MACROS = ("env", "interpreter", "program", "args_json_file", "args", "args_no_equals",
                  "args_no_hyphens", "args_no_boolean_flags", "args_json", "args_dict",
                  "args_append_hydra", "args_override_hydra")
_MACRO = re.compile(r"\$\{([^}]*)\}")


def cross_field_warnings(config: dict) -> list[Problem]:
    warnings: list[Problem] = []
    et = config.get("early_terminate")
    if isinstance(et, dict) and "min_iter" in et and "max_iter" in et and "s" in et:
        warnings.append(("early_terminate.min_iter", "ignored: with max_iter and s, W&B's "
                         "hyperband engine computes the brackets from max_iter and s alone"))
    return warnings + command_warnings(config)


def command_warnings(config: dict) -> list[Problem]:
    """A `command` item that W&B's agent (and so sweeper's) would not expand as meant: an
    unknown macro, dropped from the command line, or a macro inside other text, passed as is."""
    command = config.get("command")
    if not isinstance(command, list):
        return []
    warnings: list[Problem] = []
    for i, item in enumerate(command):
        text = str(item)
        for name in _MACRO.findall(text):
            if text != f"${{{name}}}":
                warnings.append((f"command[{i}]", f"{text!r}: a macro is expanded only as a "
                                 "whole item, so this one reaches the program as written"))
            elif name not in COMMAND_MACROS:
                warnings.append((f"command[{i}]", f"${{{name}}} is not a macro W&B's agent "
                                 f"knows ({', '.join(COMMAND_MACROS)}); it is dropped from "
                                 "the command line"))
    return warnings


def hyperband_problems(et: dict) -> list[Problem]:
    problems: list[Problem] = []
    eta = et.get("eta", 3)
    if is_number(eta) and eta <= 1:
        return [("early_terminate.eta", f"must be > 1, got {eta}")]
    if "min_iter" in et and is_number(et["min_iter"]) and et["min_iter"] < 1:
        problems.append(("early_terminate.min_iter", f"must be >= 1, got {et['min_iter']}"))
    if "max_iter" in et and is_number(et["max_iter"]):
        if et["max_iter"] < 1:
            problems.append(("early_terminate.max_iter", f"must be >= 1, got {et['max_iter']}"))
        elif "s" in et and is_number(et["s"]) and is_number(eta):
            if et["s"] < 1:
                problems.append(("early_terminate.s", f"must be >= 1, got {et['s']}"))
            elif not float(et["s"]).is_integer():
                problems.append(("early_terminate.s", "must be a whole number (the engine "
                                 f"checks s brackets), got {et['s']}"))
            elif et["max_iter"] / eta < 1:
                problems.append(("early_terminate", f"max_iter ({et['max_iter']}) / eta ({eta}) "
                                                    "is below 1: no bracket would ever be checked"))
    if problems or not all(is_number(v) for k, v in et.items() if k != "type"):
        return problems
    try:
        _hyperband.bands({**et, "s": int(et["s"])} if "s" in et else et)
    except OverflowError:
        problems.append(("early_terminate.eta", f"too large ({eta:g}): W&B's engine computes "
                         "100 brackets min_iter * eta**i and they overflow; use eta <= 1000"))
    except (ValueError, TypeError, KeyError):
        pass  # the schema problems above say what is missing
    return problems


def hyperband_reporting_warnings(config: dict) -> list[Problem]:
    """The built-in trainer reports the metric once, at the end, unless it evaluates during
    training: then hyperband has nothing to compare and stops no run."""
    et = config.get("early_terminate")
    if not isinstance(et, dict) or et.get("type") != "hyperband":
        return []
    spec = (config.get("parameters") or {}).get("evaluate_during_training")
    values = ([spec.get("value")] if "value" in spec else list(spec.get("values") or [])
              ) if isinstance(spec, dict) else []
    if any(value is True for value in values):
        return []
    return [("early_terminate", "hyperband compares the metric that runs report during "
             "training, but the built-in trainer reports it once, at the end, unless "
             "evaluate_during_training is on: no run would be stopped; add "
             "parameters.evaluate_during_training: {value: true} and "
             "evaluate_during_training_steps")]

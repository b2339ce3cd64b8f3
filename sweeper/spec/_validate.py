"""Validating a sweep config: W&B's own schema first, then the checks W&B leaves to run time.

Every problem is ``(key.path, what is wrong)`` in words a person can act on.
"""

from __future__ import annotations

import copy
import difflib
import math
import re
from pathlib import PurePath
from typing import Any

import jsonschema
from sweeps.config.schema import (
    check_for_deprecated_distributions,
    dereferenced_sweep_config_jsonschema,
    format_checker,
    sweep_config_jsonschema,
    validate_categorical_prob,
)

from ..errors import SpecError
from . import _params
from ._task_arg_checks import task_arg_problems

W_AND_B_METHODS = ("grid", "random", "bayes")
# Methods the local backend offers through Optuna; a W&B server refuses them.
LOCAL_METHODS = ("tpe", "gp")
METHODS = W_AND_B_METHODS + LOCAL_METHODS
NEEDS_METRIC = ("bayes",) + LOCAL_METHODS

# Keys W&B's server accepts that the schema of the `sweeps` package (0.2) does not list.
SERVER_KEYS = ("run_cap",)

_TOP_LEVEL = tuple(sweep_config_jsonschema["properties"]) + SERVER_KEYS
# The schema without the parts we check ourselves with clearer messages.
_TOP_SCHEMA = copy.deepcopy(sweep_config_jsonschema)
_TOP_SCHEMA["properties"]["parameters"] = {"type": "object", "minProperties": 1}
_TOP_SCHEMA["properties"]["method"] = {}
# early_terminate is a oneOf of one: validate against that one for specific messages.
_TOP_SCHEMA["properties"]["early_terminate"] = copy.deepcopy(
    dict(dereferenced_sweep_config_jsonschema["definitions"]["hyperband_stopping"]))
_TOP_SCHEMA["additionalProperties"] = True
_TOP_SCHEMA.pop("required")
_TOP_VALIDATOR = jsonschema.Draft7Validator(_TOP_SCHEMA, format_checker=format_checker)

Problem = tuple[str, str]
# The built-in agent entrypoint, which a sweep naming no program and no command runs.
BUILTIN_PROGRAM = "agents/train.py"


def targets_builtin_agent(config: dict) -> bool:
    """Whether the sweep runs sweeper's ready agent (so its parameters must be task args).

    True when the sweep names no program and no command, or names ``agents/train.py``.
    """
    program = config.get("program")
    if program is None and not config.get("command"):
        return True
    if isinstance(program, str):
        parts = PurePath(program).parts
        return parts[-2:] == ("agents", "train.py")
    return False


def find_problems(config: Any, *, builtin: bool | None = None) -> tuple[list[Problem], list[Problem]]:
    """All problems and warnings of a sweep config: ``(errors, warnings)``.

    ``builtin`` says whether to check parameters against the task args; by default it is
    decided by :func:`targets_builtin_agent`.

    >>> errors, _ = find_problems({"method": "grid", "parameters": {"learnin_rate": {"value": 1e-5}}})
    >>> errors
    [('parameters.learnin_rate', 'unknown task arg; did you mean learning_rate?')]
    """
    if not isinstance(config, dict):
        return [("", "a sweep config must be a mapping of keys (method, metric, parameters, ...)")], []
    errors: list[Problem] = []
    warnings: list[Problem] = []
    errors += _top_level_problems(config)
    method = config.get("method")
    parameters = config.get("parameters")
    if isinstance(parameters, dict) and parameters:
        for path, name, spec in _params.walk(parameters):
            if not _name_ok(name.split(".")[-1]):
                errors.append((path, "parameter names start with a letter or _ and hold only "
                                     "letters, digits, _, . and -"))
                continue
            problems, warns = _parameter_problems(path, name, spec, method)
            errors += problems
            warnings += warns
        errors += _group_problems(parameters, "parameters")
        if builtin is None:
            builtin = targets_builtin_agent(config)
        if builtin:
            errors += task_arg_problems(parameters)
        if method in NEEDS_METRIC and not errors and not _searchable(parameters):
            errors.append(("parameters", f"method {method} needs at least one parameter to "
                                         "search (all are constants)"))
    errors += _cross_field_problems(config)
    return _dedupe(errors), _dedupe(warnings)


def validate(config: Any, source: str | None = None, *, builtin: bool | None = None) -> dict:
    """Check a sweep config and return it normalised; raise SpecError listing every problem.

    >>> validate({"method": "random", "parameters": {"learning_rate": {"min": 1e-5, "max": 1e-3}}})["parameters"]
    {'learning_rate': {'min': 1e-05, 'max': 0.001, 'distribution': 'uniform'}}
    """
    errors, _ = find_problems(config, builtin=builtin)
    if errors:
        raise SpecError(errors, source)
    return normalise(config)


def normalise(config: dict) -> dict:
    """The config with W&B's inferred distributions and defaults filled in, nested groups kept."""
    out = copy.deepcopy(config)
    out["parameters"] = _params.normalise_parameters(config["parameters"])
    metric = out.get("metric")
    if isinstance(metric, dict):
        metric.setdefault("goal", "minimize")
        metric.setdefault("impute", "worst")
    et = out.get("early_terminate")
    if isinstance(et, dict) and et.get("type") == "hyperband":
        et.setdefault("eta", 3)
    return out


# --- top level -------------------------------------------------------------------------------

_PARAMETER_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")


def _name_ok(name: str) -> bool:
    return _PARAMETER_NAME.fullmatch(name) is not None


def _searchable(parameters: dict) -> bool:
    """Whether any leaf parameter is more than a constant."""
    for _, name, spec in _params.walk(parameters):
        filled = _params.infer(name, spec) if isinstance(spec, dict) else None
        if filled is not None and filled["distribution"] != "constant":
            return True
    return False


def _top_level_problems(config: dict) -> list[Problem]:
    problems: list[Problem] = []
    for key in config:
        if key not in _TOP_LEVEL:
            guess = difflib.get_close_matches(str(key), _TOP_LEVEL, n=1, cutoff=0.6)
            hint = f"; did you mean {guess[0]}?" if guess else ""
            problems.append((str(key), f"unknown key{hint}"))
    if "method" not in config:
        problems.append(("method", f"missing; one of {', '.join(METHODS)}"))
    elif config["method"] not in METHODS:
        value = config["method"]
        guess = difflib.get_close_matches(str(value), METHODS, n=1, cutoff=0.5)
        hint = f" (did you mean {guess[0]}?)" if guess else ""
        problems.append(("method", f"unknown method {value!r}{hint}; one of {', '.join(METHODS)}"))
    if "parameters" not in config:
        problems.append(("parameters", "missing; a sweep needs at least one parameter"))
    for error in sorted(_TOP_VALIDATOR.iter_errors(config), key=lambda e: list(e.absolute_path)):
        problems.append(_describe(error))
    if "run_cap" in config:
        cap = config["run_cap"]
        if isinstance(cap, bool) or not isinstance(cap, int) or cap < 1:
            problems.append(("run_cap", f"must be a whole number >= 1, got {cap!r}"))
    return problems


def _path(parts) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _describe(error: jsonschema.ValidationError, base: str = "") -> Problem:
    """One jsonschema error in plain words, with its key path."""
    path = _path(list(error.absolute_path))
    if base:
        path = f"{base}.{path}" if path else base
    value = error.instance
    v = error.validator
    if v == "enum":
        return path, f"must be one of {', '.join(map(str, error.validator_value))}; got {value!r}"
    if v == "type":
        return path, f"must be of type {error.validator_value}, got {value!r}"
    if v == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return (f"{path}.{missing}" if path else missing), "missing"
    if v == "additionalProperties":
        extra = sorted(set(value) - set(error.schema.get("properties", {})))
        where = f"{path}.{extra[0]}" if path else str(extra[0])
        return where, "unknown key" + (f" (allowed: {', '.join(error.schema['properties'])})"
                                      if error.schema.get("properties") else "")
    if v in ("minimum", "exclusiveMinimum"):
        op = ">" if v == "exclusiveMinimum" else ">="
        return path, f"must be {op} {error.validator_value}, got {value!r}"
    if v == "minItems":
        return path, "must not be empty"
    if v == "minProperties":
        return path, "must not be empty"
    if v == "anyOf" and path.endswith("early_terminate"):
        return path, "hyperband needs either max_iter and s, or min_iter"
    return path, error.message


# --- one parameter ---------------------------------------------------------------------------

def _parameter_problems(path: str, name: str, spec: Any, method: Any) -> tuple[list[Problem], list[Problem]]:
    if not isinstance(spec, dict):
        return [(path, "must be a mapping such as {value: x}, {values: [...]} or "
                       "{distribution: uniform, min: a, max: b}")], []
    if not spec:
        return [(path, "empty; give value, values, or a distribution with its bounds")], []
    filled = _params.infer(name, spec)
    if filled is None:
        return [_diagnose(path, spec)], []
    errors: list[Problem] = []
    warnings: list[Problem] = []
    try:
        validate_categorical_prob(name, spec)
    except ValueError:
        total = sum(x for x in spec.get("probabilities", []) if isinstance(x, (int, float)))
        errors.append((f"{path}.probabilities", f"must sum to 1, they sum to {total:g}"))
    if len(spec.get("probabilities", [])) != len(spec.get("values", [])) and "probabilities" in spec:
        errors.append((f"{path}.probabilities", "must have one probability per value "
                       f"({len(spec['probabilities'])} for {len(spec['values'])} values)"))
    try:
        check_for_deprecated_distributions(name, spec)
    except (ValueError, jsonschema.ValidationError) as exc:
        warnings.append((path, str(exc.args[0]).replace(f"{name} ", "", 1)))
    dist = filled["distribution"]
    if method == "grid" and dist not in _params.GRID_DISTRIBUTIONS:
        errors.append((path, f"grid search cannot enumerate a {dist} distribution; use values, "
                             "value, int_uniform or q_uniform (or method random/bayes)"))
    if method in LOCAL_METHODS and dist not in _OPTUNA_DISTRIBUTIONS:
        errors.append((path, f"method {method} does not support the {dist} distribution; use "
                             f"one of {', '.join(_OPTUNA_DISTRIBUTIONS)}"))
    return errors, warnings


# Distributions the Optuna-backed local methods map onto Optuna's own distributions.
_OPTUNA_DISTRIBUTIONS = ("constant", "categorical", "int_uniform", "uniform", "q_uniform",
                         "log_uniform", "log_uniform_values")


def _diagnose(path: str, spec: dict) -> Problem:
    """Why no W&B distribution matches this parameter."""
    dist = spec.get("distribution")
    if dist is not None:
        if dist not in _params.DISTRIBUTIONS:
            guess = difflib.get_close_matches(str(dist), _params.DISTRIBUTIONS, n=1, cutoff=0.6)
            hint = f" (did you mean {guess[0]}?)" if guess else ""
            return f"{path}.distribution", f"unknown distribution {dist!r}{hint}"
        schema = _params.schema_for(dist)
    elif "value" in spec and "values" in spec:
        return path, "give either value or values, not both"
    elif "values" in spec:
        schema = _params.schema_for("categorical_w_probabilities" if "probabilities" in spec
                                    else "categorical")
    elif "value" in spec:
        schema = _params.schema_for("constant")
    elif "min" in spec or "max" in spec:
        lo, hi = spec.get("min"), spec.get("max")
        if lo is None or hi is None:
            return f"{path}.{'max' if lo is not None else 'min'}", "missing (min and max go together)"
        if not _is_number(lo) or not _is_number(hi):
            bad = "min" if not _is_number(lo) else "max"
            return f"{path}.{bad}", f"must be a number, got {spec[bad]!r}"
        if lo >= hi:
            return path, f"min ({lo}) must be less than max ({hi})"
        extra = sorted(set(spec) - {"min", "max"})
        if extra:
            return f"{path}.{extra[0]}", "unknown key for a min/max parameter (give a distribution?)"
        return path, "min and max must be both whole numbers (int_uniform) or numbers (uniform)"
    else:
        return path, "give value, values, or a distribution with its bounds"
    validator = jsonschema.Draft7Validator(schema, format_checker=format_checker)
    errors = sorted(validator.iter_errors(spec), key=lambda e: (e.validator != "required",
                                                                  list(e.absolute_path)))
    for error in errors:
        if error.validator == "anyOf":  # uniform's variants: say the plain thing
            continue
        return _describe(error, path)
    lo, hi = spec.get("min"), spec.get("max")
    if _is_number(lo) and _is_number(hi) and lo >= hi:
        return path, f"min ({lo}) must be less than max ({hi})"
    if dist == "uniform":
        missing = [k for k in ("min", "max") if k not in spec]
        if missing:
            return f"{path}.{missing[0]}", "missing"
        bad = [k for k in ("min", "max") if not _is_number(spec[k])]
        if bad:
            return f"{path}.{bad[0]}", f"must be a number, got {spec[bad[0]]!r}"
        extra = sorted(set(spec) - {"min", "max", "distribution"})
        if extra:
            return f"{path}.{extra[0]}", "unknown key for uniform"
    return path, f"not a valid {dist or 'parameter'}"


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _group_problems(parameters: dict, prefix: str) -> list[Problem]:
    problems: list[Problem] = []
    for key, spec in parameters.items():
        if _params.is_group(spec):
            path = f"{prefix}.{key}"
            extra = sorted(set(spec) - {"parameters"})
            if extra:
                problems.append((f"{path}.{extra[0]}", "a group of parameters holds only "
                                                       "'parameters'"))
            inner = spec["parameters"]
            if not isinstance(inner, dict) or not inner:
                problems.append((f"{path}.parameters", "must be a non-empty mapping of parameters"))
            else:
                problems += _group_problems(inner, f"{path}.parameters")
    return problems


# --- across keys -----------------------------------------------------------------------------

def _cross_field_problems(config: dict) -> list[Problem]:
    problems: list[Problem] = []
    method = config.get("method")
    metric = config.get("metric")
    if method in NEEDS_METRIC and "metric" not in config:
        problems.append(("metric", f"method {method} needs a metric to optimise "
                                   "(metric: {name: ..., goal: minimize|maximize})"))
    et = config.get("early_terminate")
    if et is not None:
        if "metric" not in config:
            problems.append(("early_terminate", "early termination needs a metric "
                                                "(metric: {name: ..., goal: ...})"))
        if isinstance(et, dict) and et.get("type") == "hyperband":
            problems += _hyperband_problems(et)
    if isinstance(metric, dict) and "target" in metric and "goal" not in metric:
        problems.append(("metric.goal", "a target needs a goal (minimize or maximize)"))
    command = config.get("command")
    if isinstance(command, list):
        for i, part in enumerate(command):
            if not isinstance(part, str):
                problems.append((f"command[{i}]", f"must be a string, got {part!r}"))
    return problems


def _hyperband_problems(et: dict) -> list[Problem]:
    problems: list[Problem] = []
    eta = et.get("eta", 3)
    if _is_number(eta) and eta <= 1:
        problems.append(("early_terminate.eta", f"must be > 1, got {eta}"))
        return problems
    if "min_iter" in et and _is_number(et["min_iter"]) and et["min_iter"] < 1:
        problems.append(("early_terminate.min_iter", f"must be >= 1, got {et['min_iter']}"))
    if "max_iter" in et and _is_number(et["max_iter"]):
        if et["max_iter"] < 1:
            problems.append(("early_terminate.max_iter", f"must be >= 1, got {et['max_iter']}"))
        elif "s" in et and _is_number(et["s"]) and _is_number(eta):
            if et["s"] < 1:
                problems.append(("early_terminate.s", f"must be >= 1, got {et['s']}"))
            elif et["max_iter"] / eta < 1:
                problems.append(("early_terminate", f"max_iter ({et['max_iter']}) / eta ({eta}) "
                                                    "is below 1: no bracket would ever be checked"))
    return problems


def _dedupe(problems: list[Problem]) -> list[Problem]:
    seen: set = set()
    out = []
    for p in problems:
        if p not in seen:
            seen.add(p)
            out.append(p)
    return out

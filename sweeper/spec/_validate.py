"""Validating a sweep config: W&B's own schema first, then the checks W&B leaves to run time.

Every problem is ``(key.path, what is wrong)`` in words a person can act on. Validation is
total: whatever a config holds, it ends in a list of problems, never in an exception, and a
config without problems can be stored as JSON and run by the engine (every number finite, every
distribution drawing finite values, a grid of bounded size).
"""

from __future__ import annotations

import copy
import difflib
import re
from pathlib import PurePath
from typing import Any

from ..errors import SpecError
from . import _params, _schema
from ._across import cross_field_problems, cross_field_warnings, hyperband_reporting_warnings
from ._metrics import backend_problems, method_warnings, metrics_problems
from ._names import BUILTIN_PROGRAM, LOCAL_METHODS, METHODS, NEEDS_METRIC, W_AND_B_METHODS
from ._numbers import GRID_LIMIT, data_problems, draw_problems, grid_size_problems, is_number
from ._task_arg_checks import task_arg_problems, task_data_problems

__all__ = ["BUILTIN_PROGRAM", "GRID_LIMIT", "LOCAL_METHODS", "METHODS", "W_AND_B_METHODS",
           "find_problems", "normalise", "runs_builtin_trainer", "targets_builtin_agent",
           "validate"]

# Keys W&B's server accepts that the schema of the `sweeps` package (0.2) does not list.
SERVER_KEYS = ("run_cap",)
# Keys of W&B Launch sweeps (`wandb launch-sweep`), which a W&B agent does not run either.
LAUNCH_KEYS = ("job", "scheduler")
# sweeper's own extension: several metrics, for multi-objective methods.
EXTENSION_KEYS = ("metrics",)

Problem = tuple[str, str]


def _top_level_keys() -> tuple[str, ...]:
    return tuple(_schema.root_schema()["properties"]) + SERVER_KEYS + EXTENSION_KEYS


def _top_validator():
    """The schema's top level, without the parts we check ourselves with clearer messages."""
    import jsonschema

    top = copy.deepcopy(_schema.root_schema())
    top["properties"]["parameters"] = {"type": "object", "minProperties": 1}
    top["properties"]["method"] = {}
    top["properties"]["command"] = {"type": "array"}  # items: W&B's agent applies str() to each
    # early_terminate is a oneOf of one: validate against that one for specific messages.
    top["properties"]["early_terminate"] = {"$ref": "#/definitions/hyperband_stopping"}
    top["additionalProperties"] = True
    top.pop("required", None)
    return jsonschema.Draft7Validator(top, format_checker=_schema.format_checker)


def targets_builtin_agent(config: dict) -> bool:
    """Whether the sweep names the built-in trainer (``program: agents/train.py``): then its
    parameters are checked as task args when the file is validated."""
    program = config.get("program")
    if isinstance(program, str):
        return PurePath(program).parts[-2:] == ("agents", "train.py")
    return False


def runs_builtin_trainer(config: dict) -> bool:
    """Whether sweeper's agent runs the built-in trainer for this sweep: it names it, or names
    no program and no command (W&B's notebooks and the Simple Transformers docs write such
    sweeps for ``wandb.agent(id, function=train)``; sweeper's agent runs the built-in trainer)."""
    if targets_builtin_agent(config):
        return True
    return config.get("program") is None and not config.get("command")


def find_problems(config: Any, *, builtin: bool | None = None, backend: str | None = None
                  ) -> tuple[list[Problem], list[Problem]]:
    """All problems and warnings of a sweep config: ``(errors, warnings)``.

    ``builtin`` says whether to check parameters against the task args; by default it is
    decided by :func:`targets_builtin_agent`. ``backend`` (``local`` or ``wandb``) adds what
    that backend cannot run (W&B: sweeper's own methods, several metrics).

    >>> errors, _ = find_problems({"program": "agents/train.py", "method": "grid",
    ...                            "parameters": {"learnin_rate": {"value": 1e-5}}})
    >>> errors
    [('parameters.learnin_rate', 'unknown task arg; did you mean learning_rate?')]
    """
    if not isinstance(config, dict):
        return [("", "a sweep config must be a mapping of keys (method, metric, parameters, ...)")], []
    data_errors = data_problems(config)
    if data_errors:  # NaN, inf, huge integers, keys that are not text: nothing else is safe
        return _dedupe(data_errors), []
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
            errors += task_arg_problems(parameters) or task_data_problems(parameters)
        if method in NEEDS_METRIC and not errors and not _searchable(parameters):
            errors.append(("parameters", f"method {method} needs at least one parameter to "
                                         "search (all are constants)"))
        if method == "grid" and not errors:
            errors += grid_size_problems(parameters)
    errors += cross_field_problems(config)
    errors += metrics_problems(config)
    errors += backend_problems(config, backend)
    warnings += cross_field_warnings(config)
    warnings += method_warnings(config)
    if runs_builtin_trainer(config):
        warnings += hyperband_reporting_warnings(config)
    return _dedupe(errors), _dedupe(warnings)


def validate(config: Any, source: str | None = None, *, builtin: bool | None = None,
             backend: str | None = None) -> dict:
    """Check a sweep config (for ``backend``, when named) and return it normalised; raise
    SpecError listing every problem.

    >>> validate({"method": "random", "parameters": {"learning_rate": {"min": 1e-5, "max": 1e-3}}})["parameters"]
    {'learning_rate': {'min': 1e-05, 'max': 0.001, 'distribution': 'uniform'}}
    """
    errors, _ = find_problems(config, builtin=builtin, backend=backend)
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
    for entry in out.get("metrics") or []:
        entry.setdefault("goal", "minimize")
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
    known = _top_level_keys()
    launch = [str(k) for k in config if k in LAUNCH_KEYS]
    if launch:
        problems.append((", ".join(launch), "W&B Launch sweep keys: sweeper does not run Launch "
                         "sweeps (they run on a Launch queue: `wandb launch-sweep FILE --queue "
                         "Q`); to run this sweep with sweeper, drop "
                         f"{' and '.join(launch)} and name the training script as program"))
    for key in config:
        if key in known or key in LAUNCH_KEYS:
            continue
        guess = _close_key(str(key), known)
        hint = f"; did you mean {guess}?" if guess else ""
        problems.append((str(key), f"unknown key{hint}"))
    if "method" not in config:
        problems.append(("method", f"missing; one of {', '.join(METHODS)}"))
    elif config["method"] not in METHODS:
        value = config["method"]
        guess = difflib.get_close_matches(str(value).lower(), METHODS, n=1, cutoff=0.5)
        hint = f" (did you mean {guess[0]}?)" if guess else ""
        problems.append(("method", f"unknown method {value!r}{hint}; one of {', '.join(METHODS)}"))
    if "parameters" not in config:
        problems.append(("parameters", "missing; a sweep needs at least one parameter"))
    for error in sorted(_top_validator().iter_errors(config), key=lambda e: list(e.absolute_path)):
        problems.append(_describe(error))
    if "run_cap" in config:
        cap = config["run_cap"]
        if isinstance(cap, bool) or not isinstance(cap, int) or cap < 1:
            problems.append(("run_cap", f"must be a whole number >= 1, got {cap!r}"))
    return problems


def _close_key(key: str, known: tuple[str, ...]) -> str | None:
    """The known key a mistyped one most likely meant: case aside, or close in spelling, or the
    one it begins (``RUN`` -> ``run_cap``)."""
    lowered = key.lower()
    for name in known:
        if name.lower() == lowered:
            return name
    guess = difflib.get_close_matches(lowered, known, n=1, cutoff=0.6)
    if guess:
        return guess[0]
    starts = [name for name in known if len(lowered) >= 3 and name.startswith(lowered)]
    return starts[0] if len(starts) == 1 else None


def _path(parts) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _describe(error, base: str = "") -> Problem:
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
    if spec is None:
        return [(path, "has nothing under it (are the lines below it indented under it?); "
                       "give value, values, or a distribution with its bounds")], []
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
    if "probabilities" in spec and "values" in spec:
        probabilities = spec["probabilities"]
        if len(probabilities) != len(spec["values"]):
            errors.append((f"{path}.probabilities", "must have one probability per value "
                           f"({len(probabilities)} for {len(spec['values'])} values)"))
        elif not _schema.probabilities_sum_to_one(probabilities):
            errors.append((f"{path}.probabilities",
                           f"must sum to 1, they sum to {sum(probabilities):g}"))
    dist = filled["distribution"]
    deprecated = _schema.deprecation(dist)
    if deprecated:
        warnings.append((path, deprecated))
    errors += draw_problems(path, filled)
    if method == "grid" and dist not in _params.GRID_DISTRIBUTIONS:
        errors.append((path, f"grid search cannot enumerate a {dist} distribution; use values, "
                             "value, int_uniform or q_uniform (or method random/bayes)"))
    # (the local methods take every W&B distribution: Optuna's own where it has one, else the
    # quantile of W&B's, controller/_quantiles.py)
    return errors, warnings


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
        if not is_number(lo) or not is_number(hi):
            bad = "min" if not is_number(lo) else "max"
            return f"{path}.{bad}", f"must be a number, got {spec[bad]!r}"
        if lo >= hi:
            return path, f"min ({lo}) must be less than max ({hi})"
        extra = sorted(set(spec) - {"min", "max"})
        if extra:
            return f"{path}.{extra[0]}", "unknown key for a min/max parameter (give a distribution?)"
        return path, "min and max must be both whole numbers (int_uniform) or numbers (uniform)"
    else:
        known = ("value", "values", "distribution", "min", "max", "q", "mu", "sigma", "a",
                 "b", "probabilities", "parameters")
        for key in spec:
            guess = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
            if guess:
                return f"{path}.{key}", f"unknown key; did you mean {guess[0]}?"
        return path, "give value, values, or a distribution with its bounds"
    import jsonschema

    validator = jsonschema.Draft7Validator(schema, format_checker=_schema.format_checker)
    errors = sorted(validator.iter_errors(spec), key=lambda e: (e.validator != "required",
                                                                  list(e.absolute_path)))
    for error in errors:
        if error.validator == "anyOf":  # uniform's variants: say the plain thing
            continue
        return _describe(error, path)
    lo, hi = spec.get("min"), spec.get("max")
    if is_number(lo) and is_number(hi) and lo >= hi:
        return path, f"min ({lo}) must be less than max ({hi})"
    if dist == "uniform":
        missing = [k for k in ("min", "max") if k not in spec]
        if missing:
            return f"{path}.{missing[0]}", "missing"
        bad = [k for k in ("min", "max") if not is_number(spec[k])]
        if bad:
            return f"{path}.{bad[0]}", f"must be a number, got {spec[bad[0]]!r}"
        extra = sorted(set(spec) - {"min", "max", "distribution"})
        if extra:
            return f"{path}.{extra[0]}", "unknown key for uniform"
    return path, f"not a valid {dist or 'parameter'}"


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


def _dedupe(problems: list[Problem]) -> list[Problem]:
    seen: set = set()
    out = []
    for p in problems:
        if p not in seen:
            seen.add(p)
            out.append(p)
    return out

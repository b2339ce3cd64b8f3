"""W&B's sweep-config schema: the ``schema.json`` of W&B's engine (the ``sweeps`` package), read
without importing that package (its ``__init__`` pulls in scipy for the search algorithms).

:func:`fill_parameter` is the engine's own rule for a parameter's distribution: the first of the
schema's parameter shapes that the parameter matches, with that shape's defaults filled in.
"""

from __future__ import annotations

import copy
import functools
import importlib.util
import json
import math
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema import Draft7Validator, validators


@functools.cache
def root_schema() -> dict:
    """W&B's sweep-config JSON schema, as the installed ``sweeps`` package ships it."""
    found = importlib.util.find_spec("sweeps")  # finds the package without running it
    if found is None or not found.submodule_search_locations:
        raise ImportError("W&B's sweep engine is not installed (pip install 'wandb[sweeps]')")
    for location in found.submodule_search_locations:
        path = Path(location) / "config" / "schema.json"
        if path.is_file():
            return json.loads(path.read_text(encoding="utf-8"))
    raise ImportError("the installed sweeps package has no config/schema.json")


format_checker = jsonschema.FormatChecker()


@format_checker.checks("float")
def _is_float(value: Any) -> bool:
    return isinstance(value, float)


@format_checker.checks("integer")
def _is_int(value: Any) -> bool:
    return isinstance(value, int)


def _with_defaults(validator_class):
    """A validator that also writes each property's schema default into the instance."""
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        errored = False
        for error in validate_properties(validator, properties, instance, schema):
            errored = True
            yield error
        if not errored:
            for name, subschema in properties.items():
                if "default" in subschema:
                    instance.setdefault(name, subschema["default"])

    return validators.extend(validator_class, {"properties": set_defaults})


_DefaultFiller = _with_defaults(Draft7Validator)


def definitions() -> dict:
    return root_schema()["definitions"]


def definition(name: str) -> dict:
    """One definition of the schema, its references resolvable (they point into the root)."""
    return {**definitions()[name], "definitions": definitions()}


@functools.cache
def validator_for(name: str) -> Draft7Validator:
    return Draft7Validator(definition(name), format_checker=format_checker)


@functools.cache
def _filler_for(name: str):
    return _DefaultFiller(definition(name), format_checker=format_checker)


@functools.cache
def parameter_shapes() -> tuple[str, ...]:
    """The schema's parameter shapes, in the order the engine tries them."""
    return tuple(ref["$ref"].split("/")[-1]
                 for ref in definitions()["parameter"]["anyOf"])


def fill_parameter(config: dict) -> tuple[str, dict] | None:
    """``(shape name, parameter with defaults)`` as ``sweeps.config.schema.fill_parameter``
    gives it; None when no shape matches, or for a nested group (``param_dict``) or min >= max.
    """
    for name in parameter_shapes():
        if not validator_for(name).is_valid(config):
            continue
        if name == "param_dict":
            return None
        if "min" in config and "max" in config and config["min"] >= config["max"]:
            return None
        filled = copy.deepcopy(config)
        _filler_for(name).validate(filled)
        return name, filled
    return None


def probabilities_sum_to_one(probabilities: list) -> bool:
    """The engine's check (``numpy.isclose(sum, 1)``, with numpy's default tolerances)."""
    total = sum(probabilities)
    return abs(total - 1.0) <= 1e-08 + 1e-05 * 1.0


# The engine warns about these: min/max as exponents of e, superseded by the *_values forms.
DEPRECATED = {"log_uniform": "log_uniform_values", "inv_log_uniform": "inv_log_uniform_values",
              "q_log_uniform": "q_log_uniform_values"}


def deprecation(distribution: str) -> str | None:
    """The engine's deprecation warning for a distribution (``sweeps.params``), or None."""
    newer = DEPRECATED.get(distribution)
    if newer is None:
        return None
    return (f"uses {distribution}, where min/max specify base-e exponents. Use {newer} to "
            "specify limit values.")


def is_finite_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)

"""Reading a sweep config from a file: YAML or JSON, with errors a person can act on."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from ..errors import SpecError


class _SweepYamlLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys and reads ``1e-5`` as a number.

    PyYAML follows YAML 1.1, where ``1e-5`` (no dot) is a string; in a sweep file it is always
    meant as a learning rate.
    """


_FLOAT = re.compile(
    r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
    |\.[0-9_]+(?:[eE][-+][0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.X,
)
_SweepYamlLoader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:float"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_SweepYamlLoader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT, list("-+0123456789."))


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False):
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first at line {seen[key] + 1})",
                key_node.start_mark)
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_SweepYamlLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def parse_text(text: str, source: str = "<text>", as_json: bool = False) -> Any:
    """Parse sweep-config text (YAML, or JSON with ``as_json``); raise SpecError on bad syntax."""
    if as_json:
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise SpecError([("", f"JSON syntax error at line {exc.lineno}, column {exc.colno}: "
                                  f"{exc.msg}")], source) from None
    try:
        return yaml.load(text, Loader=_SweepYamlLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        what = exc.problem or exc.context or "invalid YAML"
        raise SpecError([("", f"YAML syntax error{where}: {what}")], source) from None
    except yaml.YAMLError as exc:
        raise SpecError([("", f"YAML syntax error: {str(exc).splitlines()[0]}")], source) from None


def read_config(path: str | Path) -> dict:
    """Read a sweep config file into a dict; every failure is a SpecError naming the file.

    >>> read_config("does-not-exist.yaml")
    Traceback (most recent call last):
    ...
    sweeper.errors.SpecError: does-not-exist.yaml: no such file
    """
    source = str(path)
    p = Path(path)
    if p.is_dir():
        raise SpecError([("", "is a directory, not a sweep file")], source)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise SpecError([("", "no such file")], source) from None
    except OSError as exc:
        raise SpecError([("", f"cannot read: {exc.strerror or exc}")], source) from None
    if b"\x00" in raw:
        raise SpecError([("", "not a text file (binary content)")], source)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SpecError([("", f"not UTF-8 text (bad byte at offset {exc.start})")], source) from None
    if not text.strip() or all(line.lstrip().startswith("#") or not line.strip()
                               for line in text.splitlines()):
        raise SpecError([("", "empty file: a sweep config needs at least method and parameters")],
                        source)
    config = parse_text(text, source, as_json=p.suffix.lower() == ".json")
    if not isinstance(config, dict):
        kind = type(config).__name__ if config is not None else "nothing"
        raise SpecError([("", f"the file holds a {kind}, not a mapping of keys "
                              "(method, metric, parameters, ...)")], source)
    return config

"""Reading a sweep config from a file: YAML or JSON, with errors a person can act on.

Any file ends in a config or a list of problems, fast and in bounded memory: the file's size,
its nesting depth and what its aliases expand to are bounded; YAML tags that are not plain data
(``!!binary``, ``!!set``, dates, ``!python/...``) are refused with their key path; merge keys
(``<<: *common``) are read as PyYAML reads them.

Numbers: YAML 1.1 (PyYAML, so ``wandb sweep`` too) reads ``1e-5`` (no dot) as text; sweeper
reads it as the number it is meant to be and warns once per value, since W&B's loader disagrees.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from ..errors import SpecError

MAX_BYTES = 1 << 20  # a sweep file is a few kB; this bounds time and memory
MAX_DEPTH = 64  # nesting of mappings and lists
MAX_VALUES = 200_000  # values after aliases are expanded (an alias bomb expands to billions)

Problem = tuple[str, str]

_STANDARD_FLOAT = re.compile(
    r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?
    |\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?
    |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""", re.X)
_FLOAT = re.compile(
    r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
    |\.[0-9_]+(?:[eE][-+][0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.X,
)


class _SweepResolver(yaml.resolver.Resolver):
    """YAML 1.1's implicit types, except that ``1e-5`` (no dot) is a float."""


_SweepResolver.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:float"]
    for key, resolvers in yaml.resolver.Resolver.yaml_implicit_resolvers.items()
}
_SweepResolver.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT, list("-+0123456789."))

_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = {f"{_TAG}{name}" for name in ("str", "int", "float", "bool", "null")}
_REFUSED_WORDS = {
    f"{_TAG}timestamp": "a date or time; quote it to keep it as text",
    f"{_TAG}binary": "binary data (!!binary); a sweep config holds text and numbers",
    f"{_TAG}set": "a set (!!set); use a list",
    f"{_TAG}omap": "an ordered map (!!omap); use a plain mapping",
    f"{_TAG}pairs": "pairs (!!pairs); use a plain mapping",
}
try:
    from yaml._yaml import CParser as _Parser  # libyaml: parses a large file 30x faster
except ImportError:  # PyYAML built without libyaml
    class _Parser(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser):
        def __init__(self, text: str):
            yaml.reader.Reader.__init__(self, text)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)


class _Document(_Parser, yaml.constructor.SafeConstructor, _SweepResolver):
    """A YAML parser with our resolver; the composing is ours (below)."""

    def __init__(self, text: str):
        _Parser.__init__(self, text)
        yaml.constructor.SafeConstructor.__init__(self)
        _SweepResolver.__init__(self)


class _Composer:
    """Builds plain Python data from parser events, without recursion, counting what aliases
    expand to, refusing tags that are not plain data, and applying merge keys."""

    def __init__(self, document: _Document):
        self.document = document
        self.anchors: dict[str, tuple[Any, int]] = {}  # anchor -> (value, expanded size)
        self.open_anchors: set[str] = set()
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self.size = 0

    def compose(self) -> Any:
        events = self.document
        stack: list[dict] = []
        result: Any = None
        documents = 0
        while events.check_event():
            event = events.get_event()
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    self._fail("", f"a second YAML document (line {event.start_mark.line + 1}); "
                                   "a sweep file holds one")
            elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                if len(stack) >= MAX_DEPTH:
                    self._fail(self._path(stack), f"nested deeper than {MAX_DEPTH} levels")
                self._check_tag(event, stack, mapping=isinstance(event, yaml.MappingStartEvent))
                if event.anchor:
                    self.open_anchors.add(event.anchor)
                stack.append({"mapping": isinstance(event, yaml.MappingStartEvent),
                              "items": [], "key": None, "has_key": False, "size": 1,
                              "anchor": event.anchor, "line": event.start_mark.line,
                              "seen": {}, "merges": []})
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                frame = stack.pop()
                value = self._finish(frame, stack)
                result = self._add(stack, value, frame["size"], event)
                if frame["anchor"]:
                    self.open_anchors.discard(frame["anchor"])
                    self.anchors[frame["anchor"]] = (value, frame["size"])
            elif isinstance(event, yaml.ScalarEvent):
                value = self._scalar(event, stack)
                if event.anchor:
                    self.anchors[event.anchor] = (value, 1)
                result = self._add(stack, value, 1, event)
            elif isinstance(event, yaml.AliasEvent):
                if event.anchor in self.open_anchors:
                    self._fail(self._path(stack), f"alias *{event.anchor} refers to the value "
                                                  "that holds it (a loop)")
                if event.anchor not in self.anchors:
                    self._fail(self._path(stack), f"alias *{event.anchor} has no anchor before it")
                value, size = self.anchors[event.anchor]
                result = self._add(stack, value, size, event)
        return result

    # --- building values -------------------------------------------------------------------

    def _add(self, stack: list[dict], value: Any, size: int, event) -> Any:
        self.size += size
        if self.size > MAX_VALUES:
            self._fail(self._path(stack), f"expands to over {MAX_VALUES:,} values (through "
                                          "aliases); a sweep config is far smaller")
        if not stack:
            return value
        frame = stack[-1]
        frame["size"] += size
        if not frame["mapping"]:
            frame["items"].append(value)
        elif not frame["has_key"]:
            if isinstance(value, (dict, list)):
                self._fail(self._path(stack), "a mapping or list used as a key; keys are text")
            frame["key"], frame["has_key"] = value, True
            frame["key_line"] = event.start_mark.line
        else:
            key = frame["key"]
            frame["has_key"] = False
            if frame.get("merge_key"):
                frame["merge_key"] = False
                frame["merges"].append((value, event.start_mark.line))
            else:
                if key in frame["seen"]:
                    self._fail(self._path(stack, key), f"duplicate key {key!r} (first at line "
                                                       f"{frame['seen'][key] + 1})")
                frame["seen"][key] = frame["key_line"]
                frame["items"].append((key, value))
        return None

    def _finish(self, frame: dict, stack: list[dict]) -> Any:
        if not frame["mapping"]:
            return frame["items"]
        merged: dict = {}
        for source, line in reversed(frame["merges"]):
            sources = source if isinstance(source, list) else [source]
            if not all(isinstance(s, dict) for s in sources):
                self._fail(self._path(stack), f"merge key << at line {line + 1} needs a mapping "
                                              "or a list of mappings")
            for one in reversed(sources):
                merged.update(one)
        merged.update(frame["items"])
        return merged

    def _scalar(self, event: yaml.ScalarEvent, stack: list[dict]) -> Any:
        frame = stack[-1] if stack else None
        tag = event.tag
        if tag in (None, "!") and event.implicit[0]:
            tag = self.document.resolve(yaml.ScalarNode, event.value, event.implicit)
        elif tag in (None, "!"):
            tag = f"{_TAG}str"
        if tag == f"{_TAG}merge" and frame and frame["mapping"] and not frame["has_key"]:
            frame["merge_key"] = True
            return "<<"
        if tag not in _SCALAR_TAGS:
            self._refuse_tag(tag, stack)
        node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
        try:
            value = self.document.yaml_constructors[tag](self.document, node)
        except (ValueError, yaml.constructor.ConstructorError) as exc:
            if tag == f"{_TAG}int":
                self._fail(self._path(stack), f"integer too large ({len(event.value)} digits)")
            self._fail(self._path(stack), f"not a valid {tag.removeprefix(_TAG)}: {exc}")
        if (tag == f"{_TAG}float" and event.implicit[0]
                and not _STANDARD_FLOAT.match(event.value.replace("_", ""))
                and not (frame and frame["mapping"] and not frame["has_key"])):
            shown = f"{float(value):.1e}".replace("e-0", "e-").replace("e+0", "e+")
            self.warnings.append((self._path(stack), f"{event.value} is read as the number "
                                  f"{value:g} here, but W&B's own loader (PyYAML, YAML 1.1) "
                                  f"reads it as the text {event.value!r}; write it with a dot "
                                  f"({_with_dot(event.value) or shown}) so both agree"))
        return value

    def _check_tag(self, event, stack: list[dict], mapping: bool) -> None:
        tag = event.tag
        if tag in (None, "!") or tag == f"{_TAG}{'map' if mapping else 'seq'}":
            return
        self._refuse_tag(tag, stack)

    def _refuse_tag(self, tag: str, stack: list[dict]) -> None:
        words = _REFUSED_WORDS.get(tag) or (f"the YAML tag {tag.replace(_TAG, '!!')} is not "
                                            "plain data (text, number, true/false, null, list, "
                                            "mapping)")
        self._fail(self._path(stack), words)

    # --- where ------------------------------------------------------------------------------

    def _path(self, stack: list[dict], last_key: Any = None) -> str:
        parts: list[str] = []
        for frame in stack:
            if frame["mapping"]:
                if frame["has_key"]:
                    parts.append(f".{frame['key']}")
            else:
                parts.append(f"[{len(frame['items'])}]")
        if last_key is not None:
            parts.append(f".{last_key}")
        return "".join(parts).lstrip(".")

    def _fail(self, path: str, message: str) -> None:
        raise SpecError([(path, message)])


def _with_dot(text: str) -> str | None:
    """``5e-05`` -> ``5.0e-05``: the same number as YAML 1.1 reads it."""
    match = re.fullmatch(r"([-+]?[0-9][0-9_]*)([eE][-+]?[0-9]+)", text)
    if not match:
        return None
    exponent = match[2]
    if exponent[1] not in "+-":
        exponent = f"{exponent[0]}+{exponent[1:]}"
    return f"{match[1]}.0{exponent}"


def parse_document(text: str, source: str = "<text>", as_json: bool = False
                   ) -> tuple[Any, list[Problem]]:
    """Parse sweep-config text; return ``(data, warnings)``. SpecError on bad or hostile text."""
    if as_json:
        try:
            return json.loads(text), []
        except json.JSONDecodeError as exc:
            raise SpecError([("", f"JSON syntax error at line {exc.lineno}, column {exc.colno}: "
                                  f"{exc.msg}")], source) from None
        except RecursionError:
            raise SpecError([("", f"nested deeper than {MAX_DEPTH} levels")], source) from None
        except ValueError as exc:  # an integer of more digits than Python converts
            raise SpecError([("", f"not usable JSON: {exc}")], source) from None
    try:
        composer = _Composer(_Document(text))
        data = composer.compose()
    except SpecError as exc:
        raise SpecError(exc.problems, source) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        what = exc.problem or exc.context or "invalid YAML"
        raise SpecError([("", f"YAML syntax error{where}: {what}")], source) from None
    except yaml.YAMLError as exc:
        raise SpecError([("", f"YAML syntax error: {str(exc).splitlines()[0]}")], source) from None
    return data, composer.warnings


def parse_text(text: str, source: str = "<text>", as_json: bool = False) -> Any:
    """Parse sweep-config text (YAML, or JSON with ``as_json``); raise SpecError on bad syntax.

    >>> parse_text("lr: 1e-5")
    {'lr': 1e-05}
    """
    return parse_document(text, source, as_json)[0]


def read_document(path: str | Path) -> tuple[dict, list[Problem]]:
    """Read a sweep config file: ``(config, warnings)``; every failure is a SpecError naming
    the file."""
    source = str(path)
    p = Path(path)
    if p.is_dir():
        raise SpecError([("", "is a directory, not a sweep file")], source)
    try:
        with open(p, "rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise SpecError([("", "no such file")], source) from None
    except OSError as exc:
        raise SpecError([("", f"cannot read: {exc.strerror or exc}")], source) from None
    if len(raw) > MAX_BYTES:
        size = p.stat().st_size if p.is_file() else len(raw)
        raise SpecError([("", f"is {size / (1 << 20):.1f} MiB; a sweep file may be at most "
                              f"{MAX_BYTES >> 20} MiB")], source)
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
    config, warnings = parse_document(text, source, as_json=p.suffix.lower() == ".json")
    if not isinstance(config, dict):
        kind = type(config).__name__ if config is not None else "nothing"
        raise SpecError([("", f"the file holds a {kind}, not a mapping of keys "
                              "(method, metric, parameters, ...)")], source)
    return config, warnings


def read_config(path: str | Path) -> dict:
    """Read a sweep config file into a dict; every failure is a SpecError naming the file.

    >>> read_config("does-not-exist.yaml")
    Traceback (most recent call last):
    ...
    sweeper.errors.SpecError: does-not-exist.yaml: no such file
    """
    return read_document(path)[0]

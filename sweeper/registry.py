"""A local model registry with the W&B Model Registry's names: models, versions v1, v2, ... and
aliases (latest, best, production, ...) that move from version to version atomically.

Layout: ``.sweeper/registry/NAME/vN/`` (the checkpoint and ``sweeper-version.json``) and
``NAME/aliases.json``. ``load("NAME:production")`` gives the folder ``from_pretrained`` loads.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import BadInput

META = "sweeper-version.json"


def root(path: str | os.PathLike | None = None) -> Path:
    """``path``, else SWEEPER_REGISTRY, else the workspace's ``.sweeper/registry``."""
    from . import workspace

    chosen = path or os.environ.get("SWEEPER_REGISTRY")
    if not chosen:
        return workspace.root() / workspace.FOLDER / "registry"
    return Path(chosen).resolve()


@dataclass
class Version:
    name: str
    version: str
    path: Path | str  # a folder here; on W&B, the registry path NAME:vN
    aliases: list[str]
    metadata: dict
    created: bool  # False when the same checkpoint was already a version
    note: str = ""  # why an alias did not move, for people


def checksum(folder: Path) -> str:
    """sha256 over every file's relative path and content, in a stable order."""
    digest = hashlib.sha256()
    for file in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != META):
        digest.update(str(file.relative_to(folder)).encode())
        with open(file, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


@contextmanager
def _locked(model_dir: Path):
    model_dir.mkdir(parents=True, exist_ok=True)
    with open(model_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _aliases(model_dir: Path) -> dict[str, str]:
    try:
        return json.loads((model_dir / "aliases.json").read_text())
    except FileNotFoundError:
        return {}


def _write_aliases(model_dir: Path, aliases: dict[str, str]) -> None:
    fd, tmp = tempfile.mkstemp(dir=model_dir, prefix=".aliases-")
    with os.fdopen(fd, "w") as handle:
        json.dump(aliases, handle, indent=2, sort_keys=True)
    os.replace(tmp, model_dir / "aliases.json")  # readers see the old or the new, never half


def _versions(model_dir: Path) -> list[Path]:
    return sorted((p for p in model_dir.glob("v*") if p.is_dir() and p.name[1:].isdigit()),
                  key=lambda p: int(p.name[1:]))


def promote(checkpoint: str | os.PathLike, name: str, aliases: list[str] | tuple = (),
            metadata: dict[str, Any] | None = None, registry: str | None = None,
            best: bool = True) -> Version:
    """Make ``checkpoint`` a new version of ``name`` (or find it already there) and point
    ``latest``, ``aliases`` and, with ``best``, ``best`` at it."""
    source = Path(checkpoint)
    if not source.is_dir() or not any(source.iterdir()):
        raise BadInput(f"checkpoint {str(checkpoint)!r}: no such folder, or empty")
    if not name or "/" in name or ":" in name or name.strip(".") == "" or "\\" in name:
        raise BadInput(f"registry name {name!r}: use letters, digits, - and _")
    model_dir = root(registry) / name
    digest = checksum(source)
    with _locked(model_dir):
        existing = next((v for v in _versions(model_dir)
                         if json.loads((v / META).read_text()).get("checksum") == digest), None)
        if existing is None:
            number = len(_versions(model_dir)) + 1
            staging = Path(tempfile.mkdtemp(dir=model_dir, prefix=".incoming-"))
            shutil.copytree(source, staging, dirs_exist_ok=True)
            meta = {**(metadata or {}), "name": name, "version": f"v{number}",
                    "source": str(source.resolve()), "checksum": digest,
                    "created_at": time.time()}
            (staging / META).write_text(json.dumps(meta, indent=2, default=str))
            target = model_dir / f"v{number}"
            os.rename(staging, target)
            created = True
        else:
            target, meta, created = existing, json.loads((existing / META).read_text()), False
        table = _aliases(model_dir)
        for alias in ("latest", *(["best"] if best else []), *aliases):
            table[alias] = target.name
        _write_aliases(model_dir, table)
        names = sorted(a for a, v in table.items() if v == target.name)
    return Version(name, target.name, target, names, meta, created)


def aliased(name: str, alias: str, registry: str | None = None) -> dict | None:
    """The metadata of the version of ``name`` that ``alias`` points at, or None."""
    model_dir = root(registry) / name
    version = _aliases(model_dir).get(alias) if model_dir.is_dir() else None
    if version is None or not (model_dir / version / META).is_file():
        return None
    return {**json.loads((model_dir / version / META).read_text()), "version": version}


def load(reference: str, registry: str | None = None) -> Path:
    """The folder of ``NAME``, ``NAME:ALIAS`` or ``NAME:vN`` (``NAME`` means ``NAME:latest``)."""
    name, _, which = reference.partition(":")
    which = which or "latest"
    model_dir = root(registry) / name
    if not model_dir.is_dir():
        raise BadInput(f"no registered model {name!r} in {root(registry)}")
    version = which if which.startswith("v") and which[1:].isdigit() else _aliases(model_dir).get(which)
    if version is None or not (model_dir / version).is_dir():
        raise BadInput(f"{name} has no version or alias {which!r}")
    return model_dir / version


def models(registry: str | None = None) -> list[str]:
    base = root(registry)
    return sorted(p.name for p in base.iterdir() if p.is_dir()) if base.is_dir() else []


def show(name: str, registry: str | None = None) -> list[dict]:
    """Each version's metadata with its aliases."""
    model_dir = root(registry) / name
    if not model_dir.is_dir():
        raise BadInput(f"no registered model {name!r} in {root(registry)}")
    table = _aliases(model_dir)
    out = []
    for version in _versions(model_dir):
        meta = json.loads((version / META).read_text())
        meta["aliases"] = sorted(a for a, v in table.items() if v == version.name)
        out.append(meta)
    return out

"""Promotion on W&B: the run's model artifact (the one WANDB_LOG_MODEL or the model layer already
logged, or else its checkpoint folder, logged now) linked into the W&B Registry with aliases."""

from __future__ import annotations

from pathlib import Path

from ...errors import BadInput
from ...registry import Version
from ._reference import SweepPath

REGISTRY = "wandb-registry-model"


def target_path(name: str) -> str:
    """``NAME`` goes to the model registry's collection NAME; a full path is kept."""
    return name if "/" in name else f"{REGISTRY}/{name}"


def logged_model(run) -> object | None:
    """The newest model artifact the run logged (type ``model``), or None."""
    models = [a for a in run.logged_artifacts() if a.type == "model"]
    return models[-1] if models else None


def promote(api, path: SweepPath, row: dict, name: str, aliases: tuple[str, ...],
            metadata: dict, best: bool = True) -> Version:
    if row.get("state") not in ("finished", "stopped"):
        raise BadInput(f"run {row['name']!r} is {row.get('state')}; only finished runs are "
                       "promoted")
    target = target_path(name)
    wanted = list(dict.fromkeys([*(["best"] if best else []), *aliases]))  # W&B moves latest
    artifact = logged_model(api.run(f"{path.entity}/{path.project}/{row['run_id']}"))
    if artifact is not None:
        created = not _linked_to(artifact, target)
        linked = artifact.link(target, aliases=wanted)
    else:
        linked, created = _log_and_link(path, row, target, wanted, metadata)
    version = getattr(linked, "version", None) or "?"
    return Version(name=target, version=version, path=f"{target}:{version}",
                   aliases=["latest", *wanted], metadata={**metadata, "artifact": getattr(
                       linked, "qualified_name", target)}, created=created)


def registered(api, name: str, alias: str) -> dict | None:
    """The metadata of the registry version ``name:alias`` (with its version), or None."""
    try:
        artifact = api.artifact(f"{target_path(name)}:{alias}")
    except Exception:  # noqa: BLE001 - the SDK raises a CommError for an unknown alias
        return None
    return {**(artifact.metadata or {}), "version": getattr(artifact, "version", None)}


def _linked_to(artifact, target: str) -> bool:
    """Whether the artifact is already a version of the registry collection ``target``."""
    try:
        links = list(artifact.linked_artifacts)
    except Exception:  # noqa: BLE001 - a server that cannot list links: count it as new
        return False
    return any(target in (f"{a.project}/{a.collection.name}",
                          f"{a.entity}/{a.project}/{a.collection.name}") for a in links)


def _log_and_link(path: SweepPath, row: dict, target: str, aliases: list[str],
                  metadata: dict):
    """No model artifact on W&B: log the run's checkpoint folder (it must be on this machine)
    from a `promote` run, then link it. The same files give the same artifact version (W&B
    de-duplicates by digest), so promoting twice adds no version."""
    import wandb

    checkpoint = row.get("checkpoint")
    if not isinstance(checkpoint, str) or not Path(checkpoint).is_dir():
        raise BadInput(f"run {row['name']!r} logged no model artifact to W&B and its checkpoint "
                       f"{checkpoint!r} is not a folder on this machine; set WANDB_LOG_MODEL="
                       "checkpoint for the sweep's runs, or promote where the checkpoint is")
    with wandb.init(entity=path.entity, project=path.project, job_type="promote",
                    config={"promoted_run": row["run_id"], "sweep": str(path)}) as promoter:
        artifact = wandb.Artifact(f"model-{row['run_id']}", type="model", metadata=metadata)
        artifact.add_dir(checkpoint)
        logged = promoter.log_artifact(artifact)
        logged.wait()
        created = not _linked_to(logged, target)
        linked = promoter.link_artifact(logged, target, aliases=aliases)
    return linked or logged, created

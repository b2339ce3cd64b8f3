"""Which backend a command talks to: named with ``--backend``, or read off the sweep's name
(``ENTITY/PROJECT/ID`` or a W&B sweep URL is a W&B sweep; anything else is local)."""

from __future__ import annotations

from ..errors import BadInput
from ._base import Backend

BACKENDS = ("local", "wandb")


def open_backend(storage: str | None = None, *, create: bool = True, kind: str | None = None,
                 sweep: str | None = None, entity: str | None = None,
                 project: str | None = None, read_only: bool = False,
                 offline: bool = False) -> Backend:
    """The backend for ``kind``, or for the sweep reference ``sweep`` when no kind is named.

    ``storage`` is the local backend's database; ``entity``/``project`` are W&B's defaults.
    ``read_only``: the caller only reads (the local database is opened so that it cannot write).
    ``offline``: the caller only plans (``--dry-run``): no network, no credentials, and no
    database is created.
    """
    if kind is None:
        from .wandb import is_wandb_reference

        kind = "wandb" if sweep is not None and is_wandb_reference(sweep) else "local"
    if kind == "wandb":
        from .wandb import WandbBackend

        return WandbBackend(entity=entity, project=project, offline=offline)
    if kind == "local":
        from .local import LocalBackend

        if offline:  # plans only: the database is opened if a plan needs it, never created
            return LocalBackend(storage, create=False, read_only=True)
        return LocalBackend(storage, create=create and not read_only, read_only=read_only).open()
    raise BadInput(f"--backend {kind!r}: one of {', '.join(BACKENDS)}")

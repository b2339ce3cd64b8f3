"""The embedded default backend: W&B's engine as controller, records in SQLite or PostgreSQL."""

from ._backend import LocalBackend, new_id
from ._storage import DEFAULT_STORAGE, resolve_url

__all__ = ["DEFAULT_STORAGE", "LocalBackend", "new_id", "resolve_url"]

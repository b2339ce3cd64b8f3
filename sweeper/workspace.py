"""Where sweeper keeps its files: the ``.sweeper/`` folder of the workspace (the storage
``sweeper.db``, the ``registry`` and each run's files under ``runs``).

In a git repository that is the nearest ``.sweeper/`` from the working folder up to the
repository's root, else the root's: the CLI at the root and a notebook in ``notebooks/`` share
one database and one registry. Outside a repository it is the working folder's.
"""

from __future__ import annotations

import os
from pathlib import Path

FOLDER = ".sweeper"


def root(start: str | os.PathLike | None = None) -> Path:
    """The folder that holds (or will hold) the workspace's ``.sweeper/``."""
    here = Path(start or Path.cwd()).resolve()
    top = next((folder for folder in (here, *here.parents) if (folder / ".git").exists()), None)
    if top is None:
        return here
    for folder in (here, *here.parents):
        if (folder / FOLDER).is_dir() or folder == top:
            return folder
    return top


def folder(start: str | os.PathLike | None = None) -> Path:
    """The workspace's ``.sweeper/``, relative where it is the working folder's (as people
    read it), else absolute."""
    base = root(start)
    return Path(FOLDER) if start is None and base == Path.cwd().resolve() else base / FOLDER

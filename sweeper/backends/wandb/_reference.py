"""What a person may type for a W&B sweep: ``ENTITY/PROJECT/ID``, the sweep's dashboard URL, or
``ID`` with --entity and --project."""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass

from ...errors import BadInput

_URL = re.compile(r"^https?://[^/]+/(?P<entity>[^/]+)/(?P<project>[^/]+)/sweeps/(?P<id>[^/?#]+)")
_PART = re.compile(r"^[\w.-]+$")


@dataclass(frozen=True)
class SweepPath:
    entity: str
    project: str
    id: str

    def __str__(self) -> str:
        return f"{self.entity}/{self.project}/{self.id}"


def is_wandb_reference(text: str) -> bool:
    """Whether ``text`` names a W&B sweep (a path of three parts, or a sweep URL).

    >>> is_wandb_reference("team/nlp/ab12cd34"), is_wandb_reference("ab12cd34")
    (True, False)
    """
    return bool(_URL.match(text)) or (text.count("/") == 2 and all(text.split("/")))


def parse_reference(text: str, entity: str | None = None, project: str | None = None
                    ) -> SweepPath:
    """``ENTITY/PROJECT/ID``, a sweep URL, ``PROJECT/ID`` or ``ID`` (with the defaults given).

    >>> str(parse_reference("https://wandb.ai/team/nlp/sweeps/ab12cd34?workspace=x"))
    'team/nlp/ab12cd34'
    """
    match = _URL.match(text)
    if match:
        parts = [urllib.parse.unquote(match[k]) for k in ("entity", "project", "id")]
    else:
        parts = text.strip("/").split("/")
        if len(parts) == 2:
            parts = [entity, *parts]
        elif len(parts) == 1:
            parts = [entity, project, parts[0]]
    if len(parts) != 3 or not all(parts):
        raise BadInput(f"W&B sweep {text!r}: expected ENTITY/PROJECT/ID (or ID with --entity "
                       "and --project)")
    for part in parts:
        if not _PART.match(part):
            raise BadInput(f"W&B sweep {text!r}: {part!r} is not a valid entity, project or id")
    return SweepPath(*parts)

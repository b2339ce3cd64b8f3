"""Reading the JSON lines a run's wandb hook writes, as they are written."""

from __future__ import annotations

import json
from pathlib import Path

from ..run_value import lookup


class MetricsTail:
    """Incremental reader of ``metrics.jsonl``: each call returns the complete new lines."""

    def __init__(self, path: Path):
        self.path = path
        self.offset = 0
        self.summary: dict | None = None  # what the program's W&B run ended with
        self.last: dict = {}  # the last logged value of each key (W&B's summary while it runs)

    def read(self) -> list[dict]:
        """New history rows since the last call (a summary line is kept in ``self.summary``)."""
        try:
            with open(self.path, "rb") as handle:
                handle.seek(self.offset)
                chunk = handle.read()
        except FileNotFoundError:
            return []
        end = chunk.rfind(b"\n")
        if end < 0:
            return []
        self.offset += end + 1
        rows: list[dict] = []
        for line in chunk[: end + 1].splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue  # a line the program broke; the rest still counts
            if not isinstance(event, dict) or not isinstance(event.get("data"), dict):
                continue
            if event.get("kind") == "log":
                rows.append(event["data"])
                self.last.update({k: v for k, v in event["data"].items()
                                  if not str(k).startswith("_")})
            elif event.get("kind") == "summary":  # one more for each time the run is resumed
                self.summary = {**(self.summary or {}), **event["data"]}
        return rows

    def merged_summary(self) -> dict:
        """The run's summary as the backend records it: last logged values, then the program's
        own summary over them."""
        return {**self.last, **(self.summary or {})}

    def has(self, name: str) -> bool:
        """Whether the run logged ``name`` or has it in its summary."""
        return lookup(self.merged_summary(), name) is not None

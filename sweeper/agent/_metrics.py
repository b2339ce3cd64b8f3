"""Reading the JSON lines a run's wandb hook writes, as they are written."""

from __future__ import annotations

import json
from pathlib import Path


class MetricsTail:
    """Incremental reader of ``metrics.jsonl``: each call returns the complete new lines."""

    def __init__(self, path: Path):
        self.path = path
        self.offset = 0
        self.summary: dict | None = None

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
            if event.get("kind") == "log":
                rows.append(event["data"])
            elif event.get("kind") == "summary":
                self.summary = event["data"]
        return rows

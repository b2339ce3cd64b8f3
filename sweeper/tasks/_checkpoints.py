"""Checkpoints of the model layer: which one a resumed run starts from, and what stays on disk.

- A checkpoint is complete once the Trainer has written all of it: :class:`MarkComplete` puts
  a marker in it after the Trainer's save (``on_save`` runs after the checkpoint is written),
  and only marked checkpoints are ever resumed from. One half-written when the process died
  has no marker and is skipped.
- A run resumed by the agent (``SWEEPER_RESUME=1``), or told ``resume_from_checkpoint``,
  continues from the newest complete checkpoint in its output folder: model, optimizer,
  scheduler, RNG and step (``Trainer.train(resume_from_checkpoint=...)``).
- Disk: while a run trains, it keeps its newest checkpoint (``save_total_limit``, default 1;
  the Trainer also keeps the best one where it picks the best model at the end); once it has
  finished, its checkpoints go and its best model stays (``best_model_dir``, weights and
  tokenizer, no optimizer state), unless ``keep_checkpoints``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

from transformers import TrainerCallback

MARKER = "sweeper-checkpoint-complete"
_CHECKPOINT = re.compile(r"checkpoint-(\d+)$")


class MarkComplete(TrainerCallback):
    """After each save, mark the checkpoint complete (the marker is written and synced last)."""

    def on_save(self, args, state, control, **kwargs):
        if not state.is_world_process_zero:
            return
        folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
        if folder.is_dir():
            _write_synced(folder / MARKER, json.dumps({"global_step": state.global_step}))


def _write_synced(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".partial")
    with open(partial, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)


def complete_checkpoints(output_dir: str | Path) -> list[Path]:
    """The complete checkpoints in ``output_dir``, oldest first."""
    folder = Path(output_dir)
    if not folder.is_dir():
        return []
    found = []
    for child in folder.iterdir():
        match = _CHECKPOINT.match(child.name)
        if match and child.is_dir() and _is_complete(child):
            found.append((int(match[1]), child))
    return [path for _, path in sorted(found)]


def _is_complete(folder: Path) -> bool:
    if not (folder / MARKER).is_file():
        return False
    try:
        json.loads((folder / "trainer_state.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return True


def resume_point(output_dir: str, wanted: str | bool | None) -> str | None:
    """The checkpoint to resume from: ``wanted`` (a path, or True/"latest" for the newest
    complete one), else the newest complete one when the agent says the run resumes."""
    if isinstance(wanted, str) and wanted not in ("latest", "true"):
        return wanted
    if wanted is False:
        return None
    if wanted or os.environ.get("SWEEPER_RESUME") == "1":
        found = complete_checkpoints(output_dir)
        return str(found[-1]) if found else None
    return None


def drop_checkpoints(output_dir: str) -> int:
    """Remove the run's training checkpoints (the best model lives in best_model_dir);
    returns the bytes freed."""
    freed = 0
    folder = Path(output_dir)
    if not folder.is_dir():
        return 0
    for child in folder.iterdir():
        if _CHECKPOINT.match(child.name) and child.is_dir():
            freed += sum(f.stat().st_size for f in child.rglob("*") if f.is_file())
            shutil.rmtree(child, ignore_errors=True)
    return freed

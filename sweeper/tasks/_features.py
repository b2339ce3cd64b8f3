"""Feature conversion (tokenisation) with the documented cache and worker args.

- ``cache_dir``: converted features are kept there, keyed by the data, the tokenizer and the args
  that shape features; ``no_cache`` keeps nothing on disk.
- ``reprocess_input_data``: rebuild training features even when cached;
  ``use_cached_eval_features``: reuse cached evaluation features.
- ``use_multiprocessing`` / ``process_count``: the tokenizer's worker threads (HF fast tokenizers
  convert in parallel in Rust); ``multiprocessing_chunksize``: texts per conversion call.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any


def configure_workers(args: dict[str, Any]) -> None:
    """Set the tokenizers' parallelism before the first tokenizer is made."""
    if not args["use_multiprocessing"]:
        os.environ["TOKENIZERS_PARALLELISM"] = "false"
    else:
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "true")
        os.environ.setdefault("RAYON_NUM_THREADS", str(args["process_count"]))


def in_chunks(convert: Callable[[list], dict], items: list, chunksize: int) -> dict:
    """``convert`` over ``items`` in chunks, the encodings joined (only for big inputs)."""
    if len(items) <= chunksize:
        return dict(convert(items))
    merged: dict[str, list] = {}
    for start in range(0, len(items), chunksize):
        for key, values in convert(items[start:start + chunksize]).items():
            merged.setdefault(key, []).extend(values)
    return merged


def cached(args: dict[str, Any], kind: str, key: Any, evaluate: bool,
           build: Callable[[], Any]) -> Any:
    """``build()``'s features, from ``cache_dir`` where the args allow, stored there otherwise."""
    if args["no_cache"]:
        return build()
    digest = hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()
    path = Path(args["cache_dir"]) / f"{kind}-{'eval' if evaluate else 'train'}-{digest[:20]}.pkl"
    reuse = args["use_cached_eval_features"] if evaluate else not args["reprocess_input_data"]
    if reuse and path.is_file():
        with open(path, "rb") as handle:
            return pickle.load(handle)  # noqa: S301 - our own cache file
    features = build()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as handle:
        pickle.dump(features, handle)
    os.replace(tmp, path)
    return features

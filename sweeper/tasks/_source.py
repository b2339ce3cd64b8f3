"""Where a model comes from: a local folder, or a Hub id (``roberta-base``, ``org/name``)
loaded as transformers loads it, from the HF cache (``HF_HOME``, ``HF_HUB_CACHE``) first and
from the Hub where it can be reached (``HF_HUB_OFFLINE=1`` keeps to the cache)."""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..errors import BadInput

TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "tokenizer_config.json", "spiece.model",
                   "sentencepiece.bpe.model", "vocab.json")
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


def check_model_path(path: str | os.PathLike) -> str:
    """A local model folder with a config and a tokenizer; BadInput naming what is missing."""
    folder = Path(path)
    if not (folder / "config.json").is_file():
        raise BadInput(f"model_name_or_path {str(path)!r}: no config.json in it")
    if not any((folder / name).is_file() for name in TOKENIZER_FILES):
        raise BadInput(f"model_name_or_path {str(path)!r}: no tokenizer files in it "
                       f"(looked for {', '.join(TOKENIZER_FILES[:3])}, ...)")
    return str(folder)


def offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on")


def resolve_model(name_or_path: str | os.PathLike) -> str:
    """A local folder, or a Hub id whose files are in the HF cache (or fetched now, where the
    Hub can be reached): what ``from_pretrained`` gets. BadInput, one line, when neither."""
    text = str(name_or_path)
    if Path(text).exists():
        return check_model_path(text)
    if not _HUB_ID.match(text) or text.startswith((".", "/", "~")):
        raise BadInput(f"model_name_or_path {text!r}: no such folder, and not a Hub model id "
                       "(like roberta-base or org/name)")
    from huggingface_hub import constants, snapshot_download
    from huggingface_hub.utils import HfHubHTTPError, LocalEntryNotFoundError

    patterns = ["*.json", "*.txt", "*.model", "*.safetensors", "*.bin", "*.tiktoken"]
    try:
        return check_model_path(snapshot_download(text, allow_patterns=patterns,
                                                  local_files_only=True))
    except BadInput:
        raise
    except (LocalEntryNotFoundError, FileNotFoundError, OSError, ValueError):
        pass
    cache = constants.HF_HUB_CACHE
    if offline():
        raise BadInput(f"model_name_or_path {text!r}: not in the HF cache ({cache}) and "
                       "HF_HUB_OFFLINE=1 keeps the Hub away; download it once where there is "
                       f"network (huggingface-cli download {text}), point HF_HOME at a cache "
                       "that has it, or give a local folder")
    try:
        return check_model_path(snapshot_download(text, allow_patterns=patterns,
                                                  etag_timeout=10))
    except BadInput:
        raise
    except (HfHubHTTPError, OSError, ValueError) as exc:
        reason = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else \
            type(exc).__name__
        raise BadInput(f"model_name_or_path {text!r}: not in the HF cache ({cache}) and the Hub "
                       f"cannot give it ({reason}); download it once where there is network "
                       f"(huggingface-cli download {text}), or give a local folder") from None

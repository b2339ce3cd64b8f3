"""sweeper: hyperparameter sweeps for Hugging Face fine-tuning, on W&B Sweeps or with no server."""

import warnings as _warnings

# W&B's sweep engine (`sweeps` 0.2) declares a pydantic v1 config key that pydantic 2 warns about
# on import; it is harmless and would otherwise greet every command.
_warnings.filterwarnings("ignore", message="Valid config keys have changed in V2",
                         category=UserWarning)

__version__ = "0.1.0"

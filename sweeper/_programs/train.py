"""The built-in trainer, as the program file sweeper's agent runs for a sweep that names no
program (the same trainer as the repository's agents/train.py)."""

import sys

from sweeper.tasks.entrypoint import main

if __name__ == "__main__":
    sys.exit(main())

"""The ready agent entrypoint: a W&B sweep program that fine-tunes through sweeper's model layer.

Runs under `sweeper agent` and, unchanged, under `wandb agent`: it calls wandb.init(), reads
wandb.config (task choice such as `task`, `model_name_or_path`, `train_file`, and the documented
task args such as `learning_rate`), trains, and logs the metrics at every evaluation.
"""

import sys

from sweeper.tasks.entrypoint import main

if __name__ == "__main__":
    sys.exit(main())

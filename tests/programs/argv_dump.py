"""Write the argv and environment it was started with to $ARGV_DUMP as JSON."""

import json
import os
import sys

with open(os.environ["ARGV_DUMP"], "a") as handle:
    handle.write(json.dumps({"argv": sys.argv, "cuda": os.environ.get("CUDA_VISIBLE_DEVICES"),
                             "mode": os.environ.get("WANDB_MODE")}) + "\n")

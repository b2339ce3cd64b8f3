"""One agent process: ``python -m sweeper.agent SWEEP_ID --storage URL`` (started by `sweeper agent`)."""

import argparse
import sys
import warnings

from ..backends import open_backend
from ..errors import SweeperError
from ._launch import run_worker


def main() -> int:
    warnings.filterwarnings("ignore")
    parser = argparse.ArgumentParser(prog="python -m sweeper.agent")
    parser.add_argument("sweep_id")
    parser.add_argument("--storage", required=True)
    parser.add_argument("--count", type=int, default=None)
    parser.add_argument("--max-failures", type=int, default=5)
    parser.add_argument("--grace", type=float, default=10.0)
    args = parser.parse_args()
    try:
        backend = open_backend(args.storage, create=False)
        return run_worker(backend, args.sweep_id, args.count, args.max_failures, args.grace)
    except SweeperError as exc:
        print(f"sweeper: error: {exc}", flush=True)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())

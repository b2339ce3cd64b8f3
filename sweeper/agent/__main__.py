"""One agent process: ``python -m sweeper.agent SWEEP_ID`` (started by `sweeper agent`).

The storage comes from SWEEPER_STORAGE (or --storage): a URL that holds a password never goes on
a command line, where every user of the machine can read it.
"""

import argparse
import sys
import warnings

from .._keys import disarm_debug_logs
from ..backends import open_backend
from ..errors import SpecError, SweeperError
from ._launch import run_worker


def main() -> int:
    warnings.filterwarnings("ignore")
    parser = argparse.ArgumentParser(prog="python -m sweeper.agent")
    parser.add_argument("sweep_id")
    parser.add_argument("--storage", default=None, help="default: SWEEPER_STORAGE")
    parser.add_argument("--count", type=int, default=None)
    parser.add_argument("--max-failures", type=int, default=5)
    parser.add_argument("--grace", type=float, default=10.0)
    parser.add_argument("--run-timeout", type=float, default=None, help="seconds")
    args = parser.parse_args()
    disarm_debug_logs()
    try:
        backend = open_backend(args.storage, create=False)
        sweep = backend.find_sweep(args.sweep_id)
        return run_worker(backend, sweep.id, args.count, args.max_failures, args.grace,
                          args.run_timeout)
    except SpecError as exc:
        for line in exc.lines():
            print(f"sweeper: error: {line}", flush=True)
        return exc.exit_code
    except SweeperError as exc:
        print(f"sweeper: error: {exc}", flush=True)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())

"""Fits at a low CPU priority: a model-based suggestion is fitted in a thread of its own, niced,
so that on a busy machine the short locked hand-outs of other agents (and the training processes
beside them) get the CPU first. Where threads cannot be niced (not Linux), it runs as it is."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

NICENESS = 10  # CFS gives a thread at nice 0 about nine times the CPU of one at nice 10


def run_niced(work: Callable[[], T]) -> T:
    """``work()``'s result (or its exception), computed in a thread at nice +10."""
    if not sys.platform.startswith("linux"):
        return work()
    outcome: dict = {}

    def body() -> None:
        try:  # Linux nices a thread by its own id; the caller's thread keeps its priority
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(),
                           min(19, os.getpriority(os.PRIO_PROCESS, 0) + NICENESS))
        except OSError:
            pass
        try:
            outcome["value"] = work()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller below
            outcome["error"] = exc

    thread = threading.Thread(target=body, name="sweeper-fit", daemon=True)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]

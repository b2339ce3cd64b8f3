"""Memory a fit frees stays in the process for its next fit (glibc's malloc).

A gp fit at 300 runs allocates and frees some 50 MB of short-lived arrays. glibc gives much of
it back to the kernel as soon as it is free (its top-of-heap trim, and mmap for the larger
blocks), so each fit of an agent faults the same pages in again: 10,000 to 18,000 minor page
faults a fit, 0.02 to 0.045 s of its 0.22 to 0.32 s spent in the kernel (2 cores, a training
process taking and giving back 3 GB between fits; ``bench/fit_memory.py``). With the freed memory kept (a trim threshold
of TRIM_BYTES and a fixed mmap threshold), an agent's later fits fault 10 to 25 times (one that
needs more memory than any before it faults in the difference), spend at most 0.007 s in the
kernel, and take 0.20 to 0.26 s (median 0.24 s against 0.26 s); the agent
process's peak memory grew by 10 MB (385 against 376 MB). Where fresh pages cost more to map (a
virtual machine that hands freed memory back to its host), a fit's faults cost more: the first
fit of 16 agent processes on the benchmark's machine spent 0.25 s of its 0.5 s in the kernel.

The settings are the process's, made once, on the first fit: the agent process holds at most
TRIM_BYTES of free heap more than before. A user who set glibc's own variables
(``MALLOC_TRIM_THRESHOLD_``, ``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_TOP_PAD_``) keeps them; other
C libraries (musl, macOS) are left as they are.
"""

from __future__ import annotations

import ctypes
import os
import threading

TRIM_BYTES = 256 << 20  # free heap a process keeps before giving it back
MMAP_BYTES = 32 << 20  # blocks below it come from the heap (glibc's largest default)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's malloc.h
_USERS_OWN = ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TOP_PAD_")

_done = threading.Lock()
_kept: bool | None = None


def keep_freed_memory() -> bool:
    """Make glibc keep freed memory for the next fit (once per process); whether it now does."""
    global _kept
    with _done:
        if _kept is None:
            _kept = _set_thresholds()
        return _kept


def _set_thresholds() -> bool:
    if any(os.environ.get(name) for name in _USERS_OWN):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (AttributeError, OSError):  # not glibc
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_BYTES) and mallopt(_M_TRIM_THRESHOLD, TRIM_BYTES))

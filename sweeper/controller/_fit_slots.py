"""At most one model fit per core of the machine at a time, across every agent process on it.

Each agent fits in its own process (and on one thread, ``_threads``), so 16 agents on a 2-core
machine asking at once would run 16 fits side by side, each at an eighth of a core, and every one
of them would end late, after the thrashing of all. Instead a fit takes one of the machine's
slots (one per core this process may run on) and the others wait for a free one: each fit runs
at a core's full speed, so the first ones end early and the last no later than before. The wait
is for a core, never for the sweep's lock: agents on other machines (PostgreSQL) have slots of
their own, and on a machine with a core per agent nobody waits.

``SWEEPER_FIT_SLOTS`` sets how many fits run at once on this machine (``0``: no limit). The
slots are files locked with ``flock`` in the temporary folder, so a process that dies frees its
slot with it. A process stopped while it holds a slot, or the queue's head (Ctrl-Z, SIGSTOP),
holds the others up for SLOT_WAIT_S at most: they then fit without a slot. Where ``flock`` is
missing (Windows) or the temporary folder refuses the files, fits are not limited.
"""

from __future__ import annotations

import contextlib
import os
import random
import tempfile
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

from ..errors import BadInput
from ._heap import keep_freed_memory
from ._threads import one_thread

try:
    import fcntl
except ImportError:  # Windows: no flock, no limit
    fcntl = None  # type: ignore[assignment]

SLOTS_ENV = "SWEEPER_FIT_SLOTS"
_SAME_FIT_FILES = 64  # fits of the same runs share a lock file; two keys rarely do
_POLL_S = 0.002  # the head of the queue, between looks: a fit takes tens of milliseconds


def slots() -> int:
    """How many fits may run at once on this machine (0: no limit)."""
    given = os.environ.get(SLOTS_ENV, "").strip()
    if given:
        try:
            count = int(given)
        except ValueError:
            count = -1
        if count < 0:
            raise BadInput(f"{SLOTS_ENV}={given!r}: give how many fits may run at once on this "
                           "machine, a whole number (0: no limit)")
        return count
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS: no affinity
        return os.cpu_count() or 1


def _folder() -> Path:
    uid = os.getuid() if hasattr(os, "getuid") else 0
    folder = Path(tempfile.gettempdir()) / f"sweeper-fit-slots-{uid}"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def _open_slots(folder: Path, count: int) -> list[int]:
    handles: list[int] = []
    try:
        for i in range(count):
            handles.append(os.open(folder / f"slot-{i}", os.O_RDWR | os.O_CREAT, 0o600))
    except OSError:
        for handle in handles:
            os.close(handle)
        raise
    return handles


def _take_free(handles: list[int]) -> int | None:
    """Take a free slot without waiting: its index, or None when all are taken."""
    order = list(range(len(handles)))
    random.shuffle(order)  # the first one is not everybody's first try
    for i in order:
        try:
            fcntl.flock(handles[i], fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue
        return i
    return None


@contextlib.contextmanager
def one_fit(torch_too: bool = False) -> Iterator[None]:
    """A model fit: in one of the machine's slots, on one thread (``_threads``), in memory
    that the process's last fit freed (``_heap``)."""
    keep_freed_memory()
    with fit_slot(), one_thread(torch_too=torch_too):
        yield


@contextlib.contextmanager
def fit_slot() -> Iterator[None]:
    """Hold one of the machine's fit slots inside (waiting for one while all are taken)."""
    count = slots()
    if count == 0 or fcntl is None:
        yield
        return
    try:
        folder = _folder()
        handles = _open_slots(folder, count)
    except OSError:  # a temporary folder that refuses files: fit without waiting for a slot
        yield
        return
    held = None
    try:
        held = _take_free(handles)
        if held is None:  # None again after SLOT_WAIT_S: fit without a slot
            held = _queue_for_a_slot(folder, handles, time.monotonic() + SLOT_WAIT_S)
        yield
    finally:
        if held is not None:
            fcntl.flock(handles[held], fcntl.LOCK_UN)
        for handle in handles:
            os.close(handle)


# A wait past it (a stopped holder, or 16 gp fits at 1,000 runs in a row on 2 cores, 32 s)
# only lets a fit share a core, as with no slots.
SLOT_WAIT_S = 30.0


def _queue_for_a_slot(folder: Path, handles: list[int], deadline: float) -> int | None:
    """Wait for a slot until ``deadline`` (None after it): the waiters sleep in the kernel on
    the queue's lock, and only the one at its head looks for a free slot, so fifteen waiters
    take no CPU from the fits they wait for. (All of them looking every 2 ms: gp's fits held
    their slots 0.36 s instead of 0.31 s with 16 agents on 2 cores.)"""
    try:
        queue = os.open(folder / "queue", os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        return None
    if not _lock_within(queue, max(0.0, deadline - time.monotonic())):
        return None  # the head of the queue is stopped; the handle is the waiting thread's now
    try:
        while (held := _take_free(handles)) is None:
            if time.monotonic() >= deadline:
                return None  # every slot's holder is stopped, or the fits are that long
            time.sleep(_POLL_S)
        return held
    finally:
        os.close(queue)  # and with it the queue's lock


@contextlib.contextmanager
def same_fit(key: str) -> Iterator[None]:
    """Inside, no other process on this machine holds ``key`` (the runs a fit is made on): an
    agent that would fit the very runs another agent fits now waits for that fit, and then
    finds its batch (``sweeper.controller._batch``) instead of fitting again. Fits of other
    runs, or other sweeps, do not wait (but for the rare key sharing a lock file). The wait
    ends after SAME_FIT_WAIT_S (a holder stopped mid-fit, Ctrl-Z): the caller then fits on
    its own, as it would have without the lock."""
    if fcntl is None:
        yield
        return
    try:
        name = f"fit-{zlib.crc32(key.encode()) % _SAME_FIT_FILES}"
        handle = os.open(_folder() / name, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        yield
        return
    if not _lock_within(handle, SAME_FIT_WAIT_S):
        yield  # the handle is the waiting thread's now: it closes it
        return
    try:
        yield
    finally:
        os.close(handle)  # and with it the lock


SAME_FIT_WAIT_S = 30.0  # a gp fit at 1,000 runs takes 4 s on 2 cores


def _lock_within(handle: int, seconds: float) -> bool:
    """Take ``handle``'s flock, waiting at most ``seconds`` asleep in the kernel (a thread
    blocks in flock). False when it was held longer: the lock, if it comes later, is given
    back at once and the handle closed."""
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        pass
    taken, mutex, state = threading.Event(), threading.Lock(), {"caller": "waiting"}

    def wait() -> None:
        fcntl.flock(handle, fcntl.LOCK_EX)
        with mutex:
            if state["caller"] == "gone":
                os.close(handle)
                return
            state["caller"] = "served"
        taken.set()

    threading.Thread(target=wait, name="sweeper-same-fit", daemon=True).start()
    taken.wait(seconds)
    with mutex:
        if state["caller"] == "served":
            return True
        state["caller"] = "gone"
        return False

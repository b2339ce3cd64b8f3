"""At most one model fit per core at a time across the agent processes of a machine.

Real processes hold real slots (files locked with flock); each records when it held one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

import pytest

from sweeper import controller, spec
from sweeper.controller import ControllerRun, _fit_slots
from sweeper.errors import BadInput

pytestmark = pytest.mark.skipif(_fit_slots.fcntl is None, reason="flock: not on Windows")

HOLDER = """
import json, sys, time
from pathlib import Path
from sweeper.controller._fit_slots import fit_slot
gate, out = Path(sys.argv[1]), Path(sys.argv[2])
deadline = time.monotonic() + 120
while not gate.exists() and time.monotonic() < deadline:  # all start asking together
    time.sleep(0.005)
with fit_slot():
    start = time.monotonic()
    time.sleep(float(sys.argv[3]))  # the fit's work
    end = time.monotonic()
out.write_text(json.dumps([start, end]))
"""


def _hold_together(tmp_path, slots: str, processes: int = 4, hold_s: float = 0.4):
    """Start the processes, open the gate once all are up, return when each held its slot."""
    env = {**os.environ, "TMPDIR": str(tmp_path), _fit_slots.SLOTS_ENV: slots}
    gate = tmp_path / "gate"
    outs = [tmp_path / f"held-{i}.json" for i in range(processes)]
    children = [subprocess.Popen([sys.executable, "-c", HOLDER, str(gate), str(out), str(hold_s)],
                                 env=env) for out in outs]
    gate.touch()
    for child in children:
        assert child.wait(timeout=180) == 0
    return [json.loads(out.read_text()) for out in outs]


def _most_at_once(intervals) -> int:
    edges = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    now = most = 0
    for _, step in edges:  # an end sorts before a start at the same instant
        now += step
        most = max(most, now)
    return most


def test_one_slot_lets_one_fit_run_at_a_time(tmp_path):
    assert _most_at_once(_hold_together(tmp_path, "1")) == 1


def test_two_slots_let_at_most_two_fits_run_at_once(tmp_path):
    assert _most_at_once(_hold_together(tmp_path, "2")) <= 2


SLOT_HOLDER = """
import sys, time
from sweeper.controller._fit_slots import fit_slot
with fit_slot():
    print("held", flush=True)
    time.sleep(600)
"""


def _queue_file(tmp_path):
    return tmp_path / f"sweeper-fit-slots-{os.getuid()}" / "queue"


def _slot_holder(tmp_path) -> subprocess.Popen:
    """A process that takes the one slot and keeps it, as one stopped mid-fit would."""
    env = {**os.environ, "TMPDIR": str(tmp_path), _fit_slots.SLOTS_ENV: "1"}
    return subprocess.Popen([sys.executable, "-c", SLOT_HOLDER], env=env,
                            stdout=subprocess.PIPE, text=True)


def test_a_process_that_dies_holding_a_slot_frees_it(tmp_path, monkeypatch):
    holder = _slot_holder(tmp_path)
    try:
        assert holder.stdout.readline().strip() == "held"
        monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
        monkeypatch.setenv(_fit_slots.SLOTS_ENV, "1")
        slot = tmp_path / f"sweeper-fit-slots-{os.getuid()}" / "slot-0"
        assert _locked(slot)
        holder.kill()
        holder.wait(timeout=60)
        start = time.monotonic()
        with _fit_slots.fit_slot():
            assert _locked(slot)
        assert time.monotonic() - start < 30
    finally:
        holder.kill()
        holder.wait(timeout=60)


def _locked(slot) -> bool:
    """Whether some open file holds the slot's flock (a fresh open file cannot take it)."""
    import fcntl

    handle = os.open(slot, os.O_RDWR)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(handle)
    return False


@pytest.mark.parametrize("method", ["bayes", "gp"])
def test_a_model_based_suggestion_fits_inside_a_slot(method, tmp_path, monkeypatch):
    """The real engine runs; the spy only looks, during the fit, whether the one slot is held."""
    import optuna

    import sweeps

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setenv(_fit_slots.SLOTS_ENV, "1")
    slot = tmp_path / f"sweeper-fit-slots-{os.getuid()}" / "slot-0"
    held_during_fit: list[bool] = []
    if method == "bayes":
        target, name = sweeps, "next_run"
    else:
        target, name = optuna.samplers.GPSampler, "_optimize_acqf"
    original = getattr(target, name)

    def spy(*args, **kwargs):
        held_during_fit.append(_locked(slot))
        return original(*args, **kwargs)

    config = spec.validate({"method": method, "program": "x.py",
                            "metric": {"name": "loss", "goal": "minimize"},
                            "parameters": {"x": {"min": 0.0, "max": 1.0}}}, builtin=False)
    seen = [ControllerRun(name=str(i), params={"x": i / 8}, state="finished",
                          metric_history=[(i / 8 - 0.3) ** 2],
                          metric_summary=(i / 8 - 0.3) ** 2) for i in range(8)]
    monkeypatch.setattr(target, name, spy)
    params = controller.suggest(config, seen)
    assert 0.0 <= params["x"] <= 1.0
    assert held_during_fit and all(held_during_fit), held_during_fit
    assert not _locked(slot)  # and given back after


def test_slots_default_to_the_cores_this_process_may_use(monkeypatch):
    monkeypatch.delenv(_fit_slots.SLOTS_ENV, raising=False)
    assert _fit_slots.slots() == len(os.sched_getaffinity(0))
    monkeypatch.setenv(_fit_slots.SLOTS_ENV, "0")
    assert _fit_slots.slots() == 0  # no limit


def test_a_bad_slot_count_is_one_line_naming_the_variable(monkeypatch):
    monkeypatch.setenv(_fit_slots.SLOTS_ENV, "two")
    with pytest.raises(BadInput) as caught:
        _fit_slots.slots()
    assert "SWEEPER_FIT_SLOTS='two'" in str(caught.value) and "\n" not in str(caught.value)


def test_a_temporary_folder_that_refuses_files_leaves_fits_unlimited(tmp_path, monkeypatch):
    """A read-only temporary folder must not fail the hand-out: the fit just runs."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "no such folder" / "deeper"))
    monkeypatch.setenv(_fit_slots.SLOTS_ENV, "1")
    config = spec.validate({"method": "gp", "program": "x.py",
                            "metric": {"name": "loss", "goal": "minimize"},
                            "parameters": {"x": {"min": 0.0, "max": 1.0}}}, builtin=False)
    seen = [ControllerRun(name=str(i), params={"x": i / 8}, state="finished",
                          metric_history=[(i / 8 - 0.3) ** 2],
                          metric_summary=(i / 8 - 0.3) ** 2) for i in range(8)]
    assert 0.0 <= controller.suggest(config, seen)["x"] <= 1.0


SAME_FIT_HOLDER = """
import sys, time
from sweeper.controller._fit_slots import same_fit
with same_fit("sweep/7:1.5"):
    print("held", flush=True)
    time.sleep(float(sys.argv[1]))
    released = time.time()
print(released, flush=True)
"""


def _hold_same_fit(tmp_path, seconds: float) -> subprocess.Popen:
    holder = subprocess.Popen([sys.executable, "-c", SAME_FIT_HOLDER, str(seconds)],
                              env={**os.environ, "TMPDIR": str(tmp_path)},
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    return holder


def _same_fit_file(tmp_path):
    return [f for f in (tmp_path / f"sweeper-fit-slots-{os.getuid()}").iterdir()
            if f.name.startswith("fit-")][0]


def test_an_agent_waits_for_the_fit_of_the_same_runs_then_holds_it(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    holder = _hold_same_fit(tmp_path, 1.0)
    try:
        with _fit_slots.same_fit("sweep/7:1.5"):
            entered = time.time()
            assert _locked(_same_fit_file(tmp_path))  # this one holds it now
        assert not _locked(_same_fit_file(tmp_path))
        assert entered >= float(holder.stdout.readline())  # only once the holder let go
    finally:
        holder.kill()
        holder.wait(timeout=60)


def test_a_holder_stopped_mid_fit_delays_the_others_only_so_long(tmp_path, monkeypatch):
    """A holder that keeps the lock (Ctrl-Z mid-fit): the waiter goes on without it after
    SAME_FIT_WAIT_S, and once the holder is gone the lock is free again (the abandoned wait
    gave it back)."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(_fit_slots, "SAME_FIT_WAIT_S", 1.0)
    holder = _hold_same_fit(tmp_path, 600)
    try:
        start = time.monotonic()
        with _fit_slots.same_fit("sweep/7:1.5"):
            assert 0.9 <= time.monotonic() - start < 60
        holder.kill()
        holder.wait(timeout=60)
        deadline = time.monotonic() + 60  # the abandoned wait takes the lock, then frees it
        while _locked(_same_fit_file(tmp_path)):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        with _fit_slots.same_fit("sweep/7:1.5"):
            assert _locked(_same_fit_file(tmp_path))
    finally:
        holder.kill()
        holder.wait(timeout=60)


def test_a_slot_holder_stopped_mid_fit_delays_the_others_only_so_long(tmp_path, monkeypatch):
    """The one slot's holder never lets go: the next fit waits SLOT_WAIT_S, then runs without
    a slot, and the queue is free again after it."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setenv(_fit_slots.SLOTS_ENV, "1")
    monkeypatch.setattr(_fit_slots, "SLOT_WAIT_S", 1.0)
    holder = _slot_holder(tmp_path)
    try:
        assert holder.stdout.readline().strip() == "held"
        start = time.monotonic()
        with _fit_slots.fit_slot():
            assert 0.9 <= time.monotonic() - start < 60
            assert _locked(_queue_file(tmp_path).with_name("slot-0"))  # still the holder's
        assert not _locked(_queue_file(tmp_path))
    finally:
        holder.kill()
        holder.wait(timeout=60)


def test_a_stopped_head_of_the_queue_delays_the_others_only_so_long(tmp_path, monkeypatch):
    """One process holds the slot, a second waits at the head of the queue and is stopped
    there (Ctrl-Z): a third waits SLOT_WAIT_S for the queue, then fits without a slot."""
    import signal

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setenv(_fit_slots.SLOTS_ENV, "1")
    monkeypatch.setattr(_fit_slots, "SLOT_WAIT_S", 1.0)
    holder, head = _slot_holder(tmp_path), None
    try:
        assert holder.stdout.readline().strip() == "held"
        head = _slot_holder(tmp_path)
        deadline = time.monotonic() + 60
        while not (_queue_file(tmp_path).exists() and _locked(_queue_file(tmp_path))):
            assert time.monotonic() < deadline and head.poll() is None
            time.sleep(0.02)
        head.send_signal(signal.SIGSTOP)
        start = time.monotonic()
        with _fit_slots.fit_slot():
            assert 0.9 <= time.monotonic() - start < 60
        assert _locked(_queue_file(tmp_path))  # still the stopped head's
    finally:
        for child in (holder, head):
            if child is not None:
                child.kill()
                child.wait(timeout=60)

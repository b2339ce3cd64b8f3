"""Agents: each run its own process, W&B's macros, unmodified W&B scripts, stops, failures, signals."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sweeper import spec
from sweeper.agent import Agent, TooManyFailures, agent, plan_slots
from sweeper.backends import open_backend
from sweeper.errors import BadInput

from .conftest import ROOT, process_alive, sweeper_process, wait_for
from .wandb_records import read_offline_run

PROGRAMS = ROOT / "tests" / "programs"


@pytest.fixture
def work(tmp_path, monkeypatch):
    """A working directory holding the test programs; sweeps are stored in it."""
    for program in PROGRAMS.glob("*.py"):
        shutil.copy(program, tmp_path / program.name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SWEEPER_STORAGE", f"sqlite:///{tmp_path / 'sweeper.db'}")
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.delenv("WANDB_MODE", raising=False)
    return tmp_path


def write_sweep(path: Path, config: dict) -> Path:
    path.write_text(yaml.safe_dump(config))
    return path


def test_an_unmodified_wandb_script_reports_to_a_local_sweep(work):
    sweep_file = write_sweep(work / "s.yaml", {
        "name": "wb", "program": "wandb_script.py", "method": "grid",
        "metric": {"name": "loss", "goal": "minimize"},
        "parameters": {"lr": {"values": [0.001, 0.01]}, "steps": {"value": 3}}})
    proc = sweeper_process("run", sweep_file, cwd=work)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    backend = open_backend()
    sweep = backend.find_sweep("wb")
    runs = backend.runs(sweep.id, history=True)
    assert [r.state for r in runs] == ["finished", "finished"]
    for run in runs:
        assert run.steps == 3
        assert [row["step_seen"] for row in run.history] == [0, 1, 2]
        assert run.summary["final_loss"] == run.history[-1]["loss"] == run.metric_value
        assert run.metric_best == min(row["loss"] for row in run.history)
    assert sweep.best_run == runs[0].name  # lr 0.001 gives the lowest loss
    # What the wandb SDK itself recorded offline, ready for `wandb sync`:
    for run in runs:
        (record_file,) = work.glob(f"wandb/offline-run-*-{run.id}/run-{run.id}.wandb")
        recorded = read_offline_run(record_file)
        assert recorded.run_id == run.id and recorded.name == run.name
        assert recorded.group == "wb"
        assert sweep.id in recorded.tags
        assert recorded.config["lr"] == run.params["lr"]  # the sweep's value beat the default
        assert recorded.config["label"] == "default"
        assert [h["loss"] for h in recorded.history] == [h["loss"] for h in run.history]


@pytest.mark.parametrize("switch", [{"WANDB_MODE": "disabled"}, {"WANDB_DISABLED": "true"}],
                         ids=["WANDB_MODE=disabled", "WANDB_DISABLED=true"])
def test_a_wandb_script_with_wandb_disabled_still_reports_to_a_local_sweep(work, switch):
    """Disabled, the SDK's run is a NoopRun (wandb 0.31) that overrides log and finish: the run's
    values must reach the sweep all the same, by finish() and by the end of a with block, and
    the SDK writes nothing."""
    sweep_file = write_sweep(work / "d.yaml", {
        "name": "off", "program": "wandb_script.py", "method": "grid",
        "metric": {"name": "loss", "goal": "minimize"},
        "parameters": {"lr": {"values": [0.001, 0.01]}, "steps": {"value": 3}}})
    with_block = write_sweep(work / "w.yaml", {
        "name": "with", "program": "wandb_with_block.py", "method": "grid",
        "metric": {"name": "best_loss", "goal": "minimize"},
        "parameters": {"lr": {"values": [0.25]}}})
    for path in (sweep_file, with_block):
        proc = sweeper_process("run", path, cwd=work, env=switch)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "without logging the metric" not in proc.stdout + proc.stderr
    backend = open_backend()
    runs = backend.runs(backend.find_sweep("off").id, history=True)
    assert [r.state for r in runs] == ["finished", "finished"]
    for run in runs:
        assert [row["step_seen"] for row in run.history] == [0, 1, 2]
        assert run.summary["final_loss"] == run.history[-1]["loss"] == run.metric_value
    (run,) = backend.runs(backend.find_sweep("with").id, history=True)
    assert run.metric_value == 0.25  # set in the summary: the sweep's lr beat the default
    assert [row["loss"] for row in run.history] == [0.75, 0.5, 0.25]
    assert not (work / "wandb").exists()


def test_agents_train_py_named_where_there_is_none_runs_the_installed_trainer(work):
    """`sweeper init` and the example sweeps name the repository's agents/train.py: run from a
    folder without it (a user's own project), the runs start the same trainer as installed with
    sweeper; a user's own agents/train.py is theirs. A failed run's closing line is the
    program's error, not the wandb SDK's closing lines after it."""
    sweep_file = write_sweep(work / "b.yaml", {
        "program": "agents/train.py", "method": "grid",
        "metric": {"name": "eval/accuracy", "goal": "maximize"},
        "parameters": {"task": {"value": "classification"},
                       "train_file": {"value": "missing_train.csv"},
                       "learning_rate": {"values": [1e-4]}}})
    proc = sweeper_process("run", sweep_file, cwd=work, env={"WANDB_SILENT": "false"})
    out = proc.stdout + proc.stderr
    assert "is not a file" not in out and "can't open file" not in out, out
    assert "failed in" in out and (
        "(exit code 2): sweeper: error: data file 'missing_train.csv': no such file; log:"
        in out), out
    (work / "agents").mkdir()
    (work / "agents" / "train.py").write_text("print('my own trainer')\nraise SystemExit(3)\n")
    proc = sweeper_process("run", sweep_file, cwd=work)
    assert "(exit code 3): my own trainer; log:" in proc.stdout + proc.stderr


def test_wandb_debug_logs_cannot_leak_the_api_key_of_local_runs(work):
    """wandb-core 0.31 writes the API key into its debug logs (also offline); the agent turns
    WANDB_DEBUG off for its runs and says so."""
    key = "sweeperTESTkey" + "y" * 30
    sweep_file = write_sweep(work / "k.yaml", {
        "name": "k", "program": "wandb_script.py", "method": "grid",
        "parameters": {"lr": {"values": [0.001]}, "steps": {"value": 2}}})
    proc = sweeper_process("run", sweep_file, cwd=work, env={
        "HOME": str(work / "home"), "WANDB_API_KEY": key, "WANDB_DEBUG": "true"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "WANDB_DEBUG turned off" in proc.stderr
    files = [p for p in work.rglob("*") if p.is_file()]
    assert any("debug" in p.name for p in files)
    assert not [p for p in files if key.encode() in p.read_bytes()]


def test_macros_expand_as_wandb_agent_does_and_never_through_a_shell(work, monkeypatch):
    dump = work / "argv.jsonl"
    monkeypatch.setenv("ARGV_DUMP", str(dump))
    monkeypatch.setenv("MY_VAR", "from-env")
    config = spec.validate({
        "program": "argv_dump.py", "method": "grid",
        "command": ["${env}", "${interpreter}", "${program}", "${args}", "--sep",
                    "${args_no_hyphens}", "${args_no_boolean_flags}", "${args_json}",
                    "${args_json_file}", "--e=${envvar:MY_VAR}", "${args_no_equals}"],
        "parameters": {"evil": {"value": "; rm -rf ~"}, "flag": {"value": False},
                       "n": {"value": 3}}})
    backend = open_backend()
    sweep = backend.create_sweep(config)
    Agent(backend, sweep.id, count=1).run()
    argv = json.loads(dump.read_text())["argv"][1:]
    flags = ["--evil=; rm -rf ~", "--flag=False", "--n=3"]
    plain = ["evil=; rm -rf ~", "flag=False", "n=3"]
    no_bool = ["--evil=; rm -rf ~", "--n=3"]
    as_json = json.dumps({"evil": "; rm -rf ~", "flag": False, "n": 3})
    json_file = argv[len(flags) + 1 + len(plain) + len(no_bool) + 1]
    assert argv == [*flags, "--sep", *plain, *no_bool, as_json, json_file, "--e=from-env",
                    "--evil", "; rm -rf ~", "--flag", "False", "--n", "3"]
    assert json.loads(Path(json_file).read_text()) == json.loads(as_json)
    assert (work / ".sweeper").exists() and Path.home().exists()


def _total_steps(work: Path, name: str, hyperband: bool) -> tuple[int, list[str]]:
    config = {"name": name, "program": "slow_steps.py", "method": "grid",
              "metric": {"name": "loss", "goal": "minimize"},
              "parameters": {"x": {"values": [0, 5, 1, 6]}, "steps": {"value": 12},
                             "delay": {"value": 0.15}}}
    if hyperband:
        config["early_terminate"] = {"type": "hyperband", "min_iter": 2, "eta": 2}
    backend = open_backend()
    sweep = backend.create_sweep(spec.validate(config))
    Agent(backend, sweep.id, grace_s=5).run()
    runs = backend.runs(sweep.id)
    return sum(r.steps for r in runs), [r.state for r in runs]


def test_hyperband_stops_runs_and_the_sweep_takes_fewer_steps(work):
    full_steps, full_states = _total_steps(work, "plain", hyperband=False)
    cut_steps, cut_states = _total_steps(work, "hyperband", hyperband=True)
    assert full_states == ["finished"] * 4 and full_steps == 48
    assert "stopped" in cut_states and "failed" not in cut_states
    assert cut_states[0] == "finished"  # the first, best run is never stopped
    assert cut_steps < full_steps
    stopped = [r for r in open_backend().runs(open_backend().find_sweep("hyperband").id)
               if r.state == "stopped"]
    assert all(r.stop_reason.startswith("hyperband") for r in stopped)


def test_failures_are_recorded_and_consecutive_failures_stop_the_agent(work):
    sweep_file = write_sweep(work / "f.yaml", {
        "name": "f", "program": "fail.py", "method": "random",
        "parameters": {"x": {"min": 0.0, "max": 1.0}}})
    proc = sweeper_process("run", sweep_file, "--max-failures", "2", cwd=work)
    assert proc.returncode == 1
    assert "2 runs in a row failed" in proc.stdout
    assert "ValueError: the data file is missing" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr
    backend = open_backend()
    runs = backend.runs(backend.find_sweep("f").id)
    assert [(r.state, r.exit_code) for r in runs] == [("failed", 3), ("failed", 3)]
    assert "the data file is missing" in Path(runs[0].log_path).read_text()


def test_a_failed_run_does_not_stop_the_agent(work):
    backend = open_backend()
    sweep = backend.create_sweep(spec.validate({
        "program": "fail.py", "method": "random", "parameters": {"x": {"min": 0.0, "max": 1.0}}}))
    report = Agent(backend, sweep.id, count=3, max_failures=5).run()
    assert report.runs == 3 and report.failed == 3
    with pytest.raises(TooManyFailures, match="exit code 3"):
        Agent(backend, sweep.id, count=3, max_failures=1).run()


_wait_for = wait_for


def _slow_sweep(name: str, values: list[int], steps: int = 400, gate: str = "") -> str:
    backend = open_backend()
    return backend.create_sweep(spec.validate({
        "name": name, "program": "slow_steps.py", "method": "grid",
        "metric": {"name": "loss", "goal": "minimize"},
        "parameters": {"x": {"values": values}, "steps": {"value": steps},
                       "delay": {"value": 0.05}, "gate": {"value": gate}}})).id


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "preemption"])
def test_a_signal_stops_the_agents_run_cleanly_and_records_it(work, sig):
    """Ctrl-C (SIGINT) kills the run for good; SIGTERM (the system's: preemption) puts it back in
    the queue to resume."""
    sweep_id = _slow_sweep("term", [1, 2])
    agent_proc = subprocess.Popen([sys.executable, "-m", "sweeper.agent", sweep_id, "--grace",
                                   "5"], cwd=work, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True)
    pid_file = _wait_for(lambda: next(work.glob(".sweeper/runs/*/*/pid"), None), what="run start")
    run_pid = int(_wait_for(lambda: pid_file.read_text(), what="pid"))
    agent_proc.send_signal(sig)
    out, _ = agent_proc.communicate(timeout=60)
    assert agent_proc.returncode == 130, out
    (run,) = open_backend().runs(sweep_id)
    if sig == signal.SIGINT:
        assert (run.state, run.stop_reason) == ("killed", "agent interrupted")
    else:
        assert run.state == "pending" and run.stop_reason.startswith("agent preempted (SIGTERM)")
        assert "requeued (attempt 1 of 3)" in run.stop_reason
        assert "goes back in the queue" in out
    assert not process_alive(run_pid)


def test_a_killed_agents_run_is_resumed_by_the_next_agent(work, monkeypatch):
    monkeypatch.setenv("SWEEPER_HEARTBEAT_TIMEOUT", "2")
    sweep_id = open_backend().create_sweep(spec.validate({  # only the first run is long
        "name": "kill", "program": "slow_steps.py", "method": "grid",
        "metric": {"name": "loss", "goal": "minimize"},
        "parameters": {"steps": {"values": [60, 4, 5]}, "delay": {"value": 0.05}}})).id
    doomed = subprocess.Popen([sys.executable, "-m", "sweeper.agent", sweep_id], cwd=work,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pid_file = _wait_for(lambda: next(work.glob(".sweeper/runs/*/*/pid"), None), what="run start")
    run_pid = int(_wait_for(lambda: pid_file.read_text(), what="pid"))
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(timeout=30)
    # The run dies with its agent (it would otherwise train on, holding its GPU).
    _wait_for(lambda: not process_alive(run_pid), timeout=10, what="the orphaned run to end")
    _wait_for(lambda: open_backend().runs(sweep_id)[0].state == "crashed",
              what="the silent agent's run to show as crashed")
    proc = sweeper_process("agent", sweep_id, cwd=work)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    backend = open_backend()
    runs = backend.runs(sweep_id)
    assert [(r.state, r.attempt) for r in runs] == [("finished", 2), ("finished", 1),
                                                    ("finished", 1)]
    attempts = backend.attempts(runs[0].id)
    assert [(a["attempt"], a["state"], a["reason"]) for a in attempts] == [
        (1, "crashed", "agent stopped heartbeating"), (2, "finished", None)]
    assert "run kill-1 started (attempt 2, resuming)" in proc.stdout


def test_status_points_to_each_runs_log(work):
    backend = open_backend()
    sweep = backend.create_sweep(spec.validate({
        "name": "st", "program": "wandb_script.py", "method": "grid",
        "metric": {"name": "loss", "goal": "minimize"},
        "parameters": {"lr": {"values": [0.01]}}}))
    Agent(backend, sweep.id).run()
    proc = sweeper_process("status", "st", cwd=work)
    assert proc.returncode == 0
    (log_path,) = [Path(line.split()[-1]) for line in proc.stdout.splitlines()
                   if line.startswith("st-1")]
    assert log_path.exists() and log_path.name == "output.log"
    assert "runs: 1/1 (1 finished)" in proc.stdout


def test_bad_inputs_are_one_line_errors(work, monkeypatch):
    no_db = sweeper_process("agent", "nosuchid", cwd=work)
    assert no_db.returncode == 2 and "no sweeper database at" in no_db.stderr
    _slow_sweep("exists", [1])
    missing = sweeper_process("agent", "nosuchid", cwd=work)
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1
    assert "no sweep 'nosuchid'" in missing.stderr
    sweep_file = write_sweep(work / "nope.yaml", {"program": "nope.py", "method": "random",
                                                  "parameters": {"x": {"min": 0.0, "max": 1.0}}})
    no_program = sweeper_process("run", sweep_file, "--max-failures", "2", cwd=work)
    assert no_program.returncode == 1  # every run failed, saying why
    assert f"program 'nope.py' is not a file in {work}" in no_program.stdout
    assert "can't open file" in no_program.stdout and "No such file or directory" in no_program.stdout
    gpus = sweeper_process("run", sweep_file, "--gpus", "7", cwd=work,
                           env={"CUDA_VISIBLE_DEVICES": "0,1"})
    assert gpus.returncode == 2
    assert gpus.stderr.strip() == ("sweeper: error: --gpus 7: GPU 7 not found; this machine has "
                                   "2 GPUs (0, 1)")


def test_a_run_that_never_logs_the_metric_finishes_with_a_warning(work):
    sweep_file = write_sweep(work / "m.yaml", {
        "name": "m", "program": "no_metric.py", "method": "random", "run_cap": 1,
        "metric": {"name": "loss", "goal": "minimize"},
        "parameters": {"x": {"min": 0.0, "max": 1.0}}})
    proc = sweeper_process("run", sweep_file, cwd=work)
    assert proc.returncode == 0
    assert "warning: run m-1 finished without logging the metric 'loss'" in proc.stdout
    run = open_backend().runs(open_backend().find_sweep("m").id)[0]
    assert run.state == "finished" and run.metric_value is None


def test_one_agent_process_per_gpu_slot_each_with_its_own_device(work, monkeypatch):
    dump = work / "argv.jsonl"
    sweep_file = write_sweep(work / "g.yaml", {
        "name": "g", "program": "argv_dump.py", "method": "grid",
        "parameters": {"i": {"values": list(range(6))}}})
    proc = sweeper_process("run", sweep_file, "--gpus", "0,1", "--per-gpu", "2", cwd=work,
                           env={"CUDA_VISIBLE_DEVICES": "0,1", "ARGV_DUMP": str(dump)})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    seen = [json.loads(line) for line in dump.read_text().splitlines()]
    assert len(seen) == 6
    assert {s["cuda"] for s in seen} <= {"0", "1"}
    labels = {line.split("]")[0] + "]" for line in proc.stdout.splitlines()
              if line.startswith("[gpu")}
    assert labels <= {"[gpu0]", "[gpu1]"} and len(labels) == 2
    assert all(s["mode"] == "offline" for s in seen)
    assert plan_slots("0,1", per_gpu=2, available=["0", "1"]) == ["0", "0", "1", "1"]
    assert plan_slots("none", workers=3, available=["0"]) == ["", "", ""]
    with pytest.raises(BadInput, match="no GPU found"):
        plan_slots("all", available=[])


def test_dry_run_prints_each_agent_process_and_starts_none(work, run_cli):
    sweep_file = write_sweep(work / "d.yaml", {
        "name": "d", "program": "argv_dump.py", "method": "grid",
        "parameters": {"i": {"values": [1, 2]}}})
    os.environ["CUDA_VISIBLE_DEVICES"] = "0,1"  # run_cli runs in this process
    try:
        planned = run_cli("run", sweep_file, "--gpus", "0,1", "--dry-run")
        sweep_id = run_cli("create", sweep_file).out.strip()
        agents = run_cli("agent", sweep_id, "--gpus", "1", "--count", "2", "--dry-run")
    finally:
        del os.environ["CUDA_VISIBLE_DEVICES"]
    assert planned.code == 0 and planned.out.splitlines()[0].startswith(
        "would create a grid sweep from")
    assert [line.split(":")[0] for line in planned.out.splitlines()[1:]] == ["gpu0", "gpu1"]
    assert agents.code == 0, agents.err
    (line,) = agents.out.splitlines()
    assert line.startswith("gpu1: CUDA_VISIBLE_DEVICES=1 SWEEPER_AGENT_LABEL=gpu1 "
                           f"SWEEPER_STORAGE=sqlite:///{work / 'sweeper.db'} ")
    assert line.endswith(f"-m sweeper.agent {sweep_id} --max-failures 5 --grace 10.0 --count 2")
    assert run_cli("status", sweep_id).out.splitlines()[2] == "runs: 0/2"  # nothing ran


def test_pause_from_a_second_terminal_holds_new_runs(work):
    gate = work / "first run may end"  # so the pause surely comes while the first run runs
    sweep_id = _slow_sweep("pause", [1, 2], steps=20, gate=str(gate))
    runner = subprocess.Popen([str(Path(sys.executable).with_name("sweeper")), "agent", sweep_id],
                              cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        _wait_for(lambda: next(work.glob(".sweeper/runs/*/*/pid"), None), what="run start")
        assert sweeper_process("pause", sweep_id, cwd=work).returncode == 0
        backend = open_backend()
        assert backend.runs(sweep_id)[0].state == "running"  # paused while the first run ran
        gate.touch()
        said = []
        for line in runner.stdout:  # the agent says once that it waits; no new run meanwhile
            said.append(line)
            if "is paused; waiting for `sweeper resume" in line:
                break
        assert any("is paused" in line for line in said), said
        assert [r.state for r in backend.runs(sweep_id)] == ["finished"]
        assert sweeper_process("resume", sweep_id, cwd=work).returncode == 0
        out, _ = runner.communicate(timeout=120)
        assert runner.returncode == 0, out
        assert "".join(said + [out]).count("is paused") == 1
        assert [r.state for r in backend.runs(sweep_id)] == ["finished", "finished"]
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait()


def test_function_agent_runs_in_process_like_wandb_agent(work):
    import wandb

    backend = open_backend()
    sweep = backend.create_sweep(spec.validate({
        "name": "fn", "program": "x.py", "method": "grid",
        "metric": {"name": "score", "goal": "maximize"},
        "parameters": {"a": {"values": [1, 2, 3]}}}))

    def train():
        wandb.init(config={"a": 0})
        for i in range(2):
            wandb.log({"score": wandb.config.a * 10 + i})
        wandb.finish()

    assert agent(sweep.id, function=train, count=2) == 2
    runs = backend.runs(sweep.id)
    assert [(r.params["a"], r.state, r.metric_value, r.steps) for r in runs] == [
        (1, "finished", 11, 2), (2, "finished", 21, 2)]


def test_after_a_function_agent_wandb_logging_in_the_process_is_untouched(work):
    import wandb

    backend = open_backend()
    sweep = backend.create_sweep(spec.validate({
        "program": "x.py", "method": "grid", "parameters": {"a": {"values": [1]}}}))

    def train():
        wandb.init()
        wandb.log({"score": 1})
        wandb.finish()

    agent(sweep.id, function=train)
    run = wandb.init(mode="offline")
    wandb.log({"later": 2})  # no sweep run is open: nothing must reach the sweep, nothing raise
    run.finish()
    wandb.teardown()
    assert open_backend().runs(sweep.id)[0].steps == 1


def test_a_user_program_resumes_from_its_own_checkpoint(work, monkeypatch):
    """The README's five lines: a W&B program killed with its agent goes on, in its next
    attempt, from the step after its last saved one, as the same W&B run."""
    monkeypatch.setenv("SWEEPER_HEARTBEAT_TIMEOUT", "2")
    sweep_id = open_backend().create_sweep(spec.validate({
        "name": "own", "program": "resumable.py", "method": "grid",
        "metric": {"name": "loss", "goal": "minimize"},
        "parameters": {"steps": {"value": 40}, "delay": {"value": 0.1}}})).id
    doomed = subprocess.Popen([sys.executable, "-m", "sweeper.agent", sweep_id], cwd=work,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_for(lambda: open_backend().runs(sweep_id) and open_backend().runs(sweep_id)[0].steps >= 8,
              what="eight steps")
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(timeout=30)
    _wait_for(lambda: open_backend().runs(sweep_id)[0].state == "crashed",
              what="the run to show as crashed")
    proc = sweeper_process("agent", sweep_id, cwd=work)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (run,) = open_backend().runs(sweep_id, history=True)
    assert (run.state, run.attempt) == ("finished", 2)
    folder = next(work.glob(".sweeper/runs/*/own-1"))
    first, second = (json.loads((folder / f"attempt-{n}.json").read_text()) for n in (1, 2))
    assert first["SWEEPER_RESUME"] is None and first["WANDB_RUN_ID"] == first["run"]
    assert second == {"SWEEPER_RESUME": "1", "SWEEPER_ATTEMPT": "2", "WANDB_RESUME": "allow",
                      "WANDB_RUN_ID": first["run"], "run": first["run"]}
    losses = [row["loss"] for row in run.history]
    assert losses == [1.0 / (step + 1) for step in range(40)]  # no gap, no restart

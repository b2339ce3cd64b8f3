"""The W&B backend against a stand-in W&B server (tests/wandb_standin.py): the real SDK, the real
`wandb agent` and real online runs, asserting on what the SDK sent."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from sweeper import spec
from sweeper.backends import open_backend
from sweeper.backends.wandb import is_wandb_reference, parse_reference
from sweeper.errors import BadInput

from .conftest import process_alive, sweeper_process, wait_for
from .wandb_standin import StandIn

PROGRAMS = Path(__file__).parent / "programs"
KEY = "sweeperTESTkey" + "x" * 30  # a well-formed W&B key that must never show up anywhere


@pytest.fixture
def standin():
    with StandIn() as server:
        yield server


def wandb_env(server: StandIn, home: Path, **extra: str) -> dict:
    """The environment of a user logged in to ``server`` (a fresh home: no netrc, no settings)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WANDB_", "SWEEPER_"))}
    home.mkdir(exist_ok=True)
    env.update({"HOME": str(home), "WANDB_CONFIG_DIR": str(home / ".config" / "wandb"),
                "WANDB_BASE_URL": server.url, "WANDB_API_KEY": KEY, "SWEEPER_WANDB_POLL_S": "1",
                "NETRC": str(home / ".netrc")})
    env.update(extra)
    return env


def sweep_file(tmp_path: Path, **overrides) -> Path:
    config = {"name": "tiny", "program": str(PROGRAMS / "wandb_online.py"), "method": "grid",
              "metric": {"name": "loss", "goal": "minimize"},
              "parameters": {"x": {"values": [0.1, 0.3, 0.5, 0.7]}}}
    config.update(overrides)
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def sweeper(tmp_path: Path, env: dict, *args: str, timeout: float = 120):
    return sweeper_process(*args, cwd=tmp_path, env=env, timeout=timeout)


def create(tmp_path: Path, env: dict, **overrides) -> str:
    done = sweeper(tmp_path, env, "create", sweep_file(tmp_path, **overrides), "--backend",
                   "wandb", "--project", "proj")
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


# --- naming a W&B sweep -------------------------------------------------------------------------

def test_a_sweep_path_or_url_names_a_wandb_sweep():
    assert is_wandb_reference("team/nlp/ab12cd34")
    assert is_wandb_reference("https://wandb.ai/team/nlp/sweeps/ab12cd34")
    assert not is_wandb_reference("ab12cd34") and not is_wandb_reference("quickstart")
    assert str(parse_reference("ab12cd34", "team", "nlp")) == "team/nlp/ab12cd34"
    with pytest.raises(BadInput, match="ENTITY/PROJECT/ID"):
        parse_reference("ab12cd34")


def test_the_backend_is_chosen_by_the_sweep_reference(tmp_path):
    local = open_backend(str(tmp_path / "s.db"), sweep="ab12cd34")
    assert local.name == "local"
    with pytest.raises(BadInput, match="wandb login"):  # W&B, and no credentials in this test
        env = {k: os.environ.pop(k) for k in list(os.environ) if k == "WANDB_API_KEY"}
        try:
            open_backend(sweep="team/nlp/ab12cd34")
        finally:
            os.environ.update(env)


def test_a_bad_option_is_one_line_naming_it(run_cli):
    done = run_cli("status", "x", "--backend", "bogus")
    assert done.code == 2
    assert done.err == ("sweeper: error: Invalid value for '--backend': 'bogus' is not one of "
                        "'local', 'wandb'. (see 'sweeper status --help')\n")


# --- credentials --------------------------------------------------------------------------------

def test_without_credentials_every_wandb_command_fails_fast_with_one_line(standin, tmp_path):
    env = wandb_env(standin, tmp_path / "home")
    del env["WANDB_API_KEY"]
    path = sweep_file(tmp_path)
    for args in (["create", path, "--backend", "wandb"], ["status", "alice/proj/ab12cd34"],
                 ["agent", "alice/proj/ab12cd34"], ["results", "alice/proj/x1"],
                 ["stop", "https://wandb.ai/alice/proj/sweeps/ab12cd34"]):
        started = time.monotonic()
        done = sweeper(tmp_path, env, *args)
        assert done.returncode == 2, (args, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "wandb login" in lines[0] and "WANDB_API_KEY" in lines[0]
        assert time.monotonic() - started < 30
    assert standin.requests == []  # nothing was sent


def test_a_dry_run_needs_no_credentials_no_network_and_no_gpu(standin, tmp_path):
    env = wandb_env(standin, tmp_path / "home", CUDA_VISIBLE_DEVICES="")
    del env["WANDB_API_KEY"]
    for args in (["agent", "alice/proj/ab12cd34", "--gpus", "0,1", "--dry-run"],
                 ["run", sweep_file(tmp_path), "--backend", "wandb", "--gpus", "0,1",
                  "--dry-run"]):
        done = sweeper(tmp_path, env, *args)
        assert done.returncode == 0, done.stderr
        planned = [line for line in done.stdout.splitlines() if line.startswith("gpu")]
        assert [line.split(":")[0] for line in planned] == ["gpu0", "gpu1"]
        assert "CUDA_VISIBLE_DEVICES=1" in planned[1] and "wandb agent" in planned[1]
        assert "warning: --gpus 0,1: GPU 0, 1 not present on this machine" in done.stderr
    assert standin.requests == []  # nothing was sent


def test_a_wandb_host_that_does_not_answer_ends_each_command_in_bounded_time(tmp_path):
    """A host that accepts connections and never answers: each command gives up after
    SWEEPER_WANDB_TIMEOUT_S with one line and exit 1 (the SDK alone retries for minutes)."""
    import socket

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    try:
        host = f"http://127.0.0.1:{silent.getsockname()[1]}"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("WANDB_", "SWEEPER_"))}
        home = tmp_path / "home"
        home.mkdir()
        env.update({"HOME": str(home), "WANDB_CONFIG_DIR": str(home / "wandb"),
                    "WANDB_BASE_URL": host, "WANDB_API_KEY": KEY, "SWEEPER_WANDB_TIMEOUT_S": "3"})
        for args in (["status", "alice/proj/ab12cd34"],
                     ["create", sweep_file(tmp_path), "--backend", "wandb", "--project", "p"]):
            started = time.monotonic()
            done = sweeper(tmp_path, env, *args, timeout=60)
            took = time.monotonic() - started
            assert done.returncode == 1, done.stderr
            (line,) = done.stderr.strip().splitlines()
            assert "no answer from" in line and "within 3 s" in line
            assert took < 30
            assert KEY not in done.stdout + done.stderr
    finally:
        silent.close()


# --- creating -----------------------------------------------------------------------------------

def test_create_sends_the_sweep_file_to_upsert_sweep_and_prints_path_and_url(standin, tmp_path):
    env = wandb_env(standin, tmp_path / "home")
    file = sweep_file(tmp_path)
    done = sweeper(tmp_path, env, "create", file, "--backend", "wandb", "--project", "proj")
    assert done.returncode == 0, done.stderr
    path = done.stdout.strip().splitlines()[-1]
    entity, project, sweep_id = path.split("/")
    assert (entity, project) == ("alice", "proj") and sweep_id in standin.sweeps
    assert f"{standin.url}/alice/proj/sweeps/{sweep_id}" in done.stderr
    sent = standin.operations("UpsertSweep")
    assert len(sent) == 1 and sent[0]["projectName"] == "proj"
    config = yaml.safe_load(sent[0]["config"])
    assert config == spec.load(file)  # the config a local sweep of this file keeps
    assert config["parameters"] == {"x": {"values": [0.1, 0.3, 0.5, 0.7],
                                          "distribution": "categorical"}}


def test_a_sweep_without_program_runs_the_builtin_agent_on_wandb(standin, tmp_path):
    env = wandb_env(standin, tmp_path / "home")
    path = tmp_path / "builtin.yaml"
    path.write_text(yaml.safe_dump({"method": "random", "metric": {"name": "eval/loss"},
                                    "parameters": {"learning_rate": {"values": [1e-5, 3e-5]}}}))
    done = sweeper(tmp_path, env, "create", path, "--backend", "wandb", "--project", "p")
    assert done.returncode == 0, done.stderr
    sent = yaml.safe_load(standin.operations("UpsertSweep")[0]["config"])
    assert sent["program"] == "agents/train.py"
    # no agents/train.py here: W&B's agent starts the installed trainer, from any folder
    assert sent["command"] == ["${env}", "${interpreter}", "-m", "sweeper._programs.train",
                               "${args}"]


def test_a_checkout_runs_its_own_agents_train_py_on_wandb(standin, tmp_path):
    """Where the sweep is created beside an agents/train.py (a checkout, or the user's own
    file), W&B's agent runs that file with W&B's default command, as the local agent does."""
    env = wandb_env(standin, tmp_path / "home")
    (tmp_path / "agents").mkdir()
    (tmp_path / "agents" / "train.py").write_text("print('mine')\n")
    path = sweep_file(tmp_path, program="agents/train.py",
                      parameters={"learning_rate": {"values": [1e-5, 3e-5]}})
    done = sweeper(tmp_path, env, "create", path, "--backend", "wandb", "--project", "p")
    assert done.returncode == 0, done.stderr
    sent = yaml.safe_load(standin.operations("UpsertSweep")[0]["config"])
    assert sent["program"] == "agents/train.py" and "command" not in sent
    # its agents started where there is no agents/train.py would fail every run: refused
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    sweep_path = done.stdout.strip().splitlines()[-1]
    refused = sweeper(elsewhere, env, "agent", sweep_path, "--gpus", "none")
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        f"sweeper: error: program 'agents/train.py' is not in {elsewhere}, where W&B's agent "
        "starts the sweep's runs: start the agents in the folder the sweep was created in, or "
        "create the sweep again from here (it then runs the installed trainer)")
    assert not standin.operations("CreateAgent")


def test_the_builtin_trainer_runs_on_wandb_from_a_folder_without_agents_train_py(
        standin, tmp_path, tiny_model):
    """A user who installed sweeper (no checkout) runs a sweep of the built-in trainer on W&B:
    W&B's own agent trains each run, online, and the run's metrics reach the server."""
    from .test_tasks import sentiment

    env = wandb_env(standin, tmp_path / "home")
    sentiment(24).to_csv(tmp_path / "train.csv", index=False)
    sentiment(8).to_csv(tmp_path / "eval.csv", index=False)
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump({
        "name": "installed", "method": "grid", "program": "agents/train.py",
        "metric": {"name": "eval/accuracy", "goal": "maximize"},
        "parameters": {"model_name_or_path": {"value": tiny_model},
                       "train_file": {"value": "train.csv"}, "eval_file": {"value": "eval.csv"},
                       "num_train_epochs": {"value": 1}, "no_save": {"value": True},
                       "silent": {"value": True}, "learning_rate": {"value": 1e-4}}}))
    assert not (tmp_path / "agents").exists()
    done = sweeper(tmp_path, env, "run", path, "--backend", "wandb", "--project", "p",
                   "--gpus", "none", timeout=400)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (run,) = standin.runs.values()
    assert run.state == "finished"
    assert 0.0 <= run.summary["eval/accuracy"] <= 1.0


def test_local_only_methods_are_refused_before_anything_is_sent(standin, tmp_path):
    env = wandb_env(standin, tmp_path / "home")
    path = sweep_file(tmp_path, method="tpe")
    done = sweeper(tmp_path, env, "create", path, "--backend", "wandb")
    assert done.returncode == 2
    assert done.stderr.strip() == ("sweeper: error: method: 'tpe' runs only on the local "
                                   "backend; W&B Sweeps offers grid, random and bayes")
    assert standin.requests == []


def test_several_metrics_are_refused_before_anything_is_sent(standin, tmp_path, run_cli):
    env = wandb_env(standin, tmp_path / "home")
    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump({"program": "t.py", "method": "random", "metrics": [
        {"name": "acc", "goal": "maximize"}, {"name": "latency", "goal": "minimize"}],
        "parameters": {"x": {"values": [1, 2]}}}))
    done = sweeper(tmp_path, env, "create", path, "--backend", "wandb")
    assert done.returncode == 2
    assert done.stderr.strip() == ("sweeper: error: metrics: several metrics (a multi-objective "
                                   "sweep) run only on the local backend; a W&B sweep optimises "
                                   "one metric: name it under metric:")
    assert standin.requests == []
    storage = str(tmp_path / "local.sqlite")  # made locally, it cannot be synced to W&B
    assert run_cli("create", path, "--storage", storage, "--name", "m").code == 0
    synced = run_cli("sync", "m", "--project", "p", "--storage", storage)
    assert synced.code == 2 and "has no W&B counterpart: metrics: several metrics" in synced.err
    assert standin.requests == []


# --- state changes ------------------------------------------------------------------------------

def test_state_changes_send_what_the_wandb_sweep_cli_sends(standin, tmp_path):
    env = wandb_env(standin, tmp_path / "home")
    path = create(tmp_path, env)
    sweep_id = path.split("/")[-1]
    for action, state, shown in (("pause", "PAUSED", "paused"), ("resume", "RUNNING", "running"),
                                 ("stop", "FINISHED", "finished")):
        done = sweeper(tmp_path, env, action, path)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == f"sweep {path} (tiny) is now {shown}"
        assert standin.sweeps[sweep_id].state == state
    ours = standin.operations("UpsertSweep")[1:]
    assert [v["state"] for v in ours] == ["PAUSED", "RUNNING", "FINISHED"]
    # W&B's refusal comes through as one line and exit 2
    done = sweeper(tmp_path, env, "pause", path)
    assert done.returncode == 2
    assert done.stderr.strip() == f"sweeper: error: sweep {path}: Cannot pause finished sweep."
    # the same change made by W&B's own CLI sends the same variables
    other = create(tmp_path, env)
    cli = subprocess.run([sys.executable, "-m", "wandb", "sweep", "--cancel", other],
                         env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert cli.returncode == 0, cli.stderr
    theirs = standin.operations("UpsertSweep")[-1]
    third = create(tmp_path, env)
    assert sweeper(tmp_path, env, "cancel", third).returncode == 0
    mine = standin.operations("UpsertSweep")[-1]
    assert sorted(mine) == sorted(theirs) and mine["state"] == theirs["state"] == "CANCELED"
    assert sweeper(tmp_path, env, "status", third).stdout.splitlines()[1] == "state: cancelled"


def test_sweeps_lists_a_projects_sweeps(standin, tmp_path):
    env = wandb_env(standin, tmp_path / "home")
    first, second = create(tmp_path, env), create(tmp_path, env, name="other")
    done = sweeper(tmp_path, env, "sweeps", "--backend", "wandb", "--project", "proj")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["ID", "NAME", "METHOD", "STATE", "RUNS", "BEST", "CREATED"]
    assert [line.split()[:4] for line in lines[1:]] == [[first, "tiny", "grid", "running"],
                                                        [second, "other", "grid", "running"]]
    missing = sweeper(tmp_path, env, "sweeps", "--backend", "wandb")
    assert missing.returncode == 2 and "needs --project" in missing.stderr


def test_an_unknown_sweep_is_bad_input(standin, tmp_path):
    env = wandb_env(standin, tmp_path / "home")
    done = sweeper(tmp_path, env, "status", "alice/proj/nosuch00")
    assert done.returncode == 2
    assert done.stderr.strip() == (f"sweeper: error: no W&B sweep alice/proj/nosuch00 on "
                                   f"{standin.url}")


# --- agents -------------------------------------------------------------------------------------

def test_dry_run_prints_one_wandb_agent_per_gpu_slot_and_starts_nothing(standin, tmp_path):
    env = wandb_env(standin, tmp_path / "home", CUDA_VISIBLE_DEVICES="0,1,2")
    path = create(tmp_path, env)
    before = len(standin.requests)
    done = sweeper(tmp_path, env, "agent", path, "--gpus", "0,2", "--per-gpu", "2", "--count",
                   "3", "--dry-run")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == ["gpu0", "gpu0", "gpu2", "gpu2"]
    for line, gpu in zip(lines, "0022", strict=True):
        assert f"CUDA_VISIBLE_DEVICES={gpu} " in line
        assert line.endswith(f"-m wandb agent --forward-signals --term-timeout 10 "
                             f"--max-consecutive-failed-runs 5 --count 3 {path}")
    assert not standin.operations("CreateAgent")
    sent = {r.operation for r in standin.requests[before:] if r.operation}  # GraphQL only
    assert sent <= {"Viewer", "GetSweep", "GetDefaultEntity", "Runs"}, sent


def test_run_creates_a_wandb_sweep_and_runs_it(standin, tmp_path):
    env = wandb_env(standin, tmp_path / "home")
    file = sweep_file(tmp_path, parameters={"x": {"values": [0.3, 0.6]}})
    done = sweeper(tmp_path, env, "run", file, "--backend", "wandb", "--project", "proj",
                   "--gpus", "none", timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (sweep,) = standin.sweeps.values()
    path = f"alice/proj/{sweep.id}"
    url = f"{standin.url}/alice/proj/sweeps/{sweep.id}"
    assert done.stdout.startswith(f"sweep {path} (tiny, grid) in {url}; 1 agent")
    assert f"sweep {path} (tiny): finished" in done.stdout
    assert sorted(r.state for r in standin.runs.values()) == ["finished", "finished"]


def test_ctrl_c_reaches_wandb_agents_and_their_runs(standin, tmp_path):
    """SIGINT to `sweeper agent`: each W&B agent gets SIGTERM, forwards it to its run
    (--forward-signals), starts no new run, and `sweeper agent` exits 130."""
    pids = tmp_path / "pids"
    pids.mkdir()
    env = wandb_env(standin, tmp_path / "home", PID_DIR=str(pids))
    path = create(tmp_path, env, parameters={"x": {"values": [0.1, 0.3]},
                                             "delay": {"value": 60}})
    exe = Path(sys.executable).with_name("sweeper")
    proc = subprocess.Popen([str(exe), "agent", path, "--workers", "2", "--gpus", "none"],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    wait_for(lambda: len(list(pids.glob("*.pid"))) == 2, timeout=180, what="both runs to start")
    run_pids = [int(p.stem) for p in pids.glob("*.pid")]
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=180)
    assert proc.returncode == 130, out[-3000:]
    # Each run gets the forwarded signal; on a loaded machine it may end just after its agent.
    wait_for(lambda: not any(process_alive(pid) for pid in run_pids), timeout=30,
             what="the runs to end")
    assert len([r for r in standin.runs.values() if r.sweep == path.split("/")[-1]]) == 2


def test_wandb_agents_run_the_sweep_on_every_gpu_slot_and_never_leak_the_key(standin, tmp_path):
    """Two slots (GPUs 0 and 1) each run W&B's agent; the runs are real online runs of an
    unmodified W&B script; results, status and analysis read them back through the public API.
    With every debug switch on, the API key appears in no output and no log file (wandb-core's
    debug logs would hold it: sweeper turns them off and says so)."""
    env = wandb_env(standin, tmp_path / "home", CUDA_VISIBLE_DEVICES="0,1", WANDB_DEBUG="true",
                    WANDB_CORE_DEBUG="true", SWEEPER_DEBUG="1")
    path = create(tmp_path, env)
    done = sweeper(tmp_path, env, "agent", path, "--gpus", "0,1", timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert len(standin.operations("CreateAgent")) == 2
    assert "[gpu0]" in done.stdout and "[gpu1]" in done.stdout
    assert "WANDB_DEBUG and WANDB_CORE_DEBUG turned off" in done.stderr
    assert "runs 4/4 done, 0 running; best loss=0.3333 (x=0.3)" in done.stdout
    runs = [r for r in standin.runs.values() if r.sweep == path.split("/")[-1]]
    assert sorted(r.state for r in runs) == ["finished"] * 4
    assert {r.summary["cuda_visible_devices"] for r in runs} == {"0", "1"}
    assert sorted(r.config["x"]["value"] for r in runs) == [0.1, 0.3, 0.5, 0.7]

    outputs = [done]
    results = sweeper(tmp_path, env, "results", path, "--format", "json")
    outputs.append(results)
    rows = json.loads(results.stdout)
    assert [r["config"]["x"] for r in rows][0] == 0.3 and len(rows) == 4
    assert rows[0]["summary"]["loss"] == pytest.approx(1 / 3)  # (x - 0.3)**2 + 1/3 at the end
    status = sweeper(tmp_path, env, "status", path)
    outputs.append(status)
    assert "state: finished" in status.stdout and "runs: 4/4 (4 finished)" in status.stdout

    # analysis.runs() gives the columns a local sweep gives
    code = ("import json, sys; from sweeper import analysis; df = analysis.runs(sys.argv[1], "
            "history=True); print(json.dumps({'columns': list(df.columns), 'steps': "
            "df['steps'].tolist(), 'best': df['metric_best'].tolist()}))")
    frame = subprocess.run([sys.executable, "-c", code, path], env=env, cwd=tmp_path,
                           capture_output=True, text=True, timeout=120)
    outputs.append(frame)
    assert frame.returncode == 0, frame.stderr
    got = json.loads(frame.stdout.strip().splitlines()[-1])
    from sweeper.analysis._frame import BASE_COLUMNS

    assert set(BASE_COLUMNS) <= set(got["columns"]) and "x" in got["columns"]
    assert "summary.loss" in got["columns"] and "history" in got["columns"]
    assert got["steps"] == [3, 3, 3, 3]

    # the key reached the server, and nothing else
    encoded = base64.b64encode(f"api:{KEY}".encode()).decode()
    assert any(encoded in r.authorization for r in standin.requests)
    for out in outputs:
        assert KEY not in out.stdout + out.stderr and encoded not in out.stdout + out.stderr
    logs = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name.startswith("debug") for p in logs)  # the debug logs were written
    for log in logs:
        text = log.read_bytes()
        assert KEY.encode() not in text and encoded.encode() not in text, log


# --- promotion to the W&B Registry ---------------------------------------------------------------

def test_promote_links_the_model_artifact_the_run_logged_into_the_registry(standin, tmp_path):
    env = wandb_env(standin, tmp_path / "home")
    path = create(tmp_path, env)
    sweep_id = path.split("/")[-1]
    standin.add_run(sweep_id, {"x": 0.1}, {"loss": 0.5}, artifacts=[
        {"id": "QXJ0aWZhY3Q6MQ==", "name": "model-worse", "type": "model"}])
    best = standin.add_run(sweep_id, {"x": 0.3}, {"loss": 0.2}, artifacts=[
        {"id": "QXJ0aWZhY3Q6Mg==", "name": "run-table", "type": "run_table"},
        {"id": "QXJ0aWZhY3Q6Mw==", "name": f"model-{sweep_id}", "type": "model"}])
    standin.add_run(sweep_id, {"x": 0.5}, {"loss": 0.1}, state="crashed")  # never promoted
    done = sweeper(tmp_path, env, "promote", path, "--name", "tiny-clf", "--alias", "production")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"registered wandb-registry-model/tiny-clf:v0 (aliases: latest, best, production) "
        f"from run run-{best.id}", "wandb-registry-model/tiny-clf:v0"]
    link = standin.operations("LinkArtifact")[0]["input"]
    assert link["artifactID"] == "QXJ0aWZhY3Q6Mw==" and link["artifactPortfolioName"] == "tiny-clf"
    assert link["projectName"] == "wandb-registry-model"
    assert [a["alias"] for a in link["aliases"]] == ["best", "production"]
    # twice: no new version, and it says so
    again = sweeper(tmp_path, env, "promote", path, "--name", "tiny-clf", "--alias", "production")
    assert again.stdout.startswith("already registered as wandb-registry-model/tiny-clf:v0")
    assert len(standin.links) == 1
    # a crashed run is refused by name
    crashed = sweeper(tmp_path, env, "promote", path, "--run", f"run-{list(standin.runs)[-1]}")
    assert crashed.returncode == 2 and "crashed; only finished runs are promoted" in crashed.stderr


def test_promote_logs_a_local_checkpoint_as_a_model_artifact_when_none_was_logged(standin,
                                                                                   tmp_path):
    env = wandb_env(standin, tmp_path / "home")
    path = create(tmp_path, env)
    checkpoint = tmp_path / "checkpoint-best"
    checkpoint.mkdir()
    (checkpoint / "config.json").write_text('{"model_type": "bert"}')
    run = standin.add_run(path.split("/")[-1], {"x": 0.3}, {"loss": 0.2,
                                                           "checkpoint": str(checkpoint)})
    for expected in ("registered", "already registered as"):
        done = sweeper(tmp_path, env, "promote", path, "--name", "tiny-clf")
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith(f"{expected} wandb-registry-model/tiny-clf:v0")
    created = standin.operations("CreateArtifact")
    assert {c["input"]["artifactCollectionName"] for c in created} == {f"model-{run.id}"}
    assert all(c["input"]["artifactTypeName"] == "model" for c in created)
    assert len(standin.links) == 1 and standin.links[0]["aliases"] == ["best"]
    uploaded = [r.body for r in standin.requests if r.method == "PUT"
                and r.path == "/upload/config.json"]
    assert uploaded and uploaded[-1] == b'{"model_type": "bert"}'

    # no artifact and no checkpoint folder here: refused, nothing linked
    standin.runs[run.id].summary["checkpoint"] = str(tmp_path / "elsewhere")
    refused = sweeper(tmp_path, env, "promote", path, "--name", "other")
    assert refused.returncode == 2 and "WANDB_LOG_MODEL=checkpoint" in refused.stderr
    assert len(standin.links) == 1

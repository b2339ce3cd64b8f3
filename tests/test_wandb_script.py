"""`sweeper exec`: a W&B sweep script as tutorials write it, unmodified, with no W&B account."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

from sweeper.backends import open_backend

from .conftest import sweeper_process

# The shape of W&B's own sweep tutorial: a dict config, wandb.login(), wandb.sweep(config,
# project=...), a train function reading wandb.config, wandb.agent(sweep_id, train, count=N).
TUTORIAL = '''
import sys
import wandb

wandb.login()

sweep_config = {
    "method": "random",
    "name": "demo",
    "metric": {"name": "loss", "goal": "minimize"},
    "parameters": {
        "optimizer": {"values": ["adam", "sgd"]},
        "dropout": {"values": [0.3, 0.4, 0.5]},
        "epochs": {"value": 3},
        "learning_rate": {"distribution": "uniform", "min": 0, "max": 0.1},
        "batch_size": {"distribution": "q_log_uniform_values", "q": 8, "min": 32, "max": 256},
    },
}
sweep_id = wandb.sweep(sweep_config, project="pytorch-sweeps-demo")


def train(config=None):
    with wandb.init(config=config):
        config = wandb.config
        for epoch in range(config.epochs):
            wandb.log({"loss": config.learning_rate * (epoch + 1) + config.dropout,
                       "epoch": epoch})


if __name__ == "__main__":
    wandb.agent(sweep_id, train, count=int(sys.argv[1]))
    print("script done", sys.argv[1:])
'''


def _no_account(folder: Path) -> dict:
    """An environment with no W&B key or settings, its storage in ``folder``."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("WANDB_", "SWEEPER_"))}
    env.update(HOME=str(folder), SWEEPER_STORAGE=str(folder / "sweeper.db"))
    return env


def _script(folder: Path, text: str, name: str = "train.py") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


def _run(folder: Path, *args: str):
    """`sweeper exec ARGS` in ``folder`` (the tests first drop WANDB_* and SWEEPER_* from
    os.environ, which the helper extends)."""
    return sweeper_process("exec", *args, cwd=folder, env=_no_account(folder), timeout=300)


def test_a_wandb_tutorial_script_runs_unchanged_with_no_account(tmp_path, monkeypatch):
    for key in [k for k in os.environ if k.startswith(("WANDB_", "SWEEPER_"))]:
        monkeypatch.delenv(key)
    script = _script(tmp_path, TUTORIAL)
    done = _run(tmp_path, str(script), "3")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "script done ['3']" in done.stdout  # run as __main__, its own argv
    backend = open_backend(str(tmp_path / "sweeper.db"), kind="local", create=False)
    (sweep,) = backend.sweeps()
    assert sweep.name == "demo" and sweep.config["project"] == "pytorch-sweeps-demo"
    runs = backend.runs(sweep.id, history=True)
    assert [r.state for r in runs] == ["finished"] * 3
    for run in runs:  # every step reached the sweep, and the final summary
        assert [row["epoch"] for row in run.history] == [0, 1, 2]
        expected = run.params["learning_rate"] * 3 + run.params["dropout"]
        assert abs(run.summary["loss"] - expected) < 1e-9
        assert run.params["batch_size"] % 8 == 0 and 32 <= run.params["batch_size"] <= 256
    assert len(list((tmp_path / "wandb").glob("offline-run-*"))) == 3  # W&B's own runs, offline
    assert f"sweeper results {sweep.id}" in done.stdout and "3 finished" in done.stdout

    again = _run(tmp_path, str(script), "1")  # as on W&B, each wandb.sweep is a new sweep
    assert again.returncode == 0, again.stderr[-3000:]
    names = sorted(s.name for s in backend.sweeps())
    assert names == ["demo", "demo-2"]


def test_a_bad_config_a_controller_or_a_missing_script_is_one_line(tmp_path, monkeypatch):
    for key in [k for k in os.environ if k.startswith(("WANDB_", "SWEEPER_"))]:
        monkeypatch.delenv(key)
    bad = _script(tmp_path, '''
        import wandb
        wandb.sweep({"method": "random", "parameters": {"lr": {"distribution": "uniform",
                     "min": 0.1, "max": 0.01}}})
    ''', "bad.py")
    controller = _script(tmp_path, '''
        import wandb
        sweep_id = wandb.sweep({"method": "random", "parameters": {"lr": {"values": [1, 2]}}})
        wandb.controller(sweep_id).run()
    ''', "controller.py")
    for script, named in ((bad, "parameters.lr"), (controller, "wandb.controller"),
                          (tmp_path / "missing.py", "missing.py: no such file")):
        done = _run(tmp_path, str(script))
        assert done.returncode == 2, (script, done.stderr)
        lines = [line for line in done.stderr.splitlines() if not line.startswith("wandb:")
                 and "created sweep" not in line]
        assert len(lines) == 1 and named in lines[0], lines
        assert "Traceback" not in done.stderr


def test_the_scripts_own_failure_and_exit_code_are_kept_with_its_runs(tmp_path, monkeypatch):
    for key in [k for k in os.environ if k.startswith(("WANDB_", "SWEEPER_"))]:
        monkeypatch.delenv(key)
    script = _script(tmp_path, '''
        import sys
        import wandb

        sweep_id = wandb.sweep({"method": "grid", "metric": {"name": "y", "goal": "maximize"},
                                "parameters": {"x": {"values": [1, 2, 3]}}})

        def train():
            run = wandb.init()
            if run.config.x == 3:
                raise ValueError("x is 3")
            wandb.log({"y": run.config.x * 10})
            run.finish()

        wandb.agent(sweep_id, function=train)
        if sys.argv[1] == "raise":
            raise RuntimeError("the script broke after its sweep")
        sys.exit(int(sys.argv[1]))
    ''')
    broke = _run(tmp_path, str(script), "raise")
    assert broke.returncode == 1
    assert "Traceback" in broke.stderr and "RuntimeError: the script broke" in broke.stderr
    assert "1 failed, 2 finished" in broke.stdout  # the runs it ran are kept and shown
    assert "failed: ValueError: x is 3 (traceback in " in broke.stderr  # as wandb.agent says
    exited = _run(tmp_path, str(script), "3")
    assert exited.returncode == 3 and "2 finished" in exited.stdout
    backend = open_backend(str(tmp_path / "sweeper.db"), kind="local", create=False)
    for sweep in backend.sweeps():
        runs = backend.runs(sweep.id)
        assert sorted(r.params["x"] for r in runs) == [1, 2, 3]  # grid: each point once
        assert sorted(r.summary["y"] for r in runs if r.state == "finished") == [10, 20]


def test_ctrl_c_ends_the_scripts_run_killed_and_keeps_what_it_logged(tmp_path, monkeypatch):
    import signal
    import subprocess
    import sys
    import time

    for key in [k for k in os.environ if k.startswith(("WANDB_", "SWEEPER_"))]:
        monkeypatch.delenv(key)
    script = _script(tmp_path, '''
        import pathlib, time
        import wandb

        sweep_id = wandb.sweep({"method": "random", "metric": {"name": "y", "goal": "maximize"},
                                "parameters": {"x": {"values": [1, 2]}}})

        def train():
            wandb.init()
            wandb.log({"y": 1.0})
            pathlib.Path("started").touch()
            while True:
                time.sleep(0.05)

        wandb.agent(sweep_id, function=train)
    ''')
    exe = Path(sys.executable).with_name("sweeper")
    proc = subprocess.Popen([str(exe), "exec", str(script)], cwd=tmp_path,
                            env={**os.environ, **_no_account(tmp_path)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 180
    while not (tmp_path / "started").exists():
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=180)
    assert proc.returncode == 130, err[-3000:]
    assert "sweeper: interrupted" in err and "Traceback" not in err
    backend = open_backend(str(tmp_path / "sweeper.db"), kind="local", create=False)
    (sweep,) = backend.sweeps()
    (run,) = backend.runs(sweep.id, history=True)
    assert run.state == "killed" and [row["y"] for row in run.history] == [1.0]
    assert "1 killed" in out


# A train function that starts the training as its own program, as many W&B scripts do (a
# hydra or argparse train.py run by os.system or subprocess): under wandb.agent the child's
# wandb.init joins the sweep's run, and what it logs is the run's.
SPAWNING = '''
import os
import subprocess
import sys
import wandb

sweep_id = wandb.sweep({"method": "grid", "metric": {"name": "loss", "goal": "minimize"},
                        "parameters": {"lr": {"values": [0.1, 0.01]},
                                       "how": {"values": ["system", "subprocess"]}}},
                       project="spawning")


def train():
    how = sys.argv[1] if len(sys.argv) > 1 else None
    if how == "cancel" or os.environ["WANDB_SWEEP_PARAM_PATH"].endswith("1/params.yaml"):
        os.system(f"{sys.executable} child.py {how or ''}")
    else:
        subprocess.run([sys.executable, "child.py"], check=True)


wandb.agent(sweep_id, function=train)
'''

CHILD = '''
import pathlib
import sys
import time
import wandb

run = wandb.init()
for step in range(3):
    wandb.log({"loss": run.config.lr * (3 - step), "epoch": step})
    if step == 0:
        pathlib.Path(f"started-{run.id}").touch()
    while sys.argv[1:] == ["cancel"]:  # a long epoch, logging nothing, until it is stopped
        time.sleep(0.05)
run.summary["best_loss"] = run.config.lr
run.finish()
'''


def test_a_function_that_starts_its_training_as_a_program_reports_what_that_logs(
        tmp_path, monkeypatch):
    for key in [k for k in os.environ if k.startswith(("WANDB_", "SWEEPER_"))]:
        monkeypatch.delenv(key)
    script = _script(tmp_path, SPAWNING, "sweep.py")
    _script(tmp_path, CHILD, "child.py")
    done = _run(tmp_path, str(script))
    assert done.returncode == 0, done.stderr[-3000:]
    assert "without logging the metric" not in done.stdout + done.stderr
    backend = open_backend(str(tmp_path / "sweeper.db"), kind="local", create=False)
    (sweep,) = backend.sweeps()
    runs = backend.runs(sweep.id, history=True)
    assert len(runs) == 4 and all(r.state == "finished" for r in runs)
    for run in runs:  # every row the child logged, and its own summary
        assert [row["epoch"] for row in run.history] == [0, 1, 2]
        assert run.summary["loss"] == run.params["lr"] and run.summary["best_loss"] == \
            run.params["lr"]
        assert (tmp_path / f"started-{run.id}").exists()  # the child was the sweep's run
    assert "4 finished" in done.stdout


def test_cancelling_the_sweep_ends_the_program_a_function_started(tmp_path, monkeypatch):
    import subprocess
    import sys
    import time

    for key in [k for k in os.environ if k.startswith(("WANDB_", "SWEEPER_"))]:
        monkeypatch.delenv(key)
    script = _script(tmp_path, SPAWNING, "sweep.py")
    _script(tmp_path, CHILD, "child.py")
    exe = Path(sys.executable).with_name("sweeper")
    proc = subprocess.Popen([str(exe), "exec", str(script), "cancel"], cwd=tmp_path,
                            env={**os.environ, **_no_account(tmp_path)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 180
    while not list(tmp_path.glob("started-*")):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.1)
    backend = open_backend(str(tmp_path / "sweeper.db"), kind="local", create=False)
    (sweep,) = backend.sweeps()
    backend.set_state(sweep.id, "cancel")
    try:
        out, err = proc.communicate(timeout=180)  # the child runs forever unless it is ended
    finally:
        proc.kill()
    assert proc.returncode == 0, err[-3000:]
    (run,) = backend.runs(sweep.id, history=True)
    assert run.state == "killed" and [row["epoch"] for row in run.history] == [0]


# Scripts that start their agents as processes of their own, one per GPU: multiprocessing's
# spawn (needed for CUDA in children) with wandb.agent(function=...) in each, or the `wandb
# agent` command, which runs the sweep's program. Their agents are the script's local sweep's.
SPAWNED_AGENTS = '''
import multiprocessing as mp
import os
import wandb


def train():
    with wandb.init() as run:
        for step in range(2):
            wandb.log({"loss": run.config.lr * (2 - step),
                       "gpu": int(os.environ["CUDA_VISIBLE_DEVICES"])})


def agent(sweep_id, gpu):
    os.environ["CUDA_VISIBLE_DEVICES"] = str(gpu)
    wandb.agent(sweep_id, function=train, count=2)


if __name__ == "__main__":
    mp.set_start_method("spawn")
    sweep_id = wandb.sweep({"method": "random", "metric": {"name": "loss", "goal": "minimize"},
                            "parameters": {"lr": {"distribution": "uniform", "min": 0,
                                                  "max": 1}}}, project="spawned")
    workers = [mp.Process(target=agent, args=(sweep_id, gpu)) for gpu in range(2)]
    for worker in workers:
        worker.start()
    print("exit codes", [worker.join() or worker.exitcode for worker in workers])
'''

PROGRAM_AGENTS = '''
import os
import subprocess
import sys
import wandb

sweep_id = wandb.sweep({"program": "train.py", "method": "grid",
                        "metric": {"name": "loss", "goal": "minimize"},
                        "parameters": {"lr": {"values": [0.1, 0.2, 0.3]}}})
wandb.agent(sweep_id, count=1)  # no function: the sweep's program, as wandb.agent runs it
agents = [subprocess.Popen(["wandb", "agent", "--count", "1", sweep_id],
                           env={**os.environ, "CUDA_VISIBLE_DEVICES": str(gpu)})
          for gpu in (1, 2)]
print("exit codes", [agent.wait() for agent in agents])
'''

PROGRAM = '''
import argparse
import os
import wandb

parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float)
args = parser.parse_args()
run = wandb.init()
wandb.log({"loss": args.lr, "gpu": int(os.environ.get("CUDA_VISIBLE_DEVICES") or 0)})
'''


def test_agents_a_script_starts_as_processes_run_its_local_sweep(tmp_path, monkeypatch):
    for key in [k for k in os.environ if k.startswith(("WANDB_", "SWEEPER_"))]:
        monkeypatch.delenv(key)
    backend = None
    for name, text, runs_per_gpu in (("spawned.py", SPAWNED_AGENTS, {0: 2, 1: 2}),
                                     ("programs.py", PROGRAM_AGENTS, {0: 1, 1: 1, 2: 1})):
        folder = tmp_path / name.removesuffix(".py")
        folder.mkdir()
        _script(folder, PROGRAM, "train.py")
        done = _run(folder, str(_script(folder, text, name)))
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
        assert "exit codes [0, 0]" in done.stdout and "No API key" not in done.stderr
        backend = open_backend(str(folder / "sweeper.db"), kind="local", create=False)
        (sweep,) = backend.sweeps()
        runs = backend.runs(sweep.id, history=True)
        assert all(r.state == "finished" for r in runs), [(r.name, r.state) for r in runs]
        for run in runs:  # each logged what its own process's GPU and parameters said
            assert [row["loss"] for row in run.history][-1] == run.summary["loss"]
        gpus = [int(run.summary["gpu"]) for run in runs]
        assert {g: gpus.count(g) for g in set(gpus)} == runs_per_gpu, gpus
    assert sorted(r.params["lr"] for r in backend.runs(sweep.id)) == [0.1, 0.2, 0.3]  # grid


# A shell script as W&B's docs have users write it: `wandb login` (offline: no key needed, and
# the one given is not shown), `wandb sweep` prints the id on stderr (the line "Run sweep agent
# with: wandb agent PROJECT/ID"), the script reads it and starts an agent per GPU with `wandb
# agent`, then stops the sweep with `wandb sweep --stop`.
FAKE_KEY = "0123456789abcdef0123456789abcdef01234567"
SHELL_SWEEP = f'''
set -e
wandb login
wandb login {FAKE_KEY}
wandb sweep --project shells --name from-shell sweep.yaml 2> created.txt
SWEEP_ID=$(grep -o "wandb agent .*" created.txt | awk '{{print $3}}')
echo "sweep id: $SWEEP_ID"
for gpu in 0 1; do
  CUDA_VISIBLE_DEVICES=$gpu wandb agent --count 1 "$SWEEP_ID" &
done
wait
wandb sweep --stop "$SWEEP_ID"
if wandb sweep bad.yaml 2> refused.txt; then exit 3; fi
echo "refused: $(cat refused.txt)"
'''

SWEEP_FILE = '''
program: train.py
method: grid
metric: {name: loss, goal: minimize}
parameters:
  lr: {values: [0.1, 0.2, 0.3]}
'''


def test_a_shell_script_of_wandb_sweep_and_wandb_agent_commands_runs_locally(tmp_path,
                                                                            monkeypatch):
    for key in [k for k in os.environ if k.startswith(("WANDB_", "SWEEPER_"))]:
        monkeypatch.delenv(key)
    _script(tmp_path, PROGRAM, "train.py")
    _script(tmp_path, SWEEP_FILE, "sweep.yaml")
    _script(tmp_path, "method: grid\nparameters:\n  lr: {valuez: [0.1]}\n", "bad.yaml")
    done = _run(tmp_path, str(_script(tmp_path, SHELL_SWEEP, "sweep.sh")))
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert "No API key" not in done.stderr and FAKE_KEY not in done.stdout + done.stderr
    assert done.stderr.count("no login needed, none made") == 2
    backend = open_backend(str(tmp_path / "sweeper.db"), kind="local", create=False)
    (sweep,) = backend.sweeps()
    assert f"sweep id: shells/{sweep.id}\n" in done.stdout
    assert sweep.name == "from-shell" and sweep.state == "stopped"
    runs = backend.runs(sweep.id)
    assert sorted(r.params["lr"] for r in runs) == [0.1, 0.2]  # the grid's first two, once each
    assert all(r.state == "finished" for r in runs), [(r.name, r.state) for r in runs]
    assert sorted(int(r.summary["gpu"]) for r in runs) == [0, 1]
    assert f"sweep {sweep.id} (from-shell): stopped" in done.stdout  # the closing table
    assert ("refused: sweeper: wandb sweep: bad.yaml: parameters.lr.valuez: unknown key"
            in done.stdout)


# W&B's sweep tutorials are notebooks: pip installs, wandb.login(), a dict config, wandb.sweep,
# a train function, wandb.agent; and IPython's own syntax around them: %env, %%writefile,
# `!wandb ...` with {python} expanded, `lines = !cmd`.
NOTEBOOK_CELLS = [
    "!pip install wandb -qU",
    "import wandb\nwandb.login()",
    "%env EPOCHS=2",
    "%%writefile train.py\n" + PROGRAM.lstrip(),
    "sweep_config = {'method': 'grid', 'name': 'notebook',\n"
    "                'metric': {'name': 'loss', 'goal': 'minimize'},\n"
    "                'parameters': {'lr': {'values': [0.1, 0.2]}}}\n"
    "sweep_id = wandb.sweep(sweep_config, project='notebook-demo')",
    "import os\n\ndef train(config=None):\n    with wandb.init(config=config):\n"
    "        for epoch in range(int(os.environ['EPOCHS'])):\n"
    "            wandb.log({'loss': wandb.config.lr * (epoch + 1), 'epoch': epoch})",
    "wandb.agent(sweep_id, train, count=2)",
    "%%writefile sweep.yaml\nname: from-cell\nprogram: train.py\nmethod: grid\n"
    "metric: {name: loss, goal: minimize}\nparameters:\n  lr: {values: [0.3]}\n",
    "created = !wandb sweep sweep.yaml 2>&1\nprogram_sweep = created[-1].split()[-1]",
    "!wandb agent {program_sweep}",
    "import sys\nsys.exit(int(sys.argv[1]))",
    "raise ValueError('the cell after a failing one never runs')",
]


def _notebook(folder: Path, cells: list[str], name: str) -> Path:
    import json

    path = folder / name
    path.write_text(json.dumps({
        "cells": [{"cell_type": "markdown", "metadata": {}, "source": ["# Sweeps"]}] + [
            {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
             "source": cell.splitlines(keepends=True)} for cell in cells],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


def test_a_wandb_tutorial_notebook_runs_its_cells_unchanged_with_no_account(tmp_path,
                                                                            monkeypatch):
    for key in [k for k in os.environ if k.startswith(("WANDB_", "SWEEPER_"))]:
        monkeypatch.delenv(key)
    notebook = _notebook(tmp_path, NOTEBOOK_CELLS, "Sweeps_with_W&B.ipynb")
    done = _run(tmp_path, str(notebook), "0")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert "left out `pip install wandb -qU`" in done.stderr and "No API key" not in done.stderr
    backend = open_backend(str(tmp_path / "sweeper.db"), kind="local", create=False)
    functions, programs = sorted(backend.sweeps(), key=lambda s: s.created_at)
    assert (functions.name, programs.name) == ("notebook", "from-cell")
    runs = backend.runs(functions.id, history=True)
    assert sorted(r.params["lr"] for r in runs) == [0.1, 0.2]
    assert all(r.state == "finished" and len(r.history) == 2 for r in runs)
    (run,) = backend.runs(programs.id)  # `!wandb agent {program_sweep}` ran the program
    assert run.state == "finished" and run.summary["loss"] == 0.3
    assert "sweep " + programs.id in done.stdout  # both in the closing tables
    assert "the cell after" not in done.stdout + done.stderr

    ended = _run(tmp_path, str(_notebook(tmp_path, NOTEBOOK_CELLS[-2:], "ends.ipynb")), "3")
    assert ended.returncode == 3 and "Traceback" not in ended.stdout + ended.stderr  # sys.exit
    fails = _run(tmp_path, str(_notebook(tmp_path, ["x = 1", "x / 0", "print('never')"],
                                         "fails.ipynb")))
    assert fails.returncode == 1 and "never" not in fails.stdout
    assert "code cell 2 failed: ZeroDivisionError" in fails.stderr

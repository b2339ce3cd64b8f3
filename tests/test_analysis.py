"""Analysis: runs as a DataFrame, seed-aware ranking, promotion to the local registry."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sweeper import analysis, registry, spec
from sweeper.backends import open_backend
from sweeper.errors import BadInput


@pytest.fixture
def sweep(tmp_path, monkeypatch):
    """A finished sweep: 3 configurations x 2 seeds, one failed run, one crash, checkpoints."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SWEEPER_REGISTRY", str(tmp_path / "registry"))
    return make_sweep(tmp_path / "db.sqlite", tmp_path / "ckpt")


def make_sweep(database: Path, checkpoints: Path):
    backend = open_backend(f"sqlite:///{database}")
    info = backend.create_sweep(spec.validate({
        "name": "s", "program": "x.py", "method": "grid",
        "metric": {"name": "acc", "goal": "maximize"},
        "parameters": {"lr": {"values": [0.1, 0.2, 0.3, 0.4]}, "manual_seed": {"values": [1, 2]},
                       "opt": {"parameters": {"beta": {"value": 0.9}}}}}))
    agent = backend.register_agent(info.id, "h", 1, None)
    scores = {(0.1, 1): 0.60, (0.1, 2): 0.62, (0.2, 1): 0.80, (0.2, 2): 0.84,
              (0.3, 1): 0.70, (0.3, 2): 0.71}
    for _ in range(8):
        run = backend.next_run(info.id, agent)
        key = (run.params["lr"], run.params["manual_seed"])
        if key in scores:
            checkpoint = checkpoints / run.name
            checkpoint.mkdir(parents=True)
            (checkpoint / "model.bin").write_bytes(f"{key}".encode())
            backend.log(run.run_id, [{"acc": scores[key] - 0.1}, {"acc": scores[key]}])
            backend.finish_run(run.run_id, "finished", {"acc": scores[key],
                                                        "checkpoint": str(checkpoint)}, 0)
        else:
            backend.finish_run(run.run_id, "failed" if key[1] == 1 else "crashed", {}, 1)
    return backend, info.id


def test_runs_has_one_row_per_run_with_params_metrics_and_checkpoint(sweep):
    backend, sweep_id = sweep
    df = analysis.runs(sweep_id, backend=backend)
    assert len(df) == 8
    for column in ("name", "state", "lr", "manual_seed", "opt.beta", "metric_value", "metric_best",
                   "summary.acc", "runtime", "steps", "checkpoint", "agent", "device"):
        assert column in df.columns
    best = df[df["name"] == "s-3"].iloc[0]
    assert (best["lr"], best["manual_seed"], best["metric_value"]) == (0.2, 1, 0.80)
    assert df.attrs["sweep"]["metric"] == "acc"


def test_rank_groups_seeds_and_lists_failures_apart(sweep):
    backend, sweep_id = sweep
    df = analysis.runs(sweep_id, backend=backend)
    ranked = analysis.rank(df)
    assert list(ranked["lr"]) == [0.2, 0.3, 0.1]  # lr 0.4 failed and crashed: not ranked
    top = ranked.iloc[0]
    assert top["n"] == 2 and top["mean"] == pytest.approx(0.82)
    assert top["std"] == pytest.approx(0.028284, rel=1e-4)
    assert top["ci_low"] < 0.82 < top["ci_high"]
    assert "manual_seed" not in ranked.columns
    assert ranked.attrs["top_two_distinguishable"] is False  # n = 2: wide intervals
    assert sorted(analysis.failed(df)["state"]) == ["crashed", "failed"]


def test_promote_registers_versions_with_aliases_and_no_duplicates(sweep):
    backend, sweep_id = sweep
    first = analysis.promote(sweep_id, name="clf", aliases=("production",), backend=backend)
    assert first.created and first.version == "v1"
    assert first.metadata["run"] == "s-4" and first.metadata["value"] == 0.84
    assert set(first.aliases) == {"latest", "best", "production"}
    again = analysis.promote(sweep_id, name="clf", backend=backend)
    assert not again.created and again.version == "v1"
    other = analysis.promote(sweep_id, name="clf", run="s-5", aliases=("staging",),
                             backend=backend)
    assert other.version == "v2"
    assert registry.load("clf:production").name == "v1"
    assert registry.load("clf:latest").name == "v2" == registry.load("clf").name
    # an explicit, worse run does not take `best`; asked for, it does
    assert registry.load("clf:best").name == "v1" and "best stays" in other.note
    assert set(other.aliases) == {"latest", "staging"}
    forced = analysis.promote(sweep_id, name="clf", run="s-5", aliases=("best",),
                              backend=backend)
    assert registry.load("clf:best").name == "v2" and "best" in forced.aliases
    assert (registry.load("clf:production") / "model.bin").read_bytes() == b"(0.2, 2)"
    meta = registry.show("clf")
    assert [m["version"] for m in meta] == ["v1", "v2"]
    assert meta[0]["checksum"] == registry.checksum(registry.load("clf:v1"))


def test_promote_moves_best_only_to_a_run_that_beats_it(sweep):
    backend, sweep_id = sweep
    # The model's best version came from a better run of another sweep (acc 0.99).
    other = registry.root() / "m" / "v1"
    other.mkdir(parents=True)
    (other / "model.bin").write_bytes(b"other")
    (other / registry.META).write_text(json.dumps({"version": "v1", "metric": "acc",
                                                   "value": 0.99, "run": "x-1",
                                                   "checksum": "other"}))
    (registry.root() / "m" / "aliases.json").write_text(json.dumps({"best": "v1",
                                                                    "latest": "v1"}))
    second = analysis.promote(sweep_id, name="m", backend=backend)  # s-4, 0.84
    assert second.version == "v2" and "best" not in second.aliases
    assert registry.load("m:best").name == "v1" and registry.load("m:latest").name == "v2"
    assert "best stays on v1 (acc=0.99 from run x-1" in second.note
    better = analysis.promote(sweep_id, name="n", backend=backend)
    assert "best" in better.aliases and better.note == ""  # nothing to beat: best moves


def test_promote_refuses_failed_runs_and_runs_without_checkpoint(sweep, tmp_path):
    backend, sweep_id = sweep
    with pytest.raises(BadInput, match="is failed; only finished runs are promoted"):
        analysis.promote(sweep_id, run="s-7", backend=backend)
    empty = open_backend(f"sqlite:///{tmp_path / 'other.sqlite'}")
    info = empty.create_sweep(spec.validate({"program": "x.py", "method": "grid",
                                             "metric": {"name": "acc", "goal": "maximize"},
                                             "parameters": {"a": {"values": [1]}}}))
    run = empty.next_run(info.id, empty.register_agent(info.id, "h", 1, None))
    empty.finish_run(run.run_id, "finished", {"acc": 0.5}, 0)
    with pytest.raises(BadInput, match="recorded no checkpoint"):
        analysis.promote(info.id, backend=empty)
    with pytest.raises(BadInput, match="no registered model 'nope'"):
        registry.load("nope:production")


def test_cli_results_json_and_promote(sweep, run_cli, tmp_path):
    backend, sweep_id = sweep
    db = f"sqlite:///{tmp_path / 'db.sqlite'}"
    out = run_cli("results", sweep_id, "--format", "json", "--storage", db)
    assert out.code == 0
    rows = json.loads(out.out)
    assert len(rows) == 8 and rows[0]["name"] == "s-4"
    assert rows[0]["config"] == {"lr": 0.2, "manual_seed": 2, "opt.beta": 0.9}
    assert rows[0]["summary"]["acc"] == 0.84
    table = run_cli("results", sweep_id, "--storage", db)
    assert "not ranked: 2 runs" in table.out and "not distinguishable" in table.out
    promoted = run_cli("promote", sweep_id, "--alias", "production", "--storage", db)
    assert promoted.code == 0 and promoted.out.splitlines()[0].startswith("registered s:v1")
    folder = tmp_path / "registry" / "s" / "v1"  # absolute, wherever SWEEPER_REGISTRY points
    assert run_cli("registry", "show", "s:production").out.strip() == str(folder)
    assert run_cli("registry", "show", "s").out.strip().endswith(f"  {folder}")


def test_importance_and_plots(sweep, tmp_path):
    backend, sweep_id = sweep
    df = analysis.runs(sweep_id, backend=backend, history=True)
    scores = analysis.importance(df)
    assert list(scores) == ["lr"] and scores["lr"] == pytest.approx(1.0)  # only lr varies by config
    written = analysis.plot(df, tmp_path / "plots")
    assert {p.name for p in written} == {"parallel_coordinates.png", "importance.png",
                                         "metric_by_step.png", "parameter_vs_metric.png"}
    for path in written:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000


@pytest.mark.parametrize("where", ["root", "notebooks"])
def test_the_notebook_runs_from_the_root_and_from_notebooks_on_one_database_and_registry(
        tmp_path, where):
    """`jupyter nbconvert --execute` from a repository's root and from notebooks/: the notebook
    finds the root's .sweeper/ (the CLI's) and makes no second database or registry."""
    import shutil

    from tests.conftest import ROOT

    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "notebooks").mkdir()
    shutil.copy(ROOT / "notebooks" / "sweep_analysis.ipynb", repo / "notebooks")
    (repo / ".sweeper").mkdir()
    backend, sweep_id = make_sweep(repo / ".sweeper" / "sweeper.db", repo / "ckpt")
    cwd = repo if where == "root" else repo / "notebooks"
    notebook = Path("notebooks/sweep_analysis.ipynb" if where == "root" else
                    "sweep_analysis.ipynb")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SWEEPER_", "WANDB_"))}
    env.update({"SWEEPER_NOTEBOOK_SWEEP": sweep_id, "SWEEPER_NOTEBOOK_MODEL": "from-notebook",
                "SWEEPER_NOTEBOOK_PLOTS": str(tmp_path / "nb-plots")})
    done = subprocess.run([str(Path(sys.executable).parent / "jupyter"), "nbconvert", "--to",
                           "notebook", "--execute", str(notebook), "--output-dir",
                           str(tmp_path / "out")], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    import nbformat

    executed = nbformat.read(tmp_path / "out" / "sweep_analysis.ipynb", as_version=4)
    outputs = [o for cell in executed.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert sum(1 for o in outputs if "image/png" in o.get("data", {})) == 4
    assert sorted(p.relative_to(repo) for p in repo.rglob(".sweeper")) == [Path(".sweeper")]
    version = registry.load("from-notebook:candidate", str(repo / ".sweeper" / "registry"))
    assert version.name == "v1" and version.is_dir()
    assert str(version) in "".join(o.get("text", "") for o in outputs)  # printed absolute


def test_results_names_runs_marks_stopped_ones_and_shows_no_empty_intervals(tmp_path, run_cli):
    storage = f"sqlite:///{tmp_path / 'r.sqlite'}"
    backend = open_backend(storage)
    sweep = backend.create_sweep({"name": "r", "program": "x.py", "method": "grid",
                                  "metric": {"name": "acc", "goal": "maximize"},
                                  "parameters": {"lr": {"values": [0.1, 0.2, 0.3, 0.4]}}})
    agent = backend.register_agent(sweep.id, "h", 1, None)
    for i, state in enumerate(["finished", "stopped", "finished", "failed"]):
        run = backend.next_run(sweep.id, agent)
        backend.log(run.run_id, [{"acc": 0.5 + i / 10}])
        backend.finish_run(run.run_id, state, None, 0)
    table = run_cli("results", "r", "--storage", storage)
    assert table.code == 0, table.err
    lines = table.out.splitlines()
    assert lines[1].split() == ["lr", "acc", "runs"]  # every configuration ran once
    assert lines[2].split() == ["1", "0.3", "0.7", "r-3"]
    assert lines[3].split() == ["2", "0.2", "0.6", "r-2", "(stopped)"]
    assert "NaN" not in table.out and "not ranked: 1 runs r-4 (failed)" in table.out
    csv = run_cli("results", "r", "--storage", storage, "--format", "csv", "--top", "2")
    rows = csv.out.strip().splitlines()
    assert len(rows) == 3 and rows[1].startswith("r-3,") and rows[2].startswith("r-2,")


def test_plots_draw_states_apart_and_say_what_they_cannot_show(tmp_path, monkeypatch):
    from sweeper.analysis import _plots

    storage = f"sqlite:///{tmp_path / 'p.sqlite'}"
    backend = open_backend(storage)
    sweep = backend.create_sweep({"name": "p", "program": "x.py", "method": "grid",
                                  "metric": {"name": "loss", "goal": "minimize"},
                                  "parameters": {"lr": {"values": [1, 2, 3, 4, 5]},
                                                 "wd": {"values": [0.1, 0.2]}}})
    agent = backend.register_agent(sweep.id, "h", 1, None)
    for i, state in enumerate(["finished", "stopped", "failed", "finished", "finished"]):
        run = backend.next_run(sweep.id, agent)
        backend.log(run.run_id, [{"loss": 1.0 / (i + 1)}])  # one point per run
        backend.finish_run(run.run_id, state, None, 0)
    figures = {}

    def keep(fig, path):
        figures[path.name] = fig
        return path

    monkeypatch.setattr(_plots, "_save", keep)
    df = analysis.runs(sweep.id, backend=backend, history=True)
    analysis.plot(df, tmp_path / "plots")
    texts = {name: " ".join(t.get_text() for ax in fig.axes for t in ax.texts)
             for name, fig in figures.items()}
    assert "only 4 runs: this is a rough guess" in texts["importance.png"]
    assert "each run logged loss once: there is no curve to draw" in texts[
        "metric_by_step.png"]
    styles = {line.get_linestyle() for line in figures["parallel_coordinates.png"].axes[0].lines
              if len(line.get_xdata()) == 3}
    assert {"-", "--", ":"} <= styles  # finished, stopped, failed
    colorbar = figures["parallel_coordinates.png"].axes[1]
    assert "yellow is better" in colorbar.get_ylabel()
    labels = figures["parameter_vs_metric.png"].axes[-1].get_legend_handles_labels()[1]
    assert labels == ["finished", "stopped early", "failed, crashed or killed"]


def test_the_workspace_is_the_repositorys_nearest_sweeper_folder(tmp_path):
    from sweeper import workspace

    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "a" / "b").mkdir(parents=True)
    assert workspace.root(repo / "a" / "b") == repo  # none yet: the root's, made there
    (repo / "a" / ".sweeper").mkdir()
    assert workspace.root(repo / "a" / "b") == repo / "a"  # the nearest one
    (tmp_path / "plain" / "sub").mkdir(parents=True)
    (tmp_path / ".sweeper").mkdir()
    assert workspace.root(tmp_path / "plain" / "sub") == tmp_path / "plain" / "sub"


def test_plot_axes_follow_the_sweeps_distributions():
    """A log axis where the sweep draws log-uniformly (even over a narrow range), a linear one
    where it draws uniformly (even when the draws span decades), the values otherwise."""
    import numpy as np

    from sweeper.analysis._plots import _log_scaled

    narrow = np.array([5e-5, 1.5e-4, 3.4e-4])
    wide = np.array([0.00026, 0.097, 0.145])
    assert _log_scaled(narrow, {"distribution": "log_uniform_values", "min": 5e-5, "max": 5e-4})
    assert not _log_scaled(wide, {"distribution": "uniform", "min": 0.0, "max": 0.2})
    assert not _log_scaled(wide, {"min": 0.0, "max": 0.2})
    assert _log_scaled(wide, {"values": [0.00026, 0.097, 0.145]})
    assert not _log_scaled(narrow, None)


# --- several metrics -------------------------------------------------------------------------

def test_a_sweep_of_two_metrics_runs_ranks_by_front_plots_it_and_promotes_by_a_metric(
        tmp_path, monkeypatch, run_cli):
    """`sweeper run` a tpe sweep of accuracy against latency (a W&B program): each run's end
    names both metrics; results, status, plot and promote speak of the Pareto front."""
    import shutil

    from tests.conftest import sweeper_process

    shutil.copy(Path(__file__).parent / "programs" / "two_metrics.py", tmp_path)
    monkeypatch.chdir(tmp_path)
    storage = f"sqlite:///{tmp_path / 'mo.sqlite'}"
    monkeypatch.setenv("SWEEPER_STORAGE", storage)
    monkeypatch.setenv("SWEEPER_REGISTRY", str(tmp_path / "registry"))
    monkeypatch.setenv("WANDB_SILENT", "true")
    (tmp_path / "mo.yaml").write_text(
        "name: mo\nprogram: two_metrics.py\nmethod: tpe\nrun_cap: 8\n"
        "metrics:\n  - {name: acc, goal: maximize}\n  - {name: latency, goal: minimize}\n"
        "parameters:\n  lr: {distribution: log_uniform_values, min: 1.0e-4, max: 0.1}\n"
        "  width: {values: [16, 32, 64, 128, 256]}\n")
    done = sweeper_process("run", "mo.yaml", "--workers", "2", cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "finished in" in done.stdout and ", acc=" in done.stdout and ", latency=" in done.stdout
    assert "front  run" in done.stdout  # the closing table, by front

    backend = open_backend(storage)
    df = analysis.runs("mo", backend=backend)
    front = df[df["front"] == 1]
    assert len(df) == 8 and not front.empty
    points = list(zip(df["value.acc"], df["value.latency"], strict=True))
    for acc, latency in zip(front["value.acc"], front["value.latency"], strict=True):
        assert not any(a >= acc and lat <= latency and (a, lat) != (acc, latency)
                       for a, lat in points)  # no run beats a front run on both metrics
    ranked = analysis.rank(df)
    assert list(ranked.columns[:1]) == ["front"] and ranked["front"].is_monotonic_increasing
    assert {"acc", "latency", "acc_std", "latency_best", "runs"} <= set(ranked.columns)

    table = run_cli("results", "mo")
    assert table.code == 0, table.err
    lines = table.out.splitlines()
    assert lines[0].endswith(f"Pareto front: {len(front)} configurations") or \
        lines[0].endswith("Pareto front: 1 configuration")
    assert lines[1].split()[:1] == ["front"] and lines[2].split()[1] == "1"
    rows = json.loads(run_cli("results", "mo", "--format", "json").out)
    assert [r["front"] for r in rows] == sorted(r["front"] for r in rows)
    assert set(rows[0]["metric_values"]) == {"acc", "latency"}
    status = run_cli("status", "mo").out
    assert f"Pareto front: {len(front)} run" in status and "acc / latency" in status

    refused = run_cli("promote", "mo")
    assert refused.code == 2 and "--by acc or --by latency" in refused.err
    assert "not a metric of this sweep" in run_cli("promote", "mo", "--by", "loss").err
    promoted = run_cli("promote", "mo", "--by", "latency")
    assert promoted.code == 0, promoted.err
    fastest = front.loc[front["value.latency"].idxmin()]
    meta = registry.show("mo")[0]
    assert meta["run"] == fastest["name"] and meta["metric"] == "latency"
    assert meta["value"] == fastest["value.latency"]

    written = {Path(p).name for p in run_cli("plot", "mo", "--out", tmp_path / "plots")
               .out.split()}
    assert {"pareto_front.png", "parallel_coordinates.png", "parameter_vs_metric.png"} <= written
    assert "metric_by_step.png" not in written


def test_plot_of_a_sweep_with_nothing_to_draw_says_so(tmp_path, run_cli):
    storage = f"sqlite:///{tmp_path / 'e.sqlite'}"
    sweep = open_backend(storage).create_sweep(spec.validate({
        "program": "x.py", "method": "grid", "metric": {"name": "acc", "goal": "maximize"},
        "parameters": {"a": {"values": [1]}}}))
    done = run_cli("plot", sweep.id, "--out", tmp_path / "plots", "--storage", storage)
    assert done.code == 0 and done.out == ""
    assert done.err == f"no plots: no run of sweep {sweep.id} has a value of its metric yet\n"


def test_an_empty_registry_says_where_it_looked(tmp_path, run_cli, monkeypatch):
    monkeypatch.setenv("SWEEPER_REGISTRY", str(tmp_path / "models"))
    done = run_cli("registry", "list")
    assert done.code == 0 and done.out == ""
    assert done.err == f"no registered models in {(tmp_path / 'models').resolve()}\n"

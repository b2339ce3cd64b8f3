"""`sweeper dashboard` in a real browser (Debian's chromium driven by Playwright): the runs, a
metric-by-step chart and the parallel coordinates render with the sweep's real values, a run
that finishes during the test appears without a reload, and the dashboard cannot change a sweep.
Screenshots are saved in the test's temporary folder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from sweeper.backends import open_backend
from sweeper.dashboard import Dashboard, SweeperStorage

from .conftest import wait_for

PROGRAM = """
import time
import wandb

run = wandb.init()
for step in range(int(run.config.steps)):
    run.log({"loss": float(run.config.lr) * 10 + 1.0 / (step + 1)})
    time.sleep(float(run.config.delay))
run.finish()
"""


def browser_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser():
    if browser_path() is None:
        pytest.skip("no chromium here (.ci/install-browser installs Debian's where it can)")
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=browser_path(), args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield launched
        launched.close()


_wait = wait_for


def test_the_dashboard_shows_a_running_sweep_live(browser, tmp_path):
    storage = f"sqlite:///{tmp_path / 'db.sqlite'}"
    (tmp_path / "train.py").write_text(PROGRAM)
    (tmp_path / "s.yaml").write_text(yaml.safe_dump({
        "name": "live", "program": "train.py", "method": "grid",
        "metric": {"name": "loss", "goal": "minimize"},
        "parameters": {"lr": {"values": [0.01, 0.05, 0.1]}, "batch": {"values": [8, 16]},
                       "steps": {"value": 6}, "delay": {"value": 0.2}}}))
    runner = subprocess.Popen([str(Path(sys.executable).with_name("sweeper")), "run", "s.yaml"],
                              cwd=tmp_path, env={**os.environ, "SWEEPER_STORAGE": storage,
                                                 "WANDB_SILENT": "true"},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait(lambda: (tmp_path / "db.sqlite").exists(), what="the sweep")
        backend = open_backend(storage, read_only=True)
        _wait(lambda: backend.sweeps() and any(
            r.state == "finished" for r in backend.runs(backend.sweeps()[0].id)),
            what="a first finished run")
        server = Dashboard(SweeperStorage(backend), port=0).start()
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{server.url}/studies/1")
        page.get_by_text("Intermediate values").wait_for(timeout=30000)
        page.locator(".js-plotly-plot").first.wait_for(timeout=30000)
        page.screenshot(path=str(tmp_path / "study.png"), full_page=True)
        done = sum(r.state == "finished" for r in backend.runs(backend.sweeps()[0].id))
        body = page.inner_text("body")
        assert "live" in body and "loss" in body  # the sweep and its metric, by name

        # A run that finishes while the page is open shows without a reload, within 5 s.
        _wait(lambda: sum(r.state == "finished" for r in backend.runs(
            backend.sweeps()[0].id)) > done, what="another run to finish")
        finished_names = {r.number - 1 for r in backend.runs(backend.sweeps()[0].id)
                          if r.state == "finished"}
        page.goto(f"{server.url}/studies/1/trials")  # the trial list, open while runs end
        page.get_by_text("Trial 0", exact=True).wait_for(timeout=30000)
        in_list = {int(t.split()[1]) for t in page.get_by_text("Trial ").all_inner_texts()
                   if t.startswith("Trial ") and t.split()[1].isdigit()}
        runner.wait(timeout=180)
        ended_at = time.monotonic()
        last = max(r.number - 1 for r in backend.runs(backend.sweeps()[0].id))
        assert last not in in_list  # it had not started when the page loaded
        _wait(lambda: page.get_by_text(f"Trial {last}", exact=True).count() > 0, timeout=10,
              what="the last run in the list without a reload")
        assert time.monotonic() - ended_at < 5 + 1 and finished_names
        page.screenshot(path=str(tmp_path / "trials.png"), full_page=True)

        # The run table (sortable) has the real values; the parallel coordinates draw.
        page.goto(f"{server.url}/studies/1/smartSelection")
        page.get_by_text("Parallel Coordinate").first.wait_for(timeout=30000)
        page.get_by_text("live-6").first.wait_for(timeout=30000)
        page.wait_for_timeout(1500)
        page.screenshot(path=str(tmp_path / "selection.png"), full_page=True)
        text = page.inner_text("body")
        for run in backend.runs(backend.sweeps()[0].id):
            assert run.name in text and f"{run.metric_value}" in text
        api = json.loads(urllib.request.urlopen(f"{server.url.rsplit('/', 1)[0]}/api/studies/1")
                         .read())
        values = sorted(t["values"][0] for t in api["trials"] if t.get("values"))
        assert values == sorted(r.metric_value for r in backend.runs(backend.sweeps()[0].id))
        assert all(len(t["intermediate_values"]) == 6 for t in api["trials"])

        # Read-only: deleting the study through the dashboard's API is refused.
        request = urllib.request.Request(f"{server.url.rsplit('/', 1)[0]}/api/studies/1",
                                         method="DELETE", data=b"{}")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request)
        assert refused.value.code == 403
        assert len(backend.sweeps()) == 1
        server.stop()
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait()


def test_the_dashboards_trials_keep_list_and_mapping_values_whole(tmp_path):
    """A ``values`` entry that is a list or a mapping is one value of one parameter in the
    dashboard, as in the sweep file (a mapping was spread into its keys and the parameter left
    out of its trials); a nested parameter keeps its dotted name."""
    backend = open_backend(f"sqlite:///{tmp_path / 'db.sqlite'}")
    layers = [[64], [128, 128], {"width": 256, "depth": 3}]
    sweep = backend.create_sweep({
        "program": "t.py", "method": "grid", "metric": {"name": "loss", "goal": "minimize"},
        "parameters": {"layers": {"values": layers},
                       "opt": {"parameters": {"lr": {"values": [0.1]}}}}})
    for i in range(3):
        handed = backend.next_run(sweep.id, "agent-1")
        backend.finish_run(handed.run_id, "finished", {"loss": float(i)})
    storage = SweeperStorage(backend)
    trials = storage.get_all_trials(storage.get_all_studies()[0]._study_id)
    assert [t.params for t in trials] == [
        {"layers": json.dumps(v, sort_keys=True), "opt.lr": 0.1} for v in layers], [t.params for t in trials]

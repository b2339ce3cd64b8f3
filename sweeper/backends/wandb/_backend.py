"""The W&B backend, on the SDK's public API: ``wandb.sweep`` creates, ``wandb agent`` runs,
``wandb.Api()`` reads, and state changes make the call `wandb sweep --stop/...` makes."""

from __future__ import annotations

import contextlib
import io
import math
import os
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from ... import spec
from ..._duration import from_env
from ..._keys import disarm_debug_logs, scrub
from ...errors import BadInput, SweeperError, UnknownSweep
from .._base import TRANSITIONS, AgentProcess, RunInfo, SweepInfo, one_per_slot
from . import _records
from ._auth import base_url, require_credentials
from ._program import trainer_missing, with_runnable_trainer
from ._reference import SweepPath, parse_reference

HISTORY_SAMPLES = 10_000  # steps per run W&B returns at most (it samples longer histories)
DEFAULT_TIMEOUT_S = 30.0  # the longest a W&B command waits for a server that does not answer

T = TypeVar("T")


def timeout_s() -> float:
    """How long a W&B call may take (SWEEPER_WANDB_TIMEOUT_S, default 30 s)."""
    return from_env("SWEEPER_WANDB_TIMEOUT_S", DEFAULT_TIMEOUT_S, at_least=1.0)


class WandbBackend:
    """Sweeps on a W&B server; needs credentials (``wandb login`` or WANDB_API_KEY), except to
    plan (``offline``: a dry run reads nothing from the network)."""

    name = "wandb"

    def __init__(self, entity: str | None = None, project: str | None = None,
                 offline: bool = False):
        disarm_debug_logs()  # before the SDK reads its settings
        # The SDK's own chatter ("Loaded credentials ...") stays out of sweeper's output; the
        # agents it starts get the user's setting back.
        self._user_silent = os.environ.get("WANDB_SILENT")
        os.environ["WANDB_SILENT"] = "true"
        self.base_url = base_url()
        self.offline = offline
        # The key only serves to scrub it out of messages.
        self._key = "" if offline else require_credentials(self.base_url)
        self.entity = entity or os.environ.get("WANDB_ENTITY")
        self.project = project
        self.location = f"W&B ({self.base_url})"
        self.poll_interval_s = from_env("SWEEPER_WANDB_POLL_S", 10.0, at_least=0.1)
        self.timeout_s = timeout_s()
        self._api = None
        self._read_before: set[str] = set()

    # --- the SDK ------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _sdk(self, doing: str) -> Iterator[None]:
        """SDK failures as one line (with the key scrubbed out), never a traceback."""
        try:
            yield
        except SweeperError:
            raise
        except Exception as exc:  # noqa: BLE001 - the SDK raises many kinds
            text = " ".join(str(exc).split()) or type(exc).__name__
            raise SweeperError(scrub(f"W&B: {doing}: {text}", self._key)) from None

    def _call(self, doing: str, fn: Callable[[], T], limit_s: float | None = None) -> T:
        """``fn`` (SDK calls), given at most ``timeout_s`` (``limit_s`` for uploads): the SDK
        retries a host that does not answer for minutes; a command gives up after the limit
        with one line (exit 1)."""
        limit = limit_s or self.timeout_s
        if self.offline:
            raise BadInput(f"W&B: {doing}: not in a dry run (it reads nothing from W&B)")
        outcome: dict = {}

        def work() -> None:
            try:
                with self._sdk(doing):
                    outcome["value"] = fn()
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                outcome["error"] = exc

        worker = threading.Thread(target=work, name="sweeper-wandb-call", daemon=True)
        worker.start()
        worker.join(limit)
        if worker.is_alive():
            raise SweeperError(f"W&B: {doing}: no answer from {self.base_url} within "
                               f"{limit:.0f} s (no network, or the host does not answer; "
                               "SWEEPER_WANDB_TIMEOUT_S sets the limit)")
        if "error" in outcome:
            raise outcome["error"]
        return outcome["value"]

    @property
    def api(self):
        if self._api is None:
            import wandb

            self._api = self._call(f"connecting to {self.base_url}",
                                   lambda: wandb.Api(timeout=self.timeout_s))
        return self._api

    def _path(self, reference: str) -> SweepPath:
        return parse_reference(reference, self.entity, self.project)

    def _public_sweep(self, path: SweepPath):
        api = self.api

        def read():
            try:
                public = api.sweep(str(path))
                if str(path) in self._read_before:  # the SDK caches it: read it anew
                    public.load(force=True)
            except Exception as exc:
                if "Could not find sweep" in str(exc):  # the SDK's ValueError, or it wrapped
                    raise UnknownSweep(f"no W&B sweep {path} on {self.base_url}") from None
                raise
            return public

        public = self._call(f"reading sweep {path}", read)
        self._read_before.add(str(path))
        return public

    # --- sweeps -------------------------------------------------------------------------------

    def check_config(self, config: dict) -> dict:
        """Validated and normalised (W&B's defaults made explicit: the same config the local
        backend keeps), with the built-in trainer named so that W&B's agent can start it from
        here (``_program``). Methods that only the local backend offers, and several metrics,
        are refused before anything is sent."""
        return with_runnable_trainer(spec.validate(config, backend="wandb"), Path.cwd())

    def create_sweep(self, config: dict, name: str | None = None,
                     max_resumes: int | None = None) -> SweepInfo:
        """``wandb.sweep``: a new W&B sweep in --entity/--project (or the file's ``project``)."""
        import wandb

        if max_resumes:
            raise BadInput("--max-resumes: W&B's agent does not requeue interrupted runs; "
                           "resuming them is the local backend's (sweeper agent on a local "
                           "or PostgreSQL storage)")
        config = self.check_config({**config, **({"name": name} if name else {})})
        project = self.project or config.get("project")

        def send() -> str:
            with contextlib.redirect_stdout(io.StringIO()):  # wandb.sweep prints id and URL
                return wandb.sweep(config, entity=self.entity, project=project)

        sweep_id = self._call("creating the sweep", send)
        entity = os.environ.get("WANDB_ENTITY") or self.entity or self._call(
            "reading your default entity", lambda: self.api.default_entity)
        project = os.environ.get("WANDB_PROJECT") or project
        return self.sweep(str(SweepPath(entity, project, sweep_id)))

    def sweep(self, sweep_id: str, with_best: bool = True) -> SweepInfo:
        """The sweep's state and config; ``with_best``: also its best run (``best_run()``)."""
        path = self._path(sweep_id)
        public = self._public_sweep(path)
        config = public.config
        info = _records.sweep_info(str(path), public._attrs, config, public.url)
        if with_best and config.get("metric"):
            def best_run():
                with contextlib.redirect_stderr(io.StringIO()):  # "Sorting runs by ..."
                    return public.best_run()

            best = self._call(f"reading the best run of {path}", best_run)
            if best is not None:
                record = _records.run_info(best, info, 0)
                info.best_value, info.best_run = record.metric_value, record.name
        return info

    def find_sweep(self, reference: str) -> SweepInfo:
        if self.offline:  # a dry run: the path as typed, nothing read
            path = self._path(reference)
            return SweepInfo(id=str(path), name=str(path), config={}, state="unknown",
                             created_at=0.0, location=self.location)
        return self.sweep(reference)

    def sweeps(self) -> list[SweepInfo]:
        if not self.project:
            raise BadInput("listing W&B sweeps needs --project (and --entity, default yours)")
        entity = self.entity or self._call("reading your default entity",
                                           lambda: self.api.default_entity)
        found = self._call(f"listing the sweeps of {entity}/{self.project}",
                           lambda: list(self.api.project(self.project, entity=entity).sweeps()))
        return [self.sweep(f"{entity}/{self.project}/{s.id}") for s in found]

    def set_state(self, sweep_id: str, action: str) -> SweepInfo:
        """pause, resume, stop (W&B: finished) or cancel, as `wandb sweep --ACTION` does."""
        from wandb.apis.public.sweeps import _set_sweep_state

        if action not in TRANSITIONS:
            raise BadInput(f"unknown action {action!r}; one of {', '.join(TRANSITIONS)}")
        path = self._path(sweep_id)
        self._public_sweep(path)  # an unknown sweep is bad input, not a failure
        api = self.api

        def change() -> None:
            try:
                _set_sweep_state(api, path.id, _records.ACTIONS[action], entity=path.entity,
                                 project=path.project)
            except Exception as exc:  # noqa: BLE001 - W&B refuses with a plain Exception
                if type(exc) is Exception:  # "Cannot pause finished sweep." and the like
                    raise BadInput(f"sweep {path}: {exc}") from None
                raise

        self._call(f"changing the state of {path}", change)
        return self.sweep(str(path))

    # --- runs ---------------------------------------------------------------------------------

    def runs(self, sweep_id: str, history: bool = False, summaries: bool = True
             ) -> list[RunInfo]:
        """The sweep's runs, oldest first: the query ``Api().sweep(path).runs`` makes, with the
        config and summary loaded in the same page (``lazy=False``; so ``summaries`` changes
        nothing). ``history``: each run's logged rows, as W&B samples them (at most
        HISTORY_SAMPLES)."""
        path = self._path(sweep_id)
        sweep = self.sweep(str(path), with_best=False)
        api = self.api

        def read() -> list[RunInfo]:
            api.flush()  # the SDK caches run lists: read them anew
            found = list(api.runs(f"{path.entity}/{path.project}", filters={"sweep": path.id},
                                  order="+created_at", per_page=200, lazy=False))
            records = []
            for number, run in enumerate(found, 1):
                rows = run.history(samples=HISTORY_SAMPLES, pandas=False) if history else None
                records.append(_records.run_info(run, sweep, number, rows))
            return records

        return self._call(f"reading the runs of {path}", read)

    # --- agents -------------------------------------------------------------------------------

    def agent_processes(self, sweep_id: str, slots: list[str | None], count: int | None,
                        max_failures: int, grace_s: float, run_timeout_s: float | None = None
                        ) -> list[AgentProcess]:
        """W&B's own agent (``wandb agent``) once per slot, each with its CUDA_VISIBLE_DEVICES;
        it forwards signals to its run and kills it ``grace_s`` after a second one."""
        if run_timeout_s is not None:
            raise BadInput("--run-timeout: W&B's agent has no run time limit; it needs the "
                           "local backend (or a time limit in the training script)")
        if not self.offline:
            trainer_missing(self.sweep(sweep_id, with_best=False).config, Path.cwd())
        argv = [sys.executable, "-m", "wandb", "agent", "--forward-signals",
                "--term-timeout", str(math.ceil(grace_s)),
                "--max-consecutive-failed-runs", str(max_failures)]
        if count is not None:
            argv += ["--count", str(count)]
        argv.append(sweep_id)
        common = {"WANDB_AGENT_MAX_INITIAL_FAILURES": str(max_failures),
                  "WANDB_SILENT": self._user_silent or "false"}
        # W&B's agent runs `python PROGRAM`: from a virtual environment that is not activated,
        # that environment's python, as on the local backend.
        from ...agent._command import python_path

        path = python_path(dict(os.environ))
        if path != os.environ.get("PATH", os.defpath):
            common["PATH"] = path
        return one_per_slot(argv, slots, common)

    def run_function(self, sweep_id: str, function, count: int | None = None) -> int:
        """W&B's own agent in this process (``wandb.agent(function=...)``): it asks the server
        for each run, calls ``function`` and finishes the run before the next."""
        import wandb

        path = self._path(sweep_id)
        ran = [0]

        def counted() -> None:
            ran[0] += 1
            function()

        self._public_sweep(path)  # the host answers and has the sweep, within the time limit
        if self._user_silent is None:  # the runs speak as the user set it
            os.environ.pop("WANDB_SILENT", None)
        else:
            os.environ["WANDB_SILENT"] = self._user_silent
        try:
            with self._sdk(f"running the runs of {path}"):
                wandb.agent(path.id, function=counted, entity=path.entity,
                            project=path.project, count=count)
        finally:
            self._api = None  # the agent reset the SDK: the old Api's connection is closed
        return ran[0]

    # --- promotion ----------------------------------------------------------------------------

    def promote(self, run: dict, name: str, aliases: tuple[str, ...], metadata: dict,
                registry_dir: str | None = None, best: bool = True):
        """Link the run's model artifact into the W&B Registry (see ``_promote``)."""
        from ._promote import promote

        path = self._path(str(run["sweep_id"]))
        api = self.api
        return self._call(f"promoting run {run['name']}",  # may upload a checkpoint: 20x
                          lambda: promote(api, path, run, name, aliases, metadata, best),
                          limit_s=20 * self.timeout_s)

    def registered(self, name: str, alias: str, registry_dir: str | None = None) -> dict | None:
        """The metadata of the W&B Registry version ``name:alias``, or None."""
        from ._promote import registered

        api = self.api
        return self._call(f"reading {name}:{alias} in the W&B Registry",
                          lambda: registered(api, name, alias))

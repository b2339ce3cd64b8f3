"""A stand-in for a W&B server, for tests only: it answers the GraphQL operations and HTTP calls
that the wandb SDK (0.31) sends for sweeps, agents, online runs, run queries and artifact links,
and records every request so tests can assert on what the SDK sent.

Operation shapes were recorded from what the SDK sends. Its sweep controller is W&B's own engine
(``sweeps.next_run``), as on the server. It is not a W&B server: it keeps everything in memory,
checks no permissions and answers only what these tests need.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import string
import threading
import time
import traceback
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import yaml

ENTITY = "alice"
_OPERATION = re.compile(r"(query|mutation)\s+(\w+)")


def new_id() -> str:
    return "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(8))


def iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t))


@dataclass
class Request:
    method: str
    path: str
    operation: str | None
    variables: dict
    authorization: str
    body: bytes


@dataclass
class Run:
    id: str
    entity: str
    project: str
    sweep: str | None
    config: dict  # W&B's form: {"key": {"value": v}}
    created_at: float = field(default_factory=time.time)
    state: str = "running"
    history: list[dict] = field(default_factory=list)
    summary: dict = field(default_factory=dict)
    artifacts: list[dict] = field(default_factory=list)


@dataclass
class Sweep:
    id: str
    entity: str
    project: str
    config: dict
    config_yaml: str
    state: str = "RUNNING"
    created_at: float = field(default_factory=time.time)


class StandIn:
    """The server's state and its request log; ``url`` is what WANDB_BASE_URL gets."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.sweeps: dict[str, Sweep] = {}
        self.runs: dict[str, Run] = {}
        self.agents: dict[str, dict] = {}
        self.links: list[dict] = []
        self.lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> StandIn:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- what tests look at ---------------------------------------------------------------------

    def operations(self, name: str) -> list[dict]:
        """The variables of every GraphQL operation ``name`` received, in order."""
        return [r.variables for r in self.requests if r.operation == name]

    def add_run(self, sweep_id: str, config: dict, summary: dict, state: str = "finished",
                history: list[dict] | None = None, artifacts: list[dict] | None = None) -> Run:
        sweep = self.sweeps[sweep_id]
        run = Run(new_id(), sweep.entity, sweep.project, sweep_id,
                  {k: {"value": v} for k, v in config.items()}, state=state,
                  history=history or [], summary=summary, artifacts=artifacts or [])
        self.runs[run.id] = run
        return run

    # --- GraphQL --------------------------------------------------------------------------------

    def graphql(self, operation: str, v: dict, base: str) -> dict:
        handler = getattr(self, f"op_{operation}", None)
        return handler(v, base) if handler else {}

    def op_Viewer(self, v, base):
        return {"viewer": {"id": "u1", "entity": ENTITY, "username": ENTITY, "flags": "{}",
                           "teams": {"edges": []}}}

    op_GetDefaultEntity = op_Viewer

    def op_UpsertSweep(self, v, base):
        if v.get("id"):  # a state change (wandb sweep --stop/...)
            sweep = next(s for s in self.sweeps.values() if s.id == v["id"])
            sweep.state = v.get("state") or sweep.state
        else:
            config = yaml.safe_load(v["config"])
            sweep = Sweep(new_id(), v.get("entityName") or ENTITY,
                          v.get("projectName") or "uncategorized", config, v["config"])
            self.sweeps[sweep.id] = sweep
        return {"upsertSweep": {"sweep": {"name": sweep.id, "project": {
            "id": "p1", "name": sweep.project, "entity": {"id": "e1", "name": sweep.entity}}},
            "configValidationWarnings": []}}

    def _sweep_fields(self, sweep: Sweep) -> dict:
        runs = [r for r in self.runs.values() if r.sweep == sweep.id]
        return {"__typename": "Sweep", "id": sweep.id, "name": sweep.id, "displayName": None,
                "method": sweep.config.get("method"), "state": sweep.state,
                "description": None, "bestLoss": None, "config": sweep.config_yaml,
                "createdAt": iso(sweep.created_at), "updatedAt": iso(time.time()),
                "heartbeatAt": iso(time.time()), "earlyStopJobRunning": False,
                "controller": None, "scheduler": None, "runCount": len(runs),
                "runCountExpected": None,
                "runs": {"edges": [{"node": {
                    "name": r.id, "state": r.state, "config": json.dumps(r.config),
                    "exitcode": 0, "heartbeatAt": iso(time.time()), "shouldStop": False,
                    "failed": r.state == "failed", "stopped": False,
                    "running": r.state == "running", "summaryMetrics": json.dumps(r.summary),
                    "sampledHistory": [r.history]}} for r in runs]}}

    def _find_sweep(self, v, base) -> dict:
        sweep = self.sweeps.get(v.get("name") or v.get("sweep") or "")
        return {"project": {"sweep": self._sweep_fields(sweep) if sweep else None}}

    def op_GetSweeps(self, v, base):
        found = [s for s in self.sweeps.values() if s.project == v["project"]]
        fields = ("__typename", "id", "name", "displayName", "method", "state", "description",
                  "bestLoss", "config", "createdAt", "updatedAt", "runCount", "runCountExpected")
        return {"project": {"totalSweeps": len(found), "sweeps": {
            "pageInfo": {"__typename": "PageInfo", "endCursor": None, "hasNextPage": False},
            "edges": [{"node": {k: self._sweep_fields(s)[k] for k in fields}} for s in found]}}}

    op_GetSweep = op_GetSweepLegacy = op_SweepWithRuns = op_GetSweepState = _find_sweep

    def _run_node(self, run: Run, base: str) -> dict:
        return {"projectId": 1, "id": base64.b64encode(f"Run:{run.id}".encode()).decode(),
                "tags": [], "name": run.id, "displayName": f"run-{run.id}",
                "sweepName": run.sweep, "state": run.state, "config": json.dumps(run.config),
                "group": None, "jobType": None, "commit": None, "readOnly": False,
                "createdAt": iso(run.created_at), "heartbeatAt": iso(time.time()),
                "description": None, "notes": None, "systemMetrics": "{}",
                "summaryMetrics": json.dumps(run.summary), "historyLineCount": len(run.history),
                "historyKeys": {"lastStep": len(run.history) - 1, "keys": {}},
                "user": {"name": ENTITY, "username": ENTITY}, "project": {
                    "id": "p1", "name": run.project, "entity": {"id": "e1", "name": run.entity}}}

    def op_Run(self, v, base):
        run = self.runs.get(v.get("name") or "")
        return {"project": {"run": self._run_node(run, base) if run else None}}

    def op_Runs(self, v, base):
        filters = json.loads(v.get("filters") or "{}")
        wanted = filters.get("sweep") or next(
            (f.get("sweep") for f in filters.get("$and", []) if "sweep" in f), None)
        runs = [r for r in self.runs.values() if r.project == v["project"]
                and (wanted is None or r.sweep == wanted)]
        order = v.get("order") or "+created_at"
        key = order[1:]
        if key.startswith("summary_metrics."):
            name = key.removeprefix("summary_metrics.")
            runs = [r for r in runs if isinstance(r.summary.get(name), int | float)]
            runs.sort(key=lambda r: r.summary[name], reverse=order[0] == "-")
        else:
            runs.sort(key=lambda r: r.created_at, reverse=order[0] == "-")
        start = int(v.get("cursor") or 0)
        page = runs[start:start + int(v.get("perPage") or 50)]
        return {"project": {"internalId": "1", "runCount": len(runs), "readOnly": False,
                            "runs": {"edges": [{"node": self._run_node(r, base),
                                                "cursor": str(start + i + 1)}
                                               for i, r in enumerate(page)],
                                     "pageInfo": {"endCursor": str(start + len(page)),
                                                  "hasNextPage": start + len(page) < len(runs)}}}}

    def op_RunFullHistory(self, v, base):
        run = self.runs[v["name"]]
        return {"project": {"run": {"history": [json.dumps(row) for row in run.history]}}}

    # --- artifacts and the registry -------------------------------------------------------------

    def _artifact_node(self, run: Run, art: dict) -> dict:
        project = {"id": "p1", "internalId": "1", "name": run.project,
                   "entity": {"name": run.entity}}
        return {"__typename": "Artifact", "id": art["id"], "versionIndex": 0,
                "artifactSequence": {"__typename": "ArtifactSequence", "name": art["name"],
                                     "project": project},
                "artifactType": {"name": art["type"]}, "description": None,
                "metadata": json.dumps(art.get("metadata", {})), "ttlDurationSeconds": -1,
                "ttlIsInherited": True, "tags": [], "historyStep": None,
                "state": art.get("state", "COMMITTED"),
                "size": 10, "digest": art.get("digest", "d1"), "digestAlgorithm": None,
                "commitHash": "c1", "fileCount": 1, "createdAt": iso(run.created_at),
                "updatedAt": None, "aliases": [{"__typename": "ArtifactAlias", "id": "a1",
                                                "alias": "latest", "artifactCollection": None}]}

    def _artifact(self, artifact_id: str) -> tuple[Run, dict]:
        return next((run, art) for run in self.runs.values() for art in run.artifacts
                    if art["id"] == artifact_id)

    def op_RunOutputArtifacts(self, v, base):
        run = self.runs[v["run"]]
        edges = [{"node": self._artifact_node(run, a)} for a in run.artifacts]
        return {"project": {"run": {"artifacts": {
            "totalCount": len(edges), "pageInfo": {"endCursor": None, "hasNextPage": False},
            "edges": edges}}}}

    def _membership(self, link: dict) -> dict:
        project = {"id": "p2", "internalId": "2", "name": link["project"],
                   "entity": {"name": link["entity"]}}
        return {"versionIndex": link["version"], "createdAt": iso(link["at"]),
                "aliases": [{"__typename": "ArtifactAlias", "id": f"al{i}", "alias": a}
                            for i, a in enumerate(link["aliases"])],
                "artifactCollection": {"__typename": "ArtifactPortfolio",
                                       "name": link["collection"], "project": project}}

    def op_FetchLinkedArtifacts(self, v, base):
        links = [link for link in self.links if link["artifact"] == v.get("artifactID")]
        return {"artifact": {"artifactMemberships": {"edges": [
            {"node": self._membership(link)} for link in links]}}}

    def op_ProjectArtifactCollection(self, v, base):
        found = any(link["project"] == v["project"] and link["collection"] == v["name"]
                    for link in self.links) or any(
            a["name"] == v["name"] for r in self.runs.values() for a in r.artifacts)
        project = {"id": "p2", "internalId": "2", "name": v["project"],
                   "entity": {"name": v["entity"]}}
        collection = {"__typename": "ArtifactPortfolio" if v["project"].startswith(
            "wandb-registry-") else "ArtifactSequence", "id": "c1", "name": v["name"],
            "description": None, "createdAt": iso(time.time()), "updatedAt": None,
            "project": project, "type": {"name": v["type"]}, "tags": {"edges": []}}
        return {"project": {"artifactType": {"artifactCollection": collection if found
                                             else None}}}

    def op_ArtifactType(self, v, base):  # "does this artifact exist yet?" before logging it
        return {"project": {"artifact": None}}

    # wandb-core logging an artifact: create it, its manifest and files, upload, commit
    def op_CreateArtifact(self, v, base):
        data = v["input"]
        run = self.runs[data["runName"]] if data.get("runName") in self.runs else None
        artifact_id = base64.b64encode(f"Artifact:{new_id()}".encode()).decode()
        art = {"id": artifact_id, "name": data["artifactCollectionName"],
               "type": data["artifactTypeName"], "digest": data.get("digest"),
               "metadata": json.loads(data.get("metadata") or "{}"), "state": "PENDING"}
        owner = run or next(iter(self.runs.values()))
        same = next((a for r in self.runs.values() for a in r.artifacts
                     if a["name"] == art["name"] and a["digest"] == art["digest"]), None)
        if same is not None:  # W&B de-duplicates by digest: the same version comes back
            art = same
        else:
            owner.artifacts.append(art)
        return {"createArtifact": {"artifact": {"id": art["id"], "state": art["state"],
                                                "artifactSequence": {"latestArtifact": None}}}}

    def op_CreateArtifactManifest(self, v, base):
        return {"createArtifactManifest": {"artifactManifest": {"id": "m1", "file": {
            "id": "f1", "uploadUrl": f"{base}/upload/manifest", "uploadHeaders": []}}}}

    def op_CreateArtifactFiles(self, v, base):
        files = v["input"]["artifactFiles"]
        return {"createArtifactFiles": {"files": {"edges": [{"node": {
            "storagePath": f"artifacts/{f['name']}", "uploadUrl": f"{base}/upload/{f['name']}",
            "uploadHeaders": [], "uploadMultipartUrls": None,
            "artifact": {"id": f["artifactID"]}}} for f in files]}}}

    def op_CommitArtifact(self, v, base):
        run, art = self._artifact(v["artifactID"])
        art["state"] = "COMMITTED"
        return {"commitArtifact": {"artifact": {"id": art["id"], "digest": art["digest"]}}}

    def op_ArtifactByID(self, v, base):
        run, art = self._artifact(v["id"])
        return {"artifact": self._artifact_node(run, art)}

    def op_FetchOrgInfoFromEntity(self, v, base):
        org = {"name": "alice-org", "orgEntity": {"name": "alice-org"}}
        return {"entity": {"organization": None, "user": {"organizations": [org]}}}

    def op_LinkArtifact(self, v, base):
        data = v.get("input") or v
        artifact_id = data.get("artifactID")
        target = (data.get("projectName"), data.get("artifactPortfolioName"))
        same = [link for link in self.links if (link["project"], link["collection"]) == target]
        link = next((link for link in same if link["artifact"] == artifact_id), None)
        if link is None:
            link = {"artifact": artifact_id, "entity": data.get("entityName") or ENTITY,
                    "project": target[0], "collection": target[1], "version": len(same),
                    "aliases": [], "at": time.time()}
            self.links.append(link)
        for alias in [a.get("alias") if isinstance(a, dict) else a
                      for a in data.get("aliases") or []]:
            for other in same:  # an alias points at one version of a collection
                if alias in other["aliases"]:
                    other["aliases"].remove(alias)
            link["aliases"].append(alias)
        run, art = self._artifact(artifact_id)
        membership = self._membership(link)
        membership.update({"__typename": "ArtifactCollectionMembership", "id": "m1",
                           "artifact": self._artifact_node(run, art)})
        return {"result": {"versionIndex": link["version"], "artifactMembership": membership}}

    # --- agents: W&B's engine hands out the runs, as the server does ----------------------------

    def op_CreateAgent(self, v, base):
        agent_id = new_id()
        self.agents[agent_id] = {"sweep": v["sweep"], "host": v["host"], "runs": []}
        return {"createAgent": {"agent": {"id": agent_id}}}

    def op_Heartbeat(self, v, base):
        import sweeps

        agent = self.agents[v["id"]]
        running = json.loads(v.get("runState") or "{}")
        for run_id in agent["runs"]:  # a run whose process ended without completing its stream
            run = self.runs.get(run_id)
            if run and run.state == "running" and run_id not in running:
                run.state = "crashed"
        sweep = self.sweeps[agent["sweep"]]
        if sweep.state in ("FINISHED", "CANCELED"):
            return {"agentHeartbeat": {"agent": {"id": v["id"]},
                                       "commands": json.dumps([{"type": "exit"}])}}
        if running or sweep.state != "RUNNING":
            return {"agentHeartbeat": {"agent": {"id": v["id"]}, "commands": "[]"}}
        done = [sweeps.SweepRun(name=r.id, state=r.state, config=r.config,
                                summaryMetrics=r.summary)
                for r in self.runs.values() if r.sweep == sweep.id]
        cap = sweep.config.get("run_cap")
        suggestion = None if cap and len(done) >= cap else sweeps.next_run(sweep.config, done)
        if suggestion is None:  # the server ends a sweep with nothing left to run
            sweep.state = "FINISHED"
            command = {"type": "exit"}
        else:
            run = Run(new_id(), sweep.entity, sweep.project, sweep.id, suggestion.config)
            self.runs[run.id] = run
            agent["runs"].append(run.id)
            command = {"type": "run", "run_id": run.id, "program": sweep.config.get("program"),
                       "args": suggestion.config}
        return {"agentHeartbeat": {"agent": {"id": v["id"]}, "commands": json.dumps([command])}}

    # --- online runs (wandb-core) ---------------------------------------------------------------

    def op_UpsertBucket(self, v, base):
        run = self.runs.get(v.get("name") or "")
        if run is None:
            run = Run(v.get("name") or new_id(), v.get("entity") or ENTITY,
                      v.get("project") or "uncategorized", v.get("sweep"), {})
            self.runs[run.id] = run
        if v.get("config"):
            config = json.loads(v["config"])
            config.pop("_wandb", None)
            run.config.update(config)
        return {"upsertBucket": {"bucket": {
            "id": "b1", "name": run.id, "displayName": f"run-{run.id}", "description": None,
            "config": json.dumps(run.config), "sweepName": run.sweep, "historyLineCount": 0,
            "project": {"id": "p1", "name": run.project,
                        "entity": {"id": "e1", "name": run.entity}}}, "inserted": True}}

    def op_CreateRunFiles(self, v, base):
        return {"createRunFiles": {"runID": "b1", "uploadHeaders": [], "files": [
            {"name": n, "uploadUrl": f"{base}/upload/{n}"} for n in v["files"]]}}

    def file_stream(self, run_id: str, body: dict) -> None:
        run = self.runs.get(run_id)
        if run is None:
            return
        files = body.get("files") or {}
        for line in (files.get("wandb-history.jsonl") or {}).get("content", []):
            run.history.append(json.loads(line))
        for line in (files.get("wandb-summary.json") or {}).get("content", []):
            run.summary = json.loads(line)
        if body.get("complete"):
            run.state = "finished" if body.get("exitcode") in (0, None) else "failed"


def _handler(standin: StandIn):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def _reply(self, payload: dict | None, status: int = 200) -> None:
            body = json.dumps(payload or {}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _read(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self._read()
            base = f"http://{self.headers['Host']}"
            auth = self.headers.get("Authorization", "")
            if self.path.startswith("/graphql"):
                payload = json.loads(body)
                query = payload.get("query", "")
                match = _OPERATION.search(query)
                operation = payload.get("operationName") or (match[2] if match else "?")
                variables = payload.get("variables") or {}
                with standin.lock:
                    standin.requests.append(Request("POST", self.path, operation, variables,
                                                    auth, body))
                    try:
                        data = standin.graphql(operation, variables, base)
                    except Exception as exc:  # a stand-in gap: fail the call, not the server
                        traceback.print_exc()
                        self._reply({"errors": [{"message": f"stand-in: {exc!r}"}]}, 400)
                        return
                self._reply({"data": data})
                return
            with standin.lock:
                standin.requests.append(Request("POST", self.path, None, {}, auth, body))
                match = re.match(r"^/files/[^/]+/[^/]+/([^/]+)/file_stream", self.path)
                if match:
                    standin.file_stream(match[1], json.loads(body or b"{}"))
            self._reply({"exitcode": None, "limits": {}})

        def do_PUT(self) -> None:  # noqa: N802
            body = self._read()
            with standin.lock:
                standin.requests.append(Request("PUT", self.path, None, {}, "", body))
            self._reply({})

        def do_GET(self) -> None:  # noqa: N802
            with standin.lock:
                standin.requests.append(Request("GET", self.path, None, {},
                                                self.headers.get("Authorization", ""), b""))
            self._reply({}, status=404)

    return Handler

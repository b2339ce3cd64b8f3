"""Serving optuna-dashboard over sweeper's records, on localhost, read-only.

optuna-dashboard (maintained, with the run table, charts by step, best so far, parallel
coordinates and parameter importance, and live updates) does the viewing; this module only hands
it :class:`SweeperStorage` and guards the door: anything but reading is refused with 403.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from ._bridge import SweeperStorage

LIVE_SCRIPT = "/sweeper/live.js"
# optuna-dashboard's study page polls every 10 s; a run or a step should show within 5 s. Its
# own trial list already polls every 2 s for small studies: the study page gets 3 s.
LIVE_JS = b"""(function () {
  var set = window.setInterval;
  window.setInterval = function (fn, ms) {
    var rest = Array.prototype.slice.call(arguments, 2);
    return set.apply(window, [fn, ms === 10000 ? 3000 : ms].concat(rest));
  };
})();
"""


def _respond(start_response: Callable, status: str, body: bytes, kind: str) -> list[bytes]:
    start_response(status, [("Content-Type", kind), ("Content-Length", str(len(body))),
                            ("Cache-Control", "no-store")])
    return [body]


def app(storage: SweeperStorage) -> Callable:
    """The dashboard as a WSGI application that only reads."""
    from optuna_dashboard import wsgi

    dashboard = wsgi(storage)

    def read_only(environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if environ.get("REQUEST_METHOD", "GET") not in ("GET", "HEAD"):
            body = json.dumps({"reason": "the sweeper dashboard is read-only: change sweeps "
                                         "with the sweeper CLI"}).encode()
            return _respond(start_response, "403 Forbidden", body, "application/json")
        if path == LIVE_SCRIPT:
            return _respond(start_response, "200 OK", LIVE_JS, "text/javascript")
        if not path.startswith("/dashboard"):
            return dashboard(environ, start_response)
        captured: dict = {}

        def capture(status, headers, exc_info=None):
            captured.update(status=status, headers=headers)
            return lambda data: None

        body = b"".join(dashboard(environ, capture))
        if b"<head>" in body:  # the page: load the live-update script before the app's bundle
            body = body.replace(b"<head>", f'<head><script src="{LIVE_SCRIPT}"></script>'
                                .encode(), 1)
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        start_response(captured["status"], [*headers, ("Content-Length", str(len(body)))])
        return [body]

    return read_only


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True  # a chart being drawn never holds the next poll back


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the stdlib's name
        pass


class Dashboard:
    """A running dashboard: ``url``, and ``stop()``; ``serve_forever()`` blocks."""

    def __init__(self, storage: SweeperStorage, host: str = "127.0.0.1", port: int = 8080):
        self.server = make_server(host, port, app(storage), server_class=_Server,
                                  handler_class=_QuietHandler)
        self.host, self.port = host, self.server.server_address[1]
        self.url = f"http://{host}:{self.port}/dashboard"
        self._thread: threading.Thread | None = None

    def start(self) -> Dashboard:
        """Serve in a background thread (tests, notebooks)."""
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self.server.serve_forever()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

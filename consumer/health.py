"""The consumer's small HTTP server: `/metrics`, `/healthz` and `/readyz` on METRICS_PORT."""

from __future__ import annotations

import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from consumer.worker import Worker
from resizeq.storage import Storage

logger = logging.getLogger(__name__)

# The worker's loop ticks every fraction of a second; this long without a tick means stuck.
STALLED_AFTER_S = 60.0


class HealthServer:
    """Serves the probes and metrics from a daemon thread."""

    def __init__(self, port: int, worker: Worker, storage: Storage) -> None:
        self.worker = worker
        self.storage = storage
        handler = type("Handler", (_Handler,), {"health": self})
        self.server = ThreadingHTTPServer(("0.0.0.0", port), handler)
        self.server.daemon_threads = True

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def start(self) -> None:
        threading.Thread(target=self.server.serve_forever, name="health", daemon=True).start()
        logger.info("serving /metrics, /healthz and /readyz on port %d", self.port)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def liveness_problem(self) -> str | None:
        stalled_s = time.monotonic() - self.worker.last_tick
        if stalled_s > STALLED_AFTER_S:
            return f"the broker loop has not run for {stalled_s:.0f} s"
        return None

    def readiness_problem(self) -> str | None:
        if not self.worker.connected:
            return "the broker is not reachable"
        return self.storage.check_writable()


class _Handler(BaseHTTPRequestHandler):
    health: HealthServer

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            self._send(200, generate_latest(), CONTENT_TYPE_LATEST)
        elif path == "/healthz":
            self._send_probe(self.health.liveness_problem(), "alive")
        elif path == "/readyz":
            self._send_probe(self.health.readiness_problem(), "ready")
        else:
            self._send_json(404, {"detail": f"no such path {path[:64]!r}"})

    def _send_probe(self, problem: str | None, good: str) -> None:
        if problem:
            self._send_json(503, {"detail": problem})
        else:
            self._send_json(200, {"status": good})

    def _send_json(self, status: int, body: dict[str, str]) -> None:
        self._send(status, json.dumps(body).encode(), "application/json")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        logger.debug("health: " + format, *args)

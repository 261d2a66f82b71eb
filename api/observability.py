"""ASGI middleware that gives every request an id and records its route, status and time."""

from __future__ import annotations

import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.metrics import http_request_duration_seconds, http_requests_total
from resizeq.logs import request_id_var

REQUEST_ID_HEADER = b"x-request-id"
SAFE_REQUEST_ID = re.compile(rb"^[A-Za-z0-9._-]{1,64}$")


def _request_id(scope: Scope) -> str:
    """The caller's X-Request-ID when it is safe to log, else a fresh one."""
    for name, value in scope.get("headers", []):
        if name == REQUEST_ID_HEADER and SAFE_REQUEST_ID.match(value):
            return str(value.decode())
    return uuid.uuid4().hex[:16]


def _route_template(scope: Scope) -> str:
    """The matched route's path template, so label values stay bounded."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"


class RequestObservability:
    """Sets the request id for logs and the response, and counts and times the request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        request_id = _request_id(scope)
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status_code = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
                message["headers"] = [*message.get("headers", []),
                                      (REQUEST_ID_HEADER, request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route, method = _route_template(scope), scope["method"]
            http_requests_total.labels(route, method, f"{status_code // 100}xx").inc()
            http_request_duration_seconds.labels(route, method).observe(
                time.perf_counter() - started
            )
            request_id_var.reset(token)

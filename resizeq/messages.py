"""The message format: image bytes as the body, the resize parameters as AMQP headers.

The body is the uploaded file exactly as received (no base64, no JSON envelope), so a
16 MiB upload costs 16 MiB on the wire. `message_id` is the job id; the parameters travel
as headers so a consumer can route or reject a job before it decodes a single byte.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal, cast, get_args

import pika

from resizeq.errors import ImageRejected

ResizeMode = Literal["stretch", "fit", "fill"]
OutputFormat = Literal["jpeg", "png", "webp"]

RESIZE_MODES: tuple[str, ...] = get_args(ResizeMode)
OUTPUT_FORMATS: tuple[str, ...] = get_args(OutputFormat)

MEDIA_TYPES: dict[str, str] = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
FILE_EXTENSIONS: dict[str, str] = {"jpeg": "jpg", "png": "png", "webp": "webp"}

PERSISTENT = 2


@dataclass(frozen=True)
class ResizeRequest:
    """What the client asked for: exactly `width` x `height` pixels in `format`."""

    width: int
    height: int
    mode: ResizeMode
    format: OutputFormat


@dataclass(frozen=True)
class Job:
    """One accepted upload on its way through the queue."""

    id: str
    request: ResizeRequest
    source_format: str
    accepted_at: float


def job_properties(job: Job) -> pika.BasicProperties:
    """The AMQP properties that carry everything about `job` except the image itself."""
    request = job.request
    return pika.BasicProperties(
        message_id=job.id,
        delivery_mode=PERSISTENT,
        content_type="application/octet-stream",
        timestamp=int(job.accepted_at),
        app_id="resizeq-api",
        headers={
            "width": request.width,
            "height": request.height,
            "mode": request.mode,
            "format": request.format,
            "source-format": job.source_format,
            "accepted-at-ms": int(job.accepted_at * 1000),
        },
    )


def job_from_properties(properties: pika.BasicProperties) -> Job:
    """Rebuild a job from a delivery's properties; a malformed message is rejected."""
    headers: dict[str, Any] = properties.headers or {}
    job_id = properties.message_id
    if not isinstance(job_id, str) or not job_id:
        raise ImageRejected("message has no message_id, expected the job id")

    try:
        request = ResizeRequest(
            width=_positive(headers["width"], "width"),
            height=_positive(headers["height"], "height"),
            mode=cast(ResizeMode, _member(headers["mode"], RESIZE_MODES, "mode")),
            format=cast(OutputFormat, _member(headers["format"], OUTPUT_FORMATS, "format")),
        )
    except KeyError as missing:
        raise ImageRejected(f"message {job_id!r} lacks the header {missing}") from None

    accepted_at_ms = headers.get("accepted-at-ms")
    accepted_at = accepted_at_ms / 1000 if isinstance(accepted_at_ms, int) else time.time()
    source_format = str(headers.get("source-format", "unknown"))
    return Job(job_id, request, source_format, accepted_at)


def _positive(value: object, name: str) -> int:
    if not isinstance(value, int) or value < 1:
        raise ImageRejected(f"header {name}={value!r} is not a positive whole number")
    return value


def _member(value: object, allowed: tuple[str, ...], name: str) -> str:
    text = value.decode() if isinstance(value, bytes) else value
    if text not in allowed:
        raise ImageRejected(f"header {name}={value!r} is not one of {', '.join(allowed)}")
    return str(text)

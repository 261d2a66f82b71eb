"""Accepting one upload: read it within the limits, validate it, record it, publish it."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from api.metrics import publish_duration_seconds, upload_size_bytes, uploads_total
from api.multipart import check_declared_length, multipart_boundary, read_form
from api.publisher import Publisher
from api.validation import InvalidParameters, inspect_upload
from resizeq.errors import BrokerUnavailable, InvalidUpload, StorageUnavailable
from resizeq.logs import job_id_var
from resizeq.messages import Job
from resizeq.settings import Settings
from resizeq.storage import JobRecord, Storage, queued_record

logger = logging.getLogger(__name__)

# After refusing an oversized upload the API keeps reading (and discarding) this much of
# the body, so that clients which send everything before reading still see the 413.
DRAIN_LIMIT_BYTES = 64 * 1024 * 1024
DRAIN_LIMIT_S = 10.0


@dataclass(frozen=True)
class Services:
    """What the routes share: settings, the job store and the publisher pool."""

    settings: Settings
    storage: Storage
    publisher: Publisher


async def accept_upload(request: Request, services: Services) -> JobRecord:
    """Queue the uploaded image; returns the `queued` record once the broker confirmed it."""
    image_bytes, fields = await _read_upload(request, services.settings)
    upload_size_bytes.observe(len(image_bytes))
    resize_request, source_format = inspect_upload(image_bytes, fields, services.settings)

    job = Job(uuid.uuid4().hex, resize_request, source_format, time.time())
    job_id_var.set(job.id)
    record = queued_record(job)
    try:
        await run_in_threadpool(services.storage.write_record, record)
    except OSError as error:
        raise StorageUnavailable(f"storage is not writable: {error.strerror or error}") from None

    try:
        with publish_duration_seconds.time():
            await services.publisher.publish(job, image_bytes)
    except BrokerUnavailable:
        await run_in_threadpool(services.storage.delete_record, job.id)
        raise

    uploads_total.labels("accepted", "none").inc()
    logger.info("job %r queued: %s %d bytes -> %s %dx%d %s", job.id, source_format,
                len(image_bytes), resize_request.format, resize_request.width,
                resize_request.height, resize_request.mode)
    return record


async def _read_upload(request: Request, settings: Settings) -> tuple[bytes, dict[str, str]]:
    chunks = request.stream()
    try:
        check_declared_length(request.headers.get("content-length"), settings.max_upload_bytes)
    except InvalidUpload:
        # A client waiting for 100 Continue has sent nothing, so there is nothing to drain.
        if request.headers.get("expect", "").lower() != "100-continue":
            await _discard_rest(chunks)
        raise

    try:
        boundary = multipart_boundary(request.headers.get("content-type"))
        form = await read_form(chunks, boundary, settings.max_upload_bytes)
    except InvalidUpload as rejected:
        if rejected.status_code == 413:
            await _discard_rest(chunks)
        raise

    if form.file is None:
        raise InvalidParameters([{
            "loc": ["body", "file"], "msg": "the form has no 'file' part", "type": "missing",
            "input": None,
        }])
    return bytes(form.file), form.fields


async def _discard_rest(chunks: AsyncIterator[bytes]) -> None:
    """Read what remains of a refused body, keeping none of it, within a bound."""
    discarded, deadline = 0, time.monotonic() + DRAIN_LIMIT_S
    async for chunk in chunks:
        discarded += len(chunk)
        if discarded > DRAIN_LIMIT_BYTES or time.monotonic() > deadline:
            return

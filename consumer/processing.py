"""What happens to one job, independent of how it was delivered.

Each function returns what should become of the message (`Outcome`); `consumer.worker`
turns that into an ack or a nack on the right connection.
"""

from __future__ import annotations

import enum
import logging
import time
from typing import Any

import pika

from consumer import metrics
from resizeq.errors import ImageRejected
from resizeq.imaging import Encoding, render
from resizeq.logs import job_id_var
from resizeq.messages import FILE_EXTENSIONS, Job, job_from_properties
from resizeq.settings import Settings
from resizeq.storage import Storage, is_job_id, queued_record

logger = logging.getLogger(__name__)


class Outcome(enum.Enum):
    """What the worker tells the broker about a delivery."""

    ACK = "ack"
    REQUEUE = "requeue"
    DEAD_LETTER = "dead-letter"


class JobProcessor:
    """Resizes jobs and records their outcome; safe to call from several threads."""

    def __init__(self, settings: Settings, storage: Storage) -> None:
        self.settings = settings
        self.storage = storage
        self.encoding = Encoding(
            jpeg_quality=settings.jpeg_quality,
            webp_quality=settings.webp_quality,
            png_compress_level=settings.png_compress_level,
        )

    def process(self, properties: pika.BasicProperties, body: bytes) -> Outcome:
        """Resize one delivered job and store its result or its failure."""
        try:
            job = job_from_properties(properties)
        except ImageRejected as error:
            logger.error("message %r is malformed, dead-lettering it: %s",
                         properties.message_id, error)
            return Outcome.DEAD_LETTER

        token = job_id_var.set(job.id)
        try:
            return self._process_job(job, body)
        except OSError as error:
            logger.warning("job %r could not be stored, returning it to the queue: %s",
                           job.id, error)
            return Outcome.REQUEUE
        finally:
            job_id_var.reset(token)

    def _process_job(self, job: Job, body: bytes) -> Outcome:
        record = self.storage.read_record(job.id) or queued_record(job)
        if record.status != "queued":
            logger.info("job %r is already %s; acknowledging the duplicate", job.id, record.status)
            metrics.images_processed_total.labels("duplicate", _format(job)).inc()
            return Outcome.ACK

        metrics.queue_wait_seconds.observe(max(0.0, time.time() - job.accepted_at))
        logger.debug("job %r started", job.id)

        try:
            content = self._render(job, body)
        except ImageRejected as rejected:
            self.storage.write_record(record.finished("failed", error=str(rejected)), durable=True)
            metrics.images_processed_total.labels("failed", _format(job)).inc()
            logger.info("job %r failed: %s", job.id, rejected)
            return Outcome.ACK

        self.storage.write_result(job.id, FILE_EXTENSIONS[job.request.format], content)
        self.storage.write_record(record.finished("done", result_bytes=len(content)), durable=True)

        metrics.output_bytes_total.inc(len(content))
        metrics.end_to_end_duration_seconds.observe(max(0.0, time.time() - job.accepted_at))
        metrics.images_processed_total.labels("done", _format(job)).inc()
        logger.info("job %r done: %d bytes", job.id, len(content))
        return Outcome.ACK

    def _render(self, job: Job, body: bytes) -> bytes:
        """Decode, resize and encode, timed whether it succeeds or not."""
        started = time.perf_counter()
        try:
            with metrics.images_in_progress.track_inprogress():
                return render(body, job.request, self.settings.max_input_pixels, self.encoding)
        finally:
            metrics.resize_duration_seconds.labels(_format(job)).observe(
                time.perf_counter() - started
            )

    def fail_dead_lettered(self, properties: pika.BasicProperties) -> Outcome:
        """Mark the job of a message the broker gave up on as `failed`, saying why."""
        job_id = properties.message_id
        if not isinstance(job_id, str) or not is_job_id(job_id):
            logger.error("dead-lettered message %r has no job id; dropping it", job_id)
            return Outcome.ACK

        token = job_id_var.set(job_id)
        try:
            return self._fail_dead_lettered(job_id, properties)
        except OSError as error:
            logger.warning("job %r: cannot record its failure yet: %s", job_id, error)
            return Outcome.REQUEUE
        finally:
            job_id_var.reset(token)

    def _fail_dead_lettered(self, job_id: str, properties: pika.BasicProperties) -> Outcome:
        record = self.storage.read_record(job_id)
        if record is not None and record.status != "queued":
            return Outcome.ACK

        if record is None:
            try:
                record = queued_record(job_from_properties(properties))
            except ImageRejected:
                logger.error("dead-lettered job %r is malformed; dropping it", job_id)
                return Outcome.ACK

        reason = describe_death(properties.headers or {})
        self.storage.write_record(record.finished("failed", error=reason), durable=True)
        metrics.dead_lettered_total.inc()
        metrics.images_processed_total.labels(
            "failed", metrics.format_label(record.source_format or "unknown")
        ).inc()
        logger.warning("job %r failed: %s", job_id, reason)
        return Outcome.ACK


def describe_death(headers: dict[str, Any]) -> str:
    """A sentence from RabbitMQ's dead-lettering headers (`x-death`, `x-delivery-count`)."""
    deaths = headers.get("x-death") or [{}]
    reason = deaths[0].get("reason", headers.get("x-first-death-reason", "unknown"))
    if isinstance(reason, bytes):
        reason = reason.decode()
    if reason == "delivery_limit":
        return "gave up after the delivery limit: every attempt to process it crashed or failed"
    return f"dead-lettered by the broker ({reason})"


def _format(job: Job) -> str:
    return metrics.format_label(job.source_format)

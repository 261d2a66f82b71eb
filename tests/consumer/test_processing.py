"""One job's fate, independent of delivery: done, failed, duplicate, or handed back."""

from __future__ import annotations

import time
from pathlib import Path

import pika
import pytest

from consumer.processing import JobProcessor, Outcome, describe_death
from resizeq.messages import Job, ResizeRequest, job_properties
from resizeq.settings import Settings
from resizeq.storage import Storage
from tests.support import images


def make_job(width: int = 40, height: int = 30, output: str = "png") -> Job:
    request = ResizeRequest(width, height, "stretch", output)  # type: ignore[arg-type]
    return Job("ab" + "0" * 29 + "1", request, "png", time.time())


@pytest.fixture
def processor(tmp_path: Path) -> JobProcessor:
    return JobProcessor(Settings(storage_dir=tmp_path), Storage(tmp_path))


def test_a_job_is_resized_stored_and_recorded_done(processor: JobProcessor) -> None:
    job = make_job()
    outcome = processor.process(job_properties(job), images.image_bytes("png"))

    record = processor.storage.read_record(job.id)
    assert outcome is Outcome.ACK
    assert record is not None and record.status == "done"
    stored = processor.storage.result_path(job.id, "png").read_bytes()
    assert record.result_bytes == len(stored)
    assert images.decode(stored).size == (40, 30)


def test_a_second_delivery_of_a_done_job_is_acknowledged_without_work(
    processor: JobProcessor,
) -> None:
    job = make_job()
    processor.process(job_properties(job), images.image_bytes("png"))
    result = processor.storage.result_path(job.id, "png")
    first_write = result.stat().st_mtime_ns

    outcome = processor.process(job_properties(job), images.image_bytes("png"))
    assert outcome is Outcome.ACK
    assert result.stat().st_mtime_ns == first_write


def test_an_undecodable_image_fails_with_the_reason_and_is_acknowledged(
    processor: JobProcessor,
) -> None:
    job = make_job()
    outcome = processor.process(job_properties(job), b"\x89PNG\r\n\x1a\n" + b"\0" * 40)

    record = processor.storage.read_record(job.id)
    assert outcome is Outcome.ACK
    assert record is not None and record.status == "failed"
    assert record.error


def test_unwritable_storage_hands_the_job_back(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")
    processor = JobProcessor(Settings(storage_dir=blocked), Storage(blocked))

    outcome = processor.process(job_properties(make_job()), images.image_bytes("png"))
    assert outcome is Outcome.REQUEUE


def test_a_message_without_parameters_is_dead_lettered(processor: JobProcessor) -> None:
    properties = pika.BasicProperties(message_id="x", headers={"width": 10})
    assert processor.process(properties, b"") is Outcome.DEAD_LETTER


def test_a_dead_lettered_job_is_marked_failed_unless_it_finished(
    processor: JobProcessor,
) -> None:
    job = make_job()
    properties = job_properties(job)
    properties.headers["x-death"] = [{"reason": "delivery_limit", "queue": "q", "count": 1}]

    assert processor.fail_dead_lettered(properties) is Outcome.ACK
    record = processor.storage.read_record(job.id)
    assert record is not None and record.status == "failed"
    assert "delivery limit" in (record.error or "")


def test_death_reasons_read_as_sentences() -> None:
    assert "delivery limit" in describe_death({"x-death": [{"reason": b"delivery_limit"}]})
    assert "rejected" in describe_death({"x-first-death-reason": "rejected"})

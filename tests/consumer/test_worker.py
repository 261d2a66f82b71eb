"""The worker against the real RabbitMQ: acks, duplicates, poison messages and shutdown."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace

import pika
import pytest

from consumer.processing import JobProcessor, Outcome
from consumer.worker import Worker
from resizeq.broker import declare_topology
from resizeq.messages import Job, ResizeRequest, job_properties
from resizeq.settings import Settings
from resizeq.storage import JobRecord, Storage
from tests.support import images
from tests.support.broker import ScratchVhost

StartWorker = Callable[..., Worker]


def new_job() -> Job:
    request = ResizeRequest(32, 24, "fit", "png")
    return Job(uuid.uuid4().hex, request, "png", time.time())


def publish(settings: Settings, job: Job, body: bytes) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(settings.amqp_url))
    try:
        channel = connection.channel()
        declare_topology(channel, settings)
        channel.confirm_delivery()
        channel.basic_publish("", settings.queue_name, body, job_properties(job))
    finally:
        connection.close()


def wait_for_record(settings: Settings, job_id: str, status: str,
                    timeout_s: float = 30) -> JobRecord:
    storage, deadline = Storage(settings.storage_dir), time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        record = storage.read_record(job_id)
        if record is not None and record.status == status:
            return record
        time.sleep(0.05)
    raise TimeoutError(f"job {job_id} did not become {status} within {timeout_s} s")


@pytest.fixture
def start_worker(settings: Settings) -> Iterator[StartWorker]:
    running: list[tuple[Worker, threading.Thread]] = []

    def start(processor: JobProcessor | None = None, threads: int = 2,
              prefetch: int = 4, worker_settings: Settings | None = None) -> Worker:
        chosen = worker_settings or settings
        processor = processor or JobProcessor(chosen, Storage(chosen.storage_dir))
        worker = Worker(chosen, processor, threads, prefetch)
        thread = threading.Thread(target=worker.run, daemon=True)
        thread.start()
        running.append((worker, thread))
        deadline = time.monotonic() + 10
        while not worker.connected and time.monotonic() < deadline:
            time.sleep(0.02)
        assert worker.connected, "the worker did not connect to RabbitMQ"
        return worker

    yield start
    for worker, thread in running:
        worker.request_stop()
        thread.join(timeout=30)


class CrashingProcessor(JobProcessor):
    """Fails every delivery with an unexpected error, like a job that crashes the decoder."""

    def process(self, properties: pika.BasicProperties, body: bytes) -> Outcome:
        raise RuntimeError("boom")


class SlowProcessor(JobProcessor):
    """Takes `delay_s` longer than the real processor, to catch a job in flight."""

    delay_s = 1.5
    started = threading.Event()

    def process(self, properties: pika.BasicProperties, body: bytes) -> Outcome:
        self.started.set()
        time.sleep(self.delay_s)
        return super().process(properties, body)


def test_a_published_job_ends_done_and_leaves_the_queue(
    settings: Settings, vhost: ScratchVhost, start_worker: StartWorker
) -> None:
    start_worker()
    job = new_job()
    publish(settings, job, images.image_bytes("jpeg"))

    assert wait_for_record(settings, job.id, "done").result_bytes
    assert vhost.ready_messages(settings.queue_name) == 0


def test_a_message_delivered_twice_is_done_once(
    settings: Settings, vhost: ScratchVhost, start_worker: StartWorker
) -> None:
    job = new_job()
    publish(settings, job, images.image_bytes("png"))
    publish(settings, job, images.image_bytes("png"))
    start_worker(threads=1)

    wait_for_record(settings, job.id, "done")
    deadline = time.monotonic() + 10
    while vhost.ready_messages(settings.queue_name) and time.monotonic() < deadline:
        time.sleep(0.1)
    results = list((settings.storage_dir / "results").rglob(f"{job.id}.*"))
    assert len(results) == 1
    assert vhost.ready_messages(settings.queue_name) == 0


def test_a_poison_message_is_dead_lettered_and_its_job_failed(
    settings: Settings, vhost: ScratchVhost, start_worker: StartWorker
) -> None:
    limited = replace(settings, delivery_limit=2)
    storage = Storage(limited.storage_dir)
    job = new_job()
    publish(limited, job, images.image_bytes("png"))

    start_worker(CrashingProcessor(limited, storage), worker_settings=limited)
    record = wait_for_record(limited, job.id, "failed")

    assert "delivery limit" in (record.error or "")
    assert vhost.ready_messages(limited.queue_name) == 0
    assert vhost.ready_messages(limited.dead_letter_queue) == 0


def test_stopping_finishes_the_running_job_and_hands_back_the_waiting_one(
    settings: Settings, vhost: ScratchVhost, start_worker: StartWorker
) -> None:
    running, waiting = new_job(), new_job()
    publish(settings, running, images.image_bytes("png"))
    publish(settings, waiting, images.image_bytes("png"))

    processor = SlowProcessor(settings, Storage(settings.storage_dir))
    worker = start_worker(processor, threads=1, prefetch=2)
    assert processor.started.wait(10)
    worker.request_stop()

    wait_for_record(settings, running.id, "done", timeout_s=10)
    deadline = time.monotonic() + 10
    while vhost.ready_messages(settings.queue_name) != 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert vhost.ready_messages(settings.queue_name) == 1
    waiting_record = Storage(settings.storage_dir).read_record(waiting.id)
    assert waiting_record is None or waiting_record.status == "queued"


def test_a_resize_longer_than_three_heartbeats_keeps_the_connection(
    settings: Settings, start_worker: StartWorker, caplog: pytest.LogCaptureFixture
) -> None:
    quick_heartbeat = replace(settings, heartbeat_s=1)
    processor = SlowProcessor(quick_heartbeat, Storage(quick_heartbeat.storage_dir))
    processor.delay_s = 4.0
    job = new_job()
    publish(quick_heartbeat, job, images.image_bytes("png"))

    with caplog.at_level("INFO", logger="consumer.worker"):
        start_worker(processor, threads=1, worker_settings=quick_heartbeat)
        wait_for_record(quick_heartbeat, job.id, "done", timeout_s=20)

    connects = [r for r in caplog.records if r.getMessage().startswith("consuming")]
    losses = [r for r in caplog.records if "lost the broker" in r.getMessage()]
    assert (len(connects), losses) == (1, [])

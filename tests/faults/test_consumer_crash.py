"""Consumers killed with SIGKILL in the middle of images: every job still ends done, once."""

from __future__ import annotations

import signal
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.support import images
from tests.support.ledger import Ledger, done_counts
from tests.support.stack import AppProcess, Stack

pytestmark = pytest.mark.e2e

JOBS = 40
KILLS = 3


def wait_until_busy(consumer: AppProcess, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        metrics = httpx.get(f"{consumer.metrics_url}/metrics").text
        if "resizeq_images_in_progress 1.0" in metrics:
            return
        time.sleep(0.005)
    raise TimeoutError("the consumer never started an image")


def test_sigkill_mid_image_loses_nothing_and_duplicates_nothing(stack: Stack) -> None:
    stack.start_api()
    consumers = [stack.start_consumer(WORKER_THREADS="1") for _ in range(2)]
    # PNGs cannot be decoded at a reduced scale, so each takes long enough to be caught.
    payload = images.image_bytes("png", (3000, 2000))
    ledger = Ledger()

    with httpx.Client(base_url=stack.api_url, timeout=30) as client:
        def upload(_: int) -> None:
            ledger.record(client.post("/images", files={"file": ("a.png", payload)}))

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(upload, range(JOBS)))

        for round_number in range(KILLS):
            victim = consumers[round_number % len(consumers)]
            wait_until_busy(victim)
            victim.signal(signal.SIGKILL)
            victim.wait(timeout_s=10)
            consumers[round_number % len(consumers)] = stack.start_consumer(WORKER_THREADS="1")

        finals = ledger.final_statuses(client)

    redeliveries = sum(
        float(line.split()[-1])
        for consumer in consumers
        for line in httpx.get(f"{consumer.metrics_url}/metrics").text.splitlines()
        if line.startswith("resizeq_redeliveries_total ")
    )
    done_per_job = done_counts(*(process.log() for process in stack.processes))

    assert ledger.statuses == {202: JOBS}
    assert finals == {"done": JOBS}
    assert sorted(done_per_job) == sorted(ledger.accepted)
    assert set(done_per_job.values()) == {1}, "a job was finished twice"
    assert redeliveries >= 1

"""The broker restarted or alarmed under a burst: 202 or 503, never a hang or a 500.

These tests stop and alarm the shared RabbitMQ node, so they restore it in `finally`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.support import images
from tests.support.broker import rabbitmqctl
from tests.support.ledger import Ledger
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e

CLIENT_TIMEOUT_S = 15.0
PUBLISH_TIMEOUT_S = "3"


def wait_for_status(url: str, wanted: int, timeout_s: float) -> float:
    """Poll `url` until it answers `wanted`; returns how long that took."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        try:
            if httpx.get(url, timeout=2).status_code == wanted:
                return time.monotonic() - started
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer {wanted} within {timeout_s} s")


@pytest.fixture
def burst_stack(stack: Stack) -> Iterator[Stack]:
    stack.start_api(PUBLISH_TIMEOUT_S=PUBLISH_TIMEOUT_S)
    stack.start_consumer()
    yield stack


def upload_until(stop: threading.Event, url: str, ledger: Ledger) -> None:
    payload = images.image_bytes("jpeg", (400, 300))
    with httpx.Client(base_url=url, timeout=CLIENT_TIMEOUT_S) as client:
        while not stop.is_set():
            try:
                ledger.record(client.post("/images", files={"file": ("a.jpg", payload)}))
            except httpx.HTTPError as error:
                ledger.record_error(error)
            time.sleep(0.02)


def test_a_broker_restart_during_a_burst_loses_no_accepted_job(
    burst_stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger, stop = Ledger(), threading.Event()
    api_ready, consumer = f"{burst_stack.api_url}/readyz", burst_stack.processes[1]

    with ThreadPoolExecutor(8) as pool:
        for _ in range(8):
            pool.submit(upload_until, stop, burst_stack.api_url, ledger)
        time.sleep(1.0)
        try:
            rabbitmqctl("stop_app")
            wait_for_status(api_ready, 503, timeout_s=15)
            time.sleep(2.0)
        finally:
            rabbitmqctl("start_app")
        api_recovery_s = wait_for_status(api_ready, 200, timeout_s=60)
        wait_for_status(f"{consumer.metrics_url}/readyz", 200, timeout_s=60)
        time.sleep(1.0)
        stop.set()

    with httpx.Client(base_url=burst_stack.api_url, timeout=CLIENT_TIMEOUT_S) as client:
        finals = ledger.final_statuses(client)
    with capsys.disabled():
        print(f"\nbroker restart: statuses {dict(ledger.statuses)}, finals {dict(finals)}, "
              f"client errors {len(ledger.errors)}, API ready again {api_recovery_s:.1f} s "
              "after start_app")

    assert ledger.errors == []
    assert set(ledger.statuses) <= {202, 503}
    assert ledger.statuses[503] > 0 and ledger.statuses[202] > 0
    assert finals == {"done": len(ledger.accepted)}
    assert api_recovery_s < 30


def test_a_memory_alarm_makes_uploads_fail_after_the_timeout(burst_stack: Stack) -> None:
    payload = images.image_bytes("png")
    with httpx.Client(base_url=burst_stack.api_url, timeout=CLIENT_TIMEOUT_S) as client:
        try:
            rabbitmqctl("set_vm_memory_high_watermark", "0.0000001")
            time.sleep(2.0)
            started = time.monotonic()
            answer = client.post("/images", files={"file": ("a.png", payload)})
            elapsed_s = time.monotonic() - started
        finally:
            rabbitmqctl("set_vm_memory_high_watermark", "0.4")

        wait_for_status(f"{burst_stack.api_url}/readyz", 200, timeout_s=30)
        after = client.post("/images", files={"file": ("a.png", payload)})

    assert answer.status_code == 503
    assert "retry-after" in answer.headers
    assert elapsed_s < float(PUBLISH_TIMEOUT_S) + 2
    assert after.status_code == 202

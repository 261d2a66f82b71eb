"""A full queue and an unreachable broker become 503 with Retry-After, never a hang or a 500."""

from __future__ import annotations

import time
from dataclasses import replace

from fastapi.testclient import TestClient

from api.main import create_app
from resizeq.settings import Settings
from tests.support import images
from tests.support.broker import ScratchVhost


def post_image(client: TestClient) -> object:
    return client.post("/images", files={"file": ("a.png", images.image_bytes("png"))})


def test_a_full_queue_turns_into_503_and_the_job_is_forgotten(
    settings: Settings, vhost: ScratchVhost
) -> None:
    bounded = replace(settings, queue_max_length=2)
    with TestClient(create_app(bounded)) as client:
        answers = [post_image(client) for _ in range(5)]
        codes = [answer.status_code for answer in answers]  # type: ignore[attr-defined]
        refused = answers[-1]
        metrics = client.get("/metrics").text

    # A quorum queue refuses publishes once it holds more than its limit, so one message
    # beyond QUEUE_MAX_LENGTH gets in (the README says so).
    accepted = codes.count(202)
    assert codes == [202] * accepted + [503] * (5 - accepted)
    assert accepted == 3
    assert refused.headers["retry-after"] == "5"  # type: ignore[attr-defined]
    assert refused.json()["detail"] == "the queue is full"  # type: ignore[attr-defined]
    assert vhost.ready_messages(bounded.queue_name) == accepted
    assert 'resizeq_uploads_total{outcome="unavailable",reason="queue_full"} 2.0' in metrics
    assert len(list((bounded.storage_dir / "jobs").rglob("*.json"))) == accepted


def test_an_unreachable_broker_answers_503_at_once_and_readyz_says_why(
    settings: Settings,
) -> None:
    unreachable = replace(settings, amqp_url="amqp://guest:guest@127.0.0.1:1/%2F")
    with TestClient(create_app(unreachable)) as client:
        started = time.monotonic()
        answer = post_image(client)
        elapsed_s = time.monotonic() - started
        ready = client.get("/readyz")

    assert answer.status_code == 503  # type: ignore[attr-defined]
    assert answer.headers["retry-after"] == "5"  # type: ignore[attr-defined]
    assert elapsed_s < 1.0
    assert ready.status_code == 503
    assert "broker" in ready.json()["detail"]


def test_unwritable_storage_makes_readyz_fail(settings: Settings) -> None:
    settings.storage_dir.parent.mkdir(parents=True, exist_ok=True)
    settings.storage_dir.write_text("a file where the directory should be")
    with TestClient(create_app(settings)) as client:
        ready = client.get("/readyz")
    assert ready.status_code == 503
    assert "not writable" in ready.json()["detail"]


def test_unwritable_storage_refuses_uploads_with_503(settings: Settings) -> None:
    settings.storage_dir.mkdir(parents=True)
    (settings.storage_dir / "jobs").write_text("a file where the directory should be")
    with TestClient(create_app(settings)) as client:
        answer = post_image(client)
    assert answer.status_code == 503  # type: ignore[attr-defined]
    assert answer.headers["retry-after"] == "5"  # type: ignore[attr-defined]
    assert "not writable" in answer.json()["detail"]  # type: ignore[attr-defined]

"""End to end: real uvicorn and consumer processes, real RabbitMQ, uploads over HTTP."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.support import images
from tests.support.stack import Stack, wait_for_job

pytestmark = pytest.mark.e2e

MODES = ("stretch", "fit", "fill")
OUTPUTS = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}


def upload(client: httpx.Client, content: bytes, path: str = "/images",
           headers: dict[str, str] | None = None, **fields: str) -> httpx.Response:
    return client.post(path, files={"file": ("upload.bin", content)}, data=fields,
                       headers=headers)


@pytest.fixture
def running(stack: Stack) -> Stack:
    stack.start_api()
    stack.start_consumer()
    return stack


def test_every_format_mode_and_output_ends_done_with_the_asked_size(running: Stack) -> None:
    with httpx.Client(base_url=running.api_url, timeout=30) as client:
        accepted = []
        for source_format in images.SOURCE_FORMATS:
            for mode in MODES:
                for output in OUTPUTS:
                    answer = upload(client, images.image_bytes(source_format), mode=mode,
                                    format=output, width="97", height="61")
                    assert answer.status_code == 202, answer.text
                    assert answer.headers["location"] == f"/images/{answer.json()['id']}"
                    accepted.append((answer.json()["id"], output))

        for job_id, output in accepted:
            record = wait_for_job(client, job_id)
            assert record["status"] == "done", record
            content = client.get(f"/images/{job_id}/content")
            assert content.status_code == 200
            assert content.headers["content-type"] == f"image/{output}"
            result = images.decode(content.content)
            assert (result.format, result.size) == (OUTPUTS[output], (97, 61))


def test_the_original_upload_route_and_default_size(running: Stack) -> None:
    with httpx.Client(base_url=running.api_url, timeout=30) as client:
        answer = upload(client, images.image_bytes("gif"), path="/uploadfile/")
        assert answer.status_code == 202, answer.text
        record = wait_for_job(client, answer.json()["id"])

        assert record["status"] == "done"
        assert (record["width"], record["height"], record["format"]) == (384, 384, "png")
        result = images.decode(client.get(f"/images/{record['id']}/content").content)
        assert (result.format, result.size) == ("PNG", (384, 384))


def test_exif_orientation_is_applied_before_resizing(running: Stack) -> None:
    with httpx.Client(base_url=running.api_url, timeout=30) as client:
        answer = upload(client, images.with_orientation(6), width="100", height="200",
                        format="png")
        record = wait_for_job(client, answer.json()["id"])
        result = images.decode(client.get(f"/images/{record['id']}/content").content)

    # Orientation 6 turns the stored left (red) half into the displayed top half.
    assert result.size == (100, 200)
    assert images.is_close(result.getpixel((50, 20)), images.RED)
    assert images.is_close(result.getpixel((50, 180)), images.BLUE)


def test_twenty_concurrent_uploads_all_end_done(running: Stack) -> None:
    payload = images.image_bytes("jpeg", (1600, 1200))

    def upload_and_wait(index: int) -> str:
        with httpx.Client(base_url=running.api_url, timeout=60) as client:
            answer = upload(client, payload, width=str(50 + index))
            assert answer.status_code == 202, answer.text
            return str(wait_for_job(client, answer.json()["id"])["status"])

    with ThreadPoolExecutor(20) as pool:
        statuses = list(pool.map(upload_and_wait, range(20)))
    assert statuses == ["done"] * 20


def test_an_undecodable_image_ends_failed_with_the_reason(running: Stack) -> None:
    truncated = images.image_bytes("png", (400, 400))[:300]
    with httpx.Client(base_url=running.api_url, timeout=30) as client:
        answer = upload(client, truncated)
        assert answer.status_code == 202, answer.text
        record = wait_for_job(client, answer.json()["id"])
        content = client.get(f"/images/{record['id']}/content")

    assert record["status"] == "failed"
    assert "decoded" in str(record["error"])
    assert content.status_code == 409


def test_sigterm_lets_the_consumer_exit_zero(running: Stack) -> None:
    consumer = running.processes[-1]
    consumer.signal(15)
    assert consumer.wait(timeout_s=30) == 0
    assert "consumer stopped" in consumer.log()


def test_sigterm_during_a_resize_finishes_it_before_exiting(stack: Stack) -> None:
    stack.start_api()
    consumer = stack.start_consumer(WORKER_THREADS="1")
    # A 48 MP PNG cannot be decoded at a reduced scale, so its resize takes a while.
    large = images.image_bytes("png", (8000, 6000))

    with httpx.Client(base_url=stack.api_url, timeout=60) as client:
        job_id = upload(client, large).json()["id"]
        wait_until_in_progress(consumer.metrics_url)
        consumer.signal(15)

        assert consumer.wait(timeout_s=60) == 0
        assert client.get(f"/images/{job_id}").json()["status"] == "done"


def wait_until_in_progress(metrics_url: str, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if "resizeq_images_in_progress 1.0" in httpx.get(f"{metrics_url}/metrics").text:
            return
        time.sleep(0.01)
    raise TimeoutError("the consumer never started the image")


def test_json_logs_let_one_grep_follow_a_job_through_both_apps(stack: Stack) -> None:
    stack.start_api(LOG_FORMAT="json")
    consumer = stack.start_consumer(LOG_FORMAT="json")

    with httpx.Client(base_url=stack.api_url, timeout=30) as client:
        answer = upload(client, images.image_bytes("png"), headers={"X-Request-ID": "trace-42"})
        job_id = answer.json()["id"]
        wait_for_job(client, job_id)
    consumer.stop()

    api_entries = [json.loads(line) for line in stack.processes[0].log().splitlines()
                   if line.startswith("{")]
    consumer_entries = [json.loads(line) for line in consumer.log().splitlines()
                        if line.startswith("{")]
    queued = [entry for entry in api_entries
              if entry["job_id"] == job_id and entry["logger"] == "api.uploads"]
    done = [entry for entry in consumer_entries if entry["job_id"] == job_id]

    assert answer.headers["x-request-id"] == "trace-42"
    assert [entry["request_id"] for entry in queued] == ["trace-42"]
    assert "queued" in queued[0]["message"] and queued[0]["level"] == "info"
    assert len(done) == 1 and "done" in done[0]["message"]
    access = [entry for entry in api_entries if entry["logger"] == "uvicorn.access"]
    assert any(entry["request_id"] == "trace-42" for entry in access)

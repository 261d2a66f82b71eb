"""Storage the consumer cannot write: the job is never reported done until it can be."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.support import images
from tests.support.stack import Stack, wait_for_job

pytestmark = pytest.mark.e2e


def test_unwritable_results_keep_the_job_queued_then_it_completes(stack: Stack) -> None:
    stack.start_api()
    consumer = stack.start_consumer()
    results = stack.storage_dir / "results"
    results.mkdir(parents=True, exist_ok=True)
    results.rename(stack.storage_dir / "results.away")
    results.write_text("a file where the results directory should be")

    with httpx.Client(base_url=stack.api_url, timeout=30) as client:
        job_id = client.post("/images", files={"file": ("a.png", images.image_bytes("png"))}
                             ).json()["id"]
        time.sleep(1.5)
        while_broken = client.get(f"/images/{job_id}").json()["status"]
        readiness = httpx.get(f"{consumer.metrics_url}/readyz")

        results.unlink()
        record = wait_for_job(client, job_id, timeout_s=30)

    assert while_broken == "queued"
    assert readiness.status_code == 503
    assert "not writable" in readiness.json()["detail"]
    assert record["status"] == "done"
    assert "could not be stored" in consumer.log()

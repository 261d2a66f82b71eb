"""A bounded load test: 2,000 uploads at concurrency 32, with a ledger of every job."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.support import images
from tests.support.ledger import Ledger, done_counts
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e

UPLOADS = 2000
CONCURRENCY = 32


def peak_rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise LookupError("no VmHWM in /proc status")


def test_two_thousand_uploads_lose_nothing(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    stack.start_api()
    stack.start_consumer()
    stack.start_consumer()
    payload = images.image_bytes("jpeg", (640, 480))
    ledger = Ledger()
    started = time.monotonic()

    def upload_share(worker: int) -> None:
        with httpx.Client(base_url=stack.api_url, timeout=30) as client:
            for _ in range(worker, UPLOADS, CONCURRENCY):
                try:
                    ledger.record(client.post("/images", files={"file": ("a.jpg", payload)}))
                except httpx.HTTPError as error:
                    ledger.record_error(error)

    with ThreadPoolExecutor(CONCURRENCY) as pool:
        list(pool.map(upload_share, range(CONCURRENCY)))
    with httpx.Client(base_url=stack.api_url, timeout=30) as client:
        finals = ledger.final_statuses(client, timeout_s=300)
    elapsed_s = time.monotonic() - started

    done_per_job = done_counts(*(process.log() for process in stack.processes[1:]))
    api_rss, *consumer_rss = (peak_rss_mib(p.process.pid) for p in stack.processes)
    with capsys.disabled():
        print(f"\nload: {UPLOADS} uploads at concurrency {CONCURRENCY} in {elapsed_s:.1f} s; "
              f"statuses {dict(ledger.statuses)}; finals {dict(finals)}; "
              f"lost {UPLOADS - sum(finals.values())}; "
              f"duplicated {sum(1 for count in done_per_job.values() if count > 1)}; "
              f"peak RSS: API {api_rss:.0f} MiB, consumers "
              + ", ".join(f"{rss:.0f} MiB" for rss in consumer_rss))

    assert ledger.errors == [] and ledger.server_errors == 0
    assert ledger.statuses == {202: UPLOADS}
    assert finals == {"done": UPLOADS}
    assert len(done_per_job) == UPLOADS and set(done_per_job.values()) == {1}
    assert api_rss < 300 and max(consumer_rss) < 300

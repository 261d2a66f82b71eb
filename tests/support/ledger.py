"""A ledger of accepted jobs: every id the API accepted must end done or failed, once."""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx

DONE_LINE = re.compile(r"job '([0-9a-f]{32})' done:")


@dataclass
class Ledger:
    """What clients were told (status codes, accepted ids) and what became of the jobs."""

    accepted: list[str] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, answer: httpx.Response) -> None:
        with self.lock:
            self.statuses[answer.status_code] += 1
            if answer.status_code == 202:
                self.accepted.append(answer.json()["id"])
            elif answer.status_code == 503 and "retry-after" not in answer.headers:
                self.errors.append("a 503 without Retry-After")

    def record_error(self, error: Exception) -> None:
        with self.lock:
            self.errors.append(repr(error))

    @property
    def server_errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if status >= 500
                   and status != 503)

    def final_statuses(self, client: httpx.Client, timeout_s: float = 120) -> Counter[str]:
        """Poll every accepted id until none is queued; count their final statuses."""
        deadline = time.monotonic() + timeout_s
        pending, finals = list(self.accepted), Counter[str]()
        while pending and time.monotonic() < deadline:
            still_queued = []
            for job_id in pending:
                status = client.get(f"/images/{job_id}").json().get("status", "missing")
                if status == "queued":
                    still_queued.append(job_id)
                else:
                    finals[status] += 1
            pending = still_queued
            if pending:
                time.sleep(0.2)
        if pending:
            finals["queued"] = len(pending)
        return finals


def done_counts(*logs: str) -> Counter[str]:
    """How many times each job was logged `done` across the consumers' logs."""
    return Counter(match for log in logs for match in DONE_LINE.findall(log))

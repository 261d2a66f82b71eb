"""Consumers scaled the way the chart's KEDA ScaledObject scales them, on a real backlog.

With the consumers stopped, a backlog is uploaded through the API; the queue length is read
from RabbitMQ with rabbitmqctl, and N = ceil(length / queueLength), bounded by maxReplicas,
consumers are started at once, each with one worker thread as a pod with the chart's CPU
limit of 1 gets. The drain rate is the number of jobs finished per second between the first
and the last completion, taken from the job records, so process start-up is not counted.
"""

from __future__ import annotations

import json
import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench import e2e
from bench.harness import Vhost, queue_length
from tests.support.stack import AppProcess, Stack, consumer_command, free_port

# The chart's defaults (deploy/helm/resizeq/values.yaml): keda.queueLength and
# consumer.autoscaling.maxReplicas; the consumer's CPU limit of 1 gives one worker thread.
QUEUE_LENGTH_PER_CONSUMER = 20
MAX_REPLICAS = 10
DRAIN_TIMEOUT_S = 300.0
UPLOAD_CLIENTS = 8


@dataclass
class DrainResult:
    backlog: int
    queue_length: int
    consumers: int
    seconds: float
    jobs_per_s: float
    uploads_per_s: float


def replicas_for(length: int) -> int:
    """What KEDA's queueLength trigger asks for: ceil(length / value), within 1..max."""
    return max(1, min(MAX_REPLICAS, math.ceil(length / QUEUE_LENGTH_PER_CONSUMER)))


def drain(vhost: Vhost, workdir: Path, content: bytes, backlog: int,
          consumers: int | None = None, threads: int = 1) -> DrainResult:
    """Build `backlog` jobs with no consumer, then drain them with N consumers.

    `threads` is each consumer's WORKER_THREADS (0: sized from the CPUs, the default).
    """
    with e2e.resizeq_stack(vhost, workdir, consumers=0) as (_, stack):
        started = time.monotonic()
        job_ids = _upload(stack.api_url, content, backlog)
        uploads_per_s = backlog / (time.monotonic() - started)
        length = queue_length(vhost, stack.queue_name)
        count = consumers or replicas_for(length)
        _start_consumers(stack, count, threads)
        finished = _wait_done(stack.storage_dir, job_ids)

    seconds = max(finished) - min(finished)
    return DrainResult(backlog, length, count, seconds, (len(finished) - 1) / seconds,
                       uploads_per_s)


def _upload(api_url: str, content: bytes, count: int) -> list[str]:
    """Upload `count` jobs from UPLOAD_CLIENTS clients, each keeping its connection."""
    clients = threading.local()

    def one(_: int) -> str:
        if not hasattr(clients, "http"):
            clients.http = httpx.Client(base_url=api_url, timeout=60)
        answer = clients.http.post("/images", files={"file": ("photo.jpg", content)})
        answer.raise_for_status()
        return str(answer.json()["id"])

    with ThreadPoolExecutor(UPLOAD_CLIENTS) as pool:
        return list(pool.map(one, range(count)))


def _start_consumers(stack: Stack, count: int, threads: int) -> None:
    """Start all N at once, as a scale-out does, then wait until each is ready."""
    started = [_scaled_consumer(stack, index, threads) for index in range(count)]
    for index, process in enumerate(started):
        try:
            _wait_ready(process)
        except TimeoutError:
            if e2e.PORT_TAKEN not in process.log().lower():
                raise
            _wait_ready(_scaled_consumer(stack, count + index, threads))


def _scaled_consumer(stack: Stack, index: int, threads: int) -> AppProcess:
    metrics_port = free_port()
    env = {**stack.env, "METRICS_PORT": str(metrics_port), "WORKER_THREADS": str(threads)}
    process = AppProcess("consumer", consumer_command(), env,
                         stack.workdir / f"scaled-consumer-{index}.log")
    process.metrics_url = f"http://127.0.0.1:{metrics_port}"
    stack.processes.append(process)
    return process


def _wait_ready(process: AppProcess) -> None:
    e2e.wait_until(lambda: e2e.answers(f"{process.metrics_url}/readyz"), "a scaled consumer")


def _wait_done(storage_dir: Path, job_ids: list[str]) -> list[float]:
    """Wait for every job; return the time each one was finished, from its record."""
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    finished: dict[str, float] = {}
    while len(finished) < len(job_ids):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(job_ids) - len(finished)} jobs still queued")
        for job_id in job_ids:
            if job_id not in finished:
                record = _record(storage_dir, job_id)
                updated_at = record.get("updated_at") if record else None
                if record and record["status"] == "done" and isinstance(updated_at, float):
                    finished[job_id] = updated_at
        time.sleep(0.05)
    return list(finished.values())


def _record(storage_dir: Path, job_id: str) -> dict[str, object] | None:
    path = storage_dir / "jobs" / job_id[:2] / f"{job_id}.json"
    try:
        loaded: dict[str, object] = json.loads(path.read_bytes())
    except (FileNotFoundError, ValueError):
        return None
    return loaded

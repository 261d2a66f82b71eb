"""End to end through real processes: uploads over HTTP, RabbitMQ, consumers, storage.

A closed loop of `concurrency` clients: each uploads, waits until its job is done, then
uploads the next. Completion is watched on the shared storage directory (what
`GET /images/{id}` reads), so no polling traffic competes with the apps for the two cores;
the latency is from the start of the upload to the moment the result is there.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import httpx

from bench.harness import Vhost, consumer_count
from tests.support.stack import BIN_DIR, AppProcess, Stack, free_port

WATCH_POLL_S = 0.002
JOB_TIMEOUT_S = 120.0
START_ATTEMPTS = 3
PORT_TAKEN = "address already in use"

DoneCheck = Callable[[str], bool]
T = TypeVar("T")


@dataclass
class LoadResult:
    jobs: int
    concurrency: int
    seconds: float
    throughput_per_s: float
    p50_ms: float
    p99_ms: float
    failed_uploads: int
    cpu_ms_per_job: dict[str, float] = field(default_factory=dict)


@dataclass
class Target:
    """A running system under test: where to upload and how to tell a job is finished."""

    name: str
    api_url: str
    is_done: DoneCheck
    processes: list[AppProcess]

    def pid(self, name: str) -> int:
        """The process id of the first app called `name` (`consumer`, `peer-consumer`)."""
        return next(process.process.pid for process in self.processes if process.name == name)


class CompletionWatcher:
    """One thread that checks pending jobs on storage and wakes the client waiting on each."""

    def __init__(self, is_done: DoneCheck) -> None:
        self.is_done = is_done
        self._pending: dict[str, tuple[threading.Event, list[float]]] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> CompletionWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        self._thread.join()

    def wait(self, job_id: str, timeout_s: float) -> float:
        """Block until the job is done; return the monotonic time it was seen done."""
        event, seen_at = threading.Event(), list[float]()
        with self._lock:
            self._pending[job_id] = (event, seen_at)
        if not event.wait(timeout_s):
            raise TimeoutError(f"job {job_id} not done after {timeout_s} s")
        return seen_at[0]

    def _run(self) -> None:
        while not self._stopping.wait(WATCH_POLL_S):
            with self._lock:
                pending = list(self._pending.items())
            for job_id, (event, seen_at) in pending:
                if self.is_done(job_id):
                    seen_at.append(time.monotonic())
                    with self._lock:
                        del self._pending[job_id]
                    event.set()


def run_load(target: Target, content: bytes, jobs: int, concurrency: int) -> LoadResult:
    """Push `jobs` uploads through `target` with `concurrency` clients in a closed loop."""
    latencies: list[float] = []
    failures = [0]
    remaining = iter(range(jobs))
    lock = threading.Lock()

    def client() -> None:
        with httpx.Client(base_url=target.api_url, timeout=30) as http:
            while True:
                with lock:
                    if next(remaining, None) is None:
                        return
                started = time.monotonic()
                answer = http.post("/images", files={"file": ("photo.jpg", content)})
                if answer.status_code != 202:
                    with lock:
                        failures[0] += 1
                    continue
                finished = watcher.wait(answer.json()["id"], JOB_TIMEOUT_S)
                with lock:
                    latencies.append(finished - started)

    cpu_before = cpu_seconds_by_role(target)
    with CompletionWatcher(target.is_done) as watcher:
        started = time.monotonic()
        threads = [threading.Thread(target=client) for _ in range(concurrency)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.monotonic() - started

    cpu_after = cpu_seconds_by_role(target)
    done = max(1, len(latencies))
    cpu_ms = {role: 1000 * (cpu_after[role] - cpu_before[role]) / done for role in cpu_after}
    return LoadResult(len(latencies), concurrency, seconds, len(latencies) / seconds,
                      _percentile(latencies, 50) * 1000, _percentile(latencies, 99) * 1000,
                      failures[0], cpu_ms)


def cpu_seconds_by_role(target: Target) -> dict[str, float]:
    """CPU time used so far by the API, the consumers, the broker and this process.

    "clients" is the benchmark process itself: its upload threads and completion watcher.
    """
    roles = {"api": 0.0, "consumer": 0.0}
    for process in target.processes:
        role = "api" if process.name.endswith("api") else "consumer"
        roles[role] += _process_cpu_seconds(process.process.pid)

    broker = subprocess.run(["pgrep", "-o", "beam.smp"], capture_output=True, text=True)
    roles["broker"] = _process_cpu_seconds(int(broker.stdout)) if broker.stdout else 0.0
    own = resource.getrusage(resource.RUSAGE_SELF)
    roles["clients"] = own.ru_utime + own.ru_stime
    return roles


def _process_cpu_seconds(pid: int) -> float:
    """User plus system time of a live process, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _percentile(values: list[float], percent: int) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[percent - 1]


def record_done(storage_dir: Path) -> DoneCheck:
    """resizeq: the job's record says `done` (written after the result, as the API reads it)."""
    def is_done(job_id: str) -> bool:
        path = storage_dir / "jobs" / job_id[:2] / f"{job_id}.json"
        try:
            return bool(json.loads(path.read_bytes())["status"] == "done")
        except (FileNotFoundError, ValueError):
            return False
    return is_done


def file_exists(storage_dir: Path) -> DoneCheck:
    """The peer: its result file exists."""
    return lambda job_id: (storage_dir / f"{job_id}.jpg").exists()


@contextmanager
def resizeq_stack(vhost: Vhost, workdir: Path, consumers: int = 1,
                  **settings: str) -> Iterator[tuple[Target, Stack]]:
    """resizeq's API and consumers, started by the test harness as the chart runs them."""
    workdir.mkdir(parents=True, exist_ok=True)
    stack = Stack(vhost.url, workdir, LOG_LEVEL="warning", **settings)
    try:
        start_retrying(stack.start_api)
        for _ in range(consumers):
            start_retrying(stack.start_consumer)
        done = record_done(stack.storage_dir)
        yield Target("resizeq", stack.api_url, done, stack.processes), stack
    finally:
        stack.stop()


@contextmanager
def peer_stack(vhost: Vhost, workdir: Path) -> Iterator[Target]:
    """The seed-style peer's API (one uvicorn worker, like resizeq's) and one consumer."""
    workdir.mkdir(parents=True, exist_ok=True)
    storage_dir = workdir / "peer-data"
    queue_name = f"peer.{workdir.name}"
    env = {**os.environ, "AMQP_URL": vhost.url, "STORAGE_DIR": str(storage_dir),
           "QUEUE_NAME": queue_name}
    consumer = AppProcess("peer-consumer", [str(BIN_DIR / "python"), "-m",
                                            "bench.peer.consumer"],
                          env, workdir / "peer-consumer.log")
    api: AppProcess | None = None
    try:
        api, api_url = start_retrying(lambda: _start_peer_api(env, workdir))
        wait_until(lambda: consumer_count(vhost, queue_name) > 0, "the peer consumer")
        yield Target("peer", api_url, file_exists(storage_dir), [api, consumer])
    finally:
        if api is not None:
            api.stop()
        consumer.stop()


def _start_peer_api(env: dict[str, str], workdir: Path) -> tuple[AppProcess, str]:
    port = free_port()
    command = [str(BIN_DIR / "uvicorn"), "bench.peer.api:app", "--host", "127.0.0.1",
               "--port", str(port), "--log-level", "warning"]
    api = AppProcess("peer-api", command, env, workdir / f"peer-api-{port}.log")
    api_url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: answers(f"{api_url}/readyz"), "the peer API")
    except TimeoutError as error:
        api.stop()
        raise TimeoutError(f"{error}\n{api.log()}") from None
    return api, api_url


def start_retrying(start: Callable[[], T]) -> T:
    """Start an app again when the free port it was handed got taken before it could bind.

    `free_port` closes its probe socket before the app binds, and other work on this
    machine (the test suite, too) may take the port in between.
    """
    for attempt in range(1, START_ATTEMPTS + 1):
        try:
            return start()
        except TimeoutError as error:
            if PORT_TAKEN not in str(error).lower() or attempt == START_ATTEMPTS:
                raise
    raise AssertionError("the loop above returns or raises")


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def wait_until(condition: Callable[[], bool], what: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise TimeoutError(f"{what} was not ready within {timeout_s} s")

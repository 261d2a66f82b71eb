"""The API and consumers as real processes, started with the commands the chart runs."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx

from tests.processes import API_COMMAND, CONSUMER_COMMAND

BIN_DIR = Path(sys.executable).parent
READY_TIMEOUT_S = 30.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def api_command(port: int) -> list[str]:
    executable, *arguments = API_COMMAND
    return [str(BIN_DIR / executable), *arguments, "--host", "127.0.0.1", "--port", str(port)]


def consumer_command() -> list[str]:
    return [sys.executable, *CONSUMER_COMMAND[1:]]


class AppProcess:
    """One running app with its log file."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log_path: Path):
        self.name = name
        self.log_path = log_path
        self.metrics_url = ""
        self.log_file = log_path.open("wb")
        self.process = subprocess.Popen(command, env=env, stdout=self.log_file,
                                        stderr=subprocess.STDOUT)

    def signal(self, signal_number: int) -> None:
        self.process.send_signal(signal_number)

    def wait(self, timeout_s: float) -> int:
        return self.process.wait(timeout=timeout_s)

    def stop(self, timeout_s: float = 30.0) -> int | None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log_file.close()
        return self.process.returncode

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


class Stack:
    """An API and any number of consumers sharing one vhost, queue and storage directory."""

    def __init__(self, amqp_url: str, workdir: Path, **settings: str) -> None:
        self.workdir = workdir
        self.storage_dir = workdir / "data"
        self.queue_name = f"resizeq.test.{uuid.uuid4().hex[:8]}"
        self.env = {
            **os.environ,
            "AMQP_URL": amqp_url,
            "STORAGE_DIR": str(self.storage_dir),
            "QUEUE_NAME": self.queue_name,
            "LOG_LEVEL": "info",
            **settings,
        }
        self.processes: list[AppProcess] = []
        self.api_url = ""

    def start_api(self, **settings: str) -> str:
        port = free_port()
        env = {**self.env, **settings}
        self._start("api", api_command(port), env)
        self.api_url = f"http://127.0.0.1:{port}"
        self._wait_ready(f"{self.api_url}/readyz")
        return self.api_url

    def start_consumer(self, **settings: str) -> AppProcess:
        metrics_port = free_port()
        env = {**self.env, "METRICS_PORT": str(metrics_port), **settings}
        process = self._start("consumer", consumer_command(), env)
        self._wait_ready(f"http://127.0.0.1:{metrics_port}/readyz")
        process.metrics_url = f"http://127.0.0.1:{metrics_port}"
        return process

    def _start(self, name: str, command: list[str], env: dict[str, str]) -> AppProcess:
        log_path = self.workdir / f"{name}-{len(self.processes)}.log"
        process = AppProcess(name, command, env, log_path)
        self.processes.append(process)
        return process

    def _wait_ready(self, url: str) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        logs = "\n".join(f"--- {p.name}\n{p.log()[-3000:]}" for p in self.processes)
        raise TimeoutError(f"{url} was not ready within {READY_TIMEOUT_S} s\n{logs}")

    def stop(self) -> None:
        for process in self.processes:
            process.stop()


def wait_for_job(client: httpx.Client, job_id: str, timeout_s: float = 60.0) -> dict[str, object]:
    """Poll GET /images/{id} until the job is no longer queued; return its record."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        record: dict[str, object] = client.get(f"/images/{job_id}").json()
        if record["status"] != "queued":
            return record
        time.sleep(0.05)
    raise TimeoutError(f"job {job_id} still queued after {timeout_s} s")

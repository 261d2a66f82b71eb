"""Debian's `prometheus` and `promtool` for the observability tests: found, started, queried."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.stack import free_port

READY_TIMEOUT_S = 30.0


def require_tool(name: str) -> str:
    """The tool's path; skips the test locally, fails it in CI, when it is not installed."""
    path = shutil.which(name)
    if path:
        return path
    message = f"{name} is not installed; .ci/install-observability-tools.sh installs it"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def promtool(*arguments: str, stdin: bytes | None = None, cwd: Path | None = None) -> str:
    """Run promtool; returns its output, raises AssertionError with it when it fails."""
    completed = subprocess.run(
        [require_tool("promtool"), *arguments], input=stdin, capture_output=True, cwd=cwd,
        timeout=60,
    )
    output = (completed.stdout + completed.stderr).decode(errors="replace")
    assert completed.returncode == 0, f"promtool {' '.join(arguments)} failed:\n{output}"
    return output


def has_finite_value(result: list[dict[str, Any]]) -> bool:
    """Whether an instant vector holds at least one sample that is a number (not NaN, not Inf)."""
    return any(math.isfinite(float(sample["value"][1])) for sample in result)


class PrometheusServer:
    """A Prometheus process with its own port, config and storage in a scratch directory.

    Targets live in file_sd files, so a test can add a process Prometheus should scrape
    after it started; Prometheus notices the rewritten file within a scrape or two.
    """

    def __init__(self, workdir: Path, scrape_interval_s: int = 1) -> None:
        self.workdir = workdir
        self.scrape_interval_s = scrape_interval_s
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.jobs: dict[str, dict[str, Any]] = {}
        self.rule_files: list[Path] = []
        self.process: subprocess.Popen[bytes] | None = None
        self.client = httpx.Client(base_url=self.url, timeout=10)

    def add_job(self, name: str, metrics_path: str = "/metrics") -> None:
        self.jobs[name] = {"metrics_path": metrics_path, "targets": []}

    def set_targets(self, job: str, targets: list[str]) -> None:
        """Point `job` at `targets` (host:port); safe while Prometheus runs."""
        self.jobs[job]["targets"] = targets
        target_file = self._targets_path(job)
        scratch = target_file.with_suffix(".tmp")
        scratch.write_text(json.dumps([{"targets": targets}]))
        scratch.replace(target_file)

    def start(self) -> None:
        for job, settings in self.jobs.items():
            self.set_targets(job, settings["targets"])
        config = self.workdir / "prometheus.yml"
        config.write_text(json.dumps(self._config(), indent=2))

        self.log_file = (self.workdir / "prometheus.log").open("wb")
        self.process = subprocess.Popen(
            [require_tool("prometheus"), f"--config.file={config}",
             f"--storage.tsdb.path={self.workdir / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"],
            stdout=self.log_file, stderr=subprocess.STDOUT,
        )
        self._wait_ready()

    def stop(self) -> None:
        self.client.close()
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process is not None:
            self.log_file.close()

    def query(self, expr: str, at: float | None = None) -> list[dict[str, Any]]:
        """An instant query; returns the result vector, raises on a PromQL error."""
        parameters = {"query": expr}
        if at is not None:
            parameters["time"] = f"{at:.3f}"
        answer = self.client.get("/api/v1/query", params=parameters)
        body = answer.json()
        assert body.get("status") == "success", f"{expr}\n-> {answer.status_code} {body}"
        assert body["data"]["resultType"] == "vector", f"{expr} is not an instant vector"
        result: list[dict[str, Any]] = body["data"]["result"]
        return result

    def value(self, expr: str, at: float | None = None) -> float:
        """The single number an aggregating query returns."""
        result = self.query(expr, at)
        assert len(result) == 1, f"{expr} returned {len(result)} series: {result}"
        return float(result[0]["value"][1])

    def wait_for(self, expr: str, timeout_s: float = 30.0) -> list[dict[str, Any]]:
        """Poll `expr` until it returns data; fails with Prometheus' log when it never does."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            result = self.query(expr)
            if result:
                return result
            time.sleep(0.25)
        raise AssertionError(f"{expr} returned nothing within {timeout_s} s\n{self.log()}")

    def rules(self) -> list[dict[str, Any]]:
        groups = self.client.get("/api/v1/rules").json()["data"]["groups"]
        return [rule for group in groups for rule in group["rules"]]

    def active_alerts(self) -> list[dict[str, Any]]:
        alerts: list[dict[str, Any]] = self.client.get("/api/v1/alerts").json()["data"]["alerts"]
        return alerts

    def log(self) -> str:
        path = self.workdir / "prometheus.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def _targets_path(self, job: str) -> Path:
        return self.workdir / f"targets-{job}.json"

    def _config(self) -> dict[str, Any]:
        interval = f"{self.scrape_interval_s}s"
        return {
            "global": {"scrape_interval": interval, "evaluation_interval": interval,
                       "scrape_timeout": interval},
            "rule_files": [str(path) for path in self.rule_files],
            "scrape_configs": [
                {"job_name": job, "metrics_path": settings["metrics_path"],
                 "file_sd_configs": [{"files": [str(self._targets_path(job))],
                                      "refresh_interval": interval}]}
                for job, settings in self.jobs.items()
            ],
        }

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"prometheus exited with {self.process.returncode}\n"
                                   f"{self.log()}")
            try:
                if self.client.get("/-/ready").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"prometheus was not ready within {READY_TIMEOUT_S} s\n{self.log()}")

"""Against the real thing: Prometheus scrapes a running API, consumer and RabbitMQ.

One module-scoped scenario drives the load, in three phases:

1. queue full: the API runs alone on a queue that holds three messages, so uploads past
   the limit get 503 (queue_full);
2. healthy: a consumer runs and Prometheus scrapes it; good images end done, truncated
   PNGs end failed, text is rejected with 415. Every dashboard query and the counters are
   checked at the end of this phase;
3. broken: the consumer is stopped, a job waits in the work queue and a stray message in
   the dead-letter queue. The alerts that watch for this must fire (pending in Prometheus,
   and their full expressions return data); the others, whose thresholds a test cannot
   reach in seconds, must return data without their threshold comparison.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx
import pika
import pytest

from tests.observability.expressions import (
    RULES_FILE,
    alert_rules,
    dashboard_targets,
    substitute,
    without_threshold,
)
from tests.observability.prometheus import PrometheusServer, has_finite_value, promtool
from tests.support import images
from tests.support.broker import broker_address
from tests.support.stack import AppProcess, Stack, wait_for_job

pytestmark = pytest.mark.e2e

# rabbitmq_prometheus on the test broker's host; /metrics/per-object has per-queue series
# whatever prometheus.return_per_object_metrics says.
RABBITMQ_PROMETHEUS = os.environ.get(
    "TEST_RABBITMQ_PROMETHEUS", f"{broker_address()[0]}:15692"
)
RATE_INTERVAL = "20s"
QUEUE_MAX_LENGTH = 3
GOOD_FORMATS = ("jpeg", "png", "webp")
FAILED_JOBS = 6  # ResizeqErrorRateHigh needs at least 5 failures to fire.

# Alerts whose condition phase 3 creates for real; the rest are checked without threshold.
FIRING_IN_PHASE_3 = {
    "ResizeqDeadLetterQueueNotEmpty",
    "ResizeqErrorRateHigh",
    "ResizeqUploadsUnavailable",
    "ResizeqNoConsumerRunning",
    "ResizeqScrapeTargetDown",
}


class Vhost(Protocol):
    url: str


@dataclass
class Scenario:
    prometheus: PrometheusServer
    stack: Stack
    statuses: dict[str, str] = field(default_factory=dict)  # job id -> done or failed
    answers: list[int] = field(default_factory=list)  # HTTP status of every upload
    healthy_answers: list[int] = field(default_factory=list)  # those before phase 3
    output_bytes: int = 0
    api_metrics: bytes = b""
    consumer_metrics: bytes = b""
    healthy_at: float = 0.0
    broken_at: float = 0.0

    @property
    def variables(self) -> dict[str, str]:
        return {
            "__rate_interval": RATE_INTERVAL,
            "datasource": "",
            "api_job": "resizeq-api",
            "consumer_job": "resizeq-consumer",
            "rabbitmq_job": "resizeq-rabbitmq",
            "consumer_deployment": ".*resizeq-consumer",
            "queue": self.stack.queue_name,
        }

    def count(self, status: str) -> int:
        return sum(1 for value in self.statuses.values() if value == status)


def upload(client: httpx.Client, content: bytes, scenario: Scenario) -> str | None:
    answer = client.post("/images", files={"file": ("upload.bin", content)},
                         data={"width": "64", "height": "48"})
    scenario.answers.append(answer.status_code)
    return str(answer.json()["id"]) if answer.status_code == 202 else None


def finish(client: httpx.Client, job_id: str, scenario: Scenario) -> None:
    record = wait_for_job(client, job_id, timeout_s=30)
    scenario.statuses[job_id] = str(record["status"])
    if record["status"] == "done":
        scenario.output_bytes += len(client.get(f"/images/{job_id}/content").content)


def target(url: str) -> str:
    return url.removeprefix("http://")


def fill_the_queue(client: httpx.Client, scenario: Scenario) -> list[str]:
    """Phase 1: no consumer and a queue of three, so the last uploads get 503."""
    accepted = [upload(client, images.image_bytes("png", (400, 400))[:300], scenario)]
    for source_format in ("jpeg", "png", "webp", "jpeg"):
        accepted.append(upload(client, images.image_bytes(source_format), scenario))
    return [job_id for job_id in accepted if job_id]


def run_healthy(client: httpx.Client, scenario: Scenario) -> None:
    """Phase 2: one job at a time, so the short queue never refuses one."""
    for index in range(FAILED_JOBS):
        for content in (images.image_bytes(GOOD_FORMATS[index % 3], (800, 600)),
                        images.image_bytes("png", (400, 400))[:300]):
            job_id = upload(client, content, scenario)
            assert job_id, f"upload refused: {scenario.answers[-1]}"
            finish(client, job_id, scenario)
    upload(client, b"plain text, not an image", scenario)


def break_it(client: httpx.Client, scenario: Scenario, consumer: AppProcess,
             vhost: Vhost) -> None:
    """Phase 3: no consumer, one job waiting, one message in the dead-letter queue."""
    consumer.stop()
    assert upload(client, images.image_bytes("jpeg"), scenario)

    connection = pika.BlockingConnection(pika.URLParameters(vhost.url))
    try:
        connection.channel().basic_publish("", f"{scenario.stack.queue_name}.dead", b"stray")
    finally:
        connection.close()


def wait_until_scraped(prometheus: PrometheusServer, scenario: Scenario) -> None:
    """Until Prometheus has the consumer's and the API's final counters."""
    finished = len(scenario.statuses)
    prometheus.wait_for(
        f'sum(resizeq_images_processed_total{{job="resizeq-consumer", '
        f'outcome=~"done|failed"}}) == {finished}'
    )
    prometheus.wait_for(f'sum(resizeq_uploads_total{{job="resizeq-api"}}) == '
                        f"{len(scenario.answers)}")


@pytest.fixture(scope="module")
def scenario(vhost: Vhost, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    workdir: Path = tmp_path_factory.mktemp("observability")
    stack = Stack(vhost.url, workdir, QUEUE_MAX_LENGTH=str(QUEUE_MAX_LENGTH))
    prometheus = PrometheusServer(workdir / "prometheus")
    prometheus.workdir.mkdir()
    prometheus.rule_files.append(RULES_FILE)
    for job in ("resizeq-api", "resizeq-consumer"):
        prometheus.add_job(job)
    prometheus.add_job("resizeq-rabbitmq", metrics_path="/metrics/per-object")
    running = Scenario(prometheus, stack)

    try:
        prometheus.start()
        prometheus.set_targets("resizeq-rabbitmq", [RABBITMQ_PROMETHEUS])
        prometheus.set_targets("resizeq-api", [target(stack.start_api())])
        prometheus.wait_for('up{job="resizeq-api"} == 1')
        prometheus.wait_for('up{job="resizeq-rabbitmq"} == 1')

        with httpx.Client(base_url=stack.api_url, timeout=30) as client:
            queued = fill_the_queue(client, running)

            consumer = stack.start_consumer()
            prometheus.set_targets("resizeq-consumer", [target(consumer.metrics_url)])
            for job_id in queued:
                finish(client, job_id, running)
            prometheus.wait_for('up{job="resizeq-consumer"} == 1')

            run_healthy(client, running)
            wait_until_scraped(prometheus, running)
            running.healthy_at = time.time()
            running.healthy_answers = list(running.answers)
            running.api_metrics = client.get("/metrics").content
            running.consumer_metrics = httpx.get(f"{consumer.metrics_url}/metrics").content

            break_it(client, running, consumer, vhost)
        wait_for_alerts(prometheus, FIRING_IN_PHASE_3)
        running.broken_at = time.time()
        yield running
    finally:
        stack.stop()
        prometheus.stop()


def wait_for_alerts(prometheus: PrometheusServer, names: set[str], timeout_s: float = 30) -> None:
    """Until every alert in `names` is pending or firing; the test says which did not."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if names <= {alert["labels"]["alertname"] for alert in prometheus.active_alerts()}:
            return
        time.sleep(0.5)


def test_promtool_accepts_the_api_metrics(scenario: Scenario) -> None:
    promtool("check", "metrics", stdin=scenario.api_metrics)


def test_promtool_accepts_the_consumer_metrics(scenario: Scenario) -> None:
    promtool("check", "metrics", stdin=scenario.consumer_metrics)


def test_the_load_had_every_outcome(scenario: Scenario) -> None:
    # A quorum queue may take a message or two past its limit before refusing, so phase 1
    # has one or two 503s; the job phase 3 leaves in the queue never finishes.
    assert scenario.count("done") >= 2 + FAILED_JOBS
    assert scenario.count("failed") == 1 + FAILED_JOBS
    assert 1 <= scenario.answers.count(503) <= 2
    assert scenario.answers.count(415) == 1
    assert len(scenario.statuses) == scenario.answers.count(202) - 1


def test_counters_moved_with_the_work(scenario: Scenario) -> None:
    def total(expr: str) -> float:
        return scenario.prometheus.value(f"sum({expr})", at=scenario.healthy_at)

    consumer, api = 'job="resizeq-consumer"', 'job="resizeq-api"'
    done, failed = scenario.count("done"), scenario.count("failed")
    answers = scenario.healthy_answers
    accepted = answers.count(202)

    assert total(f'resizeq_images_processed_total{{{consumer}, outcome="done"}}') == done
    assert total(f'resizeq_images_processed_total{{{consumer}, outcome="failed"}}') == failed
    assert total(f"resizeq_end_to_end_duration_seconds_count{{{consumer}}}") == done
    assert total(f"resizeq_resize_duration_seconds_count{{{consumer}}}") == done + failed
    assert total(f"resizeq_queue_wait_seconds_count{{{consumer}}}") == done + failed
    assert total(f"resizeq_output_bytes_total{{{consumer}}}") == scenario.output_bytes
    assert total(f"resizeq_images_in_progress{{{consumer}}}") == 0
    assert total(f'resizeq_uploads_total{{{api}, outcome="accepted"}}') == accepted
    assert total(f'resizeq_uploads_total{{{api}, reason="unsupported_type"}}') == 1
    assert total(f'resizeq_uploads_total{{{api}, reason="queue_full"}}') == answers.count(503)
    assert total(f"resizeq_publish_duration_seconds_count{{{api}}}") == (
        accepted + answers.count(503)
    )
    assert total(
        f'resizeq_http_requests_total{{{api}, route="/images", method="POST"}}'
    ) == len(answers)


@pytest.mark.parametrize("panel", dashboard_targets(), ids=str)
def test_every_dashboard_query_returns_data(scenario: Scenario, panel: Any) -> None:
    expr = substitute(panel.expr, scenario.variables)
    result = scenario.prometheus.query(expr, at=scenario.healthy_at)

    assert result, f"{panel}: no data for {expr}"
    assert has_finite_value(result), f"{panel}: only NaN for {expr}: {result}"


def test_the_queue_variable_offers_the_work_queue(scenario: Scenario) -> None:
    result = scenario.prometheus.query(
        'rabbitmq_queue_messages_ready{job=~"resizeq-rabbitmq", queue!~".+\\\\.dead"}',
        at=scenario.healthy_at,
    )
    queues = {sample["metric"]["queue"] for sample in result}
    assert scenario.stack.queue_name in queues
    assert f"{scenario.stack.queue_name}.dead" not in queues


def test_prometheus_loaded_every_rule(scenario: Scenario) -> None:
    loaded = {rule["name"]: rule for rule in scenario.prometheus.rules()}
    assert set(loaded) == {rule["alert"] for rule in alert_rules()}
    assert all(rule["health"] == "ok" for rule in loaded.values()), loaded


def test_the_alerts_of_the_broken_phase_fire(scenario: Scenario) -> None:
    active = {alert["labels"]["alertname"] for alert in scenario.prometheus.active_alerts()}
    assert FIRING_IN_PHASE_3 - active == set()


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda rule: rule["alert"])
def test_every_alert_expression_returns_data(scenario: Scenario, rule: dict[str, Any]) -> None:
    firing = rule["alert"] in FIRING_IN_PHASE_3
    expr = rule["expr"] if firing else without_threshold(rule["expr"])
    result = scenario.prometheus.query(expr, at=scenario.broken_at)

    assert result, f"{rule['alert']}: no data for {expr}"
    assert has_finite_value(result), f"{rule['alert']}: only NaN: {result}"


def test_queue_alerts_name_the_test_queue(scenario: Scenario) -> None:
    queue = scenario.stack.queue_name
    for name, wanted in (("ResizeqNoConsumerRunning", queue),
                         ("ResizeqDeadLetterQueueNotEmpty", f"{queue}.dead")):
        expr = next(rule["expr"] for rule in alert_rules() if rule["alert"] == name)
        result = scenario.prometheus.query(expr, at=scenario.broken_at)
        assert wanted in {sample["metric"].get("queue") for sample in result}, name

        healthy = scenario.prometheus.query(expr, at=scenario.healthy_at)
        assert wanted not in {sample["metric"].get("queue") for sample in healthy}, name

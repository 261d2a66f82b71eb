"""docker-compose.yml and the Dockerfile, checked as files: this machine has no Docker."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.support import REPO, load_module

processes = load_module(REPO / "tests" / "processes.py", "resizeq_test_processes")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def _host_path(volume: str) -> Path | None:
    source = volume.split(":")[0]
    return REPO / source if source.startswith("./") else None


def test_services(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {"rabbitmq", "api", "consumer", "prometheus", "grafana"}


def test_apps_run_the_same_commands_as_the_tests(compose: dict[str, Any]) -> None:
    services = compose["services"]
    api, consumer = services["api"]["command"], services["consumer"]["command"]
    assert api[: len(processes.API_COMMAND)] == processes.API_COMMAND
    assert consumer[: len(processes.CONSUMER_COMMAND)] == processes.CONSUMER_COMMAND
    assert f"{processes.API_PORT}:{processes.API_PORT}" in services["api"]["ports"]


def test_consumer_can_be_scaled(compose: dict[str, Any]) -> None:
    consumer = compose["services"]["consumer"]
    assert "container_name" not in consumer
    assert "ports" not in consumer, "a host port would clash with --scale consumer=3"
    assert consumer["environment"]["METRICS_PORT"] == str(processes.CONSUMER_METRICS_PORT)
    grace = int(consumer["stop_grace_period"].removesuffix("s"))
    assert grace > float(consumer["environment"]["SHUTDOWN_GRACE_S"])


def test_apps_share_results_and_reach_the_broker(compose: dict[str, Any]) -> None:
    for name in ("api", "consumer"):
        service = compose["services"][name]
        assert "results:/data" in service["volumes"]
        assert service["environment"]["STORAGE_DIR"] == "/data"
        assert "@rabbitmq:5672/" in service["environment"]["AMQP_URL"]
        assert service["depends_on"]["rabbitmq"]["condition"] == "service_healthy"
        assert service["read_only"] is True
        assert service["cap_drop"] == ["ALL"]
        assert service["build"]["context"] == "."


def test_rabbitmq_plugins_and_per_object_metrics(compose: dict[str, Any]) -> None:
    rabbitmq = compose["services"]["rabbitmq"]
    assert "management" in rabbitmq["image"]
    plugins = (REPO / "deploy/compose/rabbitmq/enabled_plugins").read_text()
    assert "rabbitmq_management" in plugins and "rabbitmq_prometheus" in plugins
    config = (REPO / "deploy/compose/rabbitmq/rabbitmq.conf").read_text()
    assert "prometheus.return_per_object_metrics = true" in config


def test_prometheus_scrapes_everything_and_loads_the_chart_rules(compose: dict[str, Any]) -> None:
    prometheus = compose["services"]["prometheus"]
    assert "./deploy/helm/resizeq/files:/etc/prometheus/rules:ro" in prometheus["volumes"]
    config = yaml.safe_load((REPO / "deploy/compose/prometheus/prometheus.yml").read_text())
    assert config["rule_files"] == ["/etc/prometheus/rules/*.rules.yml"]
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert jobs["resizeq-api"]["static_configs"][0]["targets"] == ["api:8000"]
    assert jobs["resizeq-consumer"]["dns_sd_configs"][0]["names"] == ["consumer"]
    assert jobs["resizeq-rabbitmq"]["static_configs"][0]["targets"] == ["rabbitmq:15692"]


def test_grafana_is_provisioned_with_the_chart_dashboards(compose: dict[str, Any]) -> None:
    volumes = compose["services"]["grafana"]["volumes"]
    assert any(v.startswith("./deploy/helm/resizeq/dashboards:") for v in volumes)
    provisioning = REPO / "deploy/compose/grafana/provisioning"
    datasource = yaml.safe_load((provisioning / "datasources/prometheus.yml").read_text())
    assert datasource["datasources"][0]["url"] == "http://prometheus:9090"
    provider = yaml.safe_load((provisioning / "dashboards/resizeq.yml").read_text())
    assert provider["providers"][0]["options"]["path"] in {v.split(":")[1] for v in volumes}


def test_mounted_config_files_exist(compose: dict[str, Any]) -> None:
    written_elsewhere = {REPO / "deploy/helm/resizeq/dashboards"}
    for service in compose["services"].values():
        for volume in service.get("volumes", []):
            path = _host_path(volume)
            if path is not None and path not in written_elsewhere:
                assert path.exists(), volume


def _stages(dockerfile: str) -> list[str]:
    return re.split(r"^FROM ", dockerfile, flags=re.MULTILINE)[1:]


def test_dockerfile_is_multi_stage_slim_and_non_root() -> None:
    dockerfile = (REPO / "Dockerfile").read_text()
    stages = _stages(dockerfile)
    assert len(stages) >= 2
    final = stages[-1]
    assert "-slim" in final.splitlines()[0]
    assert "build-essential" not in final and "gcc" not in final
    assert re.search(r"^USER \$\{UID\}:\$\{GID\}$", final, re.MULTILINE)
    assert "ARG UID=10001" in final
    assert "HEALTHCHECK" in final and "resizeq-healthcheck" in final


def test_dockerignore_keeps_the_context_small() -> None:
    ignore = (REPO / ".dockerignore").read_text().splitlines()
    assert ignore[ignore.index("*")] == "*"
    for needed in ("!pyproject.toml", "!api/", "!consumer/", "!resizeq/"):
        assert needed in ignore


def test_healthcheck_probes_both_entrypoints(monkeypatch: pytest.MonkeyPatch) -> None:
    healthcheck = load_module(REPO / "deploy/docker/healthcheck.py", "resizeq_healthcheck")
    monkeypatch.delenv("HEALTHCHECK_URL", raising=False)
    monkeypatch.setenv("METRICS_PORT", "9200")
    assert healthcheck.candidate_urls() == [
        "http://127.0.0.1:8000/healthz", "http://127.0.0.1:9200/healthz"]
    monkeypatch.setenv("HEALTHCHECK_URL", "http://127.0.0.1:1/x")
    assert healthcheck.candidate_urls() == ["http://127.0.0.1:1/x"]
    assert healthcheck.healthy("http://127.0.0.1:1/x") is False

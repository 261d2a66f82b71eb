"""The Helm chart, rendered with `helm template` for every ci/ scenario, without a cluster."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.support import (
    CHART,
    CRD_DIR,
    KUBERNETES_VERSION,
    REPO,
    SCENARIOS,
    Manifest,
    RenderError,
    by_kind,
    containers,
    crd_schemas,
    env_names,
    load_module,
    missing,
    one,
    pod_spec,
    render,
    run_helm,
    values_file,
)

processes = load_module(REPO / "tests" / "processes.py", "resizeq_test_processes")
values_doc = load_module(REPO / "deploy" / "helm" / "values_doc.py", "resizeq_values_doc")

CRD_KINDS = {"ScaledObject", "TriggerAuthentication", "ServiceMonitor", "PodMonitor",
             "PrometheusRule"}
# Metadata the KEDA RabbitMQ scaler reads; `host` only ever through TriggerAuthentication.
KEDA_RABBITMQ_METADATA = {"protocol", "mode", "value", "activationValue", "queueName",
                          "vhostName", "useRegex", "excludeUnacknowledged", "pageSize",
                          "operation", "timeout", "unsafeSsl"}
MIB = 1024 * 1024


def test_scenarios_cover_the_required_cases() -> None:
    assert set(SCENARIOS) >= {"defaults", "keda-off", "external-broker", "monitoring-on",
                              "gateway-api-on", "api-keys-off"}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_helm_lint_strict(scenario: str) -> None:
    result = run_helm("lint", "--strict", str(CHART), "--values", str(values_file(scenario)))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_core_objects_are_valid_kubernetes(scenario: str) -> None:
    try:
        from kubernetes_validate import utils as kubernetes_validate
    except ImportError:
        missing("kubernetes-validate is not installed; run .ci/install-k8s-tools.sh")

    checked = 0
    for manifest in render(scenario):
        if manifest["kind"] in CRD_KINDS or manifest["apiVersion"].startswith("gateway."):
            continue
        try:
            kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{manifest['kind']}/{manifest['metadata']['name']}: {error}")
        checked += 1
    assert checked >= 5


def _validate_custom_resources(manifests: list[Manifest]) -> int:
    if not CRD_DIR.is_dir():
        pytest.skip(f"no CRDs at {CRD_DIR} (shared/crds beside the repo); cannot validate")
    try:
        import jsonschema
    except ImportError:
        missing("jsonschema is not installed (comes with check-jsonschema)")

    schemas = crd_schemas()
    checked = 0
    for manifest in manifests:
        if manifest["kind"] not in CRD_KINDS:
            continue
        schema = schemas[(manifest["apiVersion"], manifest["kind"])]
        errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(manifest), key=str)
        assert not errors, f"{manifest['kind']}: " + "; ".join(
            f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:5])
        checked += 1
    return checked


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_custom_resources_match_their_crds(scenario: str) -> None:
    _validate_custom_resources(render(scenario))


def test_monitoring_objects_match_their_crds(monitoring_chart: Path) -> None:
    manifests = render("monitoring-on", chart=monitoring_chart)
    kinds = {manifest["kind"] for manifest in manifests}
    assert {"ServiceMonitor", "PodMonitor", "PrometheusRule"} <= kinds
    assert _validate_custom_resources(manifests) >= 5


def test_crd_schemas_are_closed() -> None:
    """The closing step works: an unknown field in a ScaledObject spec is rejected."""
    if not CRD_DIR.is_dir():
        pytest.skip(f"no CRDs at {CRD_DIR}")
    import jsonschema

    scaled_object = one(render(), "ScaledObject")
    scaled_object["spec"]["pollingIntervall"] = 5
    schema = crd_schemas()[("keda.sh/v1alpha1", "ScaledObject")]
    assert list(jsonschema.Draft7Validator(schema).iter_errors(scaled_object))


# --- hardening ------------------------------------------------------------------------


def _workloads(scenario: str, chart: Path = CHART) -> list[Manifest]:
    return [manifest for manifest in render(scenario, chart=chart) if pod_spec(manifest)]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_container_is_hardened(scenario: str) -> None:
    workloads = _workloads(scenario)
    assert workloads
    for workload in workloads:
        spec = pod_spec(workload)
        assert spec is not None
        assert spec.get("automountServiceAccountToken") is False, workload["metadata"]["name"]
        assert spec["securityContext"]["runAsNonRoot"] is True
        for container in containers(workload):
            where = f"{workload['kind']}/{workload['metadata']['name']}/{container['name']}"
            context = container.get("securityContext", {})
            assert context.get("runAsNonRoot") is True, where
            assert context.get("readOnlyRootFilesystem") is True, where
            assert context.get("allowPrivilegeEscalation") is False, where
            assert context.get("capabilities", {}).get("drop") == ["ALL"], where
            assert context.get("seccompProfile", {}).get("type") == "RuntimeDefault", where
            for bound in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(container["resources"].get(bound, {})), where
            if workload["kind"] != "Pod":  # the helm test pod runs once, unprobed
                assert "livenessProbe" in container, where
                assert "readinessProbe" in container, where
            mounts = {mount["mountPath"] for mount in container.get("volumeMounts", [])}
            assert "/tmp" in mounts, f"{where}: no writable /tmp on a read-only root"


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_pods_roll_when_their_configuration_changes(scenario: str) -> None:
    for workload in _workloads(scenario):
        if workload["kind"] == "Pod":
            continue
        annotations = workload["spec"]["template"]["metadata"].get("annotations", {})
        assert re.fullmatch(r"[0-9a-f]{64}", annotations.get("checksum/config", "")), (
            workload["metadata"]["name"])


def test_generated_secrets_roll_the_pods_that_use_them() -> None:
    manifests = render()
    for name in ("-api", "-consumer"):
        annotations = one(manifests, "Deployment", name)["spec"]["template"]["metadata"]
        assert "checksum/secret" in annotations["annotations"]


def test_generated_credentials_are_url_safe_and_kept() -> None:
    manifests = render()
    broker = one(manifests, "Secret", "-rabbitmq")
    data = {key: _b64(value) for key, value in broker["data"].items()}
    assert re.fullmatch(r"[A-Za-z0-9]{32}", data["password"])
    assert data["amqp-url"] == (
        f"amqp://resizeq:{data['password']}@resizeq-rabbitmq.resizeq.svc:5672/%2F")
    assert data["host"] == f"http://resizeq:{data['password']}@resizeq-rabbitmq.resizeq.svc:15672/"
    assert broker["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    api_keys = _b64(one(manifests, "Secret", "-api-keys")["data"]["api-keys"])
    assert re.fullmatch(r"[A-Za-z0-9]{40}", api_keys)
    helpers = (CHART / "templates" / "_helpers.tpl").read_text()
    assert 'lookup "v1" "Secret"' in helpers, "generated values must be read back on upgrade"


def _b64(value: str) -> str:
    import base64

    return base64.b64decode(value).decode()


# --- the apps -------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_commands_are_the_ones_the_end_to_end_tests_run(scenario: str) -> None:
    manifests = render(scenario)
    api = one(manifests, "Deployment", "-api")["spec"]["template"]["spec"]["containers"][0]
    consumer = one(manifests, "Deployment", "-consumer")["spec"]["template"]["spec"]
    consumer_container = consumer["containers"][0]
    assert api["command"][: len(processes.API_COMMAND)] == processes.API_COMMAND
    assert consumer_container["command"][: len(processes.CONSUMER_COMMAND)] == (
        processes.CONSUMER_COMMAND)
    assert api["ports"][0]["containerPort"] == processes.API_PORT
    assert consumer_container["ports"][0]["containerPort"] == processes.CONSUMER_METRICS_PORT


def _settings_names() -> set[str]:
    source = (REPO / "resizeq" / "settings.py").read_text()
    return set(re.findall(r'_(?:text|integer|seconds|choice)\(\s*"([A-Z][A-Z0-9_]*)"', source)
               + re.findall(r'environ\.get\(\s*"([A-Z][A-Z0-9_]*)"', source))


def test_every_setting_reaches_the_apps() -> None:
    """Every environment variable resizeq/settings.py reads is set by the chart."""
    names = _settings_names()
    assert {"AMQP_URL", "STORAGE_DIR", "MAX_UPLOAD_BYTES", "API_KEYS"} <= names

    manifests = render()
    config = one(manifests, "ConfigMap", "resizeq-config")["data"]
    provided: set[str] = set(config)
    for name in ("-api", "-consumer"):
        for container in containers(one(manifests, "Deployment", name)):
            provided |= env_names(container)
    assert names - provided == set(), "settings the chart does not set"


def test_chart_settings_defaults() -> None:
    manifests = render()
    config = one(manifests, "ConfigMap", "resizeq-config")["data"]
    assert config["STORAGE_DIR"] == "/data"
    assert config["LOG_FORMAT"] == "json"
    assert int(config["MAX_UPLOAD_BYTES"]) == 16 * MIB
    api = containers(one(manifests, "Deployment", "-api"))[0]
    assert "API_KEYS" in env_names(api)
    open_api = containers(one(render("api-keys-off"), "Deployment", "-api"))[0]
    assert "API_KEYS" not in env_names(open_api)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_consumers_outlast_their_shutdown_grace(scenario: str) -> None:
    consumer = one(render(scenario), "Deployment", "-consumer")
    spec = consumer["spec"]["template"]["spec"]
    env = {entry["name"]: entry.get("value") for entry in spec["containers"][0]["env"]}
    assert spec["terminationGracePeriodSeconds"] > float(env["SHUTDOWN_GRACE_S"])


def test_a_grace_period_shorter_than_the_shutdown_grace_fails_the_render() -> None:
    with pytest.raises(RenderError, match=r"terminationGracePeriodSeconds \(25\) must be greater"):
        render("defaults", "consumer.terminationGracePeriodSeconds=25")


def test_results_claim_is_shared_by_api_and_consumers() -> None:
    manifests = render()
    claim = one(manifests, "PersistentVolumeClaim", "-results")
    for name in ("-api", "-consumer"):
        spec = pod_spec(one(manifests, "Deployment", name))
        assert spec is not None
        claims = [volume["persistentVolumeClaim"]["claimName"] for volume in spec["volumes"]
                  if "persistentVolumeClaim" in volume]
        assert claims == [claim["metadata"]["name"]]


# --- scaling --------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", [s for s in SCENARIOS if s != "keda-off"])
def test_keda_reads_the_queue_through_the_management_api(scenario: str) -> None:
    manifests = render(scenario)
    assert not by_kind(manifests, "HorizontalPodAutoscaler")
    scaled_object = one(manifests, "ScaledObject")
    spec = scaled_object["spec"]
    assert spec["scaleTargetRef"]["name"] == one(manifests, "Deployment", "-consumer")[
        "metadata"]["name"]
    assert {"minReplicaCount", "maxReplicaCount", "pollingInterval", "cooldownPeriod"} <= set(spec)
    [trigger] = spec["triggers"]
    metadata = trigger["metadata"]
    assert trigger["type"] == "rabbitmq"
    assert set(metadata) <= KEDA_RABBITMQ_METADATA, set(metadata) - KEDA_RABBITMQ_METADATA
    assert metadata["protocol"] == "http"
    assert metadata["mode"] == "QueueLength"
    assert {"value", "activationValue", "queueName", "vhostName"} <= set(metadata)
    assert all(isinstance(value, str) for value in metadata.values())

    auth = one(manifests, "TriggerAuthentication")
    assert trigger["authenticationRef"]["name"] == auth["metadata"]["name"]
    [secret_ref] = auth["spec"]["secretTargetRef"]
    assert secret_ref["parameter"] == "host"
    api_env = containers(one(manifests, "Deployment", "-api"))[0]["env"]
    amqp = next(entry for entry in api_env if entry["name"] == "AMQP_URL")
    assert secret_ref["name"] == amqp["valueFrom"]["secretKeyRef"]["name"]


def test_without_keda_a_cpu_hpa_scales_the_consumers() -> None:
    manifests = render("keda-off")
    assert not by_kind(manifests, "ScaledObject")
    assert not by_kind(manifests, "TriggerAuthentication")
    hpa = one(manifests, "HorizontalPodAutoscaler")
    assert hpa["spec"]["minReplicas"] == 2
    assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"
    assert "replicas" not in one(manifests, "Deployment", "-consumer")["spec"]


def test_an_hpa_cannot_scale_to_zero() -> None:
    with pytest.raises(RenderError, match="cannot scale to zero"):
        render("keda-off", "consumer.autoscaling.minReplicas=0")


# --- broker ---------------------------------------------------------------------------


def test_bundled_rabbitmq() -> None:
    manifests = render()
    statefulset = one(manifests, "StatefulSet", "-rabbitmq")
    assert statefulset["spec"]["volumeClaimTemplates"]
    services = {s["metadata"]["name"]: s["spec"] for s in by_kind(manifests, "Service")}
    assert services["resizeq-rabbitmq-headless"]["clusterIP"] == "None"
    assert {p["port"] for p in services["resizeq-rabbitmq"]["ports"]} == {5672, 15672, 15692}
    config = one(manifests, "ConfigMap", "-rabbitmq-config")["data"]
    assert "rabbitmq_management" in config["enabled_plugins"]
    assert "rabbitmq_prometheus" in config["enabled_plugins"]
    assert "prometheus.return_per_object_metrics = true" in config["rabbitmq.conf"]
    [container] = containers(statefulset)
    assert container["image"].startswith("rabbitmq:") and "management" in container["image"]
    assert "rabbitmq-diagnostics" in container["livenessProbe"]["exec"]["command"]


def test_external_broker_replaces_rabbitmq() -> None:
    manifests = render("external-broker")
    assert not [m for m in manifests if m["metadata"]["name"].endswith("-rabbitmq")]
    assert not by_kind(manifests, "StatefulSet")
    api = containers(one(manifests, "Deployment", "-api"))[0]
    amqp = next(entry for entry in api["env"] if entry["name"] == "AMQP_URL")
    assert amqp["valueFrom"]["secretKeyRef"] == {"name": "shared-rabbitmq", "key": "url"}
    auth = one(manifests, "TriggerAuthentication")["spec"]["secretTargetRef"][0]
    assert auth == {"parameter": "host", "name": "shared-rabbitmq", "key": "management-url"}
    assert one(manifests, "ScaledObject")["spec"]["triggers"][0]["metadata"]["vhostName"] == (
        "images")


def test_network_policies_fence_the_broker() -> None:
    policy = one(render(), "NetworkPolicy", "-rabbitmq")
    rules = {rule["ports"][0]["port"]: rule["from"] for rule in policy["spec"]["ingress"]}
    components = {peer["podSelector"]["matchLabels"]["app.kubernetes.io/component"]
                  for peer in rules["amqp"]}
    assert components == {"api", "consumer"}
    namespace_label = "kubernetes.io/metadata.name"
    assert rules["management"][0]["namespaceSelector"]["matchLabels"][namespace_label] == "keda"
    assert rules["prometheus"][0]["namespaceSelector"]["matchLabels"][namespace_label] == (
        "monitoring")


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_disruption_budgets_cover_every_workload(scenario: str) -> None:
    manifests = render(scenario)
    budgets = [budget["spec"]["selector"]["matchLabels"]
               for budget in by_kind(manifests, "PodDisruptionBudget")]
    for workload in manifests:
        if workload["kind"] in {"Deployment", "StatefulSet"}:
            labels = workload["spec"]["selector"]["matchLabels"]
            assert labels in budgets, workload["metadata"]["name"]


# --- exposure -------------------------------------------------------------------------


@pytest.mark.parametrize(("scenario", "limit_bytes"),
                         [("defaults", 16 * MIB), ("api-keys-off", 50 * MIB)])
def test_ingress_lets_the_largest_upload_through(scenario: str, limit_bytes: int) -> None:
    ingress = one(render(scenario), "Ingress")
    assert ingress["spec"]["ingressClassName"] == "nginx"
    body_size = ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-body-size"]
    assert int(body_size.removesuffix("m")) * MIB > limit_bytes


def test_gateway_api_route() -> None:
    manifests = render("gateway-api-on")
    assert not by_kind(manifests, "Ingress")
    route = one(manifests, "HTTPRoute")
    assert route["apiVersion"] == "gateway.networking.k8s.io/v1"
    assert route["spec"]["parentRefs"][0]["name"] == "eg"
    service = one(manifests, "Service", "-api")
    backend = route["spec"]["rules"][0]["backendRefs"][0]
    assert backend == {"name": service["metadata"]["name"],
                       "port": service["spec"]["ports"][0]["port"]}


def test_helm_test_pod_uploads_through_the_api() -> None:
    manifests = render()
    pod = one(manifests, "Pod")
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    [container] = pod["spec"]["containers"]
    assert container["command"][:2] == ["python", "-c"]
    compile(container["command"][2], "smoke_test.py", "exec")
    env = {entry["name"]: entry for entry in container["env"]}
    assert env["API_URL"]["value"] == "http://resizeq-api:80"
    assert env["API_KEY"]["valueFrom"]["secretKeyRef"]["name"] == "resizeq-api-keys"


# --- monitoring -----------------------------------------------------------------------


def test_monitoring_is_opt_in() -> None:
    kinds = {manifest["kind"] for manifest in render()}
    assert not kinds & {"ServiceMonitor", "PodMonitor", "PrometheusRule"}


def test_monitoring_objects(monitoring_chart: Path) -> None:
    manifests = render("monitoring-on", chart=monitoring_chart)
    for monitor in [*by_kind(manifests, "ServiceMonitor"), *by_kind(manifests, "PodMonitor")]:
        assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    monitored = {m["metadata"]["name"] for m in manifests if m["kind"].endswith("Monitor")}
    assert monitored == {"resizeq-api", "resizeq-consumer", "resizeq-rabbitmq"}

    rules = yaml.safe_load((monitoring_chart / "files" / "alerts.rules.yml").read_text())
    assert one(manifests, "PrometheusRule")["spec"]["groups"] == rules["groups"]

    dashboards = sorted((monitoring_chart / "dashboards").glob("*.json"))
    config_maps = [m for m in by_kind(manifests, "ConfigMap")
                   if m["metadata"]["labels"].get("grafana_dashboard") == "1"]
    assert len(config_maps) == len(dashboards)
    for config_map in config_maps:
        [(name, text)] = config_map["data"].items()
        assert json.loads(text) == json.loads((monitoring_chart / "dashboards" / name).read_text())


# --- values, schema and docs ----------------------------------------------------------


def test_every_value_is_documented() -> None:
    documented, undocumented = values_doc.read_values(CHART / "values.yaml")
    assert undocumented == []
    assert len(documented) > 50


def test_readme_values_table_is_current() -> None:
    documented, _ = values_doc.read_values(CHART / "values.yaml")
    readme = (CHART / "README.md").read_text()
    assert values_doc.readme_with_table(readme, documented) == readme, (
        "run: python deploy/helm/values_doc.py deploy/helm/resizeq --write")


def _schema_nodes(schema: dict[str, Any], path: str = "") -> list[tuple[str, dict[str, Any]]]:
    nodes = [(path, schema)]
    for key, child in schema.get("properties", {}).items():
        nodes += _schema_nodes(child, f"{path}.{key}" if path else key)
    return nodes


def test_values_schema_is_strict_and_described() -> None:
    schema = json.loads((CHART / "values.schema.json").read_text())
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    for path, node in _schema_nodes(schema):
        assert node.get("description"), f"{path or 'root'} has no description"
        if "properties" in node:
            assert node.get("additionalProperties") is False, f"{path or 'root'} is open"

    def walk(tree: dict[str, Any], node: dict[str, Any], path: str) -> None:
        for key, value in tree.items():
            assert key in node.get("properties", {}), f"{path}{key} missing from the schema"
            child = node["properties"][key]
            if isinstance(value, dict) and "properties" in child:
                walk(value, child, f"{path}{key}.")

    walk(values, schema, "")


@pytest.mark.parametrize(
    "assignment",
    ["api.port=0", "config.logFormat=xml", "containerSecurityContext.privileged=true",
     "unknownKey=1", "storage.accessModes[0]=ReadWriteSometimes"],
)
def test_schema_rejects_bad_values(assignment: str) -> None:
    with pytest.raises(RenderError):
        render("defaults", assignment)


def test_notes_show_how_to_upload_with_the_key() -> None:
    result = run_helm("install", "resizeq", str(CHART), "--namespace", "resizeq",
                      "--dry-run=client")
    assert result.returncode == 0, result.stderr
    notes = result.stdout.split("NOTES:", 1)[1]
    assert "get secret resizeq-api-keys" in notes
    assert 'curl -H "X-API-Key: $API_KEY" -F file=@cat.jpg' in notes
    assert "helm test resizeq" in notes

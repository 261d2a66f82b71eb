"""deploy/k8s (the chart rendered for `kubectl apply -k`) and yamllint over our YAML."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.deploy.support import CHART, REPO, helm, load_module, missing

K8S = REPO / "deploy" / "k8s"


@pytest.fixture(scope="module")
def rendered() -> dict[str, str]:
    render_module = load_module(K8S / "render.py", "resizeq_k8s_render")
    return render_module.render(helm())


def test_deploy_k8s_matches_the_chart(rendered: dict[str, str]) -> None:
    render_module = load_module(K8S / "render.py", "resizeq_k8s_render")
    drift = render_module.differences(rendered)
    assert drift == [], "deploy/k8s drifted from the chart; run `make k8s-render`"


def test_kustomization_lists_every_manifest() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    listed = set(kustomization["resources"])
    on_disk = {f"manifests/{path.name}" for path in (K8S / "manifests").glob("*.yaml")}
    assert listed == on_disk
    assert kustomization["namespace"] == "resizeq"


def test_deploy_k8s_is_deterministic_and_secretless(rendered: dict[str, str]) -> None:
    """No generated Secret (it would change on every render); pods name the existing ones."""
    kinds = [yaml.safe_load(text)["kind"] for text in rendered.values()]
    assert "Secret" not in kinds
    assert "Pod" not in kinds, "the helm test pod is not part of the plain manifests"
    api = yaml.safe_load(rendered["manifests/deployment-resizeq-api.yaml"])
    [container] = api["spec"]["template"]["spec"]["containers"]
    env = {entry["name"]: entry for entry in container["env"]}
    assert env["AMQP_URL"]["valueFrom"]["secretKeyRef"]["name"] == "resizeq-rabbitmq-credentials"
    assert env["API_KEYS"]["valueFrom"]["secretKeyRef"]["name"] == "resizeq-api-keys"
    script = (K8S / "create-secrets.sh").read_text()
    for name in ("resizeq-rabbitmq-credentials", "resizeq-api-keys", "amqp-url", "host"):
        assert name in script


def _yaml_files() -> list[Path]:
    files = [CHART / "values.yaml", *sorted(CHART.glob("ci/*.yaml")),
             *sorted(K8S.rglob("*.yaml")), REPO / "docker-compose.yml", REPO / "kind-config.yaml",
             *sorted((REPO / "deploy" / "compose").rglob("*.yml")),
             *sorted((REPO / "deploy" / "kind").glob("*.yaml"))]
    return [path for path in files if path.is_file()]


def test_yamllint() -> None:
    try:
        from yamllint import linter
        from yamllint.config import YamlLintConfig
    except ImportError:
        missing("yamllint is not installed; run .ci/install-k8s-tools.sh")

    config = YamlLintConfig(file=str(REPO / "deploy" / ".yamllint.yaml"))
    problems = []
    for path in _yaml_files():
        for problem in linter.run(path.read_text(), config, str(path)):
            problems.append(f"{path.relative_to(REPO)}:{problem.line}: {problem.desc}")
    assert problems == []


def test_kustomize_builds() -> None:
    """`kubectl apply -k deploy/k8s` would get every manifest, in the resizeq namespace."""
    local = REPO / ".tools" / "bin" / "kubectl"
    kubectl = str(local) if local.is_file() else shutil.which("kubectl")
    if kubectl is None:
        missing("kubectl not found in .tools/bin or on PATH; run .ci/install-k8s-tools.sh")
    assert kubectl is not None

    result = subprocess.run([kubectl, "kustomize", str(K8S)], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stderr
    documents = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    assert len(documents) == len(list((K8S / "manifests").glob("*.yaml")))
    for document in documents:
        if document["kind"] != "Namespace":
            assert document["metadata"]["namespace"] == "resizeq", document["metadata"]["name"]

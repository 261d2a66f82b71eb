"""Shared helpers of the deployment tests: finding tools, rendering the chart, CRD schemas.

A missing tool skips the test with the reason locally and fails it when CI is set, so CI
cannot go green by skipping (install them with .ci/install-k8s-tools.sh).
"""

from __future__ import annotations

import copy
import functools
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "deploy" / "helm" / "resizeq"
SCENARIOS = sorted(path.stem.removesuffix("-values") for path in CHART.glob("ci/*-values.yaml"))
CRD_DIR = REPO.parent / "shared" / "crds"
KUBERNETES_VERSION = "1.34.0"
RELEASE = "resizeq"
NAMESPACE = "resizeq"

Manifest = dict[str, Any]


def missing(reason: str) -> None:
    """Skip locally, fail in CI: a tool CI should have installed is absent."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so this is a failure, not a skip)")
    pytest.skip(reason)


@functools.cache
def helm_path() -> str | None:
    local = REPO / ".tools" / "bin" / "helm"
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    return shutil.which("helm")


def helm() -> str:
    path = helm_path()
    if path is None:
        missing("helm not found in .tools/bin or on PATH; run .ci/install-k8s-tools.sh")
    assert path is not None
    return path


def load_module(path: Path, name: str) -> ModuleType:
    """Import a file by path (tests/processes.py, deploy scripts) without a package."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


def run_helm(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([helm(), *args], capture_output=True, text=True, check=False)


def values_file(scenario: str) -> Path:
    return CHART / "ci" / f"{scenario}-values.yaml"


@functools.cache
def _render_text(chart: str, values: tuple[str, ...], sets: tuple[str, ...]) -> str:
    args = ["template", RELEASE, chart, "--namespace", NAMESPACE]
    for path in values:
        args += ["--values", path]
    for assignment in sets:
        args += ["--set", assignment]
    result = run_helm(*args)
    if result.returncode != 0:
        raise RenderError(result.stderr)
    return result.stdout


class RenderError(Exception):
    """helm template refused the values; the message is helm's error output."""


def render(
    scenario: str = "defaults", *sets: str, chart: Path = CHART, extra_values: Path | None = None
) -> list[Manifest]:
    """The objects `helm template` renders for a ci/ scenario (plus --set assignments)."""
    values = [str(values_file(scenario))]
    if extra_values is not None:
        values.append(str(extra_values))
    text = _render_text(str(chart), tuple(values), sets)
    return [doc for doc in yaml.safe_load_all(text) if doc]


def by_kind(manifests: list[Manifest], kind: str) -> list[Manifest]:
    return [doc for doc in manifests if doc["kind"] == kind]


def one(manifests: list[Manifest], kind: str, name_suffix: str = "") -> Manifest:
    found = [doc for doc in by_kind(manifests, kind)
             if doc["metadata"]["name"].endswith(name_suffix)]
    assert len(found) == 1, f"expected one {kind} named *{name_suffix}, got {len(found)}"
    return found[0]


def pod_spec(manifest: Manifest) -> Manifest | None:
    """The pod spec of a workload or a bare Pod; None for objects that run nothing."""
    if manifest["kind"] == "Pod":
        return manifest["spec"]
    if manifest["kind"] in {"Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet"}:
        return manifest["spec"]["template"]["spec"]
    if manifest["kind"] == "CronJob":
        return manifest["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return None


def containers(manifest: Manifest) -> list[Manifest]:
    spec = pod_spec(manifest) or {}
    return [*spec.get("initContainers", []), *spec.get("containers", [])]


def env_names(container: Manifest) -> set[str]:
    return {entry["name"] for entry in container.get("env", [])}


def _close(schema: Any) -> Any:
    """Every object schema that lists properties rejects unknown ones, unless it says not to."""
    if isinstance(schema, list):
        return [_close(item) for item in schema]
    if not isinstance(schema, dict):
        return schema

    closed = {key: _close(value) for key, value in schema.items()}
    open_on_purpose = (
        "additionalProperties" in schema or schema.get("x-kubernetes-preserve-unknown-fields")
    )
    if "properties" in schema and not open_on_purpose:
        closed["additionalProperties"] = False
    return closed


@functools.cache
def crd_schemas() -> dict[tuple[str, str], Any]:
    """(apiVersion, kind) to the closed openAPIV3Schema of every CRD in shared/crds."""
    schemas: dict[tuple[str, str], Any] = {}
    for path in sorted(CRD_DIR.glob("*.yaml")):
        crd = yaml.safe_load(path.read_text())
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            schema = version["schema"]["openAPIV3Schema"]
            schemas[(f"{group}/{version['name']}", kind)] = _close(copy.deepcopy(schema))
    return schemas

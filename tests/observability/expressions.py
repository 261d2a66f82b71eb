"""The PromQL in the dashboards and alert rules, read from the files the chart ships."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "resizeq"
DASHBOARDS = sorted((CHART / "dashboards").glob("*.json"))
RULES_FILE = CHART / "files" / "alerts.rules.yml"
RULES_TEST_FILE = Path(__file__).parent / "alerts_test.yml"

# $name, ${name} and ${name:format}; Grafana's own variables start with two underscores.
VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)")
# A trailing comparison with a number, as in `... > 1000` or `... == 0`.
TRAILING_THRESHOLD = re.compile(r"\s*(?:==|!=|>=|<=|>|<)\s*[-+]?[0-9.e]+\s*$")


@dataclass(frozen=True)
class Target:
    dashboard: str
    panel: str
    ref_id: str
    expr: str

    def __str__(self) -> str:
        return f"{self.dashboard} / {self.panel} / {self.ref_id}"


def load_dashboard(path: Path) -> dict[str, Any]:
    dashboard: dict[str, Any] = json.loads(path.read_text())
    return dashboard


def panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, including those inside collapsed rows."""
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def dashboard_targets() -> list[Target]:
    targets = []
    for path in DASHBOARDS:
        dashboard = load_dashboard(path)
        for panel in panels(dashboard):
            for target in panel.get("targets", []):
                targets.append(
                    Target(dashboard["uid"], panel["title"], target["refId"], target["expr"])
                )
    return targets


def alert_rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(RULES_FILE.read_text())
    return [rule for group in document["groups"] for rule in group["rules"] if "alert" in rule]


def substitute(expr: str, values: dict[str, str]) -> str:
    """Replace Grafana variables with `values`; an unknown variable is an error."""

    def value_of(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name not in values:
            raise KeyError(f"no value for ${name} in {expr!r}")
        return values[name]

    return VARIABLE.sub(value_of, expr)


def variables_used(expr: str) -> set[str]:
    return {match.group(1) or match.group(2) for match in VARIABLE.finditer(expr)}


def without_threshold(expr: str) -> str:
    """The expression with its trailing `> N`-style comparison removed (it must have one)."""
    stripped = TRAILING_THRESHOLD.sub("", expr.strip())
    if stripped == expr.strip():
        raise ValueError(f"{expr!r} does not end in a comparison with a number")
    return stripped

"""The dashboards follow Grafana's conventions, so the chart and compose can load them as-is."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.observability.expressions import (
    DASHBOARDS,
    dashboard_targets,
    load_dashboard,
    panels,
    variables_used,
)

DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
RANGE = re.compile(r"\[([^\]]+)\]")
ROWS = ["Throughput", "Latency", "Queue", "Consumers", "Errors"]


def test_there_is_a_dashboard() -> None:
    assert DASHBOARDS, "deploy/helm/resizeq/dashboards/ holds no *.json"


@pytest.fixture(params=DASHBOARDS, ids=lambda path: path.name)
def dashboard(request: pytest.FixtureRequest) -> dict[str, Any]:
    path: Path = request.param
    return load_dashboard(path)


def variables(dashboard: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {variable["name"]: variable for variable in dashboard["templating"]["list"]}


def test_uid_title_and_schema_are_set(dashboard: dict[str, Any]) -> None:
    assert re.fullmatch(r"resizeq-[a-z0-9-]+", dashboard["uid"])
    assert len(dashboard["uid"]) <= 40
    assert dashboard["title"]
    assert dashboard["schemaVersion"] >= 36
    assert dashboard.get("id") is None, "a fixed id clashes with Grafana's own numbering"


def test_uids_are_unique_across_dashboards() -> None:
    uids = [load_dashboard(path)["uid"] for path in DASHBOARDS]
    assert len(uids) == len(set(uids))


def test_the_data_source_is_a_variable(dashboard: dict[str, Any]) -> None:
    datasource = variables(dashboard)["datasource"]
    assert (datasource["type"], datasource["query"]) == ("datasource", "prometheus")

    for panel in panels(dashboard):
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == DATASOURCE, panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == DATASOURCE, panel["title"]


def test_the_rows_are_the_documented_ones() -> None:
    titles = [
        panel["title"]
        for path in DASHBOARDS
        for panel in panels(load_dashboard(path))
        if panel["type"] == "row"
    ]
    assert titles == ROWS


def test_panels_have_unique_ids_a_place_and_queries(dashboard: dict[str, Any]) -> None:
    every = list(panels(dashboard))
    ids = [panel["id"] for panel in every]
    assert len(ids) == len(set(ids))
    for panel in every:
        assert {"h", "w", "x", "y"} <= set(panel["gridPos"]), panel["title"]
        assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24, panel["title"]
        if panel["type"] != "row":
            assert panel["type"] in {"timeseries", "stat"}, panel["title"]
            assert panel["targets"], panel["title"]
            assert panel.get("description"), panel["title"]


def test_every_range_is_the_rate_interval() -> None:
    for target in dashboard_targets():
        for window in RANGE.findall(target.expr):
            assert window == "$__rate_interval", str(target)


def test_every_variable_a_query_uses_is_defined(dashboard: dict[str, Any]) -> None:
    defined = set(variables(dashboard)) | {"__rate_interval"}
    for target in dashboard_targets():
        if target.dashboard == dashboard["uid"]:
            assert variables_used(target.expr) <= defined, str(target)


def test_the_queue_variable_defaults_to_the_work_queue(dashboard: dict[str, Any]) -> None:
    assert variables(dashboard)["queue"]["current"]["value"] == "resizeq.jobs"

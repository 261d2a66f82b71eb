"""Fixtures of the deployment tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.deploy.support import CHART

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def monitoring_chart(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The chart, or a copy with fixture rules and a fixture dashboard while it has none.

    The rules file and dashboards are written by another hand; until they land the
    monitoring templates would render nothing, so a copy gets tiny stand-ins.
    """
    has_rules = (CHART / "files" / "alerts.rules.yml").is_file()
    has_dashboards = any((CHART / "dashboards").glob("*.json"))
    if has_rules and has_dashboards:
        return CHART

    copy = tmp_path_factory.mktemp("chart") / "resizeq"
    shutil.copytree(CHART, copy)
    if not has_rules:
        shutil.copy(FIXTURES / "alerts.rules.yml", copy / "files" / "alerts.rules.yml")
    if not has_dashboards:
        (copy / "dashboards").mkdir(exist_ok=True)
        shutil.copy(FIXTURES / "fixture.json", copy / "dashboards" / "fixture.json")
    return copy

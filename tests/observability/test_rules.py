"""The alert rules: promtool's checks and unit tests, and the house rules for every alert."""

from __future__ import annotations

import pytest
import yaml

from tests.observability.expressions import RULES_FILE, RULES_TEST_FILE, alert_rules
from tests.observability.prometheus import promtool

SEVERITIES = {"critical", "warning", "info"}


def test_promtool_accepts_the_rules_file() -> None:
    assert "SUCCESS" in promtool("check", "rules", str(RULES_FILE))


def test_promtool_unit_tests_pass() -> None:
    output = promtool("test", "rules", RULES_TEST_FILE.name, cwd=RULES_TEST_FILE.parent)
    assert "SUCCESS" in output


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda rule: rule["alert"])
def test_every_alert_waits_has_a_severity_and_explains_itself(rule: dict[str, str]) -> None:
    assert rule["alert"].startswith("Resizeq")
    assert rule.get("for"), "an alert without `for` pages on a single bad scrape"
    assert rule["labels"]["severity"] in SEVERITIES
    assert set(rule["annotations"]) >= {"summary", "description"}


def test_every_alert_has_a_firing_and_a_silent_unit_test() -> None:
    cases = yaml.safe_load(RULES_TEST_FILE.read_text())["tests"]
    checks = [check for case in cases for check in case.get("alert_rule_test", [])]
    firing = {check["alertname"] for check in checks if check["exp_alerts"]}
    silent = {check["alertname"] for check in checks if not check["exp_alerts"]}
    names = {rule["alert"] for rule in alert_rules()}

    assert names - firing == set(), "alerts never shown to fire"
    assert names - silent == set(), "alerts never shown to stay silent"

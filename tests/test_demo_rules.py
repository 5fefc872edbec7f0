"""The demo's alert rules (scripts/demo/rules.yml, copied to docker/demo/) read well once
Prometheus fills in their templates: every label an annotation names is on the alert.

Prometheus fills `$labels` in annotations from the series the expression returns, not from
the rule's own `labels:`, so a label set only there renders empty ("High 5xx error rate on
in"). Checked on a real Prometheus evaluating the demo file.
"""

import re
from pathlib import Path

import pytest
import yaml

from tests.servers import PrometheusProcess

ROOT = Path(__file__).resolve().parent.parent
DEMO_RULES = ROOT / "scripts" / "demo" / "rules.yml"
LABEL = re.compile(r"\{\{\s*\$labels\.(\w+)\s*\}\}")
TEMPLATE = re.compile(r"\{\{.*?\}\}")


@pytest.fixture(scope="module")
def demo_prometheus(tmp_path_factory):
    prom = PrometheusProcess(
        "2.42", tmp_path_factory.mktemp("demo-rules"), rules=DEMO_RULES.read_text()
    ).start()
    try:
        prom.wait_settled()  # AlwaysFiring fires, the closed-port target is down
        yield prom
    finally:
        prom.stop()


def demo_annotations() -> dict[str, dict[str, str]]:
    groups = yaml.safe_load(DEMO_RULES.read_text())["groups"]
    return {
        rule["alert"]: rule.get("annotations", {})
        for group in groups
        for rule in group["rules"]
        if "alert" in rule
    }


def firing(prom: PrometheusProcess, names: set[str]) -> list[dict]:
    """Prometheus's alerts once each of `names` fires (the down target's rule needs one more
    evaluation after the scrape that found it down)."""

    def all_firing():
        alerts = [a for a in prom.api("/alerts")["alerts"] if a["state"] == "firing"]
        return alerts if {a["labels"]["alertname"] for a in alerts} == names else None

    return prom.wait_for(all_firing, what=f"alerts {sorted(names)} firing")


def fill_in(template: str, labels: dict[str, str]) -> str:
    return LABEL.sub(lambda m: labels[m[1]], template)


def test_every_label_a_demo_annotation_names_is_filled_in(demo_prometheus):
    rules = demo_annotations()
    for alert in firing(demo_prometheus, set(rules)):
        name, labels = alert["labels"]["alertname"], alert["labels"]
        for key, template in rules[name].items():
            rendered = alert["annotations"][key]
            for label in LABEL.findall(template):
                assert labels.get(label), f"{name}: {key} names {label}, not on the alert"
                assert labels[label] in rendered, f"{name}: {key} lacks its {label}"
            if not TEMPLATE.search(LABEL.sub("", template)):
                # Only $labels placeholders: the text is the template with their values.
                assert rendered == fill_in(template, labels), f"{name}: {key}"


def test_the_high_error_rate_summary_names_the_job_and_namespace(demo_prometheus):
    alerts = firing(demo_prometheus, set(demo_annotations()))
    summaries = {a["annotations"]["summary"] for a in alerts}
    assert "High 5xx error rate on api in prod" in summaries
    assert "Filesystem /var/lib/postgresql on db-1.prod:9100 will fill within 4 hours" in summaries

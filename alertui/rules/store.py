"""The alerting rules each Prometheus has, and the expression of an alert, looked up by them.

The targets sync reads every rule of each Prometheus (for its failing-rule list) and hands the
alerting ones here. An alert is matched to a rule by name (the alertname the rule fires) and
by the labels the rule adds, all of which the alert carries; several Prometheus servers may
hold the same rule, so each distinct expression is listed once.
"""

from __future__ import annotations

import threading

from django.db import transaction
from django.db.models import Count, Max

from alertui.rules.models import AlertingRule

MAX_RULES = 20_000  # per Prometheus: more is not a rule file, it is an attack or a mistake
SHOWN = 3  # expressions shown for one alert, at most

_lock = threading.Lock()
_index: tuple[object, dict[str, list[tuple[str, dict]]]] = (None, {})


def replace_rules(source: str, rules) -> None:
    """The alerting rules of `source` are now `rules` (integrations.prometheus.Rule)."""
    alerting = [
        (r.group[:255], r.name[:255], r.query, r.labels)
        for r in rules
        if r.type == "alerting" and r.name
    ][:MAX_RULES]
    with transaction.atomic():
        stored = AlertingRule.objects.filter(source=source)
        if list(stored.order_by("id").values_list("group", "name", "query", "labels")) == alerting:
            return  # unchanged: the web processes keep their index (see _version)
        stored.delete()
        AlertingRule.objects.bulk_create(
            (
                AlertingRule(source=source, group=group, name=name, query=query, labels=labels)
                for group, name, query, labels in alerting
            ),
            batch_size=1000,
        )


def forget_sources_except(configured: list[str]) -> None:
    AlertingRule.objects.exclude(source__in=configured).delete()


def _version() -> tuple:
    """Changes whenever the table does (a sync replaces rows, so ids only grow)."""
    return tuple(AlertingRule.objects.aggregate(n=Count("id"), last=Max("id")).values())


def _rules_by_name(version: tuple) -> dict[str, list[tuple[str, dict]]]:
    """Every rule as (query, labels) by name, reloaded only when the table changed."""
    global _index
    if _index[0] == version:
        return _index[1]
    with _lock:
        index: dict[str, list[tuple[str, dict]]] = {}
        for name, query, labels in AlertingRule.objects.values_list("name", "query", "labels"):
            index.setdefault(name, []).append((query, labels if isinstance(labels, dict) else {}))
        _index = (version, index)
    return index


class RuleLookup:
    """Expressions for the alerts of one request: the rules are read once for all of them."""

    def __init__(self):
        self.version = _version()
        self._by_name = None

    def expressions(self, alertname: str, labels: dict) -> tuple[str, ...]:
        if self._by_name is None:
            self._by_name = _rules_by_name(self.version)
        found: list[str] = []
        for query, rule_labels in self._by_name.get(alertname, ()):
            fits = all(labels.get(k) == v for k, v in rule_labels.items())
            if fits and query not in found:
                found.append(query)
            if len(found) == SHOWN:
                break
        return tuple(found)

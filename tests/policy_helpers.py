"""Shared by tests/test_policy*.py: rules made as an admin makes them, and alerts in the
snapshot the "too broad" counts read."""

from __future__ import annotations

from django.conf import settings

from alertui.alerts.models import Alert
from alertui.audit.models import AuditEvent, PendingChange
from alertui.policy.models import PolicyRule
from tests.snapshots import publish_snapshot


def make_rule(name, kind, mode="refuse", groups=(), **fields) -> PolicyRule:
    """A rule saved through the admin's checks (full_clean), as an admin would save it."""
    rule = PolicyRule(name=name, kind=kind, mode=mode, **fields)
    rule.full_clean()
    rule.save()
    for group in groups:
        rule.groups.add(group)
    return rule


def firing(*label_sets, cluster=None) -> None:
    """These alerts, and only these, are the cluster's current alerts in the snapshot (as the
    sync writes them: the counts read the snapshot, never Alertmanager itself)."""
    cluster = cluster or settings.CLUSTER_NAME
    for index, labels in enumerate(label_sets):
        Alert.objects.create(
            cluster=cluster,
            fingerprint=f"{index:016x}",
            alertname=labels.get("alertname", ""),
            labels=labels,
            state="active",
        )
    publish_snapshot()


def refused_once(tag, rule_name: str, action: str = "created") -> AuditEvent:
    """The one audit row of a refused attempt (the only failed one, and nothing recorded of
    it since); it names the rule and what was tried."""
    [event] = AuditEvent.objects.filter(outcome="failed")
    assert not AuditEvent.objects.filter(pk__gt=event.pk).exists()
    assert (event.action, event.outcome) == (action, "failed")
    assert event.error.startswith(f"refused by policy: {rule_name}: ")
    assert tag in event.matchers_text
    assert not PendingChange.objects.exists()
    return event

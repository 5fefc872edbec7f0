"""Policy rules from a YAML file (POLICY_FILE, mounted from a ConfigMap like CLUSTERS_FILE).

They are read-only in alertui: they apply alongside the rules admins make in the Django admin,
and only a new file (and a restart) changes them. A wrong file stops the start with a message
naming the rule and the key.

    rules:
      - name: ticket-in-comment
        kind: comment                  # comment | max_duration | too_broad
        mode: refuse                   # warn | refuse (default)
        pattern: '[A-Z]+-[0-9]+|https://incidents\\.example\\.com/'
        explanation: Name the ticket (ABC-123) or the incident URL.
      - name: critical-4h
        kind: max_duration
        max_duration: 4h
        scope: 'severity="critical"'   # silences that could mute these alerts
        admins_exempt: true            # admins are warned instead of refused
      - name: too-broad
        kind: too_broad
        max_alerts: 50
        max_percent: 20
        whole_cluster: true
        only_regex: true
        min_matchers: 2
        clusters: [prod]               # default: every cluster
        groups: [silencers]            # default: everyone
"""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from alertui.config_files import read_key
from alertui.policy.rules import Rule, RuleError, build, unknown_clusters

RULE_KEYS = {
    "name",
    "kind",
    "mode",
    "explanation",
    "scope",
    "clusters",
    "groups",
    "admins_exempt",
    "pattern",
    "max_duration",
    "max_alerts",
    "max_percent",
    "whole_cluster",
    "only_regex",
    "min_matchers",
}
MAX_RULES = 200


def file_rules() -> list[Rule]:
    """The rules of POLICY_FILE (none without one)."""
    path = getattr(settings, "POLICY_FILE", "")
    return list(load(path)) if path else []


@lru_cache(maxsize=4)
def load(path: str) -> tuple[Rule, ...]:
    where, found = read_key("POLICY_FILE", path, "rules")
    entries = [] if found is None else found
    if not isinstance(entries, list) or len(entries) > MAX_RULES:
        raise ImproperlyConfigured(f"{where}: rules must be a list of at most {MAX_RULES}")
    rules: list[Rule] = []
    for index, entry in enumerate(entries):
        rule = _rule(entry, f"{where}: rules[{index}]")
        if rule.name in {r.name for r in rules}:
            raise ImproperlyConfigured(f"{where}: rule {rule.name!r}: two rules have this name")
        rules.append(rule)
    return tuple(rules)


def _rule(entry: object, where: str) -> Rule:
    if not isinstance(entry, dict):
        raise ImproperlyConfigured(f"{where}: a rule is a mapping with name, kind and its limits")
    if isinstance(entry.get("name"), str):
        where = where.rpartition(": ")[0] + f": rule {entry['name'][:100]!r}"
    unknown = set(entry) - RULE_KEYS
    if unknown:
        raise ImproperlyConfigured(f"{where}: unknown key {', '.join(sorted(map(str, unknown)))}")
    fields = dict(entry)
    if "max_duration" in fields and not isinstance(fields["max_duration"], str):
        fields["max_duration"] = str(fields["max_duration"])  # YAML reads `1w` as text, `60` not
    try:
        rule = build(
            fields.pop("name", None),
            fields.pop("kind", None),
            fields.pop("mode", "refuse"),
            source="file",
            **fields,
        )
    except RuleError as e:
        raise ImproperlyConfigured(f"{where}: key {e.field}: {e.message}") from None
    unknown = unknown_clusters(rule)
    if unknown:
        raise ImproperlyConfigured(f"{where}: key clusters: no such cluster: {', '.join(unknown)}")
    return rule

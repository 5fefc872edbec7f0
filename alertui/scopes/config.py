"""Scopes given in a YAML file (SCOPES_FILE, say from a ConfigMap), beside those made in the
admin. A bad file stops the start with a message naming the scope and the key.

    scopes:
      - name: payments
        group: payments            # the Django group whose members it is given to
        matchers: 'team="payments"'
        clusters: [prod]           # optional; every cluster when left out
      - name: shop
        group: shop-oncall
        matchers: 'namespace=~"shop-.*"'
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from alertui.config_files import read_key

KEYS = {"name", "group", "matchers", "clusters"}


def from_environment(cluster_names: list[str]) -> tuple:
    """For settings: the scopes of SCOPES_FILE (none without it). Imports nothing of alertui
    beyond alertui.env until a file is named: settings load it."""
    from alertui.env import env_str

    path = env_str("SCOPES_FILE")
    return load(path, cluster_names) if path else ()


def load(path: str, cluster_names: list[str]) -> tuple:
    where, entries = read_key("SCOPES_FILE", path, "scopes")
    if not isinstance(entries, list):
        raise ImproperlyConfigured(f"{where}: scopes must be a list")
    rules: list = []
    for index, entry in enumerate(entries):
        rule = _rule(entry, f"{where}: scopes[{index}]", cluster_names)
        if rule.name in {r.name for r in rules}:
            raise ImproperlyConfigured(f"{where}: scope {rule.name!r}: two scopes have this name")
        rules.append(rule)
    return tuple(rules)


def _rule(entry: object, where: str, cluster_names: list[str]):
    from alertui.scopes.rules import Rule, read_matchers

    if not isinstance(entry, dict):
        raise ImproperlyConfigured(f"{where}: a scope is a mapping with {', '.join(sorted(KEYS))}")
    name = entry.get("name")
    if not isinstance(name, str) or not 0 < len(name.strip()) <= 100:
        raise ImproperlyConfigured(f"{where}: key name: 1 to 100 characters")
    where = f"{where.rpartition(': ')[0]}: scope {name!r}"
    unknown = set(entry) - KEYS
    if unknown:
        raise ImproperlyConfigured(f"{where}: unknown key {', '.join(sorted(unknown))}")
    group = entry.get("group")
    if not isinstance(group, str) or not 0 < len(group) <= 150:
        raise ImproperlyConfigured(f"{where}: key group: the name of a Django group")
    if not isinstance(entry.get("matchers"), str):
        raise ImproperlyConfigured(f"{where}: key matchers: a string such as 'team=\"payments\"'")
    try:
        matchers = read_matchers(entry["matchers"])
    except ValueError as e:
        raise ImproperlyConfigured(f"{where}: key matchers: {e}") from None
    clusters = entry.get("clusters") or []
    if not isinstance(clusters, list) or not all(isinstance(c, str) for c in clusters):
        raise ImproperlyConfigured(f"{where}: key clusters: a list of cluster names")
    unknown = sorted(set(clusters) - set(cluster_names))
    if unknown:
        raise ImproperlyConfigured(
            f"{where}: key clusters: no cluster is named {', '.join(map(repr, unknown[:5]))}"
        )
    return Rule(name.strip(), group, tuple(matchers), frozenset(clusters))

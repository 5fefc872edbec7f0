"""Reading the YAML files that settings name (CLUSTERS_FILE, SCOPES_FILE, POLICY_FILE): one
top-level key each, and an error naming the setting, the file and what is wrong."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured


def read_key(setting: str, path: str, key: str) -> tuple[str, object]:
    """(the prefix errors start with, the value of `key`) of the YAML file at `path`, which must
    hold that one key; ImproperlyConfigured otherwise."""
    import yaml

    where = f"{setting} {path}"
    try:
        with open(path, encoding="utf-8") as f:
            document = yaml.safe_load(f)
    except OSError as e:
        raise ImproperlyConfigured(f"{where}: cannot read it: {e.strerror}") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark else ""
        raise ImproperlyConfigured(f"{where}: not valid YAML{line}") from None
    if not isinstance(document, dict) or set(document) != {key}:
        raise ImproperlyConfigured(f"{where}: the file holds one key, {key}: a list")
    return where, document[key]

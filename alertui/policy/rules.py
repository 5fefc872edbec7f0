"""One policy rule, as the checks read it, whether an admin made it in the Django admin
(policy.models.PolicyRule) or it came from POLICY_FILE (policy.config).

`build` is the one place a rule's fields are checked, so the admin form and the file refuse
the same mistakes with the same words.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import re2

from alertui.durations import DurationError, format_duration, parse_duration
from alertui.matchers import CLUSTER, Matcher, MatcherError, parse_matchers

KINDS = ("comment", "max_duration", "too_broad")
MODES = ("warn", "refuse")
# A comment pattern is an admin's, but it runs on every silence: RE2 (linear time, no
# catastrophic backtracking) with a bounded length, program size and memory.
MAX_PATTERN = 500
MAX_PROGRAM = 5000
MAX_EXPLANATION = 500
MAX_SCOPE = 1000
_OPTIONS = re2.Options()
_OPTIONS.log_errors = False
_OPTIONS.max_mem = 8 << 20


class RuleError(ValueError):
    """A rule field is wrong: `field` names it, the message says why."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Rule:
    name: str
    kind: str  # one of KINDS
    mode: str = "refuse"  # one of MODES
    explanation: str = ""  # the admin's words, shown with the finding
    scope: tuple[Matcher, ...] = ()  # applies to silences that could mute these alerts
    clusters: tuple[str, ...] = ()  # empty: every cluster
    groups: tuple[str, ...] = ()  # empty: everyone; else members of these groups only
    admins_exempt: bool = False  # a superuser is warned where others are refused
    pattern: str = ""  # comment: searched for in the comment
    max_duration: timedelta | None = None
    max_alerts: int | None = None  # too_broad: more current alerts than this
    max_percent: int | None = None  # too_broad: more than this % of the cluster's alerts
    whole_cluster: bool = False  # too_broad: every current alert of the cluster
    only_regex: bool = False  # too_broad: every matcher a regex
    min_matchers: int | None = None  # too_broad: fewer matchers than this
    source: str = "admin"  # "admin" or "file" (read-only)

    @property
    def refuses(self) -> bool:
        return self.mode == "refuse"

    def comment_regex(self):
        return compile_pattern(self.pattern)

    def describe(self) -> str:
        """What the rule asks, in a few words (admin list, docs)."""
        if self.kind == "comment":
            return f"comment must contain /{self.pattern}/"
        if self.kind == "max_duration":
            return f"at most {format_duration(self.max_duration)}"
        parts = []
        if self.max_alerts is not None:
            parts.append(f"at most {self.max_alerts} alerts")
        if self.max_percent is not None:
            parts.append(f"at most {self.max_percent}% of the alerts")
        if self.whole_cluster:
            parts.append("not every alert of a cluster")
        if self.only_regex:
            parts.append("not only regex matchers")
        if self.min_matchers:
            parts.append(f"at least {self.min_matchers} matchers")
        return ", ".join(parts)


def unknown_clusters(rule: Rule) -> list[str]:
    """The clusters the rule names that are not configured (a typo would make it apply
    nowhere)."""
    from alertui.clusters import names

    known = names()
    return [name for name in rule.clusters if name not in known]


def compile_pattern(pattern: str):
    """The comment pattern compiled by RE2 (unanchored search); RuleError saying why not."""
    if len(pattern) > MAX_PATTERN:
        raise RuleError("pattern", f"At most {MAX_PATTERN} characters.")
    try:
        regex = re2._Regexp(pattern, _OPTIONS)
    except re2.error as e:
        reason = e.args[0].decode() if e.args and isinstance(e.args[0], bytes) else str(e)
        raise RuleError("pattern", f"Not a regular expression RE2 accepts: {reason}") from None
    if regex.programsize > MAX_PROGRAM:
        raise RuleError("pattern", "Too complex: write a simpler pattern.")
    return regex


def _text(value, field: str, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise RuleError(field, "Give text.")
    if len(value) > limit:
        raise RuleError(field, f"At most {limit} characters.")
    return value.strip()


def _count(value, field: str, low: int, high: int | None = None) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise RuleError(field, "Give a whole number.")
    if value < low or (high is not None and value > high):
        top = f" to {high}" if high is not None else " or more"
        raise RuleError(field, f"Give a number from {low}{top}.")
    return value


def _flag(value, field: str) -> bool:
    # Not bool(): a quoted "false" in the file is text, and any text is true.
    if value is None:
        return False
    if not isinstance(value, bool):
        raise RuleError(field, "Give true or false (without quotes).")
    return value


def _names(value, field: str) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
        raise RuleError(field, "Give a list of names.")
    return tuple(i.strip()[:150] for i in items if i.strip())[:100]


def build(name, kind, mode="refuse", **fields) -> Rule:
    """A checked Rule from plain values (strings, numbers, lists); RuleError on the first
    wrong field. `max_duration` is a duration text ("4h"), `scope` matchers text."""
    name = _text(name, "name", 100)
    if not name:
        raise RuleError("name", "Give the rule a name.")
    if kind not in KINDS:
        raise RuleError("kind", f"Use one of {', '.join(KINDS)}.")
    if mode not in MODES:
        raise RuleError("mode", f"Use one of {', '.join(MODES)}.")
    scope_text = _text(fields.get("scope"), "scope", MAX_SCOPE)
    try:
        scope = tuple(parse_matchers(scope_text)) if scope_text else ()
    except MatcherError as e:
        raise RuleError("scope", f"Not matchers: {e}") from None
    if any(m.name == CLUSTER for m in scope):
        raise RuleError("scope", "Name clusters in clusters, not in the scope.")
    values = {
        "explanation": _text(fields.get("explanation"), "explanation", MAX_EXPLANATION),
        "scope": scope,
        "clusters": _names(fields.get("clusters"), "clusters"),
        "groups": _names(fields.get("groups"), "groups"),
        "admins_exempt": _flag(fields.get("admins_exempt"), "admins_exempt"),
        "source": fields.get("source", "admin"),
    }
    if kind == "comment":
        values["pattern"] = _text(fields.get("pattern"), "pattern", MAX_PATTERN)
        if not values["pattern"]:
            raise RuleError("pattern", "A comment rule needs the pattern a comment must contain.")
        compile_pattern(values["pattern"])
    elif kind == "max_duration":
        values["max_duration"] = _duration(fields.get("max_duration"))
    else:
        values.update(_too_broad(fields))
    return Rule(name=name, kind=kind, mode=mode, **values)


def _duration(value) -> timedelta:
    if not value or not isinstance(value, str):
        raise RuleError("max_duration", 'A maximum duration rule needs a duration, such as "4h".')
    try:
        return parse_duration(value)
    except DurationError as e:
        raise RuleError("max_duration", str(e)) from None


def _too_broad(fields) -> dict:
    found = {
        "max_alerts": _count(fields.get("max_alerts"), "max_alerts", 0),
        "max_percent": _count(fields.get("max_percent"), "max_percent", 1, 100),
        "whole_cluster": _flag(fields.get("whole_cluster"), "whole_cluster"),
        "only_regex": _flag(fields.get("only_regex"), "only_regex"),
        "min_matchers": _count(fields.get("min_matchers"), "min_matchers", 1, 50),
    }
    if not any(v not in (None, False) for v in found.values()):
        raise RuleError(
            "max_alerts",
            "A too-broad rule needs at least one limit: max_alerts, max_percent, "
            "whole_cluster, only_regex or min_matchers.",
        )
    return found

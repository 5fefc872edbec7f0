"""Reserved filters of the alerts page: `@name<op>value` terms in the filter box (and so in the
URL's `q`) that ask about something other than an alert's labels.

    @silenced_by="alice"      muted by a silence alice created (=, !=, =~, !~)
    @age>1h   @age<10m        firing for longer / less than a duration (>, <, >=, <=)

Each reserved name is one entry in RESERVED: the operators it takes, how its value is read
(a bad value raises FilterError with the message the page shows) and the test an alert must
pass. Adding one is adding an entry. `@cluster="eu1"` is not one of them: the matcher parser
reads it as a matcher, so it filters (=, !=, =~, !~) and groups like a label.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property

from django.utils import timezone

from alertui.durations import DurationError, parse_duration
from alertui.matchers import CLUSTER, MatcherError, compile_regex


class FilterError(ValueError):
    pass


class Facts:
    """What reserved filters may need beyond the alert, read once per request when asked."""

    def __init__(self, alerts):
        self._alerts = alerts
        self.now = timezone.now()

    @cached_property
    def silence_creators(self) -> dict[str, str]:
        from alertui.silences.models import Silence

        ids = {sid for a in self._alerts for sid in a.silenced_by if isinstance(sid, str)}
        return dict(Silence.objects.filter(id__in=ids).values_list("id", "created_by"))


@dataclass(frozen=True)
class Reserved:
    operators: tuple[str, ...]
    example: str
    read: Callable[[str, str], object]  # (operator, raw value) -> value; raises FilterError
    test: Callable[[object, str, object, Facts], bool]  # (alert, operator, value, facts)


def _quoted(op: str, raw: str):
    if raw.startswith('"'):
        if len(raw) < 2 or not raw.endswith('"'):
            raise FilterError("its value opens a quote that is never closed")
        raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
    if not raw:
        raise FilterError("it needs a value")
    if op in ("=~", "!~"):
        try:
            return compile_regex(raw)
        except MatcherError as e:
            raise FilterError(str(e)) from None
    return raw


def _text_test(value_of: Callable[[object, Facts], list[str]]):
    def test(alert, op, wanted, facts) -> bool:
        found = value_of(alert, facts)
        if op in ("=~", "!~"):
            hit = any(wanted.fullmatch(v) is not None for v in found)
        else:
            hit = wanted in found
        return hit if op in ("=", "=~") else not hit

    return test


def _creators(alert, facts: Facts) -> list[str]:
    return [facts.silence_creators[s] for s in alert.silenced_by if s in facts.silence_creators]


def _duration(op: str, raw: str) -> timedelta:
    try:
        return parse_duration(raw.strip('"'))
    except DurationError as e:
        raise FilterError(str(e)) from None


_COMPARE = {">": operator.gt, "<": operator.lt, ">=": operator.ge, "<=": operator.le}


def _age_test(alert, op, wanted: timedelta, facts: Facts) -> bool:
    if alert.starts_at is None:
        return False  # an alert with no known start has no age to compare
    return _COMPARE[op](facts.now - alert.starts_at, wanted)


RESERVED: dict[str, Reserved] = {
    "silenced_by": Reserved(
        ("=", "!=", "=~", "!~"), '@silenced_by="alice"', _quoted, _text_test(_creators)
    ),
    "age": Reserved((">", "<", ">=", "<="), "@age>1h", _duration, _age_test),
}

# `@name`, an operator, a value (quoted, or up to the next space or comma).
_TERM = re.compile(
    r"""(?:^|(?<=[\s,{]))@(?P<name>\w*)\s*(?P<op>>=|<=|=~|!~|!=|=|>|<)?\s*"""
    r"""(?P<value>"(?:[^"\\]|\\.)*"?|[^\s,{}"]*)"""
)


@dataclass(frozen=True)
class Term:
    name: str
    op: str
    value: object = field(compare=False)

    def keeps(self, alert, facts: Facts) -> bool:
        return RESERVED[self.name].test(alert, self.op, self.value, facts)


# Reserved names the matcher parser reads itself, as matchers (alertui.matchers.CLUSTER: a
# cluster filters and groups like a label): left in the text for it.
FOR_MATCHERS = {CLUSTER.removeprefix("@")}


def extract(text: str) -> tuple[list[Term], str]:
    """(the reserved terms of a filter, the rest of it for the matcher parser)."""
    terms: list[Term] = []

    def take(m: re.Match) -> str:
        if m["name"] in FOR_MATCHERS:
            if m["op"] not in ("=", "!=", "=~", "!~"):
                # Else a bare `@cluster` would be read as a word that every alert matches.
                raise FilterError(
                    f'@{m["name"]} takes =, !=, =~, !~ and a value, as in @{m["name"]}="prod"'
                )
            return m[0]
        terms.append(_term(m["name"], m["op"] or "", m["value"]))
        return " "

    return terms, _TERM.sub(take, text)


def _term(name: str, op: str, raw: str) -> Term:
    known = ", ".join(f"@{n}" for n in sorted({*RESERVED, *FOR_MATCHERS}))
    spec = RESERVED.get(name)
    if spec is None:
        raise FilterError(f"@{name} is not a reserved filter; there are {known}")
    if op not in spec.operators:
        ops = ", ".join(spec.operators)
        raise FilterError(f"@{name} takes {ops} and a value, as in {spec.example}")
    try:
        return Term(name, op, spec.read(op, raw))
    except FilterError as e:
        reason = str(e).rstrip(".")
        raise FilterError(
            f"@{name}{op}{raw[:100]}: {reason}; write it as in {spec.example}"
        ) from None


def keeper(terms: list[Term], alerts) -> Callable[[object], bool]:
    """The test of all the terms together, for these alerts."""
    facts = Facts(alerts)
    return lambda alert: all(t.keeps(alert, facts) for t in terms)

"""Is a silence inside a scope: can it mute no alert the scope does not cover?

A scope and a silence are each a set of matchers; each covers the label sets all its matchers
match (a missing label counts as the empty string, as in Alertmanager). The silence is inside
the scope when, for every scope matcher, the silence has a matcher on the same label that
matches only values the scope matcher matches too. That is sufficient (the silence matches
less than each scope matcher, so less than all of them together) and checked without
enumerating anything; where proving it would need comparing two regexes, the answer is "no".

Value sets, with `L(r)` the strings regex r matches whole (Alertmanager anchors regexes):

    scope \\ silence   = w                =~ r2              != w          !~ r2
    = v               w == v             no                 no            no
    =~ r              r matches w        r2 == r            no            no
    != v              w != v             r2 misses v        w == v        r2 matches v
    !~ r              r misses w         no                 no            r2 == r

A regex without any regex syntax (`=~"payments"`) is read as the one string it matches, so
`=~` and `!~` of a plain word behave as `=` and `!=`.
"""

from __future__ import annotations

from collections.abc import Iterable

from alertui.matchers import Matcher, MatcherError, compile_regex

# RE2's metacharacters: a pattern with none of them matches exactly itself.
_SYNTAX = set("\\.+*?()|[]{}^$")


def literal(matcher: Matcher) -> Matcher:
    """The matcher with a regex of one plain string as the equality it is."""
    if matcher.is_regex and not _SYNTAX.intersection(matcher.value):
        return Matcher(matcher.name, "=" if matcher.is_equal else "!=", matcher.value)
    return matcher


def _full_match(pattern: str, value: str) -> bool | None:
    """Does the anchored regex match `value`? None when the regex does not compile (a
    silence Alertmanager would refuse anyway): never read as inside."""
    try:
        return compile_regex(pattern).match(value) is not None
    except MatcherError:
        return None


def within(scope_matcher: Matcher, silence_matcher: Matcher) -> bool:
    """Does `silence_matcher` match only values `scope_matcher` matches (same label)?"""
    s, m = literal(scope_matcher), literal(silence_matcher)
    if s.name != m.name:
        return False
    if s.op == "=":
        return m.op == "=" and m.value == s.value
    if s.op == "=~":
        if m.op == "=":
            return _full_match(s.value, m.value) is True
        return m.op == "=~" and m.value == s.value
    if s.op == "!=":
        if m.op == "=":
            return m.value != s.value
        if m.op == "!=":
            return m.value == s.value
        hit = _full_match(m.value, s.value)
        if hit is None:
            return False
        return hit if m.op == "!~" else not hit
    # s.op == "!~"
    if m.op == "=":
        return _full_match(s.value, m.value) is False
    return m.op == "!~" and m.value == s.value


def uncovered(scope: Iterable[Matcher], silence: Iterable[Matcher]) -> list[Matcher]:
    """The scope's matchers no matcher of the silence is at least as narrow as (none: the
    silence is inside the scope)."""
    silence = list(silence)
    return [s for s in scope if not any(within(s, m) for m in silence)]


def inside(scope: Iterable[Matcher], silence: Iterable[Matcher]) -> bool:
    return not uncovered(scope, silence)

"""Alertmanager label matchers: parse, format, validate and match.

The text syntax is Alertmanager's: `name="value"`, `name!="value"`, `name=~"regex"`,
`name!~"regex"`, several separated by commas or spaces, optionally inside `{...}`. Regexes use RE2,
the engine Alertmanager's Go regexp follows, fully anchored as Alertmanager anchors them, so
what compiles here compiles there and matches the same alerts.
"""

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property

import re2

from alertui.caches import BoundedCache

OPERATORS = ("=", "!=", "=~", "!~")
# Classic Prometheus label names: accepted by every Alertmanager version (0.25 rejects others).
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
# A reserved name for the alerts page's filter and grouping: the alert's cluster, used like a
# label (`@cluster="prod"`). No label can have it, and no silence matcher may use it.
CLUSTER = "@cluster"
_MATCHER = re.compile(
    r"""\s*(?P<name>[^\s=!~,{}"]+)\s*(?P<op>=~|!~|!=|=)\s*"""
    r"""(?P<value>"(?:[^"\\]|\\.)*"|[^\s,{}"]*)\s*,?"""
)
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False


class MatcherError(ValueError):
    pass


def _regex_size(regex) -> int:
    # RE2 keeps about 10 bytes per program instruction plus ~2 KB per regex (measured): one
    # filter of 20 characters can compile to 5 MB, so a count bound would not do. Counted
    # twice over, for the reverse program RE2 may build (asking its size would build it).
    return 2048 + 32 * regex.programsize


_compiled = BoundedCache("filter regexes", 0.1, _regex_size)


def compile_regex(pattern: str):
    """Compile as Alertmanager does (`^(?:pattern)$`); MatcherError with RE2's reason."""
    found = _compiled.get(pattern)
    if found is None:
        try:
            # Not re2.compile: it keeps the last 128 regexes in a cache of its own, unbounded
            # in bytes (up to 1 GiB), which would defeat this one.
            found = re2._Regexp(f"^(?:{pattern})$", _RE2_OPTIONS)
        except re2.error as e:
            reason = e.args[0].decode() if e.args and isinstance(e.args[0], bytes) else str(e)
            raise MatcherError(f"invalid regular expression {pattern!r}: {reason}") from None
        _compiled.put(pattern, found)
    return found


@dataclass(frozen=True)
class Matcher:
    name: str
    op: str
    value: str

    def __post_init__(self):
        if self.op not in OPERATORS:
            raise MatcherError(f"unknown operator {self.op!r}; use =, !=, =~ or !~")

    @property
    def is_regex(self) -> bool:
        return self.op in ("=~", "!~")

    @property
    def is_equal(self) -> bool:
        return self.op in ("=", "=~")

    def validate(self) -> None:
        if self.name != CLUSTER and not LABEL_NAME.match(self.name):
            raise MatcherError(
                f"invalid label name {self.name!r}: use letters, digits and underscores, "
                "not starting with a digit"
            )
        if self.is_regex:
            self._regex  # noqa: B018 (compiles it: a bad regex raises here)

    @cached_property
    def _regex(self):
        # Kept on the matcher too: matching thousands of alerts looks it up once.
        return compile_regex(self.value)

    def matches(self, labels: Mapping[str, str]) -> bool:
        # A missing label counts as the empty string, as in Alertmanager.
        actual = labels.get(self.name, "")
        if self.is_regex:
            hit = self._regex.match(actual) is not None
        else:
            hit = actual == self.value
        return hit if self.is_equal else not hit

    def matches_empty(self) -> bool:
        return self.matches({})

    def __str__(self) -> str:
        return f"{self.name}{self.op}{json.dumps(self.value, ensure_ascii=False)}"

    def to_api(self) -> dict:
        return {
            "name": self.name,
            "value": self.value,
            "isRegex": self.is_regex,
            "isEqual": self.is_equal,
        }

    @classmethod
    def from_api(cls, data: Mapping) -> "Matcher":
        is_regex = bool(data.get("isRegex"))
        is_equal = data.get("isEqual", True) is not False
        name = str(data.get("name", "")).replace("\x00", "\ufffd")
        value = str(data.get("value", "")).replace("\x00", "\ufffd")
        op = {(True, False): "=", (False, False): "!=", (True, True): "=~", (False, True): "!~"}[
            (is_equal, is_regex)
        ]
        return cls(name, op, value)


def _unquote(raw: str) -> str:
    if raw.startswith('"'):
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            # OpenMetrics escapes are a subset of JSON's, but allow a lone backslash too.
            value = raw[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    else:
        value = raw
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise MatcherError(f"{raw!r} holds an escape that is not a character") from None
    return value


def parse_matchers(text: str, validate: bool = True) -> list[Matcher]:
    """Parse `a="b", c=~"d.*"` (braces optional). Raises MatcherError saying what is wrong."""
    matchers, _ = _parse(text, allow_words=False)
    if validate:
        for matcher in matchers:
            matcher.validate()
    return matchers


def parse_filter(text: str) -> tuple[list[Matcher], list[str]]:
    """Matchers plus free words: `severity="critical" disk full`."""
    matchers, words = _parse(text, allow_words=True)
    for matcher in matchers:
        matcher.validate()
    return matchers, words


def _parse(text: str, allow_words: bool) -> tuple[list[Matcher], list[str]]:
    text = (text or "").strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    matchers: list[Matcher] = []
    words: list[str] = []
    pos = 0
    while pos < len(text):
        if text[pos] in " \t\r\n,":
            pos += 1
            continue
        found = _MATCHER.match(text, pos)
        if found and not found["value"] and text[found.end("op") :].lstrip().startswith('"'):
            raise MatcherError(
                f"the value of {found['name']!r} opens a quote that is never closed; "
                'write name="value"'
            )
        if found:
            matchers.append(Matcher(found["name"], found["op"], _unquote(found["value"])))
            pos = found.end()
            continue
        word_end = pos
        while word_end < len(text) and text[word_end] not in " \t\r\n,":
            word_end += 1
        word = text[pos:word_end]
        if not allow_words:
            raise MatcherError(
                f'cannot read {word!r} as a matcher; write name="value" with one of =, !=, =~, !~'
            )
        words.append(word.strip('"'))
        pos = word_end
    return matchers, words


def format_matchers(matchers: Iterable[Matcher]) -> str:
    return ", ".join(str(m) for m in matchers)


def matches_all(matchers: Iterable[Matcher], labels: Mapping[str, str]) -> bool:
    return all(m.matches(labels) for m in matchers)


def validate_silence_matchers(matchers: list[Matcher]) -> None:
    """The rules Alertmanager applies to a silence, checked before anything is sent."""
    if not matchers:
        raise MatcherError("Add at least one matcher.")
    if any(m.name == CLUSTER for m in matchers):
        raise MatcherError(
            f"{CLUSTER} chooses clusters on the alerts page; a silence cannot use it."
        )
    for matcher in matchers:
        matcher.validate()
    if all(m.matches_empty() for m in matchers):
        raise MatcherError(
            "Every matcher here also matches alerts without that label, so the silence would "
            "mute everything. Add at least one matcher that does not match the empty string."
        )

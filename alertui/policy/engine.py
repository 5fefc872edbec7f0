"""The silence policy: what the rules say about one silence in one cluster.

`evaluate` is the one function every path asks (form preview, form submit, API, services),
so a silence is judged the same way wherever it comes from. It reads the current alerts from
the alert snapshot (alerts.snapshot), as the silence form's preview does, for the "too broad"
counts.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from alertui.durations import format_duration
from alertui.matchers import Matcher, MatcherError, matches_all
from alertui.policy.rules import Rule, RuleError

log = logging.getLogger(__name__)

# Fewer alerts than this in a cluster and "every alert of the cluster" says nothing: one
# firing alert silenced by its own labels is not a silence of everything.
WHOLE_CLUSTER_MINIMUM = 2


@dataclass(frozen=True)
class Finding:
    rule: str  # the rule's name
    message: str  # what is wrong, in the rule's own words where it has them

    def __str__(self) -> str:
        return f"{self.rule}: {self.message}"


@dataclass(frozen=True)
class Verdict:
    warnings: tuple[Finding, ...] = ()
    refusals: tuple[Finding, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.warnings or self.refusals)

    def refusal_text(self) -> str:
        return "; ".join(f"refused by policy: {f}" for f in self.refusals)

    def merged(self, other: Verdict, prefix: str = "") -> Verdict:
        def add(mine, theirs):
            seen = {str(f) for f in mine}
            extra = [Finding(f.rule, prefix + f.message) for f in theirs]
            return mine + tuple(f for f in extra if str(f) not in seen)

        return Verdict(add(self.warnings, other.warnings), add(self.refusals, other.refusals))


@dataclass
class _Silence:
    """The silence being judged, and what is read only when a rule needs it."""

    user: object
    cluster: str
    matchers: Sequence[Matcher]
    starts_at: datetime | None
    ends_at: datetime | None
    comment: str
    _groups: set[str] | None = None
    _counts: tuple[int, int] | None = None

    def groups(self) -> set[str]:
        if self._groups is None:
            user = self.user
            found = user.groups.values_list("name", flat=True) if user.is_authenticated else []
            self._groups = set(found)
        return self._groups

    def counts(self) -> tuple[int, int]:
        """(current alerts the matchers match, current alerts) in the cluster."""
        if self._counts is None:
            from alertui.alerts.snapshot import current_alerts

            mine = [a for a in current_alerts() if a.cluster == self.cluster]
            hit = sum(1 for a in mine if matches_all(self.matchers, a.labels))
            self._counts = (hit, len(mine))
        return self._counts


def active_rules() -> list[Rule]:
    """The rules in force: the file's (read-only), then the enabled ones made in the admin."""
    from alertui.policy.config import file_rules
    from alertui.policy.models import PolicyRule

    found = list(file_rules())
    made = PolicyRule.objects.filter(enabled=True).prefetch_related("groups").order_by("name")
    for row in made:
        try:
            found.append(row.as_rule())
        except RuleError as e:
            # Only a row written around the admin's checks gets here: say so, keep the others.
            log.error("policy rule %r is not valid (%s: %s); it is skipped", row.name, e.field, e)
    return found


def evaluate(
    user,
    cluster: str,
    matchers: Iterable[Matcher],
    starts_at: datetime | None,
    ends_at: datetime | None,
    comment: str,
    *,
    rules: list[Rule] | None = None,
) -> Verdict:
    """The warnings and refusals of every rule that applies to this silence.

    `starts_at` is the silence's own start (an active silence's real start, so extending it
    cannot get around a maximum duration). A time or the matchers left out (a form still being
    filled in) skips the rules that need them."""
    matchers = tuple(matchers)
    try:
        for matcher in matchers:
            matcher.validate()
    except MatcherError:
        matchers = ()  # the form says what is wrong with them; judged is the rest
    silence = _Silence(user, cluster, matchers, starts_at, ends_at, comment or "")
    warnings, refusals = [], []
    for rule in active_rules() if rules is None else rules:
        if not _applies(rule, silence):
            continue
        for message in _check(rule, silence):
            if rule.explanation:
                message = f"{message} {rule.explanation}"
            if not rule.refuses:
                warnings.append(Finding(rule.name, message))
            elif rule.admins_exempt and getattr(user, "is_superuser", False):
                warnings.append(Finding(rule.name, f"{message} (allowed: you are an admin)"))
            else:
                refusals.append(Finding(rule.name, message))
    return Verdict(tuple(warnings), tuple(refusals))


def _applies(rule: Rule, silence: _Silence) -> bool:
    if rule.clusters and silence.cluster not in rule.clusters:
        return False
    if rule.groups and not (silence.groups() & set(rule.groups)):
        return False
    return could_mute(silence.matchers, rule.scope)


def could_mute(matchers: Sequence[Matcher], scope: Sequence[Matcher]) -> bool:
    """Whether a silence with these matchers could mute an alert of the scope.

    Only a contradiction rules it out: the silence asks `severity="warning"` where the scope
    asks `severity="critical"`. A silence without a matcher on a scope's label can mute the
    scope's alerts, so the rule applies to it (adding `severity="warning"` takes it out)."""
    for wanted in scope:
        for own in matchers:
            if own.name != wanted.name:
                continue
            if wanted.op == "=" and not own.matches({own.name: wanted.value}):
                return False
            if own.op == "=" and not wanted.matches({own.name: own.value}):
                return False
    return True


def _check(rule: Rule, silence: _Silence) -> list[str]:
    if rule.kind == "comment":
        if rule.comment_regex().search(silence.comment) is None:
            return ["The comment does not have what this policy asks for."]
        return []
    if rule.kind == "max_duration":
        if silence.starts_at is None or silence.ends_at is None:
            return []
        length = silence.ends_at - silence.starts_at
        if length > rule.max_duration:
            scope = f" matching {', '.join(map(str, rule.scope))}" if rule.scope else ""
            return [
                f"Silences{scope} may last at most {format_duration(rule.max_duration)} "
                f"from their start; this one lasts {format_duration(length)}."
            ]
        return []
    return _too_broad(rule, silence)


def _too_broad(rule: Rule, silence: _Silence) -> list[str]:
    matchers = silence.matchers
    if not matchers:
        return []
    found = []
    distinct = len(set(matchers))  # the same matcher twice narrows nothing
    if rule.min_matchers and distinct < rule.min_matchers:
        found.append(f"Give at least {rule.min_matchers} matchers (this silence has {distinct}).")
    if rule.only_regex and not any(m.op == "=" and m.value for m in matchers):
        # A `!=` or `name=""` is no exact matcher: `job=~".+", x!="nothing"` mutes everything.
        found.append(
            'Every matcher is a regular expression or a negation: add an exact one (name="value").'
        )
    if rule.max_alerts is None and rule.max_percent is None and not rule.whole_cluster:
        return found
    hit, total = silence.counts()
    where = silence.cluster
    if rule.max_alerts is not None and hit > rule.max_alerts:
        found.append(
            f"It matches {hit} current alerts in {where}; at most {rule.max_alerts} allowed."
        )
    if rule.max_percent is not None and total and hit * 100 > rule.max_percent * total:
        found.append(
            f"It matches {hit} of the {total} current alerts in {where} "
            f"({hit * 100 // total}%); at most {rule.max_percent}% allowed."
        )
    if rule.whole_cluster and total >= WHOLE_CLUSTER_MINIMUM and hit == total:
        found.append(f"It matches every current alert in {where} ({total}).")
    return found

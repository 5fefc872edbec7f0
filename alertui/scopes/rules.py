"""A scope as the checks read it, whether made in the admin or given in SCOPES_FILE."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from alertui.matchers import CLUSTER, Matcher, MatcherError, format_matchers, parse_matchers
from alertui.scopes import narrowness

MAX_MATCHERS = 20


@dataclass(frozen=True)
class Rule:
    name: str
    group: str  # the Django group whose members it is given to
    matchers: tuple[Matcher, ...]
    clusters: frozenset[str] = frozenset()  # empty: every cluster

    def applies_in(self, cluster: str) -> bool:
        return not self.clusters or cluster in self.clusters

    def covers(self, matchers: Iterable[Matcher], cluster: str) -> bool:
        return self.applies_in(cluster) and narrowness.inside(self.matchers, matchers)

    def describe(self) -> str:
        where = f" in {', '.join(sorted(self.clusters))}" if self.clusters else ""
        return f"{self.name} ({format_matchers(self.matchers)}{where})"

    def why_not(self, matchers: Iterable[Matcher], cluster: str) -> str:
        """What keeps a silence of `matchers` in `cluster` out of this scope."""
        if not self.applies_in(cluster):
            return f"{self.name} does not apply in cluster {cluster}"
        missing = narrowness.uncovered(self.matchers, matchers)
        return f"{self.name} needs a matcher as narrow as {format_matchers(missing)}"


def read_matchers(text: str) -> list[Matcher]:
    """A scope's matchers; ValueError saying what is wrong."""
    try:
        matchers = parse_matchers(text or "")
    except MatcherError as e:
        raise ValueError(str(e)) from None
    if not matchers:
        raise ValueError('Give at least one matcher, e.g. team="payments".')
    if len(matchers) > MAX_MATCHERS:
        raise ValueError(f"At most {MAX_MATCHERS} matchers.")
    if any(m.name == CLUSTER for m in matchers):
        raise ValueError(f"Name the clusters in their own field, not with {CLUSTER}.")
    return matchers


def check_clusters(names: Iterable[str]) -> None:
    from alertui import clusters

    known = clusters.names()
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise ValueError(
            f"No such cluster: {', '.join(repr(n[:63]) for n in unknown[:5])} "
            f"(there are {', '.join(known)})."
        )

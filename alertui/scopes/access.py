"""Who may change which silences.

- Superusers, and whoever holds the silencers' permission other than through a scoped group
  (the `silencers` group, a permission given to the user), change any silence: today's roles.
- A member of a group with scopes changes only silences inside one of them, in the scope's
  clusters, whether or not the group also holds the permission.
- Everyone else reads.

Without any scope, nobody is restricted and the roles work as they always did.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings

from alertui.matchers import Matcher
from alertui.scopes.rules import Rule

MANAGE_SILENCES = "silences.manage_silences"


@dataclass(frozen=True)
class Access:
    unrestricted: bool
    scopes: tuple[Rule, ...] = ()
    # In a group with a scope, even one that cannot be read: then held to `scopes` (all of
    # them readable), never let off because a scope is broken.
    scoped: bool = False

    @property
    def can_silence(self) -> bool:
        return self.unrestricted or bool(self.scopes)

    @property
    def restricted(self) -> bool:
        """Do scopes restrict this person's changes (rather than the roles alone)?"""
        return self.scoped and not self.unrestricted

    @property
    def key(self):
        """What pages shared between people may be keyed by: equal for equal rights."""
        return True if self.unrestricted else self.scopes

    def covering(self, matchers: Iterable[Matcher], cluster: str) -> Rule | None:
        matchers = list(matchers)
        return next((s for s in self.scopes if s.covers(matchers, cluster)), None)

    def may_change(self, matchers: Iterable[Matcher], cluster: str) -> bool:
        return self.unrestricted or self.covering(matchers, cluster) is not None

    def may_silence_labels(self, labels: dict, cluster: str) -> bool:
        """May they make the silence of exactly these labels (each with `=`), as the alerts
        page's Silence buttons pre-fill it?"""
        if self.unrestricted:
            return True
        return self.may_change([Matcher(k, "=", v) for k, v in labels.items()], cluster)

    def refusal(self, matchers: Iterable[Matcher], cluster: str) -> str:
        """Why a silence of `matchers` in `cluster` is out of reach, naming each scope."""
        matchers = list(matchers)
        if not self.scopes:
            return (
                "None of your scopes can be read (ask an administrator)."
                if self.scoped
                else "Only silencers can change silences."
            )
        reasons = "; ".join(s.why_not(matchers, cluster) for s in self.scopes)
        return f"This silence is outside your scopes: {reasons}."


VIEWER = Access(False)
EVERYTHING = Access(True)


def access_for(user) -> Access:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return VIEWER
    if user.is_superuser:
        return EVERYTHING
    group_names = set(user.groups.values_list("name", flat=True))
    scopes, scoped_groups = _rules(user, group_names)
    if not scoped_groups:
        return Access(user.has_perm(MANAGE_SILENCES))
    return Access(_permission_outside(user, group_names - scoped_groups), scopes, scoped=True)


def _rules(user, group_names: set[str]) -> tuple[tuple[Rule, ...], set[str]]:
    """The user's readable scopes, and the names of their groups that have any scope."""
    from alertui.scopes.models import Scope

    found = [s for s in settings.SCOPES if s.group in group_names]
    scoped_groups = {s.group for s in found}
    for scope in Scope.objects.filter(group__user=user).select_related("group"):
        scoped_groups.add(scope.group.name)
        try:
            matchers = tuple(scope.matcher_list)
        except ValueError:
            continue  # saved around the admin's checks: grants nothing, restricts still
        found.append(Rule(scope.name, scope.group.name, matchers, scope.cluster_names))
    return tuple(sorted(found, key=lambda s: s.name)), scoped_groups


def _permission_outside(user, unscoped_groups: set[str]) -> bool:
    """Does the user hold the permission other than through a scoped group?"""
    from django.contrib.auth.models import Permission

    app_label, codename = MANAGE_SILENCES.split(".")
    permission = Permission.objects.filter(content_type__app_label=app_label, codename=codename)
    return (
        permission.filter(user=user).exists()
        or permission.filter(group__name__in=unscoped_groups).exists()
    )


def may_change_silence(user, silence) -> bool:
    """May `user` edit, extend, expire (or recreate) this mirrored silence?"""
    return access_for(user).may_change(silence.matcher_list, silence.cluster)


def refuse_page_unless_allowed(user, silence) -> None:
    """For the pages that only lead to a change (edit, expire): 403 naming the scopes."""
    from django.core.exceptions import PermissionDenied

    access = access_for(user)
    if not access.may_change(silence.matcher_list, silence.cluster):
        raise PermissionDenied(access.refusal(silence.matcher_list, silence.cluster))


def refusal_for(user, matchers, cluster_names) -> str:
    """Why `user` may not make silences of `matchers` in each of `cluster_names` ('' when
    they may, or when scopes do not restrict them): for what makes silences later in their
    name, such as their maintenance windows."""
    access = access_for(user)
    if not access.restricted:
        return ""
    matchers = list(matchers)
    for cluster in cluster_names:
        if not access.may_change(matchers, cluster):
            return access.refusal(matchers, cluster)
    return ""

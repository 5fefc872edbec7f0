"""Scoped permissions through the silence service, against a real Alertmanager 0.25: a member of
a group with a scope creates, edits, extends and expires only silences inside it, in its
clusters; every refusal is a failed audit row and nothing reaches Alertmanager. Without
scopes, the roles work as before."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.core.exceptions import ValidationError
from django.utils import timezone

from alertui.accounts.roles import SILENCERS, can_silence
from alertui.audit.models import AuditEvent, PendingChange
from alertui.clusters import Cluster
from alertui.matchers import parse_matchers
from alertui.scopes.models import Scope
from alertui.scopes.rules import Rule
from alertui.silences import services
from alertui.silences.services import Actor, SilenceActionError, SilenceValues
from tests.api_client import am_silence, am_time, silences_in_am
from tests.servers import AlertmanagerProcess

pytestmark = pytest.mark.django_db


def team_member(username: str, group: str, matchers: str, clusters: str = "") -> User:
    """A person whose only right is a group with one scope."""
    found, _ = Group.objects.get_or_create(name=group)
    Scope.objects.get_or_create(
        name=group, group=found, defaults={"matchers": matchers, "clusters": clusters}
    )
    user = User.objects.create_user(username)
    user.groups.add(found)
    return user


@pytest.fixture
def pat(db):
    """Of the payments team: may silence team="payments" only."""
    return team_member("pat", "payments", 'team="payments"')


def values(tag: str, matchers: str, hours: float = 2, comment="deploying") -> SilenceValues:
    now = timezone.now()
    found = (*parse_matchers(f'test="{tag}"'), *parse_matchers(matchers))
    return SilenceValues(found, now, now + timedelta(hours=hours), comment)


def refused(event: AuditEvent) -> tuple:
    return (event.action, event.outcome, event.actor_name)


# -- each case of narrowness, with a real create --------------------------------------------------


@pytest.mark.parametrize(
    "scope, silence, allowed",
    [
        ('team="payments"', 'team="payments"', True),  # equal
        ('team="payments"', 'team="payments", service="api"', True),  # narrower
        ('team="payments"', 'alertname="HighErrorRate"', False),  # wider
        ('team="payments"', 'team=~"pay.*"', False),  # a regex wider than the value
        ('namespace=~"shop-.*"', 'namespace="shop-cart"', True),  # equality the regex matches
        ('namespace=~"shop-.*"', 'namespace="kube-system"', False),
        ('namespace=~"shop-.*"', 'namespace=~"shop-.*"', True),  # the same regex
        ('namespace=~"shop-.*"', 'namespace=~"shop-cart-.*"', False),  # another regex: refused
        ('team!="core"', 'team="payments"', True),
        ('team!="core"', 'team="core"', False),
        ('team!="core"', 'team!="infra"', False),  # would mute team "core" too
        ('team!~"core|infra"', 'team!~"core|infra"', True),
        ('team!~"core|infra"', 'team="infra"', False),
    ],
)
def test_a_scoped_person_creates_only_silences_inside_the_scope(am, tag, scope, silence, allowed):
    member = team_member("sam", "team-a", scope)
    wanted = values(tag, silence)
    if allowed:
        made = services.create_silence(Actor(member), wanted)
        assert am_silence(am, made.id)["createdBy"] == "sam"
        assert AuditEvent.objects.get().outcome == "succeeded"
        return
    with pytest.raises(SilenceActionError) as refusal:
        services.create_silence(Actor(member), wanted)
    assert refusal.value.reason == "out_of_scope"
    assert f"team-a needs a matcher as narrow as {scope}" in refusal.value.message
    assert silences_in_am(am, tag) == []
    event = AuditEvent.objects.get()
    assert refused(event) == ("created", "failed", "sam")
    assert "outside your scopes" in event.error
    # What was tried is in the row, so the team can see it.
    assert f'test="{tag}"' in event.matchers_text and event.before is None
    assert not PendingChange.objects.exists()


# -- edit, extend and expire are guarded like create ----------------------------------------------


def test_it_refuses_to_expire_another_teams_silence(am, silencer, pat, tag):
    theirs = services.create_silence(Actor(silencer), values(tag, 'team="checkout"'))

    with pytest.raises(SilenceActionError) as refusal:
        services.expire_silence(Actor(pat), theirs.id)

    assert refusal.value.reason == "out_of_scope"
    assert 'payments needs a matcher as narrow as team="payments"' in refusal.value.message
    assert am_silence(am, theirs.id)["status"]["state"] == "active"
    event = AuditEvent.objects.get(actor_name="pat")
    assert refused(event) == ("expired", "failed", "pat")
    assert event.silence_id == theirs.id and 'team="checkout"' in event.matchers_text


def test_it_expires_a_silence_of_its_own_team_made_by_someone_else(am, silencer, pat, tag):
    ours = services.create_silence(Actor(silencer), values(tag, 'team="payments"'))
    services.expire_silence(Actor(pat), ours.id)
    assert am_silence(am, ours.id)["status"]["state"] == "expired"


def test_it_refuses_to_extend_another_teams_silence(am, silencer, pat, tag):
    theirs = services.create_silence(Actor(silencer), values(tag, 'team="checkout"'))
    end_before = am_silence(am, theirs.id)["endsAt"]
    with pytest.raises(SilenceActionError, match="outside your scopes"):
        services.extend_silence(Actor(pat), theirs.id, theirs.ends_at + timedelta(hours=1))
    assert am_silence(am, theirs.id)["endsAt"] == end_before
    assert refused(AuditEvent.objects.get(actor_name="pat")) == ("extended", "failed", "pat")


def test_it_extends_its_own_teams_silence(am, pat, tag):
    ours = services.create_silence(Actor(pat), values(tag, 'team="payments"'))
    extended = services.extend_silence(Actor(pat), ours.id, ours.ends_at + timedelta(hours=1))
    assert am_time(am_silence(am, extended.id)["endsAt"]) > ours.ends_at + timedelta(minutes=59)


def test_it_refuses_an_edit_that_widens_its_own_silence(am, pat, tag):
    ours = services.create_silence(Actor(pat), values(tag, 'team="payments"'))
    with pytest.raises(SilenceActionError, match="outside your scopes"):
        services.edit_silence(Actor(pat), ours.id, values(tag, 'team=~"pay.*"'))
    in_am = am_silence(am, ours.id)
    assert in_am["status"]["state"] == "active"
    assert {"name": "team", "value": "payments", "isRegex": False, "isEqual": True} in in_am[
        "matchers"
    ]
    event = AuditEvent.objects.get(outcome="failed")
    assert refused(event) == ("edited", "failed", "pat")
    # What was asked is in the row, beside the silence as it was.
    assert 'team=~"pay.*"' in event.matchers_text
    assert 'team="payments"' in " ".join(event.before["matchers"])


def test_it_refuses_to_edit_another_teams_silence_even_into_its_own_scope(am, silencer, pat, tag):
    # Narrowing someone else's silence into one's own scope is still changing theirs.
    theirs = services.create_silence(Actor(silencer), values(tag, 'team="checkout"'))
    with pytest.raises(SilenceActionError, match="outside your scopes"):
        services.edit_silence(Actor(pat), theirs.id, values(tag, 'team="payments"'))
    assert am_silence(am, theirs.id)["status"]["state"] == "active"


def test_it_edits_a_comment_of_its_own_teams_silence(am, pat, tag):
    ours = services.create_silence(Actor(pat), values(tag, 'team="payments"'))
    changed = services.edit_silence(
        Actor(pat), ours.id, values(tag, 'team="payments"', comment="still deploying")
    )
    assert am_silence(am, changed.id)["comment"] == "still deploying"


def test_a_silence_refused_for_another_reason_is_not_called_out_of_scope(am, pat, tag):
    # The usual checks come first: a scoped person gets the same messages as anyone.
    with pytest.raises(ValidationError):
        services.create_silence(Actor(pat), values(tag, 'team="payments"', comment=" "))
    assert not AuditEvent.objects.exists()


# -- who is restricted ----------------------------------------------------------------------------


def test_a_member_of_two_scoped_groups_may_act_in_either(am, pat, tag):
    shop, _ = Group.objects.get_or_create(name="shop")
    Scope.objects.create(name="shop", group=shop, matchers='namespace=~"shop-.*"')
    pat.groups.add(shop)
    services.create_silence(Actor(pat), values(tag, 'namespace="shop-cart"'))
    services.create_silence(Actor(pat), values(tag, 'team="payments"'))
    with pytest.raises(SilenceActionError) as refusal:
        services.create_silence(Actor(pat), values(tag, 'namespace="kube-system"'))
    # The refusal names each scope and what it lacks.
    assert refusal.value.message == (
        "This silence is outside your scopes: "
        'payments needs a matcher as narrow as team="payments"; '
        'shop needs a matcher as narrow as namespace=~"shop-.*".'
    )


def test_a_scope_makes_its_members_silencers_of_what_it_covers(pat, viewer):
    assert can_silence(pat)
    assert not can_silence(viewer)


def test_superusers_are_not_restricted_by_a_scope_of_their_group(am, admin_user, tag):
    admin_user.groups.add(Group.objects.get_or_create(name="payments")[0])
    Scope.objects.create(
        name="payments", group=Group.objects.get(name="payments"), matchers='team="payments"'
    )
    services.create_silence(Actor(admin_user), values(tag, 'team="checkout"'))
    assert len(silences_in_am(am, tag)) == 1


def test_a_silencer_outside_any_scoped_group_is_not_restricted(am, silencer, pat, tag):
    # Scopes exist (pat's), but alice holds the permission through "silencers" only.
    services.create_silence(Actor(silencer), values(tag, 'alertname="Anything"'))
    assert len(silences_in_am(am, tag)) == 1


def test_the_permission_given_to_a_scoped_group_stays_within_its_scope(am, pat, tag):
    payments = Group.objects.get(name="payments")
    payments.permissions.add(Permission.objects.get(codename="manage_silences"))
    with pytest.raises(SilenceActionError, match="outside your scopes"):
        services.create_silence(Actor(pat), values(tag, 'team="checkout"'))


def test_a_scope_that_cannot_be_read_restricts_rather_than_lifts(am, pat, tag):
    # Saved around the admin's checks (a shell, an old row): the group is still scoped.
    payments = Group.objects.get(name="payments")
    payments.permissions.add(Permission.objects.get(codename="manage_silences"))
    Scope.objects.filter(group=payments).update(matchers='team=~"("')
    with pytest.raises(SilenceActionError, match="None of your scopes can be read"):
        services.create_silence(Actor(pat), values(tag, 'team="payments"'))
    assert silences_in_am(am, tag) == []


def test_silencers_membership_beside_a_scope_lifts_the_restriction(am, pat, tag):
    # Rights add up, as Django's permissions do: the docs say to take such a person out of
    # silencers to restrict them.
    from alertui.accounts.roles import ensure_roles

    ensure_roles()
    pat.groups.add(Group.objects.get(name=SILENCERS))
    services.create_silence(Actor(pat), values(tag, 'team="checkout"'))
    assert len(silences_in_am(am, tag)) == 1


def test_a_scope_from_the_file_restricts_like_one_from_the_admin(am, settings, tag):
    settings.SCOPES = (Rule("db", "dba", tuple(parse_matchers('service="postgres"'))),)
    dba = Group.objects.create(name="dba")
    user = User.objects.create_user("dora")
    user.groups.add(dba)
    assert can_silence(user)
    services.create_silence(Actor(user), values(tag, 'service="postgres"'))
    with pytest.raises(
        SilenceActionError, match='db needs a matcher as narrow as service="postgres"'
    ):
        services.create_silence(Actor(user), values(tag, 'service="redis"'))


def test_without_scopes_a_silencer_changes_any_silence_as_before(am, silencer, tag):
    assert not Scope.objects.exists()
    made = services.create_silence(Actor(silencer), values(tag, 'alertname="Anything"'))
    services.extend_silence(Actor(silencer), made.id, made.ends_at + timedelta(hours=1))
    services.expire_silence(Actor(silencer), made.id)
    assert am_silence(am, made.id)["status"]["state"] == "expired"
    assert [e.outcome for e in AuditEvent.objects.order_by("at")] == ["succeeded"] * 3


# -- the scope's clusters -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def staging_am(tmp_path_factory):
    """A second cluster's own Alertmanager."""
    am = AlertmanagerProcess("0.25", tmp_path_factory.mktemp("scopes-staging")).start()
    yield am
    am.stop()


def test_a_scope_naming_a_cluster_allows_nothing_in_another(settings, am, staging_am, tag):
    settings.CLUSTERS = [
        Cluster("prod", {am.url: am.url}, {}, am.url),
        Cluster("staging", {staging_am.url: staging_am.url}, {}, staging_am.url),
    ]
    member = team_member("stan", "staging-payments", 'team="payments"', clusters="staging")
    wanted = values(tag, 'team="payments"')

    services.create_silence(Actor(member), wanted, cluster="staging")
    with pytest.raises(SilenceActionError) as refusal:
        services.create_silence(Actor(member), wanted, cluster="prod")

    assert "staging-payments does not apply in cluster prod" in refusal.value.message
    assert len(silences_in_am(staging_am, tag)) == 1
    assert silences_in_am(am, tag) == []
    event = AuditEvent.objects.get(outcome="failed")
    assert (event.cluster, event.action) == ("prod", "created")


# -- managing scopes ------------------------------------------------------------------------------


def test_the_admin_refuses_a_scope_with_bad_matchers_or_an_unknown_cluster(client, admin_user):
    client.force_login(admin_user)
    group = Group.objects.create(name="payments")
    add = "/admin/scopes/scope/add/"

    bad_regex = client.post(add, {"name": "p", "group": group.pk, "matchers": 'team=~"("'})
    unknown = client.post(
        add, {"name": "p", "group": group.pk, "matchers": 'team="x"', "clusters": "moon"}
    )
    made = client.post(
        add, {"name": "p", "group": group.pk, "matchers": 'team="x"', "clusters": "default"}
    )

    assert "invalid regular expression" in bad_regex.content.decode()
    assert "No such cluster: &#x27;moon&#x27; (there are default)." in unknown.content.decode()
    assert made.status_code == 302
    assert Scope.objects.get().cluster_names == {"default"}


def test_it_reads_scopes_from_a_file(tmp_path):
    from alertui.scopes.config import load

    path = tmp_path / "scopes.yml"
    path.write_text(
        "scopes:\n"
        "  - {name: payments, group: payments, matchers: 'team=\"payments\"', clusters: [prod]}\n"
    )
    [rule] = load(str(path), ["prod", "staging"])
    assert rule.describe() == 'payments (team="payments" in prod)'
    assert rule.group == "payments"


@pytest.mark.parametrize(
    "text, message",
    [
        ("scopes: [{name: a, group: g, matchers: 'team=~\"(\"'}]", "scope 'a': key matchers: "),
        ("scopes: [{name: a, group: g, matchers: ''}]", "scope 'a': key matchers: Give at least"),
        ("scopes: [{name: a, group: g, matchers: 'x=\"1\"', clusters: [moon]}]", "'moon'"),
        ("scopes: [{name: a, group: g, matchers: 'x=\"1\"', team: b}]", "unknown key team"),
        ("scopes: [{name: a, matchers: 'x=\"1\"'}]", "scope 'a': key group"),
        ("scope: []", "the file holds one key, scopes"),
        (
            "scopes: [{name: a, group: g, matchers: 'x=\"1\"'},"
            " {name: a, group: h, matchers: 'y=\"1\"'}]",
            "two scopes have this name",
        ),
    ],
)
def test_a_bad_scopes_file_stops_the_start_naming_the_scope_and_key(tmp_path, text, message):
    from django.core.exceptions import ImproperlyConfigured

    from alertui.scopes.config import load

    path = tmp_path / "scopes.yml"
    path.write_text(text)
    with pytest.raises(ImproperlyConfigured, match=re.escape(message)):
        load(str(path), ["prod"])


def test_an_api_create_in_two_clusters_is_refused_only_where_the_scope_does_not_apply(
    settings, am, staging_am, tag
):
    from tests.api_client import SILENCES, body, token_client

    settings.CLUSTERS = [
        Cluster("prod", {am.url: am.url}, {}, am.url),
        Cluster("staging", {staging_am.url: staging_am.url}, {}, staging_am.url),
    ]
    member = team_member("stan", "staging-payments", 'team="payments"', clusters="staging")
    api, _ = token_client(member)
    wanted = body(
        tag, matchers=[{"name": "test", "value": tag}, {"name": "team", "value": "payments"}]
    )

    response = api.post(SILENCES, {**wanted, "clusters": ["prod", "staging"]}, format="json")

    assert response.status_code == 207
    results = {r["cluster"]: r for r in response.json()["results"]}
    assert results["prod"]["reason"] == "out_of_scope"
    assert "does not apply in cluster prod" in results["prod"]["detail"]
    assert results["staging"]["silence"]["created_by"] == "stan"
    assert silences_in_am(am, tag) == [] and len(silences_in_am(staging_am, tag)) == 1

"""Reserved filters in the alerts page's filter box: `@silenced_by="name"` and `@age>1h`, with
clear errors for bad ones. Alerts come from the real Alertmanager 0.25 through the real sync;
silences are made through alertui's silence service by two people."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from alertui.alerts import reserved_filters
from alertui.matchers import Matcher
from alertui.silences.services import Actor, SilenceValues, create_silence
from tests.alerts_page_reading import alerts_page, error_banners, fire, shown_names, sync
from tests.servers import make_alert

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_snapshot")]
BOTH = ["active", "silenced"]


def silence(user, tag: str, alertname: str) -> None:
    now = timezone.now()
    matchers = (Matcher("test", "=", tag), Matcher("alertname", "=", alertname))
    create_silence(Actor(user), SilenceValues(matchers, now, now + timedelta(hours=1), "why"))


def another_silencer(username: str):
    from django.contrib.auth.models import Group, User

    from alertui.accounts.roles import SILENCERS

    user = User.objects.create_user(username)
    user.groups.add(Group.objects.get(name=SILENCERS))
    return user


def test_silenced_by_selects_the_alerts_a_person_silenced(am, silencer, silencer_client, tag):
    bob = another_silencer("bob")
    fire(
        am,
        tag,
        ({"alertname": "ByAlice"}, None),
        ({"alertname": "ByBob"}, None),
        ({"alertname": "Loud"}, None),
    )
    silence(silencer, tag, "ByAlice")
    silence(bob, tag, "ByBob")
    sync()

    page = alerts_page(silencer_client, tag, '@silenced_by="alice"', state=BOTH)
    assert shown_names(page) == ["ByAlice"] and error_banners(page) == []
    assert shown_names(alerts_page(silencer_client, tag, '@silenced_by=~"b.*"', state=BOTH)) == [
        "ByBob"
    ]
    assert shown_names(alerts_page(silencer_client, tag, '@silenced_by!="alice"', state=BOTH)) == [
        "ByBob",
        "Loud",
    ]
    # With matchers and words, in any order; the box keeps what was typed.
    page = alerts_page(silencer_client, tag, 'alertname=~"By.*" @silenced_by="bob"', state=BOTH)
    assert shown_names(page) == ["ByBob"]
    assert "@silenced_by=&quot;bob&quot;" in page


def started(labels: dict, ago: timedelta) -> dict:
    alert = make_alert(labels)
    return {**alert, "startsAt": (datetime.now(UTC) - ago).isoformat().replace("+00:00", "Z")}


def test_age_selects_by_how_long_alerts_have_fired(am, silencer_client, tag):
    am.push_alerts(
        [
            started({"alertname": "Old", "test": tag}, timedelta(hours=3)),
            started({"alertname": "Middle", "test": tag}, timedelta(minutes=30)),
            started({"alertname": "New", "test": tag}, timedelta(minutes=1)),
        ]
    )
    sync()
    assert shown_names(alerts_page(silencer_client, tag, "@age>1h")) == ["Old"]
    assert shown_names(alerts_page(silencer_client, tag, "@age<10m")) == ["New"]
    assert shown_names(alerts_page(silencer_client, tag, "@age>=10m @age<=2h")) == ["Middle"]
    assert shown_names(alerts_page(silencer_client, tag, "@age<2h")) == ["Middle", "New"]


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        (
            "@owner=x",
            "Filter: @owner is not a reserved filter; there are @age, @cluster, @silenced_by",
        ),
        ("@age=1h", "Filter: @age takes >, <, >=, <= and a value, as in @age>1h"),
        (
            "@age>soon",
            "Filter: @age>soon: 'soon' is not a duration. Use numbers with units w, d, h, m or "
            "s, for example 90m, 2h, 1d 4h or 1w; write it as in @age>1h",
        ),
        (
            '@silenced_by="alice',
            'Filter: @silenced_by="alice: its value opens a quote that is never closed; '
            'write it as in @silenced_by="alice"',
        ),
        (
            "@silenced_by>alice",
            'Filter: @silenced_by takes =, !=, =~, !~ and a value, as in @silenced_by="alice"',
        ),
        (
            "@silenced_by=",
            'Filter: @silenced_by=: it needs a value; write it as in @silenced_by="alice"',
        ),
    ],
)
def test_a_bad_reserved_filter_says_what_is_wrong_and_shows_nothing(
    am, silencer_client, tag, typed, error
):
    fire(am, tag, ({"alertname": "Any"}, None))
    page = alerts_page(silencer_client, tag, typed)
    assert error_banners(page) == [error]
    assert shown_names(page) == []


def test_an_at_sign_inside_a_word_or_value_is_no_reserved_filter(am, silencer_client, tag):
    fire(am, tag, ({"alertname": "Mail", "to": "ops@example.test"}, None))
    assert shown_names(alerts_page(silencer_client, tag, 'to="ops@example.test"')) == ["Mail"]
    assert shown_names(alerts_page(silencer_client, tag, "ops@example")) == ["Mail"]


def test_another_reserved_filter_is_one_entry_in_the_table(monkeypatch):
    """A new reserved name (here a made-up `@region`) is an entry, and the parser reads it."""
    entry = reserved_filters.Reserved(
        ("=", "!="),
        '@region="eu1"',
        reserved_filters._quoted,
        reserved_filters._text_test(lambda alert, facts: [alert.labels.get("region", "")]),
    )
    monkeypatch.setitem(reserved_filters.RESERVED, "region", entry)
    terms, rest = reserved_filters.extract('@region="eu1" severity="critical"')
    assert rest.strip() == 'severity="critical"'
    keep = reserved_filters.keeper(terms, [])

    class Alert:
        silenced_by = ()
        labels = {"region": "eu1"}

    assert keep(Alert())
    Alert.labels = {"region": "us1"}
    assert not keep(Alert())


def test_at_cluster_is_left_to_the_matcher_parser():
    """`@cluster` filters and groups like a label: the matcher parser reads it, not this table."""
    terms, rest = reserved_filters.extract('@cluster="eu1" @age>1h severity="critical"')
    assert [t.name for t in terms] == ["age"]
    assert rest.split() == ['@cluster="eu1"', 'severity="critical"']


@pytest.mark.parametrize("text", ["@cluster", "@cluster prod", "@cluster>1h", 'x="1" @cluster'])
def test_at_cluster_without_an_operator_is_an_error_not_a_word(text):
    with pytest.raises(reserved_filters.FilterError, match=r"@cluster takes =, !=, =~, !~"):
        reserved_filters.extract(text)

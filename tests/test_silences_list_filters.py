"""The silence list's filters: mine, ending soon, longest running (stale: test_stale_silences),
on silences made in a real Alertmanager; the existing state and search filters still apply."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from alertui.matchers import Matcher
from alertui.silences import services
from alertui.silences.services import Actor, SilenceValues

pytestmark = pytest.mark.django_db


def make(user, tag, name, *, minutes):
    now = timezone.now()
    matchers = (Matcher("test", "=", tag), Matcher("job", "=", name))
    values = SilenceValues(matchers, now, now + timedelta(minutes=minutes), f"{name} work")
    return services.create_silence(Actor(user), values)


def ids_in(client, tag, silences, **params) -> list[str]:
    html = client.get("/silences/", {"q": tag, **params}).content.decode()
    found = [(html.find(f"/silences/{s.id}/"), s.id) for s in silences]
    return [silence_id for at, silence_id in sorted(found) if at >= 0]


def test_it_shows_only_my_silences_with_mine(am, silencer, silencer_client, tag):
    bob = User.objects.create_user("bob")
    mine = make(silencer, tag, "api", minutes=120)
    theirs = make(bob, tag, "db", minutes=120)
    assert ids_in(silencer_client, tag, [mine, theirs]) == [mine.id, theirs.id]
    assert ids_in(silencer_client, tag, [mine, theirs], show="mine") == [mine.id]


def test_it_shows_silences_ending_within_the_hour_with_ending_soon(
    am, silencer, silencer_client, tag
):
    soon = make(silencer, tag, "api", minutes=30)
    later = make(silencer, tag, "db", minutes=180)
    assert ids_in(silencer_client, tag, [soon, later], show="ending") == [soon.id]


def test_it_lists_the_longest_running_first(am, silencer, silencer_client, tag):
    first = make(silencer, tag, "api", minutes=600)
    second = make(silencer, tag, "db", minutes=60)
    # The default order is by end: the newer, shorter one first.
    assert ids_in(silencer_client, tag, [first, second]) == [second.id, first.id]
    assert ids_in(silencer_client, tag, [first, second], show="longest") == [first.id, second.id]


def test_the_filters_keep_the_search_and_show_active_silences_only(
    am, silencer, silencer_client, tag
):
    ending = make(silencer, tag, "api", minutes=30)
    services.expire_silence(Actor(silencer), make(silencer, tag, "db", minutes=30).id)
    other = make(silencer, tag[::-1], "api", minutes=30)  # another search
    page = silencer_client.get("/silences/", {"q": tag, "show": "ending", "state": "expired"})
    html = page.content.decode()
    assert f"/silences/{ending.id}/" in html
    assert html.count('name="silence"') == 1  # the expired one is not listed
    assert f"/silences/{other.id}/" not in html
    # The pager's links keep the filter.
    assert "show=ending" in page.context["pager_query"]


def test_an_unknown_filter_shows_every_silence(am, silencer, silencer_client, tag):
    one = make(silencer, tag, "api", minutes=30)
    page = silencer_client.get("/silences/", {"q": tag, "show": "<script>"})
    assert page.status_code == 200 and f"/silences/{one.id}/" in page.content.decode()
    assert "&lt;script&gt;" not in page.content.decode()

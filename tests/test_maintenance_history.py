"""The team-wide history of maintenance windows (/maintenance/history/): every change of every
window, deleted ones included, filtered by person, action and window, paged; hostile filters get
a clear error, not a guess."""

import pytest

from alertui.maintenance import services
from alertui.maintenance.models import WindowChange
from alertui.silences.recorder import Actor
from tests.maintenance_helpers import make_window, soon

pytestmark = pytest.mark.django_db


def rows(page: str) -> list[str]:
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in page else ""
    return [r for r in body.split("<tr>")[1:]]


def test_it_lists_every_change_including_a_deleted_windows(am, silencer, viewer_client, tag):
    kept = make_window(silencer, tag, soon(3 * 3600), name=f"kept {tag}")
    gone = make_window(silencer, f"{tag}-2", soon(3 * 3600), name=f"gone {tag}")
    gone = services.pause_window(Actor(silencer), gone)
    services.delete_window(Actor(silencer), gone)

    page = viewer_client.get("/maintenance/history/").content.decode()
    found = rows(page)
    assert len(found) == 4  # newest first: deleted, paused, created, created
    assert "deleted" in found[0] and f"gone {tag}" in found[0] and "badge" in found[0]
    assert "paused" in found[1] and "alice" in found[1]
    assert f'href="/maintenance/{kept.pk}/"' in found[3]
    assert f'href="/maintenance/{gone.pk}/"' not in page  # a deleted window has no page


def test_it_filters_by_exact_person_action_and_window(am, silencer, admin_user, client, tag):
    window = make_window(silencer, tag, soon(3 * 3600))
    other = make_window(admin_user, f"{tag}-2", soon(3 * 3600))
    services.pause_window(Actor(admin_user), window)
    client.force_login(admin_user)

    def listed(**query):
        return rows(client.get("/maintenance/history/", query).content.decode())

    assert len(listed(person="alice")) == 1
    assert len(listed(person="ali")) == 0  # exact: a part of a name is not a person
    assert len(listed(person=admin_user.username)) == 2
    assert len(listed(action="paused")) == 1
    assert len(listed(window=str(other.pk))) == 1
    (only,) = listed(person=admin_user.username, action="paused", window=str(window.pk))
    assert "paused" in only


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"action": "'; DROP TABLE x; --"}, "Choose an action from the list."),
        ({"window": "1 OR 1=1"}, "The window must be given by its number."),
        ({"window": "١٢"}, "The window must be given by its number."),  # non-ASCII digits
        ({"person": "x" * 151}, "A person&#x27;s name is at most 150 characters."),
    ],
    ids=["action", "window", "unicode-digits", "long-person"],
)
def test_a_bad_filter_is_refused_with_a_clear_error(
    am, silencer, viewer_client, tag, query, message
):
    make_window(silencer, tag, soon(3 * 3600))
    response = viewer_client.get("/maintenance/history/", query)
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    assert rows(page) == []


def test_it_pages_a_long_history(am, silencer, viewer_client, tag):
    window = make_window(silencer, tag, soon(3 * 3600))
    for n in range(60):
        WindowChange.objects.create(window=window, action="edited", actor_name=f"p{n}")

    first = viewer_client.get("/maintenance/history/").content.decode()
    assert len(rows(first)) == 50 and "Page 1 of 2" in first
    second = viewer_client.get("/maintenance/history/", {"page": "2"}).content.decode()
    assert len(rows(second)) == 11
    assert "created" in rows(second)[-1]


def test_it_needs_a_login(client):
    response = client.get("/maintenance/history/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]

"""AlertmanagerClient against real Alertmanager 0.25, 0.28 and 0.33 processes.

Each test makes its own silences and alerts, tagged with a unique `test_id` label value, because
the Alertmanager of a version is shared by the whole session.
"""

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from alertui.integrations.alertmanager import (
    Alert,
    AlertmanagerClient,
    AlertmanagerError,
    AlertmanagerOutcomeUnknown,
    AlertmanagerUnavailable,
    Silence,
    SilenceNotFound,
    SilenceRequest,
)
from alertui.matchers import Matcher
from tests.servers import AlertmanagerProcess, free_port, make_alert, start_cluster, wait_until
from tests.standins import FailingServer, FaultyProxy, HangingServer

# Alertmanager's prefix for an invalid silence changed in 0.28 (#3898).
INVALID_SILENCE_PREFIX = {"0.25": "silence invalid: ", "0.28": "invalid silence: "}


@pytest.fixture
def tag():
    return uuid.uuid4().hex


@pytest.fixture
def client(alertmanager):
    return AlertmanagerClient([alertmanager.url], timeout=5, connect_timeout=2)


def silence_request(tag, *extra, **changes) -> SilenceRequest:
    now = datetime.now(UTC)
    fields = {
        "matchers": (Matcher("test_id", "=", tag), *extra),
        "starts_at": now,
        "ends_at": now + timedelta(hours=1),
        "created_by": "alice",
        "comment": "maintenance",
    }
    fields.update(changes)
    return SilenceRequest(**fields)


def edit(silence: Silence, **changes) -> SilenceRequest:
    """The request an edit form sends: the silence as the server has it, with changes."""
    fields = {
        "id": silence.id,
        "matchers": silence.matchers,
        "starts_at": silence.starts_at,
        "ends_at": silence.ends_at,
        "created_by": silence.created_by,
        "comment": silence.comment,
    }
    fields.update(changes)
    return SilenceRequest(**fields)


def silences_tagged(client, tag) -> list[Silence]:
    return [s for s in client.list_silences() if Matcher("test_id", "=", tag) in s.matchers]


def assert_close(actual: datetime, expected: datetime) -> None:
    # Alertmanager keeps milliseconds; we send microseconds.
    assert abs(actual - expected) < timedelta(seconds=1), (actual, expected)


# -- silences ----------------------------------------------------------------------------------


def test_it_creates_a_silence_and_reads_it_back(client, tag):
    request = silence_request(
        tag,
        Matcher("env", "!=", "dev"),
        Matcher("service", "=~", "api|web"),
        Matcher("instance", "!~", "canary-.*"),
        comment="Disk swap on db-1 — ticket #42 ✓",
    )

    silence_id = client.post_silence(request)

    assert str(uuid.UUID(silence_id)) == silence_id
    silence = client.get_silence(silence_id)
    assert silence.id == silence_id
    assert silence.matchers == request.matchers  # all four operators, in order
    assert silence.created_by == "alice"
    assert silence.comment == "Disk swap on db-1 — ticket #42 ✓"
    assert silence.state == "active"
    assert_close(silence.starts_at, request.starts_at)
    assert_close(silence.ends_at, request.ends_at)
    assert silence.ends_at.tzinfo is not None
    assert silence.updated_at is not None
    assert [s.id for s in silences_tagged(client, tag)] == [silence_id]


def test_it_creates_a_pending_silence(client, tag):
    start = datetime.now(UTC) + timedelta(hours=2)
    request = silence_request(tag, starts_at=start, ends_at=start + timedelta(hours=1))

    silence = client.get_silence(client.post_silence(request))

    assert silence.state == "pending"
    assert_close(silence.starts_at, start)


def test_it_keeps_the_id_when_only_the_comment_changes(client, tag):
    silence = client.get_silence(client.post_silence(silence_request(tag)))

    new_id = client.post_silence(edit(silence, comment="still on it"))

    assert new_id == silence.id
    updated = client.get_silence(silence.id)
    assert updated.comment == "still on it"
    assert updated.state == "active"
    assert updated.starts_at == silence.starts_at
    assert [s.id for s in silences_tagged(client, tag)] == [silence.id]


def test_it_keeps_the_id_when_the_end_is_extended(client, tag):
    silence = client.get_silence(client.post_silence(silence_request(tag)))
    later = silence.ends_at + timedelta(hours=3)

    new_id = client.post_silence(edit(silence, ends_at=later))

    assert new_id == silence.id
    assert_close(client.get_silence(silence.id).ends_at, later)


def test_it_returns_the_new_id_when_a_change_replaces_the_silence(client, tag):
    silence = client.get_silence(client.post_silence(silence_request(tag)))
    matchers = (*silence.matchers, Matcher("severity", "=", "critical"))

    new_id = client.post_silence(edit(silence, matchers=matchers))

    assert new_id != silence.id
    assert client.get_silence(new_id).matchers == matchers
    assert client.get_silence(new_id).state == "active"
    assert client.get_silence(silence.id).state == "expired"


def test_it_expires_a_silence(client, tag):
    silence_id = client.post_silence(silence_request(tag))

    client.expire_silence(silence_id)

    expired = client.get_silence(silence_id)
    assert expired.state == "expired"
    assert expired.ends_at <= datetime.now(UTC)


def test_it_expires_an_expired_silence_again_without_error(client, tag):
    silence_id = client.post_silence(silence_request(tag))
    client.expire_silence(silence_id)
    ended = client.get_silence(silence_id).ends_at

    client.expire_silence(silence_id)

    assert client.get_silence(silence_id).state == "expired"
    assert client.get_silence(silence_id).ends_at == ended


def test_it_reports_expiring_an_unknown_silence_as_not_found(client, alertmanager):
    with pytest.raises(SilenceNotFound) as caught:
        client.expire_silence(str(uuid.uuid4()))

    # 0.25 says so with a 500 "silence not found"; 0.26+ with an empty 404 (#3352).
    assert caught.value.status == (500 if alertmanager.version == "0.25" else 404)


def test_it_reports_reading_an_unknown_silence_as_not_found(client):
    with pytest.raises(SilenceNotFound) as caught:
        client.get_silence(str(uuid.uuid4()))

    assert caught.value.status == 404


def test_it_reports_changing_an_unknown_silence_as_not_found(client, tag):
    with pytest.raises(SilenceNotFound) as caught:
        client.post_silence(silence_request(tag, id=str(uuid.uuid4())))

    assert caught.value.message == "silence not found"
    assert silences_tagged(client, tag) == []


def test_it_passes_on_alertmanagers_words_when_the_end_is_in_the_past(client, tag, alertmanager):
    now = datetime.now(UTC)
    request = silence_request(
        tag, starts_at=now - timedelta(hours=2), ends_at=now - timedelta(hours=1)
    )

    with pytest.raises(AlertmanagerError) as caught:
        client.post_silence(request)

    assert type(caught.value) is AlertmanagerError
    assert caught.value.status == 400
    assert caught.value.message == "Failed to create silence: end time can't be in the past"
    assert caught.value.peer == alertmanager.url
    assert silences_tagged(client, tag) == []


def test_it_passes_on_alertmanagers_words_for_an_invalid_regex(client, tag, alertmanager):
    request = silence_request(tag, Matcher("job", "=~", "("))

    with pytest.raises(AlertmanagerError) as caught:
        client.post_silence(request)

    assert type(caught.value) is AlertmanagerError
    assert caught.value.status == 400
    message = caught.value.message
    assert message.startswith(INVALID_SILENCE_PREFIX.get(alertmanager.version, "invalid silence: "))
    assert 'invalid regular expression "("' in message
    assert "missing closing )" in message
    assert silences_tagged(client, tag) == []


# -- alerts ------------------------------------------------------------------------------------


def test_it_lists_pushed_alerts_as_typed_objects(client, alertmanager, tag):
    alertmanager.push_alerts(
        [
            make_alert({"alertname": "DiskFull", "test_id": tag}, {"summary": "disk 97% full"}),
            make_alert({"alertname": "HighLoad", "test_id": tag, "severity": "warning"}),
        ]
    )

    alerts = client.list_alerts(filters=[f'test_id="{tag}"'])

    assert all(isinstance(a, Alert) for a in alerts)
    by_name = {a.labels["alertname"]: a for a in alerts}
    assert sorted(by_name) == ["DiskFull", "HighLoad"]
    disk = by_name["DiskFull"]
    assert disk.labels == {"alertname": "DiskFull", "test_id": tag}
    assert disk.annotations == {"summary": "disk 97% full"}
    assert len(disk.fingerprint) == 16 and int(disk.fingerprint, 16) >= 0
    assert disk.fingerprint != by_name["HighLoad"].fingerprint
    assert disk.state == "active"
    assert disk.silenced_by == () and disk.inhibited_by == ()
    assert disk.receivers == ("null",)
    assert disk.generator_url == "http://prometheus.test/graph"
    assert disk.starts_at <= datetime.now(UTC) < disk.ends_at


def test_it_filters_alerts_with_every_matcher(client, alertmanager, tag):
    alertmanager.push_alerts(
        [
            make_alert({"alertname": "A", "test_id": tag, "severity": "critical"}),
            make_alert({"alertname": "B", "test_id": tag, "severity": "warning"}),
            make_alert({"alertname": "C", "test_id": tag, "severity": "info"}),
        ]
    )

    def names(filters):
        return sorted(a.labels["alertname"] for a in client.list_alerts(filters=filters))

    assert names([f'test_id="{tag}"']) == ["A", "B", "C"]
    assert names([f'test_id="{tag}"', 'severity="warning"']) == ["B"]
    assert names([f'test_id="{tag}"', 'severity=~"crit.*|info"']) == ["A", "C"]
    assert names([f'test_id="{tag}"', 'severity!="info"']) == ["A", "B"]


def test_it_passes_on_alertmanagers_words_for_a_bad_filter(client):
    with pytest.raises(AlertmanagerError) as caught:
        client.list_alerts(filters=["job"])

    assert caught.value.status == 400
    assert caught.value.message == "bad matcher format: job"


def test_it_shows_which_silence_mutes_an_alert(client, alertmanager, tag):
    alertmanager.push_alerts([make_alert({"alertname": "DiskFull", "test_id": tag})])
    only_ours = [f'test_id="{tag}"']
    silence_id = client.post_silence(silence_request(tag))

    [alert] = client.list_alerts(filters=only_ours)
    assert alert.silenced_by == (silence_id,)
    assert alert.state == "suppressed"
    assert client.list_alerts(filters=only_ours, silenced=False) == []

    client.expire_silence(silence_id)

    [alert] = client.list_alerts(filters=only_ours)
    assert alert.silenced_by == ()
    assert alert.state == "active"


# -- status ------------------------------------------------------------------------------------


def test_it_reports_the_version_and_cluster_state(client, alertmanager):
    status = client.status()

    assert status.version.startswith(f"{alertmanager.version}.")
    assert status.cluster_status == "disabled"
    assert status.peers == ()


# -- a restarted peer --------------------------------------------------------------------------


def test_it_keeps_working_across_an_alertmanager_restart(alertmanager, tmp_path, tag):
    # Its own process: restarting the shared one would disturb tests running alongside.
    with AlertmanagerProcess(alertmanager.version, tmp_path) as am:
        client = AlertmanagerClient([am.url], timeout=5, connect_timeout=2)
        silence_id = client.post_silence(silence_request(tag))

        am.restart()

        assert client.get_silence(silence_id).state == "active"  # kept on disk at shutdown
        assert client.status().version.startswith(f"{alertmanager.version}.")


# -- failover ----------------------------------------------------------------------------------


def dead_url() -> str:
    return f"http://127.0.0.1:{free_port()}"  # nothing listens there: connection refused


@pytest.fixture
def hanging_peer():
    # A stand-in (tests/standins.py): a real Alertmanager cannot be made to hang.
    server = HangingServer()
    yield server
    server.stop()


@pytest.fixture
def failing_peer():
    # Also a stand-in: a real Alertmanager answers 5xx only on internal faults.
    server = FailingServer()
    yield server
    server.stop()


def test_it_fails_over_from_an_unreachable_peer(alertmanager, tag):
    client = AlertmanagerClient([dead_url(), alertmanager.url], timeout=5, connect_timeout=1)

    silence_id = client.post_silence(silence_request(tag))

    assert client.preferred == alertmanager.url
    assert client.get_silence(silence_id).created_by == "alice"
    assert silence_id in {s["id"] for s in alertmanager.raw_silences()}


def test_it_raises_unavailable_quickly_when_no_peer_can_be_reached():
    urls = [dead_url(), dead_url()]
    client = AlertmanagerClient(urls, timeout=5, connect_timeout=1)

    started = time.monotonic()
    with pytest.raises(AlertmanagerUnavailable) as caught:
        client.status()

    assert time.monotonic() - started < 2
    assert all(url in caught.value.message for url in urls)


def test_it_sends_a_new_silence_to_a_peer_that_answers(alertmanager, hanging_peer, tag):
    client = AlertmanagerClient([hanging_peer.url, alertmanager.url], timeout=1, connect_timeout=1)

    silence_id = client.post_silence(silence_request(tag))

    # The hanging peer was asked for its status only, so the create cannot have reached it.
    assert b"GET /api/v2/status" in hanging_peer.received
    assert b"POST" not in hanging_peer.received
    assert silence_id in {s["id"] for s in alertmanager.raw_silences()}


# -- a write goes to one peer only, whatever it answers -----------------------------------------
# Two real Alertmanager peers in one cluster; in front of the first, a stand-in proxy
# (tests/standins.py) that fails the write: a real Alertmanager cannot be made to answer 502 or
# to trickle its answer. Reads pass through, so the first peer is the one that answers.


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    peers = start_cluster("0.25", tmp_path_factory.mktemp("cluster"))
    yield peers
    for peer in peers:
        peer.stop()


def ours(cluster, tag, state=None) -> set[str]:
    """Ids of this test's silences on any peer, gossip or not."""
    matcher = {"name": "test_id", "value": tag, "isRegex": False, "isEqual": True}
    return {
        s["id"]
        for peer in cluster
        for s in peer.raw_silences()
        if matcher in s["matchers"] and state in (None, s["status"]["state"])
    }


def failing_writes(fault):
    return lambda method, path, headers: fault if method in ("POST", "DELETE") else None


@pytest.mark.parametrize(
    "fault, says, made",
    [
        ("502", "answered 502: 502 from the proxy", 0),
        ("502 after forwarding", "answered 502: 502 from the proxy", 1),
        ("trickle", "no whole answer within 2s", 1),
    ],
)
def test_a_new_silence_goes_to_one_peer_only_whatever_it_answers(cluster, fault, says, made, tag):
    proxy = FaultyProxy(cluster[0].url, failing_writes(fault))
    try:
        client = AlertmanagerClient([proxy.url, cluster[1].url], timeout=2, connect_timeout=1)
        with pytest.raises(AlertmanagerOutcomeUnknown) as caught:
            client.post_silence(silence_request(tag))
    finally:
        proxy.stop()

    assert caught.value.peer == proxy.url
    assert caught.value.message == (
        f"{proxy.url}: {says}; the change may or may not have been applied"
    )
    assert len(ours(cluster, tag)) == made  # never two


def test_a_replacing_edit_goes_to_one_peer_only(cluster, tag):
    original = AlertmanagerClient([cluster[1].url]).post_silence(silence_request(tag))
    wait_until(lambda: original in ours([cluster[0]], tag), 10, "gossip to the first peer")
    proxy = FaultyProxy(cluster[0].url, failing_writes("502 after forwarding"))
    try:
        client = AlertmanagerClient([proxy.url, cluster[1].url], timeout=2, connect_timeout=1)
        silence = client.get_silence(original)
        with pytest.raises(AlertmanagerOutcomeUnknown):
            client.post_silence(edit(silence, matchers=(*silence.matchers, Matcher("a", "=", "b"))))
    finally:
        proxy.stop()

    # The first peer replaced it; had the second replaced it again, two would be active.
    wait_until(lambda: original in ours(cluster, tag, "expired"), 10, "the original expired")
    assert len(ours(cluster, tag, "active")) == 1


def test_an_expiry_may_go_to_the_next_peer(cluster, tag):
    # Idempotent: the second peer expires it again (or finds it expired) and answers 200.
    silence_id = AlertmanagerClient([cluster[1].url]).post_silence(silence_request(tag))
    wait_until(lambda: silence_id in ours([cluster[0]], tag), 10, "gossip to the first peer")
    proxy = FaultyProxy(cluster[0].url, failing_writes("502 after forwarding"))
    try:
        AlertmanagerClient([proxy.url, cluster[1].url], timeout=2).expire_silence(silence_id)
    finally:
        proxy.stop()

    assert proxy.requests_seen == [f"DELETE /api/v2/silence/{silence_id}"]
    assert ours(cluster, tag, "expired") == {silence_id}


def test_it_fails_over_a_read_after_a_timeout(alertmanager, hanging_peer):
    client = AlertmanagerClient([hanging_peer.url, alertmanager.url], timeout=1, connect_timeout=1)

    status = client.status()

    assert status.version.startswith(f"{alertmanager.version}.")
    assert client.preferred == alertmanager.url


def test_it_fails_over_a_read_on_a_server_error(alertmanager, failing_peer, tag):
    client = AlertmanagerClient([failing_peer.url, alertmanager.url], timeout=5, connect_timeout=1)
    silence_id = AlertmanagerClient([alertmanager.url]).post_silence(silence_request(tag))

    silences = client.list_silences()

    assert failing_peer.requests_seen == ["GET /api/v2/silences"]
    assert silence_id in {s.id for s in silences}
    assert client.preferred == alertmanager.url


def test_it_raises_unavailable_with_the_peers_words_when_every_peer_fails(failing_peer):
    client = AlertmanagerClient([failing_peer.url], timeout=5, connect_timeout=1)

    with pytest.raises(AlertmanagerUnavailable) as caught:
        client.list_alerts()

    assert f"{failing_peer.url}: internal error" in caught.value.message

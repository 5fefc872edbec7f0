"""Adversarial review of the silence policy and maintenance window notices: each test pins a
bug found by attacking them (real Alertmanager 0.25, as tests/test_policy.py), and fails until
it is fixed."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from alertui.audit.models import AuditEvent
from alertui.matchers import Matcher
from alertui.silences import services
from alertui.silences.services import Actor, SilenceActionError, SilenceValues
from tests.api_client import silences_in_am
from tests.policy_helpers import make_rule

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_snapshot")]


def values(matchers, *, hours=2, comment="deploy OPS-1"):
    now = timezone.now()
    return SilenceValues(tuple(matchers), now, now + timedelta(hours=hours), comment)


def page_text(response) -> str:
    return response.content.decode()


# -- maintenance windows: a refused edit is audited on every run -------------------------------


def test_it_audits_a_refused_window_edit_once_not_on_every_run(am, silencer, tag):
    """A window edited past a maximum duration: the edit of its already-made silence is
    refused, and then refused (and audited) again on every materialize run, flooding the
    audit with one failed row a minute (materialize._update_outdated keeps retrying it)."""
    from alertui.maintenance.materialize import materialize
    from alertui.maintenance.services import edit_window
    from tests.maintenance_helpers import make_window, once_fields, soon

    start = soon(3600)
    window = make_window(silencer, tag, start)  # 1 h: made
    materialize()
    assert len(silences_in_am(am, tag)) == 1
    make_rule("two-hours", "max_duration", max_duration="2h")

    edit_window(Actor(silencer), window, once_fields(tag, start, length=timedelta(hours=3)))
    materialize()
    materialize()

    refused = AuditEvent.objects.filter(outcome="failed", error__startswith="refused by policy")
    assert refused.count() == 1, [e.error for e in refused]


# -- too broad: the "only regex" and "minimum matchers" limits ---------------------------------


def test_it_does_not_let_a_negative_matcher_get_around_only_regex(am, silencer, tag):
    """`only_regex` asks for "an exact one (name="value")"; a `!=` matcher that excludes a
    value no alert has is no exact matcher, yet it takes the silence past the rule, and the
    silence mutes every alert whose label is set at all."""
    make_rule("no-regex-only", "too_broad", only_regex=True)
    matchers = [Matcher("test", "=~", ".+"), Matcher("test", "!=", f"nothing-{tag}")]

    with pytest.raises(SilenceActionError) as refused:
        services.create_silence(Actor(silencer), values(matchers))

    assert refused.value.reason == "policy"


def test_it_does_not_count_a_repeated_matcher_towards_min_matchers(am, silencer, tag):
    """`min_matchers: 3` is met by the same matcher written three times: the silence is as
    broad as with one."""
    make_rule("three-matchers", "too_broad", min_matchers=3)
    matchers = [Matcher("test", "=", tag)] * 3

    with pytest.raises(SilenceActionError) as refused:
        services.create_silence(Actor(silencer), values(matchers))

    assert refused.value.reason == "policy"


# -- warnings that the browser never shows ------------------------------------------------------


def test_it_tells_the_person_a_warning_when_extending_in_the_browser(
    am, silencer, silencer_client, tag
):
    """A warn-mode rule: the form asks to confirm, the API answers policy_warnings, but the
    extend button goes ahead with no word of the warning (the verdict is dropped)."""
    make_rule("four-hours", "max_duration", mode="warn", max_duration="4h", explanation="Hm.")
    made = services.create_silence(Actor(silencer), values([Matcher("test", "=", tag)], hours=3))

    response = silencer_client.post(f"/silences/{made.id}/extend/", {"by": "1d"}, follow=True)

    assert "Silence extended" in page_text(response)
    assert "four-hours" in page_text(response)


def test_it_tells_the_person_a_warning_when_restoring_in_the_browser(
    am, silencer, silencer_client, tag
):
    """Undo of an expire makes a new silence: a warn-mode rule is not shown either."""
    made = services.create_silence(Actor(silencer), values([Matcher("test", "=", tag)]))
    services.expire_silence(Actor(silencer), made.id)
    make_rule("ticket-url", "comment", mode="warn", pattern=r"https://", explanation="Link it.")

    response = silencer_client.post(f"/silences/{made.id}/restore/", follow=True)

    live = [s for s in silences_in_am(am, tag) if s["status"]["state"] == "active"]
    assert len(live) == 1, page_text(response)
    assert "ticket-url" in page_text(response)


# -- multi-cluster create: a refusal in one cluster skips the others' warnings -----------------


@pytest.fixture(scope="module")
def staging_am(tmp_path_factory):
    from tests.servers import AlertmanagerProcess

    am = AlertmanagerProcess("0.28", tmp_path_factory.mktemp("staging-am")).start()
    yield am
    am.stop()


def two_clusters(prod_url: str, staging_url: str):
    from alertui.clusters import Cluster

    return [
        Cluster("prod", {prod_url: prod_url}, {}, prod_url),
        Cluster("staging", {staging_url: staging_url}, {}, staging_url),
    ]


def test_it_asks_to_confirm_one_clusters_warnings_when_another_cluster_refuses(
    settings, am, staging_am, silencer_client, tag
):
    """confirmed() lets any verdict with a refusal through unconfirmed, so that services
    refuse and audit it; in a multi-cluster create the cluster that is only warned about gets
    its silence without the person ever seeing, let alone confirming, the warning."""
    from tests.maintenance_helpers import silences_of

    settings.CLUSTERS = two_clusters(am.url, staging_am.url)
    make_rule("staging-ticket", "comment", pattern=r"[A-Z]+-[0-9]+", clusters="staging")
    make_rule("one-hour", "max_duration", mode="warn", max_duration="1h", explanation="Hm.")
    form = {
        "matcher_name": ["test"],
        "matcher_op": ["="],
        "matcher_value": [tag],
        "duration": "2h",
        "comment": "deploying",
        "tz": "UTC",
        "clusters": ["prod", "staging"],
    }

    response = silencer_client.post("/silences/new/", form, follow=True)

    assert silences_of(staging_am, tag) == []  # refused there, as it should be
    made = silences_of(am, tag)
    assert made == [] or "one-hour" in page_text(response), "made in prod, warning never shown"


# -- max_duration: the start judged is not the start sent -------------------------------------


def test_it_judges_an_edit_by_the_start_it_sends(am, silencer, tag, monkeypatch):
    """check_policy and _start_to_send each read the clock: an edit asking an active silence
    to start a moment from now is judged as a new silence from then, but once that moment has
    passed when the edit is sent, the old start is kept and only the end moves, stretching
    the silence past the maximum. The policy check taking a while is simulated by moving
    Python's clock past the requested start while it runs (Alertmanager keeps real time)."""
    import time_machine

    from alertui.policy import enforce

    make_rule("one-hour", "max_duration", max_duration="1h")
    made = services.create_silence(Actor(silencer), values([Matcher("test", "=", tag)], hours=1))
    real = enforce.evaluate
    with time_machine.travel(timezone.now(), tick=True) as traveller:

        def slow_evaluate(*args, **kwargs):
            verdict = real(*args, **kwargs)
            traveller.shift(timedelta(minutes=11))
            return verdict

        monkeypatch.setattr(enforce, "evaluate", slow_evaluate)
        now = timezone.now()
        asked = SilenceValues(
            (Matcher("test", "=", tag),),
            now + timedelta(minutes=10),
            now + timedelta(minutes=69),
            "deploy OPS-1",
        )
        try:
            services.edit_silence(Actor(silencer), made.id, asked)
        except SilenceActionError:
            pass  # refused: fine

    live = [s for s in silences_in_am(am, tag) if s["status"]["state"] != "expired"]
    assert len(live) == 1
    start = datetime.fromisoformat(live[0]["startsAt"].replace("Z", "+00:00"))
    end = datetime.fromisoformat(live[0]["endsAt"].replace("Z", "+00:00"))
    assert end - start <= timedelta(hours=1), f"{start} .. {end}: past the 1 h maximum"


# -- maintenance windows: the comment judged is not the person's ------------------------------


def test_it_lets_a_window_meet_an_anchored_comment_rule(am, silencer, tag):
    """docs/policy.md: "anchor it with ^...$ to ask for the whole" comment. A window's
    silence is judged on its comment plus the lines alertui appends (window name, marker), so
    a window whose comment is exactly what the rule asks is refused every occurrence, while
    the same comment in the form passes."""
    from alertui.maintenance.materialize import materialize
    from alertui.maintenance.models import Materialization
    from tests.maintenance_helpers import make_window, soon

    make_rule("whole-ticket", "comment", pattern=r"^OPS-[0-9]+ [0-9a-f]+$")
    services.create_silence(
        Actor(silencer), values([Matcher("test", "=", tag)], comment=f"OPS-7 {tag}")
    )  # the form's way: accepted
    window = make_window(silencer, tag, soon(3600), comment="OPS-7")  # comment "OPS-7 <tag>"
    materialize()

    row = Materialization.objects.get(window=window)
    assert row.state == "created", row.error


def test_it_tells_the_team_of_an_occurrence_the_policy_refused(am, silencer, silencer_client, tag):
    """An occurrence the job could never silence is a "missed" change in the window's history
    and its notice ("missed an occurrence: it was never silenced"); one the policy refused is
    marked missed with no such change, so /maintenance/history/ and the notices say nothing
    and the maintenance goes unsilenced unannounced."""
    from alertui.maintenance.materialize import materialize
    from alertui.maintenance.models import WindowChange
    from tests.maintenance_helpers import make_window, soon

    make_rule("ticket", "comment", pattern=r"[A-Z]+-[0-9]+", explanation="Name the ticket.")
    window = make_window(silencer, tag, soon(3600), comment="patching")
    materialize()

    assert WindowChange.objects.filter(window=window, action="missed").exists()
    history = silencer_client.get("/maintenance/history/", {"window": str(window.pk)})
    assert "Name the ticket." in page_text(history)


def test_it_silences_an_occurrence_once_the_window_is_fixed_before_it(am, silencer, tag):
    """docs/policy.md: "fix the window or the rule before its next occurrence". An occurrence
    refused an hour ahead is marked missed for good: the owner adds the ticket to the window
    right away, and the maintenance an hour later still goes unsilenced."""
    from alertui.maintenance.materialize import materialize
    from alertui.maintenance.services import edit_window
    from tests.maintenance_helpers import make_window, once_fields, silences_of, soon

    make_rule("ticket", "comment", pattern=r"[A-Z]+-[0-9]+", explanation="Name the ticket.")
    start = soon(3600)
    window = make_window(silencer, tag, start, comment="patching")
    materialize()
    assert silences_of(am, tag) == []

    edit_window(Actor(silencer), window, once_fields(tag, start, comment="patching OPS-9"))
    materialize()

    assert len(silences_of(am, tag)) == 1


# -- POLICY_FILE: a quoted "false" is true ----------------------------------------------------


@pytest.mark.parametrize("key", ["admins_exempt", "whole_cluster"])
def test_it_does_not_read_a_quoted_false_as_true_in_the_policy_file(tmp_path, key):
    """`admins_exempt: "false"` (quoted, as many YAML writers and Helm templates do) is read
    with bool(), which makes every non-empty text true: the file silently lets admins through
    (or turns on a limit) where it says the opposite. It should be refused, or read as false."""
    from django.core.exceptions import ImproperlyConfigured

    from alertui.policy import config

    path = tmp_path / "policy.yaml"
    path.write_text(f'rules:\n  - {{name: cap, kind: too_broad, max_alerts: 5, {key}: "false"}}\n')
    try:
        [rule] = config.load(str(path))
    except ImproperlyConfigured:
        return  # refused with a message: fine
    assert getattr(rule, key) is False


# -- maintenance windows: a move is judged and credited as the owner ---------------------------


def test_it_judges_and_credits_an_occurrence_move_to_who_moved_it(am, admin_user, tag):
    """edit_window hands the window to whoever changes it (services._take_over: its silences
    must not be made in the name of someone who did not choose them); move_occurrence does not,
    so a silencer's move edits the silence as the admin who owns the window: the audit names
    the admin, and an admins_exempt rule lets the silencer's 6 h occurrence through."""
    from alertui.maintenance.materialize import materialize
    from alertui.maintenance.models import Materialization
    from alertui.maintenance.services import move_occurrence
    from tests.conftest import _user
    from tests.maintenance_helpers import make_window, silences_of, soon

    bob = _user("bob", "silencer")
    make_rule("four-hours", "max_duration", max_duration="4h", admins_exempt=True)
    window = make_window(admin_user, tag, soon(3600))
    materialize()
    key = Materialization.objects.get(window=window).occurrence_start
    later = soon(2 * 3600)

    move_occurrence(Actor(bob), window, key, later, later + timedelta(hours=6))

    [live] = silences_of(am, tag)
    assert not live["endsAt"].startswith(f"{later + timedelta(hours=6):%Y-%m-%dT%H:%M}")
    changed = AuditEvent.objects.filter(action__in=["edited", "replaced"]).order_by("-id").first()
    assert changed is not None and changed.actor == bob, changed and changed.actor_name

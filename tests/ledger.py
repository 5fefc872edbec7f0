"""The hostile-input and fault suite's ledger: what the suite tried and what it must never see.

Tests marked `hostile` (forged fields and headers, junk query strings, hanging and trickling
peers, a hanging Redis, slow readers, interrupted requests) are watched while they run:
- every request alertui answers is counted, and every answer of 500 (a crash) is a failure;
- after each such test, while its data is still there, the audit is checked: no row credited to
  someone other than its user (browser and API rows name their user; sync rows name nobody in
  alertui), no mirrored silence without an audit row, no intent left unsettled past its grace,
  and no known secret in any row.
The run prints the totals at the end; every count but the first two must be zero.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import pytest

# The files of the suite: every test in them is marked `hostile`.
SUITE = {
    "test_access.py",
    "test_alerts_bad_data.py",
    "test_alerts_caches.py",
    "test_api_patch.py",
    "test_audit_export.py",
    "test_bounded_calls.py",
    "test_client_address.py",
    "test_expire_outcome.py",
    "test_failures.py",
    "test_far_start.py",
    "test_fuzz.py",
    "test_hanging_redis.py",
    "test_interrupted_changes.py",
    "test_notice_deadline.py",
    "test_lagging_peer.py",
    "test_recreate_link.py",
    "test_retried_changes.py",
    "test_security.py",
    "test_silences_bad_data.py",
    "test_source_auth.py",
    "test_unread_change.py",
}
# Strings that must never be stored: the test users' password, and whatever secrets tests add
# (tokens, basic-auth passwords) through the `secrets` fixture below.
KNOWN_SECRETS = ["correct horse battery staple"]


@dataclass
class Ledger:
    tests: int = 0
    requests: int = 0
    gateway_answers: int = 0  # 502/503/504: the API saying Alertmanager could not be reached
    crashes: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    exposed: list[str] = field(default_factory=list)


def pytest_configure(config):
    config.addinivalue_line("markers", "hostile: part of the hostile-input and fault suite")
    config.addinivalue_line(
        "markers", "handmade_rows: writes mirror or audit rows by hand (no audit check)"
    )
    config._alertui_ledger = Ledger()


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.name in SUITE:
            item.add_marker(pytest.mark.hostile)


@pytest.fixture
def secrets(request) -> list[str]:
    """Add the secrets a test uses; the ledger checks that no audit row holds one."""
    return request.node._alertui_secrets


@pytest.fixture(autouse=True)
def _ledger_watch(request, monkeypatch):
    request.node._alertui_secrets = list(KNOWN_SECRETS)
    if request.node.get_closest_marker("hostile") is None:
        yield
        return
    ledger: Ledger = request.config._alertui_ledger
    ledger.tests += 1
    uses_db = request.node.get_closest_marker("django_db") is not None or bool(
        {"db", "transactional_db", "live_server"} & set(request.fixturenames)
    )
    if uses_db:
        # Torn down before the test's data is rolled back or flushed: checked while it exists.
        request.getfixturevalue("_django_db_helper")
    _count_responses(monkeypatch, ledger, request.node.nodeid)
    yield
    handmade = request.node.get_closest_marker("handmade_rows") or "local_silence" in (
        request.fixturenames
    )
    if uses_db and not handmade:
        problems = _audit_problems(request.node._alertui_secrets)
        for kind, found in problems.items():
            getattr(ledger, kind).extend(f"{request.node.nodeid}: {p}" for p in found)
        assert not any(problems.values()), f"audit problems: {problems}"


def _count_responses(monkeypatch, ledger: Ledger, nodeid: str) -> None:
    from django.core.handlers.base import BaseHandler

    original = BaseHandler.get_response

    def counted(handler, request):
        response = original(handler, request)
        ledger.requests += 1
        if response.status_code == 500:
            ledger.crashes.append(f"{nodeid}: {request.method} {request.get_full_path()[:200]}")
        elif response.status_code in (502, 503, 504):
            ledger.gateway_answers += 1
        return response

    monkeypatch.setattr(BaseHandler, "get_response", counted)


def _audit_problems(secrets: list[str]) -> dict[str, list[str]]:
    from django.db.models import F, Q

    from alertui.audit.models import AuditEvent, PendingChange
    from alertui.silences.intents import grace
    from alertui.silences.models import Silence

    events = AuditEvent.objects.all()
    wrong = [
        f"row {e.pk}: {e.source} {e.action} by {e.actor_name!r}"
        for e in events.filter(source__in=("browser", "api")).filter(
            Q(actor__isnull=True) | ~Q(actor_name=F("actor__username"))
        )
    ] + [
        f"row {e.pk}: sync row credited to a user"
        for e in events.filter(source="sync", actor__isnull=False)
    ]
    recorded = set(events.values_list("silence_id", flat=True)) | set(
        events.values_list("previous_silence_id", flat=True)
    )
    from django.utils import timezone

    lost = [
        f"silence {s} mirrored without an audit row"
        for s in Silence.objects.exclude(pk__in=recorded).values_list("pk", flat=True)
    ]
    lost += [
        f"intent {i.pk} ({i.action} by {i.actor_name}) never settled"
        for i in PendingChange.objects.filter(created_at__lt=timezone.now() - grace() * 3)
    ]
    exposed = []
    for secret in secrets:
        hit = events.filter(
            Q(comment__contains=secret)
            | Q(error__contains=secret)
            | Q(note__contains=secret)
            | Q(matchers_text__contains=secret)
            | Q(actor_name__contains=secret)
        ).values_list("pk", flat=True)
        exposed += [f"row {pk} holds a secret" for pk in hit]
    return {"wrong": wrong, "lost": lost, "exposed": exposed}


# With pytest-xdist (scripts/test.sh runs the suite in several processes) each worker keeps its
# own ledger: it sends it back when it ends, and the run adds them up before printing.


def pytest_sessionfinish(session):
    if hasattr(session.config, "workeroutput"):  # an xdist worker
        session.config.workeroutput["alertui_ledger"] = asdict(session.config._alertui_ledger)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    found = getattr(node, "workeroutput", {}).get("alertui_ledger")
    if not found:
        return
    ledger: Ledger = node.config._alertui_ledger
    for name, value in found.items():
        setattr(ledger, name, getattr(ledger, name) + value)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    ledger: Ledger = config._alertui_ledger
    if not ledger.tests:
        return
    write = terminalreporter.write_line
    terminalreporter.section("hostile-input and fault suite")
    write(
        f"{ledger.tests} cases tried, {ledger.requests} requests answered "
        f"({ledger.gateway_answers} deliberate 502/503/504 'Alertmanager unreachable' answers)"
    )
    write(
        f"server errors (500): {len(ledger.crashes)}; audit rows credited wrongly: "
        f"{len(ledger.wrong)}; changes lost from the audit: {len(ledger.lost)}; "
        f"secrets in audit rows: {len(ledger.exposed)}"
    )
    for line in (ledger.crashes + ledger.wrong + ledger.lost + ledger.exposed)[:20]:
        write(f"  {line}")

"""A Redis that accepts connections but never answers (wedged, or behind a proxy or NAT that
black-holes it): silence changes still finish, their notices are queued later by the sweep, and
readiness and the sync jobs answer with an error instead of waiting.

A real Redis cannot be made to do this on demand, so a stand-in does (tests.standins.
HangingServer: it accepts, reads and never answers). Everything else is real: Alertmanager, the
database, and a real Redis when it "comes back".

No test asserts a duration. Each step that used to hang runs under a hard limit far above any
bounded wait, so a regression fails instead of hanging the run; what is asserted is that each
wait on Redis ended with its own bounded error (a socket timeout).
"""

import base64
import json
import logging
import signal
from contextlib import contextmanager
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from alertui.audit.models import AuditEvent
from alertui.integrations.alertmanager import AlertmanagerClient
from alertui.locks import LockUnavailable
from alertui.notices import services as notices
from alertui.notices.models import Delivery
from alertui.notices.tasks import deliver
from alertui.silences import services
from alertui.silences.services import Actor
from alertui.silences.sync import sync_silences
from tests.notice_receiver import slack_text
from tests.standins import HangingServer
from tests.test_notices import values

pytestmark = pytest.mark.django_db(transaction=True)

# Far above one bounded wait (about a second each), far below "minutes".
HARD_LIMIT = 60
TIMED_OUT = "Timeout reading from socket"  # redis-py's words for a socket timeout


class StillWaiting(BaseException):
    """Not an Exception: no `except Exception` on the way may swallow it."""


@contextmanager
def hard_limit(seconds=HARD_LIMIT):
    def expired(signum, frame):
        raise StillWaiting(f"still waiting on the hanging Redis after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def hanging_redis(settings, redis_db):
    """REDIS_URL (locks, readiness) on the stand-in; `redis_db` stays the real one."""
    hanging = HangingServer()
    real = settings.REDIS_URL
    settings.REDIS_URL = "redis" + hanging.url.removeprefix("http") + "/0"
    yield settings.REDIS_URL
    settings.REDIS_URL = real
    hanging.stop()


def errors_logged(caplog, logger: str) -> list[str]:
    """The message and exception text of each record `logger` wrote."""
    return [
        r.getMessage() + (f" {r.exc_info[1]}" if r.exc_info else "")
        for r in caplog.records
        if r.name == logger
    ]


def test_silence_changes_finish_and_their_notices_are_sent_when_redis_is_back(
    am,
    notify,
    receiver,
    redis_db,
    hanging_redis,
    celery_broker,
    celery_queue,
    silencer,
    tag,
    caplog,
):
    real_broker = notify.CELERY_BROKER_URL
    actor = Actor(silencer)
    with celery_broker(hanging_redis), hard_limit(), caplog.at_level(logging.WARNING):
        created = services.create_silence(actor, values(tag))
        expired = services.expire_silence(actor, created.id)  # waits on the lock first

    # Alertmanager applied both changes, and the audit has them.
    assert AlertmanagerClient([am.url]).get_silence(created.id).state == "expired"
    events = AuditEvent.objects.filter(silence_id=created.id).order_by("id")
    assert [(e.action, e.outcome) for e in events] == [
        ("created", "succeeded"),
        ("expired", "succeeded"),
    ]
    assert expired.id == created.id
    # The lock and each publish gave up with a socket timeout; one publish per change (the
    # second delivery of each was not tried once the first could not be queued).
    (lock,) = errors_logged(caplog, "alertui.locks")
    assert TIMED_OUT in lock and "goes ahead without its lock" in lock
    publishes = errors_logged(caplog, "alertui.notices.services")
    assert len(publishes) == 2 and all(TIMED_OUT in p for p in publishes)
    # Nothing was sent yet, nothing is lost: the deliveries wait, committed with the audit rows.
    assert receiver.requests == []
    assert sorted(Delivery.objects.values_list("kind", "status")) == [
        ("silence.created", "pending"),
        ("silence.created", "pending"),
        ("silence.expired", "pending"),
        ("silence.expired", "pending"),
    ]

    # A real Redis again: the sweep (a beat task, run here as the worker would) queues them.
    with celery_broker(real_broker):
        with time_machine.travel(timezone.now() + timedelta(minutes=6)):
            assert notices.requeue_stalled() == 4
        messages = [json.loads(m) for m in reversed(redis_db.lrange(celery_queue, 0, -1))]
    queued = [json.loads(base64.b64decode(m["body"]))[0] for m in messages]
    assert sorted(queued) == sorted([d] for d in Delivery.objects.values_list("pk", flat=True))
    for args in queued:
        deliver(*args)  # what the worker runs
    assert [h["kind"] for h in receiver.hook()] == ["silence.created", "silence.expired"]
    assert "*alice* created" in slack_text(receiver.slack()[0])
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}


def test_readiness_says_redis_is_failing_without_waiting(client, hanging_redis):
    with hard_limit():
        ready = client.get("/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert body["database"] == "ok" and body["status"] == "ok"
    assert body["redis"] == "failing"  # the error itself goes to the log, not to anyone


def test_the_sync_refuses_to_run_without_waiting(am, hanging_redis):
    with hard_limit(), pytest.raises(LockUnavailable, match=f"Redis is unreachable \\({TIMED_OUT}"):
        sync_silences()

"""A webhook that answers a byte at a time cannot hold a Celery worker past NOTIFY_TIMEOUT.

A socket timeout bounds each read, not the delivery: a receiver (or a proxy in front of it)
that sends its answer a byte a second never trips it, and holds the worker, which also runs the
syncs, for as long as it likes. The trickling receiver is a stand-in (tests/standins.py
FaultyProxy in front of a real HTTP receiver): no real webhook can be made to trickle on
demand. It stops after a minute, so a delivery that is not cut off fails this test instead of
hanging it.
"""

import pytest

from alertui.audit.models import AuditEvent
from alertui.notices.models import Delivery
from alertui.silences import services
from alertui.silences.services import Actor
from tests.notice_receiver import Receiver
from tests.standins import FaultyProxy
from tests.test_notices import values

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("fault", ["trickle headers", "trickle"])
def test_a_trickling_webhook_is_cut_off_at_the_timeout(
    fault, am, settings, redis_db, silencer, tag
):
    receiver = Receiver(statuses=[500])  # "trickle": the error body is read, a byte a second
    proxy = FaultyProxy(receiver.url, lambda method, path, headers: fault)
    settings.NOTIFY_WEBHOOK_URLS = [proxy.url + "/hook"]
    settings.NOTIFY_TIMEOUT = 2
    settings.NOTIFY_MAX_RETRIES = 0
    try:
        silence = services.create_silence(Actor(silencer), values(tag))
    finally:
        proxy.stop()
        receiver.stop()

    assert len(receiver.hook()) == 1  # it was sent; only its answer never came whole
    delivery = Delivery.objects.get(silence_id=silence.id, channel="webhook")
    assert (delivery.status, delivery.last_error) == ("failed", "no answer within 2s")
    assert AuditEvent.objects.get(silence_id=silence.id).outcome == "succeeded"

import random

from celery import shared_task
from django.conf import settings

from alertui.notices import reminders, services

BACKOFF_FACTOR = 5  # seconds: retries after about 5, 10, 20, 40, ... seconds
BACKOFF_MAX = 600


def backoff(retries: int) -> int:
    # Full jitter, so webhooks failing together are not retried together.
    return random.randint(0, min(BACKOFF_MAX, BACKOFF_FACTOR * 2**retries))


@shared_task
def send_notice(event_id: int) -> int:
    """Fan a recorded silence change out to one `deliver` task per destination. The deliveries
    are now written with the audit row (signals.py); this task stays for the messages earlier
    versions queued, and does nothing for an event already fanned out."""
    return services.announce_event(event_id)


@shared_task(bind=True, max_retries=None)
def deliver(self, delivery_id: int) -> str:
    # The limit is read at run time (not import time) so it follows the settings.
    limit = settings.NOTIFY_MAX_RETRIES
    try:
        return services.attempt(delivery_id, last_try=self.request.retries >= limit)
    except services.RetryLater as e:
        raise self.retry(countdown=backoff(self.request.retries), exc=e) from None


@shared_task
def remind_expiring_silences() -> int:
    return reminders.remind_expiring_silences()


@shared_task
def requeue_stalled_deliveries() -> int:
    return services.requeue_stalled()

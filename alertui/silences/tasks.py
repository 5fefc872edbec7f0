from celery import shared_task

from alertui.locks import LockUnavailable
from alertui.silences.sync import sync_silences as run_sync_silences


@shared_task(
    autoretry_for=(LockUnavailable,), retry_backoff=True, retry_backoff_max=60, max_retries=3
)
def sync_silences() -> dict:
    result = run_sync_silences()
    return {"seen": result.seen, "recorded": len(result.recorded), "error": result.error}

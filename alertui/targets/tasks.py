from celery import shared_task

from alertui.locks import LockUnavailable
from alertui.targets.sync import sync_targets as run_sync_targets


@shared_task(
    autoretry_for=(LockUnavailable,), retry_backoff=True, retry_backoff_max=60, max_retries=3
)
def sync_targets() -> dict:
    result = run_sync_targets()
    return {"failing": result.failing, "skipped": result.skipped, "errors": result.errors}

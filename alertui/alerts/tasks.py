from celery import shared_task

from alertui.alerts.sync import sync_alerts as run_sync_alerts
from alertui.locks import LockUnavailable


@shared_task(
    autoretry_for=(LockUnavailable,), retry_backoff=True, retry_backoff_max=60, max_retries=3
)
def sync_alerts() -> dict:
    result = run_sync_alerts()
    return {"current": result.current, "skipped": result.skipped, "error": result.error}


@shared_task
def prune_history() -> dict:
    from alertui.alerts.retention import prune_history as run_prune

    return run_prune()

from celery import shared_task

from alertui.stale_silences.policy import expire_stale


@shared_task
def expire_stale_silences() -> dict:
    report = expire_stale()
    return {"expired": len(report.expired), "failed": len(report.failed), "busy": report.busy}

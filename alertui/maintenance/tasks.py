from celery import shared_task

from alertui.maintenance.materialize import materialize


@shared_task
def materialize_windows() -> dict:
    report = materialize()
    return {"created": len(report.created), "failed": len(report.failed), "busy": report.busy}

import hmac
import logging

import redis
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from alertui.metrics import AlertuiCollector

log = logging.getLogger(__name__)


@require_GET
def home(request):
    return redirect("alert_list")


@login_not_required
@require_GET
def healthz(request):
    """Liveness: the process answers. Nothing else is checked, so a database outage does not
    make an orchestrator restart every web process."""
    return JsonResponse({"status": "ok"})


@login_not_required
@require_GET
def readyz(request):
    """Readiness: the database answers. Redis is reported but not required: pages serve
    without it (only the sync jobs stop). Anyone may ask, so the answer is only "ok" or
    "failing" per component; what failed, with host names and messages, goes to the log."""
    body = {"database": "ok", "redis": "ok"}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as e:  # any database failure means not ready
        body["database"] = "failing"
        log.warning("Not ready: the database failed: %.500s", e)
    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2).ping()
    except redis.RedisError as e:
        body["redis"] = "failing"
        log.warning("Redis failed (the sync jobs stop until it answers): %.500s", e)
    ready = body["database"] == "ok"
    body["status"] = "ok" if ready else "error"
    return JsonResponse(body, status=200 if ready else 503)


@login_not_required
@require_GET
def metrics(request):
    token = settings.METRICS_TOKEN
    sent = request.headers.get("Authorization", "")
    # Constant time: how long a wrong guess takes must not tell how much of it was right.
    if token and not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
        return HttpResponse("Bearer token required\n", status=401, content_type="text/plain")
    registry = CollectorRegistry(auto_describe=False)
    registry.register(AlertuiCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)

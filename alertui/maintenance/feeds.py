"""The calendar feed behind a per-person token (for calendar apps, which cannot log in), and
the page where a person makes and revokes their tokens."""

from __future__ import annotations

import hashlib
import secrets

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from alertui.maintenance.calendar import feed
from alertui.maintenance.models import CalendarToken, Window

MAX_TOKENS = 10


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _person(request):
    """The token's owner, if the token is current and its owner may still log in."""
    key = request.GET.get("token", "")[:100]
    token = CalendarToken.objects.filter(digest=_digest(key), revoked_at=None).first()
    if not key or token is None or not token.user.is_active:
        raise Http404("unknown or revoked calendar token")
    CalendarToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token.user


def _ics(body: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "private, max-age=300"
    return response


@login_not_required
@require_GET
def calendar_feed(request):
    _person(request)
    windows = Window.objects.filter(deleted_at=None, paused=False).select_related("owner")
    return _ics(feed(windows.prefetch_related("exceptions")), "maintenance.ics")


@login_not_required
@require_GET
def window_feed(request, window_id: int):
    _person(request)
    window = get_object_or_404(Window, pk=window_id, deleted_at=None, paused=False)
    return _ics(feed([window], f"Maintenance: {window.name}"), f"maintenance-{window.pk}.ics")


@never_cache  # the page shows a new feed address once: no copy in any cache
@require_http_methods(["GET", "POST"])
def calendar_settings(request):
    created_url = ""
    mine = CalendarToken.objects.filter(user=request.user, revoked_at=None)
    if request.method == "POST":
        if mine.count() >= MAX_TOKENS:
            messages.warning(request, f"At most {MAX_TOKENS} feed addresses; revoke one first.")
            return redirect("maintenance_calendar_settings")
        key = secrets.token_urlsafe(32)
        CalendarToken.objects.create(user=request.user, digest=_digest(key), prefix=key[:8])
        path = reverse("maintenance_calendar")
        window = request.POST.get("window", "")
        if (
            window.isascii()
            and window.isdigit()
            and Window.objects.filter(pk=int(window), deleted_at=None).exists()
        ):
            path = reverse("maintenance_window_calendar", args=[int(window)])
        created_url = request.build_absolute_uri(f"{path}?token={key}")
    ctx = {
        "tokens": mine.order_by("-created_at"),
        "created_url": created_url,
        "window": request.GET.get("window", "")[:12],
    }
    return render(request, "maintenance/calendar.html", ctx)


@require_POST
def calendar_revoke(request, token_id: int):
    updated = CalendarToken.objects.filter(pk=token_id, user=request.user, revoked_at=None).update(
        revoked_at=timezone.now()
    )
    if updated:
        messages.success(request, "Feed address revoked: calendars using it stop updating.")
    return redirect("maintenance_calendar_settings")

"""Refuse NUL characters in what a browser sends.

No label, comment or name in alertui can contain one (PostgreSQL refuses them in text), and a
request carrying one is a mistake or a probe: one clear 400 here beats a database error deep
inside a view.
"""

from django.http import HttpResponseBadRequest, JsonResponse

MESSAGE = "The request contains a NUL character, which alertui does not accept."


class RejectNulMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or _has_nul(request.GET) or _has_nul_body(request):
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": MESSAGE}, status=400)  # as the schema promises
            return HttpResponseBadRequest(
                f'<!doctype html><title>Bad request</title><p class="error">{MESSAGE}</p>'
            )
        return self.get_response(request)


def _has_nul(params) -> bool:
    return any("\x00" in key or any("\x00" in v for v in values) for key, values in params.lists())


def _has_nul_body(request) -> bool:
    if request.method != "POST":
        return False
    content_type = request.META.get("CONTENT_TYPE", "")
    if not content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        return False
    return _has_nul(request.POST)

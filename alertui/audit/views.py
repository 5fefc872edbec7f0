import csv

from django.core.paginator import Paginator
from django.db.models import Q
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from alertui.audit.filters import AuditFilter
from alertui.audit.models import AuditEvent
from alertui.silences.models import Silence

PAGE_SIZE = 50
CSV_COLUMNS = [
    ("at", "time (UTC)"),
    ("actor_name", "person"),
    ("action", "action"),
    ("outcome", "outcome"),
    ("error", "error"),
    ("source", "source"),
    ("silence_id", "silence id"),
    ("previous_silence_id", "previous silence id"),
    ("matchers_text", "matchers"),
    ("starts_at", "starts at (UTC)"),
    ("ends_at", "ends at (UTC)"),
    ("comment", "comment"),
    ("remote_addr", "address"),
    ("api_token", "API token"),
    ("note", "note"),
]


def _filtered(request) -> AuditFilter:
    return AuditFilter(
        request.GET, queryset=AuditEvent.objects.select_related("actor").order_by("-at", "-id")
    )


@require_GET
def audit_list(request):
    audit_filter = _filtered(request)
    events = audit_filter.qs if audit_filter.is_valid() else AuditEvent.objects.none()
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    ctx = {"filter": audit_filter, "page": page, "query": query.urlencode()}
    template = "audit/list.html"
    if request.htmx and not request.htmx.boosted:
        template += "#results"
    return render(request, template, ctx)


class _Echo:
    def write(self, value):
        return value


def _csv_safe(value) -> str:
    # Cells starting with = + - @ run as formulas in spreadsheets; labels are untrusted.
    text = "" if value is None else str(value)[:32000]  # spreadsheets' cell limit is 32,767
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@require_GET
def audit_csv(request):
    audit_filter = _filtered(request)
    events = audit_filter.qs if audit_filter.is_valid() else AuditEvent.objects.none()
    writer = csv.writer(_Echo())

    def rows():
        yield writer.writerow([label for _, label in CSV_COLUMNS])
        for event in events.iterator(chunk_size=2000):
            yield writer.writerow([_csv_safe(getattr(event, f)) for f, _ in CSV_COLUMNS])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="alertui-audit.csv"'
    return response


def silence_chain(silence_id: str) -> list[str]:
    """Every id this silence has had: Alertmanager gives a new id when an edit replaces it."""
    chain = {silence_id}
    frontier = {silence_id}
    while frontier:
        links = AuditEvent.objects.filter(
            Q(silence_id__in=frontier) | Q(previous_silence_id__in=frontier)
        ).values_list("silence_id", "previous_silence_id")
        replaced = Silence.objects.filter(
            Q(id__in=frontier) | Q(replaced_by__in=frontier)
        ).values_list("id", "replaced_by")
        found = {i for pair in list(links) + list(replaced) for i in pair if i}
        frontier = found - chain
        chain |= found
        if len(chain) > 500:  # a runaway chain would be a bug; never loop forever
            break
    return sorted(chain)


@require_GET
def audit_silence(request, silence_id):
    chain = silence_chain(silence_id[:64])
    events = AuditEvent.objects.filter(silence_id__in=chain).select_related("actor")
    events = events.order_by("at", "id")
    silences = Silence.objects.filter(id__in=chain).order_by("first_seen_at")
    ctx = {"silence_id": silence_id, "chain": chain, "events": events, "silences": silences}
    return render(request, "audit/silence.html", ctx)

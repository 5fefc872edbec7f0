import csv
from datetime import UTC, timedelta

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from alertui.accounts.roles import can_silence
from alertui.audit.filters import AuditFilter
from alertui.audit.models import AuditEvent
from alertui.nav import htmx
from alertui.silences.forms import viewer_zone
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
    # Last: scripts reading the columns by position before there were clusters keep working.
    ("cluster", "cluster"),
]


def _filtered(request) -> AuditFilter:
    return AuditFilter(
        request.GET, queryset=AuditEvent.objects.select_related("actor").order_by("-at", "-id")
    )


# The time-range presets: a label and how far back "since" goes (no "until": up to now).
PRESETS = [
    ("Last 24 h", timedelta(hours=24)),
    ("Last 7 d", timedelta(days=7)),
    ("Last 30 d", timedelta(days=30)),
]


def _presets(request, zone_name: str) -> list[dict]:
    """Links that set since to now minus each preset, as a time in the zone the page reads
    since/until in (the page's script fills the fields in the viewer's own zone instead)."""
    zone = viewer_zone(zone_name)
    now = timezone.now().replace(second=0, microsecond=0)
    links = []
    for label, back in PRESETS:
        query = request.GET.copy()
        for name in ("page", "until", "since", "tz"):
            query.pop(name, None)
        query["since"] = (now - back).astimezone(zone).strftime("%Y-%m-%dT%H:%M")
        if zone is not UTC:
            query["tz"] = zone_name
        links.append({"label": label, "hours": int(back.total_seconds() // 3600), "query": query})
    return [{**link, "query": link["query"].urlencode()} for link in links]


@require_GET
def audit_list(request):
    audit_filter = _filtered(request)
    events = audit_filter.qs if audit_filter.is_valid() else AuditEvent.objects.none()
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    zone_name = request.GET.get("tz", "")[:64]
    zone_name = zone_name if viewer_zone(zone_name) is not UTC else ""
    ctx = {
        "filter": audit_filter,
        "page": page,
        "query": query.urlencode(),
        "zone": zone_name,
        "presets": _presets(request, zone_name),
    }
    return htmx.list_page(request, "audit/list.html", ctx)


class _Echo:
    def write(self, value):
        return value


def _csv_safe(value) -> str:
    # Cells starting with = + - @ run as formulas in spreadsheets; labels are untrusted.
    text = "" if value is None else str(value)[:32000]  # spreadsheets' cell limit is 32,767
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


# Events read per query. Each chunk is its own short query, fully read before it is sent: a
# slow download holds no cursor, lock or transaction between chunks (on SQLite an open read
# kept writers out until "database is locked").
EXPORT_CHUNK = 500
FIELDS = [field for field, _ in CSV_COLUMNS]


def _newest_first_in_chunks(events, limit: int):
    """Rows of `events` (values of FIELDS), newest first, at most `limit`, read in chunks that
    each start after the last row read (keyset on at, id: no OFFSET, nothing skipped or
    repeated when rows are added meanwhile); then None if more events were left out."""
    events = events.order_by("-at", "-id")
    after = None
    sent = 0
    while sent < limit:
        page = events
        if after is not None:
            at, pk = after
            page = page.filter(Q(at__lt=at) | Q(at=at, id__lt=pk))
        chunk = list(page.values_list("at", "id", *FIELDS)[: min(EXPORT_CHUNK, limit - sent)])
        for row in chunk:
            yield row[2:]
        sent += len(chunk)
        if len(chunk) < EXPORT_CHUNK and sent < limit:
            return
        after = chunk[-1][:2]
    at, pk = after
    if events.filter(Q(at__lt=at) | Q(at=at, id__lt=pk)).exists():
        yield None


@require_GET
def audit_csv(request):
    audit_filter = _filtered(request)
    events = audit_filter.qs if audit_filter.is_valid() else AuditEvent.objects.none()
    limit = settings.AUDIT_EXPORT_MAX_ROWS
    writer = csv.writer(_Echo())

    def rows():
        yield writer.writerow([label for _, label in CSV_COLUMNS])
        last = None
        for row in _newest_first_in_chunks(events, limit):
            if row is None:
                yield writer.writerow(
                    [
                        f"Truncated: this export stops at {limit} events (AUDIT_EXPORT_MAX_ROWS)."
                        f" The oldest one above is from {last[0]}: narrow the filters (Until) to"
                        " export older events."
                    ]
                )
                return
            last = row
            yield writer.writerow([_csv_safe(value) for value in row])

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
    # With the rows of the same action in other clusters (a silence made in several at once).
    actions = AuditEvent.objects.filter(silence_id__in=chain).exclude(action_id="")
    action_ids = set(actions.values_list("action_id", flat=True)[:100])
    events = AuditEvent.objects.filter(Q(silence_id__in=chain) | Q(action_id__in=action_ids))
    events = events.select_related("actor")
    # Oldest first, a page at a time: a silence extended every few minutes by a script gathers
    # thousands of events, and one page must not render them all.
    page = Paginator(events.order_by("at", "id"), PAGE_SIZE).get_page(request.GET.get("page"))
    silences = list(Silence.objects.filter(id__in=chain).order_by("first_seen_at"))
    # The silence as it is now: the id no edit replaced (the newest, should the mirror hold
    # several), to open it or, once it has ended, to recreate it.
    current = [s for s in silences if not s.replaced_by][-1:] or silences[-1:]
    current = current[0] if current else None
    ctx = {
        "silence_id": silence_id,
        "chain": chain,
        "page": page,
        "silences": silences,
        "current": current,
        "can_recreate": (
            current is not None and current.current_state == "expired" and can_silence(request.user)
        ),
    }
    return render(request, "audit/silence.html", ctx)

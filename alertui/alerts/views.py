import logging
import sys

from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, QueryDict
from django.shortcuts import render
from django.template.loader import get_template, render_to_string
from django.views.decorators.http import require_GET

from alertui.accounts.roles import can_silence
from alertui.alerts import ranking, reserved_filters, row_context, snapshot
from alertui.alerts.models import AlertHistory
from alertui.matchers import CLUSTER, LABEL_NAME, MatcherError, parse_filter
from alertui.nav import htmx
from alertui.rules import store as rule_store
from alertui.scopes.access import EVERYTHING, VIEWER, access_for
from alertui.sync import health

GROUPS_PER_PAGE = 25
# A group of more alerts than this is collapsed to its header (and its active criticals)
# until expanded: one noisy rule must not push everything else off the screen.
COLLAPSE_OVER = 5
ALERTS_PER_GROUP = 10  # active criticals shown in a collapsed group, at most
EXPANDED_LIMIT = 500
DEFAULT_STATES = ("active",)
log = logging.getLogger(__name__)
# Shown on an alert's one-line summary, when present; the rest are in its details.
KEY_LABELS = ("namespace", "job", "instance", "service", "pod", "cluster")


def _query(get: QueryDict) -> dict:
    """The page's filter, read from the URL so a view can be shared as a link."""
    group_by = get.get("group_by", "alertname").strip()[:100] or "alertname"
    errors = []
    if group_by != CLUSTER and not LABEL_NAME.match(group_by):
        errors.append(f"Cannot group by {group_by!r}: that is not a label name.")
        group_by = "alertname"
    states = [s for s in get.getlist("state") if s in snapshot.STATES]
    if "state" not in get:
        states = list(DEFAULT_STATES)
    text = get.get("q", "")[:1000]
    try:
        reserved, rest = reserved_filters.extract(text)
        matchers, words = parse_filter(rest)
    except (MatcherError, reserved_filters.FilterError) as e:
        reserved, matchers, words = [], [], []
        errors.append(f"Filter: {e}")
        filter_broken = True
    else:
        filter_broken = False
    return {
        "q": text,
        "group_by": group_by,
        "states": states,
        "matchers": matchers,
        "words": words,
        "reserved": reserved,
        "errors": errors,
        "filter_broken": filter_broken,
        "expand": get.getlist("expand")[:20],
    }


class PageGroup:
    """A group as one page shows it: all its alerts when few, else its header and active
    criticals (the alerts are in severity order, so those lead) until expanded."""

    def __init__(self, group: snapshot.AlertGroup, params: QueryDict):
        self.group = group
        expanded = params.getlist("expand")
        self.expanded = group.key in expanded
        self.collapsible = len(group.alerts) > COLLAPSE_OVER
        if self.expanded:
            self.visible = group.alerts[:EXPANDED_LIMIT]
        elif self.collapsible:
            self.visible = group.alerts[: min(group.active_critical, ALERTS_PER_GROUP)]
        else:
            self.visible = group.alerts
        self.hidden_count = len(group.alerts) - len(self.visible)
        # This page, with this group added to (or taken from) those already expanded.
        expand = params.copy()
        expand.appendlist("expand", group.key)
        self.expand_query = expand.urlencode()
        collapse = params.copy()
        collapse.setlist("expand", [k for k in expanded if k != group.key])
        self.collapse_query = collapse.urlencode()

    def __getattr__(self, name):
        return getattr(self.group, name)


def _page_size(html: str) -> int:
    return sys.getsizeof(html)


# Rendered results, per snapshot. Keyed by what shapes them, never by the raw query string:
# unknown parameters and their order would otherwise make a new entry per request.
_rendered_pages = snapshot.per_snapshot_cache("rendered pages", 0.4, _page_size)


@require_GET
def alert_list(request):
    viewer_can_silence = can_silence(request.user)
    access = access_for(request.user)  # which silences and alerts the buttons are offered on
    ctx, results = _results(
        _query(request.GET), request.GET.get("page"), viewer_can_silence, access
    )
    if htmx.wants_partial(request):
        return htmx.partial(request, results)
    return render(request, "alerts/list.html", {**ctx, "results": results})


def _results(query: dict, page_number, viewer_can_silence: bool, access) -> tuple[dict, str]:
    """The page's context, and its results part rendered (or found rendered) for a viewer
    with these rights."""
    everything, shown, groups = snapshot.grouped_view(
        query["matchers"],
        query["words"],
        set(query["states"]),
        query["group_by"],
        keep=reserved_filters.keeper(query["reserved"], snapshot.current_alerts())
        if query["reserved"]
        else None,
    )
    if query["filter_broken"]:
        shown, groups = [], []  # an unreadable filter shows nothing rather than everything
    totals, label_names = snapshot.overview(everything)
    page = ranking.Pages(groups, GROUPS_PER_PAGE).get_page(page_number)
    params = _shown_params(query, groups)
    note = health.note(health.ALERTMANAGER_ALERTS)
    ctx = {
        "query": query,
        "totals": totals,
        "state_choices": snapshot.STATES,
        "label_names": label_names,
        "can_silence": viewer_can_silence,
        "scope_access": access,
        "note": note,
    }
    _wrap_groups(page, params)
    # Who muted the alerts shown, and until when: read per request (silences change without
    # the alert snapshot changing), so the cached HTML is keyed by it too.
    silence_info = row_context.silences_for((a for g in page for a in g.visible), access)
    rules = rule_store.RuleLookup()
    # Every open tab polling the same view gets the same HTML, rendered once per snapshot.
    generation = snapshot.generation_of(everything)
    key = (
        generation,
        viewer_can_silence,
        access.key,  # the same for everyone with the same rights: no one's own content
        params.urlencode(),
        page.number,
        tuple(query["errors"]),
        note,
        hash(tuple(sorted(silence_info.items()))),
        rules.version,
    )
    # A reserved filter's answer changes with the clock or the silences: never reused.
    cacheable = generation is not None and not query["reserved"]
    results = _rendered_pages.get(key) if cacheable else None
    if results is None:
        results = render_to_string(
            "alerts/list.html#results",
            {
                **ctx,
                **_results_context(query, params, page, shown, groups),
                "silence_info": silence_info,
                "everything": everything,
                "rules": rules,
            },
        )
        if cacheable:
            _rendered_pages.put(key, results)
    return ctx, results


def warm() -> None:
    """As a web worker starts (alertui/wsgi.py): the snapshot, the default view over it, its
    first page rendered for a viewer and for a silencer without scopes, and the page's compiled
    template, so that the first request costs what the next ones do. Never fails the start
    (snapshot.warm says why it could not load)."""
    snapshot.warm()
    try:
        default = _query(QueryDict())
        for viewer_can_silence, access in ((False, VIEWER), (True, EVERYTHING)):
            _results(default, None, viewer_can_silence, access)
        get_template("alerts/list.html")
    except Exception:  # noqa: BLE001 - a start must not fail on this
        log.warning("the default alerts view was not prepared at start", exc_info=True)


def _shown_params(query: dict, groups: list[snapshot.AlertGroup]) -> QueryDict:
    """The query string of the page shown, without its page number: what its links carry.
    Built from what the request means, so parameters alertui does not read are left out."""
    params = QueryDict(mutable=True)
    if query["q"]:
        params["q"] = query["q"]
    params["group_by"] = query["group_by"]
    params.setlist("state", [s for s in snapshot.STATES if s in query["states"]] or [""])
    # Only groups that exist can be expanded; each once, in a fixed order.
    requested = set(query["expand"])
    if requested:
        params.setlist("expand", sorted(g.key for g in groups if g.key in requested))
    return params


def _wrap_groups(page, params: QueryDict) -> None:
    # The groups are shared by all requests (cached per snapshot): wrap, never modify them.
    here = params.copy()
    if page.number > 1:
        here["page"] = str(page.number)
    page.object_list = [PageGroup(g, here) for g in page.object_list]


def _results_context(query: dict, params: QueryDict, page, shown, groups) -> dict:
    return {
        "page": page,
        "groups_total": len(groups),
        "shown_total": len(shown),
        "base_query": params.urlencode(),
        "key_labels": [k for k in KEY_LABELS if k != query["group_by"]],
        "poll_seconds": settings.ALERTS_REFRESH_SECONDS,
    }


@require_GET
def alert_history(request, fingerprint):
    fingerprint = fingerprint[:64]
    firings = AlertHistory.objects.filter(fingerprint=fingerprint).order_by("-started_at")
    # ?cluster=: the one alert of that cluster (the same fingerprint may fire in several).
    cluster = request.GET.get("cluster", "")[:63]
    if cluster:
        firings = firings.filter(cluster=cluster)
    page = Paginator(firings, 50).get_page(request.GET.get("page"))
    current = next(
        (
            a
            for a in snapshot.current_alerts()
            if a.fingerprint == fingerprint and (not cluster or a.cluster == cluster)
        ),
        None,
    )
    if current is None and not page.object_list:
        raise Http404("alertui has no record of this alert.")
    labels = current.labels if current else page.object_list[0].labels
    ctx = {
        "fingerprint": fingerprint,
        "current": current,
        "labels": labels,
        "page": page,
        # Silence pre-fills the alert's labels: offered when that is inside the viewer's scopes.
        "can_silence": can_silence(request.user)
        and (
            current is None or access_for(request.user).may_silence_labels(labels, current.cluster)
        ),
    }
    return render(request, "alerts/history.html", ctx)

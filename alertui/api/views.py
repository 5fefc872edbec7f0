"""The JSON API, /api/v1/. Reads come from the same snapshot and filters as the pages; silence
changes go through alertui.silences.services, so they are validated and audited exactly as in
the browser, with source "api" and the token's name in the audit row.

Lists are DRF generic views, so their pagination and filters appear in the OpenAPI schema;
the silence actions are function views, like the rest of alertui.
"""

from dataclasses import replace

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from alertui import clusters
from alertui.alerts import local_changes, snapshot
from alertui.api import serializers as api
from alertui.api.models import ApiToken
from alertui.api.permissions import CanChangeSilences
from alertui.audit.filters import AuditFilter
from alertui.audit.models import AuditEvent
from alertui.audit.views import silence_chain
from alertui.matchers import CLUSTER, Matcher, MatcherError, parse_filter
from alertui.policy.web import policy_warnings
from alertui.requestinfo import actor_for
from alertui.silences import multi, services
from alertui.silences.models import Silence
from alertui.silences.queries import STATES, filter_silences
from alertui.targets.models import FailingTarget

SILENCE_ID = OpenApiParameter("silence_id", OpenApiTypes.STR, OpenApiParameter.PATH)
ERROR = inline_serializer(
    "Error", {"detail": serializers.CharField(), "reason": serializers.CharField(required=False)}
)
CHANGE_ERRORS = {
    403: ERROR,
    409: ERROR,
    422: ERROR,
    503: ERROR,
    504: ERROR,
}


def _actor(request) -> services.Actor:
    token = request.auth if isinstance(request.auth, ApiToken) else None
    actor = actor_for(request, source=AuditEvent.Source.API)
    return replace(actor, api_token=token.label if token else "")


def _silence(silence_id: str) -> Silence:
    return get_object_or_404(Silence, pk=silence_id[:64])


def _respond(request, silence: Silence, code=status.HTTP_200_OK) -> Response:
    return Response(api.SilenceSerializer(silence, context={"request": request}).data, status=code)


def _changed(request, silence: Silence, warnings, code=status.HTTP_200_OK) -> Response:
    """A silence made or changed, with the silence policy's warnings about it."""
    context = {"request": request, "policy_warnings": warnings}
    return Response(api.SilenceChangedSerializer(silence, context=context).data, status=code)


def _create_in_clusters(request, data) -> Response:
    values = data.values()
    chosen = multi.chosen_clusters(data.validated_data["clusters"])
    warnings = {c: policy_warnings(request.user, c, values) for c in chosen}
    outcomes = multi.create_in_clusters(_actor(request), values, chosen)
    results = []
    for outcome in outcomes:
        if outcome.silence is not None:
            local_changes.silence_created(outcome.silence)
        results.append(
            {
                "cluster": outcome.cluster,
                "silence": outcome.silence,
                "detail": outcome.error.message if outcome.error else "",
                "reason": outcome.error.reason if outcome.error else "",
                "policy_warnings": [str(w) for w in warnings[outcome.cluster]],
            }
        )
    body = {"action_id": outcomes[0].action_id, "results": results}
    answer = api.ClusterResultsSerializer(body, context={"request": request})
    return Response(answer.data, status=status.HTTP_207_MULTI_STATUS)


# -- silences ----------------------------------------------------------------------------------


class SilenceList(generics.ListAPIView):
    """Silences alertui knows, as on the silences page."""

    serializer_class = api.SilenceSerializer
    permission_classes = [IsAuthenticated, CanChangeSilences]

    # The filters on `get` only: on the class they would be documented for `post` too.
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "state", OpenApiTypes.STR, enum=[*STATES, "all"], description="Default: active."
            ),
            OpenApiParameter(
                "q", OpenApiTypes.STR, description="Words in matchers, creator, comment."
            ),
            OpenApiParameter("cluster", OpenApiTypes.STR, description="Only this cluster's."),
        ]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        state = self.request.query_params.get("state", "active")
        if state not in (*STATES, "all"):
            raise ValidationError({"state": [f"Use one of {', '.join((*STATES, 'all'))}."]})
        found = filter_silences(state, self.request.query_params.get("q", "")[:200])
        cluster = self.request.query_params.get("cluster")
        return found.filter(cluster=cluster[:63]) if cluster else found

    @extend_schema(
        request=api.SilenceWriteSerializer,
        responses={
            201: api.SilenceChangedSerializer,
            207: api.ClusterResultsSerializer,
            **CHANGE_ERRORS,
        },
        summary="Create a silence",
    )
    def post(self, request):
        data = api.SilenceWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if "clusters" in data.validated_data:
            return _create_in_clusters(request, data)
        values = data.values()
        warnings = policy_warnings(request.user, clusters.configured()[0].name, values)
        created = services.create_silence(_actor(request), values)
        local_changes.silence_created(created)
        return _changed(request, created, warnings, status.HTTP_201_CREATED)


@extend_schema(
    methods=["GET"], responses={200: api.SilenceSerializer, 404: ERROR}, summary="One silence"
)
@extend_schema(
    methods=["PATCH"],
    request=api.SilenceWriteSerializer,
    responses={200: api.SilenceChangedSerializer, **CHANGE_ERRORS},
    summary="Edit a silence",
    description="Send only what changes. Alertmanager gives the silence a new id when its "
    "matchers, or an active silence's start, change: the response then has the new `id`, and "
    "the old silence's `replaced_by` names it.",
)
@api_view(["GET", "PATCH"])
@permission_classes([IsAuthenticated, CanChangeSilences])
def silence_detail(request, silence_id):
    silence = _silence(silence_id)
    if request.method == "GET":
        return _respond(request, silence)
    if silence.current_state == "expired":
        # As on the edit page: an expired silence is recreated, not edited. Checked before the
        # fields, whose defaults (the old end) could only fail with a misleading message.
        raise services.SilenceActionError(
            "This silence has already expired, so it cannot be changed; recreate it instead.",
            "conflict",
        )
    data = api.SilenceWriteSerializer(data=request.data, partial=True)
    data.is_valid(raise_exception=True)
    values = data.values(editing=silence)
    warnings = policy_warnings(request.user, silence.cluster, values, editing=silence)
    changed = services.edit_silence(
        _actor(request),
        silence.id,
        values,
        based_on=data.validated_data.get("based_on"),
        given=frozenset(data.validated_data),
    )
    local_changes.silence_edited(silence.id, changed)
    return _changed(request, changed, warnings)


@extend_schema(
    request=api.ExtendSerializer,
    responses={200: api.SilenceChangedSerializer, **CHANGE_ERRORS},
    summary="Extend a silence",
)
@api_view(["POST"])
@permission_classes([IsAuthenticated, CanChangeSilences])
def silence_extend(request, silence_id):
    silence = _silence(silence_id)
    data = api.ExtendSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    new_end = data.new_end(silence)
    values = services.SilenceValues(
        tuple(silence.matcher_list), silence.starts_at, new_end, silence.comment
    )
    warnings = policy_warnings(request.user, silence.cluster, values, editing=silence)
    changed = services.extend_silence(_actor(request), silence.id, new_end)
    local_changes.silence_extended(silence.id, changed)
    return _changed(request, changed, warnings)


@extend_schema(
    request=None,
    responses={200: api.SilenceSerializer, **CHANGE_ERRORS},
    summary="Expire a silence now",
)
@api_view(["POST"])
@permission_classes([IsAuthenticated, CanChangeSilences])
def silence_expire(request, silence_id):
    silence = _silence(silence_id)
    expired = services.expire_silence(_actor(request), silence.id)
    local_changes.silence_expired(silence.id)
    return _respond(request, expired)


@extend_schema(
    summary="A silence's audit history",
    description="Every change, oldest first, across the ids the silence has had; paged.",
)
class SilenceHistory(generics.ListAPIView):
    """A silence's audit rows, a page at a time (a scripted silence can gather thousands)."""

    serializer_class = api.AuditEventSerializer
    filter_backends = []

    def get_queryset(self):
        chain = silence_chain(self.kwargs["silence_id"][:64])
        return AuditEvent.objects.filter(silence_id__in=chain).order_by("at", "id")


# -- alerts, targets, audit --------------------------------------------------------------------


@extend_schema(
    parameters=[
        OpenApiParameter(
            "q",
            OpenApiTypes.STR,
            description='Matchers and words, as on the alerts page: severity="critical" disk '
            '(@cluster="prod" for a cluster)',
        ),
        OpenApiParameter("cluster", OpenApiTypes.STR, description="Only this cluster's."),
        OpenApiParameter(
            "state",
            OpenApiTypes.STR,
            many=True,
            enum=list(snapshot.STATES),
            description="Repeat for several. Default: active.",
        ),
    ]
)
class AlertList(generics.ListAPIView):
    """The current alerts (from the last sync), newest first."""

    serializer_class = api.AlertSerializer
    filter_backends = []

    def get_queryset(self):
        params = self.request.query_params
        try:
            matchers, words = parse_filter(params.get("q", "")[:1000])
        except MatcherError as e:
            raise ValidationError({"q": [str(e)]}) from None
        states = params.getlist("state") or ["active"]
        unknown = [s for s in states if s not in snapshot.STATES]
        if unknown:
            raise ValidationError({"state": [f"Use {', '.join(snapshot.STATES)}."]})
        if params.get("cluster"):
            matchers = [*matchers, Matcher(CLUSTER, "=", params["cluster"][:63])]
        return snapshot.select(snapshot.current_alerts(), matchers, words, set(states))


class FailingTargetList(generics.ListAPIView):
    """Scrape targets that are down, from every Prometheus alertui watches."""

    serializer_class = api.FailingTargetSerializer
    queryset = FailingTarget.objects.defer("row_html", "row_template")  # the page's, not read here
    filterset_fields = ["cluster", "source", "job", "scrape_pool"]


class AuditList(generics.ListAPIView):
    """The audit history, newest first, with the audit page's filters."""

    serializer_class = api.AuditEventSerializer
    queryset = AuditEvent.objects.order_by("-at", "-id")
    filterset_class = AuditFilter

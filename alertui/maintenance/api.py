"""The maintenance windows in the JSON API (/api/v1/maintenance/windows/): list, create, read,
change (send only what changes), delete, next occurrences, pause and resume. The same roles as
silences: everyone signed in reads, silencers change; every change goes through
alertui.maintenance.services, so it is checked and recorded as in the browser."""

from __future__ import annotations

from datetime import UTC

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers, status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from alertui.api.permissions import CanChangeSilences
from alertui.api.serializers import DurationField, MatcherSerializer, TextField
from alertui.api.views import CHANGE_ERRORS, ERROR, _actor
from alertui.durations import format_duration
from alertui.maintenance import services
from alertui.maintenance.models import NAME_MAX, Window
from alertui.maintenance.schedule import MAX_COUNT, MAX_INTERVAL, Schedule, describe
from alertui.maintenance.services import WindowFields
from alertui.maintenance.windows import upcoming
from alertui.matchers import Matcher
from alertui.silences.forms import MAX_MATCHERS

PERMISSIONS = [IsAuthenticated, CanChangeSilences]
SCHEDULE_FIELDS = (
    "start_date",
    "start_time",
    "time_zone",
    "duration",
    "frequency",
    "interval",
    "weekdays",
    "month_day",
    "nth",
    "nth_weekday",
    "until",
    "count",
)


class OccurrenceSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    moved = serializers.BooleanField(help_text="Moved from its scheduled time.")


def _occurrences(window: Window, n: int) -> list[dict]:
    return [
        {"starts_at": o.starts_at, "ends_at": o.ends_at, "moved": o.moved}
        for o in upcoming(window, n)
    ]


class WindowSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    name = serializers.CharField()
    matchers = serializers.SerializerMethodField()
    matchers_text = serializers.CharField()
    comment = serializers.CharField()
    clusters = serializers.ListField(child=serializers.CharField())
    owner = serializers.CharField(source="owner.get_username")
    start_date = serializers.DateField()
    start_time = serializers.SerializerMethodField()  # local wall time, no offset: "HH:MM"
    time_zone = serializers.CharField()
    duration = serializers.SerializerMethodField()
    frequency = serializers.CharField()
    interval = serializers.IntegerField()
    weekdays = serializers.ListField(child=serializers.IntegerField())
    month_day = serializers.IntegerField(allow_null=True)
    nth = serializers.IntegerField(allow_null=True)
    nth_weekday = serializers.IntegerField(allow_null=True)
    until = serializers.DateField(allow_null=True)
    count = serializers.IntegerField(allow_null=True)
    paused = serializers.BooleanField()
    schedule_text = serializers.SerializerMethodField()
    next_occurrences = serializers.SerializerMethodField()

    def get_matchers(self, window) -> list[dict[str, str]]:
        return [{"name": n, "op": o, "value": v} for n, o, v in window.matchers]

    def get_start_time(self, window) -> str:
        return f"{window.start_time:%H:%M}"

    def get_duration(self, window) -> str:
        return format_duration(window.duration)

    def get_schedule_text(self, window) -> str:
        return describe(Schedule.of(window))

    @extend_schema_field(OccurrenceSerializer(many=True))
    def get_next_occurrences(self, window) -> list[dict]:
        return _occurrences(window, 3)


class WindowWriteSerializer(serializers.Serializer):
    """A new window, or (partial=True) the fields of a window to change."""

    name = TextField(max_length=NAME_MAX)
    matchers = MatcherSerializer(many=True, max_length=MAX_MATCHERS)
    comment = TextField(max_length=10000)
    clusters = serializers.ListField(
        child=TextField(max_length=63),
        max_length=50,
        required=False,
        help_text="Cluster names; default: every configured cluster.",
    )
    start_date = serializers.DateField(help_text="The first local date (or the date of a once).")
    start_time = serializers.TimeField(help_text='Local start time in `time_zone`, "HH:MM".')
    time_zone = TextField(max_length=64, help_text="IANA name, such as Europe/Berlin.")
    duration = DurationField(help_text='Elapsed time: "2h", "1d 4h".')
    frequency = serializers.ChoiceField(choices=["once", "daily", "weekly", "monthly"])
    interval = serializers.IntegerField(min_value=1, max_value=MAX_INTERVAL, default=1)
    weekdays = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=6),
        max_length=7,
        default=list,
        help_text="Weekly: 0 = Monday ... 6 = Sunday.",
    )
    month_day = serializers.IntegerField(
        min_value=-1,
        max_value=31,
        allow_null=True,
        default=None,
        help_text="Monthly: -1 = last day.",
    )
    nth = serializers.ChoiceField(choices=[1, 2, 3, 4, -1], allow_null=True, default=None)
    nth_weekday = serializers.IntegerField(min_value=0, max_value=6, allow_null=True, default=None)
    until = serializers.DateField(allow_null=True, default=None)
    count = serializers.IntegerField(
        min_value=1, max_value=MAX_COUNT, allow_null=True, default=None
    )

    def validate_matchers(self, rows):
        if not rows:
            raise serializers.ValidationError("Give at least one matcher.")
        return tuple(Matcher(r["name"], r["op"], r["value"]) for r in rows)

    def fields_for(self, current: Window | None = None) -> WindowFields:
        data = self.validated_data
        given = set(self.initial_data) if isinstance(self.initial_data, dict) else set()

        def pick(field, of_window):
            if current is None or field in given:
                return data.get(field)
            return of_window

        schedule = Schedule(**{f: pick(f, getattr(current, f, None)) for f in SCHEDULE_FIELDS})
        schedule = Schedule(
            **{
                **schedule.__dict__,
                "weekdays": tuple(schedule.weekdays or ()),
                "interval": schedule.interval or 1,
            }
        )
        return WindowFields(
            name=pick("name", current and current.name),
            matchers=pick("matchers", current and tuple(current.matcher_list)),
            comment=pick("comment", current and current.comment),
            schedule=schedule,
            clusters=tuple(pick("clusters", current and current.clusters) or ()),
        )


# -- views -------------------------------------------------------------------------------------


def _window(window_id: str) -> Window:
    if not (window_id.isascii() and window_id.isdigit()) or len(window_id) > 12:
        raise Http404("No such window.")
    live = Window.objects.select_related("owner").filter(deleted_at=None)
    return get_object_or_404(live, pk=int(window_id))


def _respond(window: Window, code=status.HTTP_200_OK) -> Response:
    return Response(WindowSerializer(window).data, status=code)


def _refused(e: services.WindowActionError) -> Response:
    return Response({"detail": e.message, "reason": "conflict"}, status=status.HTTP_409_CONFLICT)


@extend_schema(
    methods=["GET"],
    parameters=[OpenApiParameter("cluster", str, description="Only windows acting on this one.")],
    responses={200: WindowSerializer(many=True)},
    summary="Maintenance windows",
)
@extend_schema(
    methods=["POST"],
    request=WindowWriteSerializer,
    responses={201: WindowSerializer, **CHANGE_ERRORS},
    summary="Create a maintenance window",
)
@api_view(["GET", "POST"])
@permission_classes(PERMISSIONS)
def window_list(request):
    if request.method == "GET":
        windows = Window.objects.filter(deleted_at=None).select_related("owner")[:500]
        cluster = request.query_params.get("cluster", "")[:63]
        if cluster:  # in Python: SQLite has no JSON containment lookup (clusters is a list)
            windows = [w for w in windows if cluster in w.clusters]
        return Response(WindowSerializer(windows, many=True).data)
    data = WindowWriteSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    try:
        window = services.create_window(_actor(request), data.fields_for())
    except services.WindowActionError as e:
        return _refused(e)
    return _respond(window, status.HTTP_201_CREATED)


@extend_schema(methods=["GET"], responses={200: WindowSerializer}, summary="One window")
@extend_schema(
    methods=["PATCH"],
    request=WindowWriteSerializer,
    responses={200: WindowSerializer, **CHANGE_ERRORS},
    summary="Change a window (send only what changes)",
)
@extend_schema(
    methods=["DELETE"],
    responses={204: None, **CHANGE_ERRORS},
    summary="Delete a window; its silences not yet ended are expired",
)
@api_view(["GET", "PATCH", "DELETE"])
@permission_classes(PERMISSIONS)
def window_detail(request, window_id: str):
    window = _window(window_id)
    if request.method == "GET":
        return _respond(window)
    try:
        if request.method == "DELETE":
            services.delete_window(_actor(request), window)
            return Response(status=status.HTTP_204_NO_CONTENT)
        data = WindowWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.edit_window(_actor(request), window, data.fields_for(window))
    except services.WindowActionError as e:
        return _refused(e)
    return _respond(_window(window_id))


@extend_schema(
    parameters=[OpenApiParameter("n", int, description="How many (1-50; default 10).")],
    responses={200: OccurrenceSerializer(many=True)},
    summary="A window's next occurrences",
)
@api_view(["GET"])
@permission_classes(PERMISSIONS)
def window_occurrences(request, window_id: str):
    window = _window(window_id)
    raw = request.query_params.get("n", "10")
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= 50:
        return Response({"n": ["Give a number from 1 to 50."]}, status=status.HTTP_400_BAD_REQUEST)
    return Response(
        OccurrenceSerializer(many=True).to_representation(_occurrences(window, int(raw)))
    )


def _action(request, window_id: str, act) -> Response:
    window = _window(window_id)
    try:
        act(_actor(request), window)
    except services.WindowActionError as e:
        return _refused(e)
    return _respond(_window(window_id))


@extend_schema(
    request=None,
    responses={200: WindowSerializer, 409: ERROR, 503: ERROR},
    summary="Pause a window; its silences not yet ended are expired",
)
@api_view(["POST"])
@permission_classes(PERMISSIONS)
def window_pause(request, window_id: str):
    return _action(request, window_id, services.pause_window)


@extend_schema(
    request=None,
    responses={200: WindowSerializer, 409: ERROR, 503: ERROR},
    summary="Resume a paused window",
)
@api_view(["POST"])
@permission_classes(PERMISSIONS)
def window_resume(request, window_id: str):
    return _action(request, window_id, services.resume_window)


class SkipSerializer(serializers.Serializer):
    occurrence = serializers.DateTimeField(help_text="The occurrence's scheduled start.")


class MoveSerializer(SkipSerializer):
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()


def _aware(value):
    return value if timezone.is_aware(value) else timezone.make_aware(value, UTC)


@extend_schema(
    request=SkipSerializer,
    responses={200: WindowSerializer, **CHANGE_ERRORS},
    summary="Skip one occurrence; its silence, if made, is expired",
)
@api_view(["POST"])
@permission_classes(PERMISSIONS)
def occurrence_skip(request, window_id: str):
    _window(window_id)
    data = SkipSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    key = _aware(data.validated_data["occurrence"])
    return _action(request, window_id, lambda a, w: services.skip_occurrence(a, w, key))


@extend_schema(
    request=MoveSerializer,
    responses={200: WindowSerializer, **CHANGE_ERRORS},
    summary="Move one occurrence; its silence follows",
)
@api_view(["POST"])
@permission_classes(PERMISSIONS)
def occurrence_move(request, window_id: str):
    _window(window_id)
    data = MoveSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    d = data.validated_data
    times = [_aware(d[f]) for f in ("occurrence", "starts_at", "ends_at")]
    return _action(request, window_id, lambda a, w: services.move_occurrence(a, w, *times))

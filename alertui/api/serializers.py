"""What the API reads and writes. Input is checked here for shape; the silence rules themselves
(matchers, comment, duration cap) are the shared ones in alertui.silences.validation, applied by
the services exactly as for the browser."""

from datetime import UTC, datetime

from django.core.validators import RegexValidator
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from alertui.audit.models import AuditEvent
from alertui.durations import DurationError, format_duration, parse_duration
from alertui.matchers import LABEL_NAME, OPERATORS, Matcher
from alertui.silences.forms import MAX_MATCHERS
from alertui.silences.models import Silence
from alertui.silences.services import SilenceValues


class TextField(serializers.CharField):
    """A string that can travel on to Alertmanager: no NUL (DRF refuses it) and no lone
    surrogates, which JSON allows but UTF-8 cannot encode."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise serializers.ValidationError(
                "Not valid text: holds an unpaired surrogate."
            ) from None
        return value


class MatcherSerializer(serializers.Serializer):
    # The pattern is checked again with the other silence rules; here it also goes into the
    # schema, so clients (and schemathesis) know what a label name may be.
    name = TextField(
        max_length=1000,
        help_text="Label name: letters, digits and underscores, not starting with a digit.",
        validators=[
            RegexValidator(
                LABEL_NAME.pattern,
                "Not a label name: use letters, digits and underscores, not starting with a digit.",
            )
        ],
    )
    op = serializers.ChoiceField(choices=OPERATORS, default="=", help_text="=, !=, =~ or !~")
    value = TextField(max_length=10000, allow_blank=True, trim_whitespace=False)

    def validate(self, data):
        # In a PATCH, DRF makes nested fields optional and skips their defaults too; a matcher
        # is still always whole.
        missing = [f for f in ("name", "value") if f not in data]
        if missing:
            raise serializers.ValidationError({f: ["This field is required."] for f in missing})
        return {"op": "=", **data}

    def to_representation(self, instance):
        name, op, value = instance
        return {"name": name, "op": op, "value": value}


class SilenceSerializer(serializers.ModelSerializer):
    matchers = MatcherSerializer(many=True)
    state = serializers.CharField(source="current_state", help_text="active, pending or expired")
    url = serializers.SerializerMethodField(help_text="The silence's page in alertui.")

    class Meta:
        model = Silence
        fields = [
            "id",
            "cluster",
            "state",
            "matchers",
            "matchers_text",
            "starts_at",
            "ends_at",
            "created_by",
            "comment",
            "updated_at",
            "replaced_by",
            "in_alertmanager",
            "url",
        ]
        read_only_fields = fields

    def get_url(self, silence) -> str:
        request = self.context.get("request")
        path = reverse("silence_detail", args=[silence.id])
        return request.build_absolute_uri(path) if request else path


class SilenceChangedSerializer(SilenceSerializer):
    """A silence just made or changed, with the silence policy's warnings about it."""

    policy_warnings = serializers.SerializerMethodField(
        help_text="What the silence policy warns about (it went ahead); empty: nothing."
    )

    class Meta(SilenceSerializer.Meta):
        fields = [*SilenceSerializer.Meta.fields, "policy_warnings"]
        read_only_fields = fields

    def get_policy_warnings(self, silence) -> list[str]:
        return [str(w) for w in self.context.get("policy_warnings", ())]


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and timezone.is_naive(value):
        value = timezone.make_aware(value, UTC)
    return value


@extend_schema_field(
    {
        "type": "string",
        "maxLength": 40,
        "pattern": r"^\s*(?:[0-9]+(?:\.[0-9]+)?\s*[wdhmsWDHMS]\s*)+$",
        "example": "2h",
    }
)
class DurationField(serializers.Field):
    """ "90m", "2h", "1d 4h", "1w", as a timedelta."""

    default_error_messages = {"invalid": "Give a duration as text, such as 2h or 1d 4h."}

    def to_internal_value(self, data):
        if not isinstance(data, str) or len(data) > 40:
            self.fail("invalid")
        try:
            return parse_duration(data)
        except DurationError as e:
            raise serializers.ValidationError(str(e)) from None

    def to_representation(self, value):
        return format_duration(value)


class SilenceWriteSerializer(serializers.Serializer):
    """A new silence, or (partial=True) the fields of a silence to change."""

    matchers = MatcherSerializer(many=True, max_length=MAX_MATCHERS)
    starts_at = serializers.DateTimeField(
        required=False, help_text="Default: now (or, when editing, the current start)."
    )
    ends_at = serializers.DateTimeField(required=False, help_text="Give this or `duration`.")
    duration = DurationField(
        required=False, help_text='From the start (or now, if later): "2h", "1d".'
    )
    comment = TextField(max_length=10000, help_text="Why; required.")
    clusters = serializers.ListField(
        child=serializers.CharField(max_length=63),
        required=False,
        max_length=100,
        write_only=True,
        help_text="Creating only: make the silence in each of these clusters (one silence "
        "each, linked in the audit). The answer is then 207 with each cluster's outcome. "
        "Default: the first cluster, answered with the silence.",
    )
    based_on = serializers.DateTimeField(
        required=False,
        write_only=True,
        help_text="Editing only: the silence's `updated_at` as you read it. The change is "
        "refused (409) if someone changed the silence since.",
    )

    def validate_matchers(self, rows):
        if not rows:
            raise serializers.ValidationError("Give at least one matcher.")
        return tuple(Matcher(r["name"], r["op"], r["value"]) for r in rows)

    def validate(self, data):
        if "ends_at" in data and "duration" in data:
            raise serializers.ValidationError({"duration": "Give either ends_at or duration."})
        return data

    def values(self, editing: Silence | None = None) -> SilenceValues:
        """The complete silence: given fields, else the edited silence's, else defaults."""
        data = self.validated_data
        now = timezone.now()
        matchers = data.get("matchers") or tuple(editing.matcher_list)
        starts_at = _aware(data.get("starts_at")) or (editing.starts_at if editing else now)
        ends_at = _aware(data.get("ends_at"))
        if ends_at is None and "duration" in data:
            try:
                ends_at = max(starts_at, now) + data["duration"]
            except OverflowError:
                raise serializers.ValidationError(
                    {"duration": "That end would be out of range."}
                ) from None
        if ends_at is None:
            if editing is None:
                raise serializers.ValidationError({"ends_at": "Give ends_at or duration."})
            ends_at = editing.ends_at
        comment = data["comment"] if "comment" in data else editing.comment
        return SilenceValues(matchers, starts_at, ends_at, comment)


class ClusterResultSerializer(serializers.Serializer):
    cluster = serializers.CharField()
    silence = SilenceSerializer(allow_null=True, help_text="The silence made; null if not.")
    detail = serializers.CharField(help_text="Why it was not made; empty if it was.")
    reason = serializers.CharField(help_text="As in an error's reason; empty if made.")
    policy_warnings = serializers.ListField(
        child=serializers.CharField(), help_text="The silence policy's warnings for this cluster."
    )


class ClusterResultsSerializer(serializers.Serializer):
    action_id = serializers.CharField(help_text="Links the audit rows of this one action.")
    results = ClusterResultSerializer(many=True)


class ExtendSerializer(serializers.Serializer):
    ends_at = serializers.DateTimeField(required=False, help_text="The new end.")
    by = DurationField(required=False, help_text='Or: this much past the current end ("1h").')

    def validate(self, data):
        if ("ends_at" in data) == ("by" in data):
            raise serializers.ValidationError("Give either ends_at or by.")
        return data

    def new_end(self, silence: Silence) -> datetime:
        data = self.validated_data
        if "ends_at" in data:
            return _aware(data["ends_at"])
        try:
            return max(silence.ends_at, timezone.now()) + data["by"]
        except OverflowError:
            raise serializers.ValidationError({"by": "That end would be out of range."}) from None


class AlertSerializer(serializers.Serializer):
    cluster = serializers.CharField(help_text="The Alertmanager cluster it fires in.")
    fingerprint = serializers.CharField()
    alertname = serializers.CharField()
    severity = serializers.CharField()
    state = serializers.CharField(help_text="active, silenced or inhibited")
    labels = serializers.DictField(child=serializers.CharField())
    annotations = serializers.DictField(child=serializers.CharField())
    starts_at = serializers.DateTimeField(allow_null=True)
    silenced_by = serializers.ListField(child=serializers.CharField())
    inhibited_by = serializers.ListField(child=serializers.CharField())
    generator_url = serializers.CharField()


class FailingTargetSerializer(serializers.Serializer):
    cluster = serializers.CharField()
    source = serializers.CharField(help_text="The Prometheus it was read from.")
    scrape_pool = serializers.CharField()
    scrape_url = serializers.CharField()
    job = serializers.CharField()
    instance = serializers.CharField()
    labels = serializers.DictField(child=serializers.CharField())
    health = serializers.CharField(help_text="down or unknown")
    last_error = serializers.CharField()
    last_scrape = serializers.DateTimeField(allow_null=True)
    failing_since = serializers.DateTimeField()


class AuditEventSerializer(serializers.ModelSerializer):
    matchers = MatcherSerializer(many=True)

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "at",
            "cluster",
            "action_id",
            "action",
            "outcome",
            "error",
            "source",
            "actor_name",
            "api_token",
            "silence_id",
            "previous_silence_id",
            "matchers",
            "matchers_text",
            "starts_at",
            "ends_at",
            "comment",
            "before",
            "after",
            "remote_addr",
            "request_id",
            "note",
        ]
        read_only_fields = fields

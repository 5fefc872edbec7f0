from datetime import UTC

import django_filters
from django import forms
from django.db.models import Q
from django.utils.dateparse import parse_datetime

from alertui.audit.models import AuditEvent
from alertui.silences.forms import in_zone


class UtcIsoDateTimeField(django_filters.fields.IsoDateTimeField):
    """A time with any offset, as UTC: PostgreSQL refuses offsets beyond ±15:59, which ISO 8601
    (and Python) allow, and a time near the calendar's ends may not exist in UTC at all."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return value.astimezone(UTC)
        except OverflowError:
            raise forms.ValidationError("That time is out of range.", code="invalid") from None


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class AuditFilterForm(forms.Form):
    """Reads a since/until typed without an offset (the page's datetime-local inputs) in the
    viewer's zone, sent by the page as `tz` (the zone the table's times are shown in); UTC
    without it, or with a zone Python does not know. A time with an offset keeps it."""

    def clean(self):
        cleaned = super().clean()
        zone = (cleaned.get("tz") or "")[:64]  # hidden: a bad zone is UTC, never an error
        for name in ("since", "until"):
            value = cleaned.get(name)
            if value is None or _has_offset(self.data.get(name)):
                continue
            try:
                cleaned[name] = in_zone(value, zone)
            except OverflowError:
                self.add_error(name, "That time is out of range.")
        return cleaned


def _has_offset(text) -> bool:
    try:
        parsed = parse_datetime(str(text or "")[:64])
    except ValueError:
        return False
    return parsed is not None and parsed.tzinfo is not None


class AuditFilter(django_filters.FilterSet):
    # Bounded: a name is at most 255 characters, and SQLite refuses LIKE patterns over 50 kB.
    person = django_filters.CharFilter(
        field_name="actor_name", lookup_expr="icontains", label="Person", max_length=255
    )
    # distinct=False: no join can repeat a row here, and DISTINCT makes PostgreSQL sort them all.
    action = django_filters.MultipleChoiceFilter(
        choices=AuditEvent.Action.choices, widget=forms.CheckboxSelectMultiple, distinct=False
    )
    cluster = django_filters.CharFilter(field_name="cluster", label="Cluster", max_length=63)
    outcome = django_filters.ChoiceFilter(choices=AuditEvent.Outcome.choices, empty_label="any")
    source = django_filters.ChoiceFilter(choices=AuditEvent.Source.choices, empty_label="any")
    text = django_filters.CharFilter(
        method="filter_text", label="Matcher, label or comment text", max_length=1000
    )
    since = UtcIsoDateTimeFilter(field_name="at", lookup_expr="gte", label="From")
    until = UtcIsoDateTimeFilter(field_name="at", lookup_expr="lt", label="Until")
    # The zone of a since/until without an offset: an IANA name such as Europe/Berlin.
    tz = django_filters.CharFilter(method="ignore", label="Time zone")

    class Meta:
        model = AuditEvent
        fields = []
        form = AuditFilterForm

    def ignore(self, queryset, name, value):
        return queryset  # read by AuditFilterForm.clean, filters nothing itself

    def filter_text(self, queryset, name, value):
        for word in value.split()[:10]:
            queryset = queryset.filter(
                Q(matchers_text__icontains=word)
                | Q(comment__icontains=word)
                | Q(silence_id__istartswith=word)
                | Q(previous_silence_id__istartswith=word)
            )
        return queryset

"""The silence form: matcher rows, a duration or explicit start and end, and a comment.

The creator is never a field: it is the logged-in user. Times typed in the browser are read in
the viewer's time zone (sent by the page as `tz`, UTC without it).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import forms
from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from alertui.clusters import names as cluster_names
from alertui.durations import DurationError, format_duration, parse_duration
from alertui.matchers import OPERATORS, Matcher, MatcherError, parse_matchers
from alertui.silences.navigation import safe_next
from alertui.silences.services import SilenceValues
from alertui.silences.validation import validate_silence

DURATION_PRESETS = ["1h", "2h", "4h", "8h", "1d", "3d", "1w"]
MAX_MATCHERS = 50
# The hidden `recreated_from` field carries the expired silence a form was opened from, signed
# for the person who opened it: a typed-in id would let anyone join any silence's history.
RECREATE_SALT = "alertui.silences.recreated_from"
RECREATE_MAX_AGE = 7 * 86400


def recreate_token(silence_id: str, user) -> str:
    return signing.dumps([silence_id, user.pk], salt=RECREATE_SALT)


def recreated_from(token: str, user) -> str:
    """The silence id a recreate form was opened from, or "" for anything not signed by us for
    this person (ignored like every hidden field the person cannot see or fix)."""
    if not token or user is None:
        return ""
    try:
        silence_id, user_pk = signing.loads(
            token[:300], salt=RECREATE_SALT, max_age=RECREATE_MAX_AGE
        )
    except (signing.BadSignature, ValueError, TypeError):
        return ""
    return silence_id if user_pk == user.pk and isinstance(silence_id, str) else ""


def matcher_rows(data) -> list[tuple[str, str, str]]:
    """The (name, op, value) rows posted by the form, without blank rows."""
    names = data.getlist("matcher_name")
    ops = data.getlist("matcher_op")
    values = data.getlist("matcher_value")
    rows = []
    for i, name in enumerate(names[:MAX_MATCHERS]):
        op = ops[i] if i < len(ops) else "="
        value = values[i] if i < len(values) else ""
        if name.strip() or value.strip():
            rows.append((name.strip(), op, value))
    return rows


def in_zone(value: datetime, zone_name: str | None) -> datetime:
    """A date and time typed in the viewer's zone, as UTC (OverflowError at calendar ends)."""
    if timezone.is_aware(value):
        value = timezone.make_naive(value, UTC)  # the widget read it as TIME_ZONE (UTC)
    return value.replace(tzinfo=viewer_zone(zone_name)).astimezone(UTC)


def viewer_zone(name: str | None):
    try:
        return ZoneInfo(name) if name else UTC
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return UTC


class SilenceForm(forms.Form):
    duration = forms.CharField(required=False, max_length=40)
    starts_at = forms.DateTimeField(
        required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    ends_at = forms.DateTimeField(
        required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=10000)
    # New silences only, and only shown when there are several clusters: where to make it.
    clusters = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    # Hidden fields the page fills in: an invalid value is ignored rather than refused, since
    # the user cannot see or fix them.
    tz = forms.CharField(required=False, widget=forms.HiddenInput)
    recreated_from = forms.CharField(required=False, widget=forms.HiddenInput)
    based_on = forms.CharField(required=False, widget=forms.HiddenInput)
    next = forms.CharField(required=False, widget=forms.HiddenInput)  # where to go back to

    def __init__(self, *args, editing=None, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.editing = editing  # the Silence mirror row being edited, if any
        self.user = user  # who fills it in: a recreate link is honoured only for them
        self.rows = matcher_rows(self.data) if self.is_bound else []
        self.matcher_errors: list[str] = []
        self.fields["comment"].error_messages["required"] = "Say why: a comment is required."
        self.fields["clusters"].choices = [(name, name) for name in cluster_names()]

    def chosen_clusters(self) -> list[str]:
        """Where to make a new silence: the clusters ticked, every one with the "all clusters"
        button, else the first."""
        names = cluster_names()
        if self.data.get("all_clusters"):
            return names
        return self.cleaned_data.get("clusters") or names[:1]

    def clean_tz(self):
        name = self.cleaned_data["tz"][:64]
        return name if viewer_zone(name) is not UTC else ""  # unknown zones count as UTC

    def clean_next(self):
        return safe_next(self.cleaned_data["next"])

    def clean_recreated_from(self):
        return recreated_from(self.cleaned_data["recreated_from"], self.user)

    def clean_based_on(self):
        """The silence's updatedAt when the form was opened, or None."""
        try:
            value = parse_datetime(self.cleaned_data["based_on"][:64])
        except ValueError:
            return None
        if value is not None and timezone.is_naive(value):
            value = value.replace(tzinfo=UTC)
        return value

    def clean_duration(self):
        text = self.cleaned_data["duration"].strip()
        if not text:
            return None
        try:
            return parse_duration(text)
        except DurationError as e:
            raise ValidationError(str(e)) from None

    def _aware(self, value: datetime | None, field: str):
        if value is None:
            return None
        try:
            return in_zone(value, self.cleaned_data.get("tz"))
        except OverflowError:
            self.add_error(field, "That date is out of range.")
            return None

    def _matcher_error(self, message: str) -> None:
        self.matcher_errors.append(message)
        self.add_error(None, message)

    def clean(self):
        data = super().clean()
        matchers = []
        for name, op, value in self.rows:
            if op not in OPERATORS:
                self._matcher_error(f"Unknown operator {op!r}; use =, !=, =~ or !~.")
            elif not name:
                self._matcher_error(f"The matcher with value {value!r} has no label name.")
            else:
                matchers.append(Matcher(name, op, value))
        data["matchers"] = tuple(matchers)
        now = timezone.now()
        starts_at = self._aware(data.get("starts_at"), "starts_at")
        ends_at = self._aware(data.get("ends_at"), "ends_at")
        if "starts_at" in self.errors or "ends_at" in self.errors:
            return data
        if starts_at is None:
            starts_at = self.editing.starts_at if self.editing else now
        if ends_at is None and data.get("duration") is None and self.editing:
            ends_at = self.editing.ends_at  # an edit that leaves the end alone
        if ends_at is None:
            duration = data.get("duration")
            if duration is None:
                if "duration" not in self.errors:
                    self.add_error("duration", "Enter a duration (such as 2h) or an end time.")
                return data
            try:
                ends_at = max(starts_at, now) + duration
            except OverflowError:
                self.add_error("duration", "That end would be out of range.")
                return data
        data["starts_at"], data["ends_at"] = starts_at, ends_at
        if self.matcher_errors:
            return data
        try:
            validate_silence(list(matchers), starts_at, ends_at, data.get("comment") or "-")
        except ValidationError as e:
            for field, messages in e.message_dict.items():
                for message in messages:
                    if field == "matchers":
                        self._matcher_error(message)
                    else:
                        self.add_error(field, message)
        return data

    def values(self) -> SilenceValues:
        data = self.cleaned_data
        return SilenceValues(data["matchers"], data["starts_at"], data["ends_at"], data["comment"])


def initial_for_new(params) -> tuple[dict, list[tuple[str, str, str]], list[str]]:
    """Pre-fill from the query string: `?filter=alertname="X",job=~"y.*"&comment=...`."""
    errors = []
    rows = []
    for text in params.getlist("filter"):
        try:
            rows += [(m.name, m.op, m.value) for m in parse_matchers(text, validate=False)]
        except MatcherError as e:
            errors.append(f"Could not pre-fill the matchers: {e}")
    fingerprint = params.get("alert")
    if fingerprint:
        # "Silence this alert": exactly its labels, read from the snapshot.
        from alertui.alerts.models import Alert

        alerts = Alert.objects.filter(fingerprint=fingerprint[:64])
        if params.get("cluster"):
            alerts = alerts.filter(cluster=params["cluster"][:63])
        alert = alerts.first()
        if alert is None:
            errors.append("That alert is no longer firing; add the matchers yourself.")
        else:
            rows += [(k, "=", v) for k, v in sorted(alert.labels.items())]
    # By default the silence is made where the alert fires, or where the linked alerts do
    # (`&cluster=a&cluster=b`, from a group's "Silence group"), else in the first cluster.
    linked = set(params.getlist("cluster")[:100])
    where = [name for name in cluster_names() if name in linked] or cluster_names()[:1]
    initial = {
        "clusters": [alert.cluster] if fingerprint and alert is not None else where,
        "duration": params.get("duration")
        or format_duration(timedelta(seconds=settings.SILENCE_DEFAULT_DURATION)),
        "comment": params.get("comment", ""),
        "next": safe_next(params.get("next", "")),
    }
    return initial, rows[:MAX_MATCHERS], errors


class ExtendForm(forms.Form):
    ends_at = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    tz = forms.CharField(required=False, widget=forms.HiddenInput, max_length=64)

    def aware_end(self) -> datetime:
        """Raises OverflowError for dates at the very ends of the calendar."""
        return in_zone(self.cleaned_data["ends_at"], self.cleaned_data.get("tz"))

"""The window form: name, matcher rows (as on the silence form), comment, and the schedule.

The schedule fields are read even when other fields are wrong, so the page can explain the
schedule and list its next occurrences while the person types (schedule_preview)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from alertui.clusters import names as cluster_names
from alertui.durations import DurationError, format_duration, parse_duration
from alertui.maintenance import schedule as sch
from alertui.maintenance.models import NAME_MAX, Window
from alertui.maintenance.services import WindowFields
from alertui.maintenance.validation import schedule_errors
from alertui.matchers import OPERATORS, Matcher
from alertui.silences.forms import matcher_rows

FREQUENCY_CHOICES = [
    ("once", "Once"),
    ("daily", "Daily"),
    ("weekly", "Weekly"),
    ("monthly", "Monthly"),
]
WEEKDAY_CHOICES = [(str(i), name) for i, name in enumerate(sch.WEEKDAYS)]
MONTHLY_CHOICES = [("day", "On a day of the month"), ("nth", "On a weekday of the month")]
NTH_CHOICES = [(str(k), v) for k, v in sch.NTH.items()]


class WindowForm(forms.Form):
    name = forms.CharField(max_length=NAME_MAX)
    comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=10000)
    frequency = forms.ChoiceField(choices=FREQUENCY_CHOICES, initial="weekly")
    start_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    start_time = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time"}))
    duration = forms.CharField(max_length=40, initial="2h", help_text="2h, 90m, 1d 4h")
    time_zone = forms.CharField(max_length=64, initial="UTC")
    interval = forms.IntegerField(min_value=1, max_value=sch.MAX_INTERVAL, initial=1)
    weekdays = forms.MultipleChoiceField(
        choices=WEEKDAY_CHOICES, required=False, widget=forms.CheckboxSelectMultiple
    )
    monthly = forms.ChoiceField(choices=MONTHLY_CHOICES, initial="day", required=False)
    month_day = forms.IntegerField(
        min_value=-1, max_value=31, required=False, help_text="-1: the last day"
    )
    nth = forms.TypedChoiceField(choices=NTH_CHOICES, coerce=int, required=False, empty_value=None)
    nth_weekday = forms.TypedChoiceField(
        choices=WEEKDAY_CHOICES, coerce=int, required=False, empty_value=None
    )
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    count = forms.IntegerField(min_value=1, max_value=sch.MAX_COUNT, required=False)
    # Shown only when there are several clusters; none ticked (or one cluster) means every one.
    clusters = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["clusters"].choices = [(name, name) for name in cluster_names()]
        self.initial.setdefault("clusters", cluster_names())
        self.rows = matcher_rows(self.data) if self.is_bound else []
        self.matcher_errors: list[str] = []
        self.typed_schedule: sch.Schedule | None = None  # as typed, read before its checks
        self.fields["comment"].error_messages["required"] = "Say why: a comment is required."

    def clean_duration(self):
        try:
            return parse_duration(self.cleaned_data["duration"])
        except DurationError as e:
            raise ValidationError(str(e)) from None

    def clean_time_zone(self):
        name = self.cleaned_data["time_zone"].strip()
        if name not in sch.zone_names():
            raise ValidationError("Unknown time zone: use an IANA name such as Europe/Berlin.")
        return name

    def schedule(self) -> sch.Schedule | None:
        """The schedule as typed, or None while a field it needs is missing or wrong."""
        d = self.cleaned_data
        needed = ("frequency", "start_date", "start_time", "duration", "time_zone", "interval")
        if any(d.get(f) is None for f in needed):
            return None
        frequency = d["frequency"]
        monthly_nth = frequency == "monthly" and d.get("monthly") == "nth"
        return sch.Schedule(
            start_date=d["start_date"],
            start_time=d["start_time"].replace(microsecond=0),
            time_zone=d["time_zone"],
            duration=d["duration"],
            frequency=frequency,
            interval=d["interval"] if frequency != "once" else 1,
            weekdays=tuple(int(w) for w in d.get("weekdays") or ())
            if frequency == "weekly"
            else (),
            month_day=d.get("month_day") if frequency == "monthly" and not monthly_nth else None,
            nth=d.get("nth") if monthly_nth else None,
            nth_weekday=d.get("nth_weekday") if monthly_nth else None,
            until=d.get("until") if frequency != "once" else None,
            count=d.get("count") if frequency != "once" else None,
        )

    def clean(self):
        data = super().clean()
        matchers = []
        for name, op, value in self.rows:
            if op not in OPERATORS:
                self.matcher_errors.append(f"Unknown operator {op!r}; use =, !=, =~ or !~.")
            elif not name:
                self.matcher_errors.append(f"The matcher with value {value!r} has no label name.")
            else:
                matchers.append(Matcher(name, op, value))
        if not self.rows:
            self.matcher_errors.append("Add at least one matcher.")
        for message in self.matcher_errors:
            self.add_error(None, message)
        data["matchers"] = tuple(matchers)
        s = self.typed_schedule = self.schedule()
        if s is not None:
            for field, message in schedule_errors(s).items():
                self.add_error(field if field in self.fields else None, message)
        return data

    def fields_for_service(self) -> WindowFields:
        d = self.cleaned_data
        return WindowFields(
            d["name"],
            d["matchers"],
            d["comment"],
            self.typed_schedule,
            clusters=tuple(d.get("clusters") or ()),
        )


def initial_from(window: Window) -> dict:
    return {
        "name": window.name,
        "comment": window.comment,
        "frequency": window.frequency,
        "start_date": window.start_date,
        "start_time": window.start_time,
        "duration": _duration_text(window),
        "time_zone": window.time_zone,
        "interval": window.interval,
        "weekdays": [str(d) for d in window.weekdays],
        "monthly": "nth" if window.nth is not None else "day",
        "month_day": window.month_day,
        "nth": window.nth,
        "nth_weekday": window.nth_weekday,
        "until": window.until,
        "count": window.count,
        "clusters": list(window.clusters) or cluster_names(),
    }


def _duration_text(window: Window) -> str:
    return format_duration(window.duration)

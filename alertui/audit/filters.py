import django_filters
from django import forms
from django.db.models import Q

from alertui.audit.models import AuditEvent


class AuditFilter(django_filters.FilterSet):
    person = django_filters.CharFilter(
        field_name="actor_name", lookup_expr="icontains", label="Person"
    )
    # distinct=False: no join can repeat a row here, and DISTINCT makes PostgreSQL sort them all.
    action = django_filters.MultipleChoiceFilter(
        choices=AuditEvent.Action.choices, widget=forms.CheckboxSelectMultiple, distinct=False
    )
    outcome = django_filters.ChoiceFilter(choices=AuditEvent.Outcome.choices, empty_label="any")
    source = django_filters.ChoiceFilter(choices=AuditEvent.Source.choices, empty_label="any")
    text = django_filters.CharFilter(method="filter_text", label="Matcher, label or comment text")
    since = django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="gte", label="From")
    until = django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="lt", label="Until")

    class Meta:
        model = AuditEvent
        fields = []

    def filter_text(self, queryset, name, value):
        for word in value.split()[:10]:
            queryset = queryset.filter(
                Q(matchers_text__icontains=word)
                | Q(comment__icontains=word)
                | Q(silence_id__istartswith=word)
                | Q(previous_silence_id__istartswith=word)
            )
        return queryset

from django import forms

from alertui.matchers import format_matchers
from alertui.silence_templates import validation
from alertui.silence_templates.models import NAME_MAX, SilenceTemplate


class TemplateForm(forms.Form):
    name = forms.CharField(max_length=NAME_MAX)
    matchers = forms.CharField(
        max_length=validation.MAX_MATCHERS_TEXT,
        help_text='As in Alertmanager: alertname="NodeDown", instance=~"db-.*"',
        widget=forms.TextInput(attrs={"spellcheck": "false", "autocomplete": "off"}),
    )
    duration = forms.CharField(max_length=40, help_text="Such as 30m, 2h, 1d 4h")
    comment = forms.CharField(
        required=False,
        max_length=validation.MAX_COMMENT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The comment the silence form starts with; people complete it.",
    )

    def __init__(self, *args, instance: SilenceTemplate | None = None, **kwargs):
        self.instance = instance
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": instance.name,
                "matchers": instance.matchers_text,
                "duration": instance.duration,
                "comment": instance.comment,
            }
        super().__init__(*args, **kwargs)

    def clean_name(self):
        name = validation.clean_name(self.cleaned_data["name"])
        taken = SilenceTemplate.objects.filter(name__iexact=name)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError("A template with this name exists; choose another.")
        return name

    def clean_matchers(self):
        return validation.clean_matchers(self.cleaned_data["matchers"])

    def clean_duration(self):
        return validation.clean_duration(self.cleaned_data["duration"])

    def clean_comment(self):
        return validation.clean_comment(self.cleaned_data["comment"])

    def save(self, owner) -> SilenceTemplate:
        from django.utils import timezone

        template = self.instance or SilenceTemplate(owner=owner)
        data = self.cleaned_data
        template.name = data["name"]
        template.matchers = [[m.name, m.op, m.value] for m in data["matchers"]]
        template.matchers_text = format_matchers(data["matchers"])
        template.duration = data["duration"]
        template.comment = data["comment"]
        template.updated_at = timezone.now()
        template.save()
        return template

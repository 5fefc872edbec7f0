from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models

from alertui.policy import rules


class PolicyRule(models.Model):
    """A silence policy rule an admin made in the Django admin (POLICY_FILE's are read-only)."""

    class Kind(models.TextChoices):
        COMMENT = "comment", "Comment must match a pattern"
        MAX_DURATION = "max_duration", "Maximum duration"
        TOO_BROAD = "too_broad", "Too broad"

    class Mode(models.TextChoices):
        WARN = "warn", "Warn (the person may go ahead)"
        REFUSE = "refuse", "Refuse"

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    mode = models.CharField(max_length=8, choices=Mode.choices, default=Mode.REFUSE)
    enabled = models.BooleanField(default=True)
    explanation = models.TextField(
        blank=True,
        max_length=rules.MAX_EXPLANATION,
        help_text="Shown with the warning or refusal: what to do instead.",
    )
    scope = models.CharField(
        max_length=rules.MAX_SCOPE,
        blank=True,
        help_text='Matchers, e.g. severity="critical": the rule applies to silences that could '
        "mute these alerts. Empty: every silence.",
    )
    clusters = models.CharField(
        max_length=1000, blank=True, help_text="Cluster names, comma-separated. Empty: all."
    )
    groups = models.ManyToManyField(
        Group, blank=True, help_text="Applies to members of these groups only. Empty: everyone."
    )
    admins_exempt = models.BooleanField(
        default=False, help_text="Refuse mode: superusers are warned instead of refused."
    )
    pattern = models.CharField(
        max_length=rules.MAX_PATTERN,
        blank=True,
        help_text=r"Comment rule: a regular expression (RE2) the comment must contain, "
        r"e.g. [A-Z]+-[0-9]+",
    )
    max_duration = models.CharField(
        max_length=40, blank=True, help_text='Maximum duration rule: such as "4h" or "1d".'
    )
    max_alerts = models.PositiveIntegerField(
        null=True, blank=True, help_text="Too broad: matches more current alerts than this."
    )
    max_percent = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Too broad: matches more than this % of a cluster's."
    )
    whole_cluster = models.BooleanField(
        default=False, help_text="Too broad: matches every current alert of the cluster."
    )
    only_regex = models.BooleanField(
        default=False, help_text="Too broad: every matcher is a regular expression."
    )
    min_matchers = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Too broad: fewer matchers than this."
    )

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def _build(self, groups) -> rules.Rule:
        return rules.build(
            self.name,
            self.kind,
            self.mode,
            explanation=self.explanation,
            scope=self.scope,
            clusters=self.clusters,
            groups=list(groups),
            admins_exempt=self.admins_exempt,
            pattern=self.pattern,
            max_duration=self.max_duration,
            max_alerts=self.max_alerts,
            max_percent=self.max_percent,
            whole_cluster=self.whole_cluster,
            only_regex=self.only_regex,
            min_matchers=self.min_matchers,
        )

    def clean(self):
        try:
            rule = self._build([])
        except rules.RuleError as e:
            raise ValidationError({e.field: e.message}) from None
        unknown = rules.unknown_clusters(rule)
        if unknown:
            raise ValidationError({"clusters": f"No such cluster: {', '.join(unknown)}."})

    def as_rule(self) -> rules.Rule:
        return self._build(g.name for g in self.groups.all())

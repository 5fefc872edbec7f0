"""What was sent where: one Delivery per notice per destination, and the reminders sent.

A Delivery keeps the exact payload built when the change happened, so a retry an hour later
sends the same text. It never holds a webhook URL (Slack's carries its secret): `target` names
the setting the URL is read from at send time, `destination` is what operators see.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from alertui.audit.models import AuditEvent


class SilenceReminder(models.Model):
    """A reminder sent for one silence and end time: unique, so two overlapping runs of the
    reminder job send it once, and an extended silence (new end) can be reminded again."""

    silence_id = models.CharField(max_length=64)
    ends_at = models.DateTimeField()
    muted_alerts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["silence_id", "ends_at"], name="one_reminder_per_end")
        ]

    def __str__(self):
        return f"reminder {self.silence_id} ending {self.ends_at:%Y-%m-%d %H:%M}"


class Delivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        RETRYING = "retrying"
        SENT = "sent"
        FAILED = "failed"

    class Channel(models.TextChoices):
        SLACK = "slack"
        WEBHOOK = "webhook"

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    kind = models.CharField(max_length=32)  # silence.created, ..., maintenance.paused, ...
    silence_id = models.CharField(max_length=64, blank=True, db_index=True)
    event = models.ForeignKey(
        AuditEvent, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reminder = models.ForeignKey(
        SilenceReminder, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    # A maintenance window's own change (paused, edited, ...): announced like a silence change.
    window_change = models.ForeignKey(
        "maintenance.WindowChange",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    channel = models.CharField(max_length=16, choices=Channel.choices)
    # "slack" or "webhook:<index in NOTIFY_WEBHOOK_URLS>": where the URL is looked up.
    target = models.CharField(max_length=32)
    destination = models.CharField(max_length=255)  # "slack" or the webhook's host
    payload = models.JSONField()
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"
        constraints = [
            # A notice task run twice (a redelivered message) fans out once.
            models.UniqueConstraint(
                fields=["event", "target"],
                condition=Q(event__isnull=False),
                name="one_delivery_per_event_target",
            ),
            models.UniqueConstraint(
                fields=["reminder", "target"],
                condition=Q(reminder__isnull=False),
                name="one_delivery_per_reminder_target",
            ),
            models.UniqueConstraint(
                fields=["window_change", "target"],
                condition=Q(window_change__isnull=False),
                name="one_delivery_per_window_change_target",
            ),
        ]

    def __str__(self):
        return f"{self.kind} {self.silence_id} to {self.destination}: {self.status}"

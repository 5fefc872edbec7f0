"""The permanent, append-only audit history of silence changes.

AuditEvent rows are only ever inserted: save() refuses to update, delete() refuses, the queryset
refuses bulk update/delete, the admin is read-only and the database's triggers reject UPDATE and
DELETE (and TRUNCATE on PostgreSQL): see append_only.py. A change in flight is tracked by a
PendingChange (an intent written before calling Alertmanager); whoever deletes the intent, the
request that made the change or the sync job after a crash, writes the one AuditEvent for it.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from alertui.clusters import default_name


class AppendOnlyError(Exception):
    pass


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("audit events are append-only")

    def delete(self):
        raise AppendOnlyError("audit events are append-only")


class AuditEvent(models.Model):
    class Action(models.TextChoices):
        CREATED = "created"
        EDITED = "edited"
        REPLACED = "replaced"  # edited, and Alertmanager issued a new id
        EXTENDED = "extended"
        EXPIRED = "expired"  # ended early, by a person or a tool
        RECREATED = "recreated"  # a new silence made from an expired one
        ENDED = "ended"  # reached its end time

    class Outcome(models.TextChoices):
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        # An interrupted request whose result alertui cannot tell from what Alertmanager holds
        # (the silence changed again meanwhile, or several silences could be its result).
        UNKNOWN = "unknown"

    class Source(models.TextChoices):
        BROWSER = "browser"
        SYNC = "sync"  # observed in Alertmanager: made by amtool, another UI, or time
        API = "api"
        MAINTENANCE = "maintenance"  # made by a maintenance window's job for its owner
        # Extended or ended by the acknowledgements job, for the person who acknowledged
        ACKNOWLEDGEMENT = "acknowledgement"
        POLICY = "policy"  # expired by the stale-silence policy (no person)

    at = models.DateTimeField(default=timezone.now, db_index=True)
    # The Alertmanager cluster (alertui.clusters) this row is of.
    cluster = models.CharField(max_length=63, default=default_name, db_index=True)
    # Links the rows of one action that changed several clusters (a silence made in each):
    # the same random id on each; empty for a change of one cluster.
    action_id = models.CharField(max_length=36, blank=True, db_index=True)
    action = models.CharField(max_length=16, choices=Action.choices, db_index=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.SUCCEEDED)
    error = models.TextField(blank=True)
    source = models.CharField(max_length=16, choices=Source.choices)
    # The person; PROTECT because a user with history is deactivated, never deleted.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT
    )
    # A copy of the name at the time: the user's username, or Alertmanager's free-text createdBy
    # for changes made outside alertui.
    actor_name = models.CharField(max_length=255, blank=True, db_index=True)
    silence_id = models.CharField(max_length=64, blank=True, db_index=True)
    previous_silence_id = models.CharField(max_length=64, blank=True, db_index=True)
    matchers = models.JSONField(default=list)
    matchers_text = models.TextField(blank=True)
    starts_at = models.DateTimeField(null=True)
    ends_at = models.DateTimeField(null=True)
    comment = models.TextField(blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    # Changes made through the API: which of the person's tokens, as "name (key prefix)".
    api_token = models.CharField(max_length=160, blank=True)
    note = models.TextField(blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            # The page's order: walking it newest first finds a filtered page without sorting.
            models.Index(fields=["-at", "-id"], name="audit_newest_first"),
            models.Index(fields=["actor_name", "at"]),
            models.Index(fields=["action", "at"]),
            models.Index(fields=["cluster", "at"]),
        ]

    def __str__(self):
        return (
            f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_name or '?'} {self.action} {self.silence_id}"
        )

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise AppendOnlyError("audit events are append-only")
        # An INSERT even for a new instance given an existing id, which would otherwise UPDATE.
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("audit events are append-only")


class PendingChange(models.Model):
    """A silence change sent (or about to be sent) to Alertmanager, not yet in the audit."""

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # The Alertmanager cluster (alertui.clusters) this row is of.
    cluster = models.CharField(max_length=63, default=default_name, db_index=True)
    action_id = models.CharField(max_length=36, blank=True)
    action = models.CharField(max_length=16, choices=AuditEvent.Action.choices)
    source = models.CharField(max_length=16, choices=AuditEvent.Source.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT)
    actor_name = models.CharField(max_length=255)
    silence_id = models.CharField(max_length=64, blank=True)  # the silence changed, if any
    # What was sent to Alertmanager (for an expiry: the silence as it was): the sync credits the
    # intent with a change only when what Alertmanager holds agrees with it.
    matchers = models.JSONField(default=list)
    matchers_text = models.TextField(blank=True)
    starts_at = models.DateTimeField(null=True)
    ends_at = models.DateTimeField(null=True)
    created_by = models.TextField(blank=True)
    comment = models.TextField(blank=True)
    before = models.JSONField(null=True, blank=True)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    api_token = models.CharField(max_length=160, blank=True)

    def __str__(self):
        return f"{self.actor_name} {self.action} {self.silence_id or '(new)'}"

from django.conf import settings
from django.db import models
from django.utils import timezone

from alertui.matchers import Matcher

NAME_MAX = 100


class SilenceTemplate(models.Model):
    """A named, shared starting point for a silence ("Node reboot"): matchers, a duration and a
    comment skeleton. Everyone can use it; its owner (and admins) change it."""

    name = models.CharField(max_length=NAME_MAX, unique=True)
    matchers = models.JSONField(default=list)  # [[name, op, value], ...]
    matchers_text = models.TextField()  # `a="b", c=~"d"`
    duration = models.CharField(max_length=40)  # as typed: "2h", "1d 4h"
    comment = models.TextField(blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def matcher_list(self) -> list[Matcher]:
        return [Matcher(*m) for m in self.matchers]

    def editable_by(self, user) -> bool:
        return user.is_authenticated and (user.is_superuser or user.pk == self.owner_id)

"""Personal API tokens: django-rest-knox tokens with a name and a last-use time.

Only a hash of each token is stored; the token itself is shown once, when it is created.
"""

from django.db import models
from knox.models import AbstractAuthToken


class ApiToken(AbstractAuthToken):
    name = models.CharField(max_length=100)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self):
        return f"{self.name} ({self.token_key}…)"

    @property
    def label(self) -> str:
        """How the audit names the token: its name and the key prefix its owner can see."""
        return f"{self.name} ({self.token_key}…)"[:160]

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models

from alertui.matchers import Matcher
from alertui.scopes.rules import check_clusters, read_matchers


class Scope(models.Model):
    """What the members of a group may silence: silences inside these matchers, in these
    clusters (all of them when none is named). Managed in the admin."""

    name = models.CharField(max_length=100, unique=True)
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="silence_scopes")
    matchers = models.TextField(
        help_text='Alertmanager matchers, e.g. team="payments", namespace=~"shop-.*". A member '
        "may change a silence only when it is at least as narrow as all of them."
    )
    clusters = models.CharField(
        max_length=1000,
        blank=True,
        help_text="Cluster names separated by commas or spaces; empty: every cluster.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def matcher_list(self) -> list[Matcher]:
        return read_matchers(self.matchers)

    @property
    def cluster_names(self) -> frozenset[str]:
        return frozenset(self.clusters.replace(",", " ").split())

    def clean(self):
        errors = {}
        try:
            read_matchers(self.matchers)
        except ValueError as e:
            errors["matchers"] = str(e)
        try:
            check_clusters(self.cluster_names)
        except ValueError as e:
            errors["clusters"] = str(e)
        if errors:
            raise ValidationError(errors)

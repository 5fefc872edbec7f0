"""A silence made in several clusters in one step: one Alertmanager silence per cluster, each
sent and recorded on its own (silences.services, then silences.recorder: its intent, its audit
row, its mirror), all linked by one action_id so the history shows them together.

A cluster that fails does not stop the others: each outcome is reported per cluster, and each
is recorded whole (a failed attempt as a failed audit row), never half.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from alertui import clusters
from alertui.silences import services
from alertui.silences.models import Silence
from alertui.silences.recorder import Actor
from alertui.silences.validation import validate_silence

MAX_CLUSTERS = 100  # more names than that in one request is not a list of clusters


@dataclass(frozen=True)
class ClusterOutcome:
    cluster: str
    silence: Silence | None = None
    error: services.SilenceActionError | None = None
    action_id: str = ""  # shared by the outcomes of one action (empty for one cluster)


def chosen_clusters(names) -> list[str]:
    """The named clusters, each once, in the configured order; ValidationError naming an
    unknown one, or when none is named."""
    names = list(names or [])[: MAX_CLUSTERS + 1]
    known = clusters.names()
    unknown = [n for n in names if n not in known]
    if unknown:
        shown = ", ".join(repr(str(n)[:63]) for n in unknown[:5])
        raise ValidationError(
            {"clusters": f"No such cluster: {shown} (there are {', '.join(known)})."}
        )
    if not names:
        raise ValidationError({"clusters": "Choose at least one cluster."})
    return [n for n in known if n in names]


def create_in_clusters(
    actor: Actor, values: services.SilenceValues, names, *, recreated_from: str = ""
) -> list[ClusterOutcome]:
    """Create the silence in each named cluster, one after another; the outcome of each."""
    chosen = chosen_clusters(names)
    validate_silence(list(values.matchers), values.starts_at, values.ends_at, values.comment)
    if recreated_from and len(chosen) > 1:
        raise ValidationError({"clusters": "A silence is recreated in its own cluster only."})
    action_id = str(uuid.uuid4()) if len(chosen) > 1 else ""
    outcomes = []
    for name in chosen:
        try:
            silence = services.create_silence(
                actor, values, recreated_from=recreated_from, cluster=name, action_id=action_id
            )
        except services.SilenceActionError as e:
            outcomes.append(ClusterOutcome(name, error=e, action_id=action_id))
        else:
            outcomes.append(ClusterOutcome(name, silence=silence, action_id=action_id))
    return outcomes

"""The kinds of sync, listed once: the `sync` command, the Celery task and the beat schedule
are built from this list and the configured clusters. Each app contributes its sync function,
named by its dotted path (this module is read by settings, before apps load).

A sync function takes `cluster=<name>` and returns a result with `skipped`, `summary()` and
`failures()`; alertui.sync.runs.cluster_sync gives it its per-cluster lock."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    name: str  # what `sync --kind` and the task take
    function: str  # dotted path of the app's sync function
    interval_setting: str  # the setting with its beat period, in seconds


KINDS = (
    # Silences first: an alert muted by a silence made outside alertui shows the silence.
    Kind("silences", "alertui.silences.sync.sync_silences", "SYNC_SILENCES_INTERVAL"),
    Kind("alerts", "alertui.alerts.sync.sync_alerts", "SYNC_ALERTS_INTERVAL"),
    Kind("targets", "alertui.targets.sync.sync_targets", "SYNC_TARGETS_INTERVAL"),
    # Not a read of a source: the job that extends acknowledgements while their alerts fire,
    # once per cluster like a sync (its lock), after the alerts were read.
    Kind("acknowledgements", "alertui.acks.job.tend_acknowledgements", "ACK_INTERVAL"),
)
NAMES = tuple(kind.name for kind in KINDS)


def get(name: str) -> Kind:
    for kind in KINDS:
        if kind.name == name:
            return kind
    raise LookupError(f"no kind of sync is named {name!r} (there are {', '.join(NAMES)})")


def function(name: str):
    from django.utils.module_loading import import_string

    return import_string(get(name).function)

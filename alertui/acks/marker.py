"""How other tools can tell an acknowledgement from any other silence.

Alertmanager 0.32+ keeps a silence's `annotations`: the silence carries
`alertui.kind=acknowledgement` (and who acknowledged). Earlier versions accept annotations and
silently drop them, so there the comment starts with COMMENT_PREFIX instead (as kthxbye's
`ACK!`). The version is asked of the cluster when the acknowledgement is made; when it cannot
be told, the comment carries the marker (it is kept by every version).
"""

from __future__ import annotations

import re

from alertui import clients
from alertui.integrations.alertmanager import AlertmanagerError

KIND = "alertui.kind"
KIND_VALUE = "acknowledgement"
BY = "alertui.acknowledged_by"
COMMENT_PREFIX = "[ack] "
ANNOTATIONS_SINCE = (0, 32)
_VERSION = re.compile(r"^v?(\d+)\.(\d+)")


def keeps_annotations(version: str) -> bool:
    found = _VERSION.match(version or "")
    return bool(found) and (int(found[1]), int(found[2])) >= ANNOTATIONS_SINCE


def cluster_keeps_annotations(cluster: str) -> bool:
    try:
        version = clients.alertmanager_client(cluster=cluster).status().version
    except AlertmanagerError:
        return False
    return keeps_annotations(version)


def mark(person: str, comment: str, annotated: bool) -> tuple[str, tuple[tuple[str, str], ...]]:
    """The comment and annotations of an acknowledgement by `person`."""
    comment = comment.strip() or f"Acknowledged by {person} on the alerts page"
    if annotated:
        return comment, tuple(sorted({KIND: KIND_VALUE, BY: person[:200]}.items()))
    return COMMENT_PREFIX + comment, ()


def is_marked(comment: str, annotations=()) -> bool:
    """Whether a silence (as Alertmanager returns it) is marked as an acknowledgement."""
    return dict(annotations).get(KIND) == KIND_VALUE or comment.startswith(COMMENT_PREFIX)

"""Shared by the acknowledgement tests: an acknowledged alert in a real Alertmanager, the
alert resolved through Alertmanager, and the job run at a given moment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import requests
import time_machine

from alertui.acks import job
from alertui.acks.models import Acknowledgement
from alertui.acks.services import acknowledge
from alertui.integrations.values import parse_time
from alertui.matchers import Matcher
from alertui.silences.recorder import Actor
from tests.servers import make_alert


def labels(tag: str, alertname: str = "DiskFull") -> dict:
    return {"alertname": alertname, "test_id": tag}


def fire(am, tag: str, alertname: str = "DiskFull") -> None:
    am.push_alerts([make_alert(labels(tag, alertname), ends_in=timedelta(hours=24))])


def resolve(am, tag: str, alertname: str = "DiskFull") -> None:
    """As Prometheus resolves an alert: the same labels, with an end in the past."""
    now = datetime.now(UTC)
    alert = make_alert(labels(tag, alertname))
    alert["startsAt"] = (now - timedelta(minutes=10)).isoformat().replace("+00:00", "Z")
    alert["endsAt"] = (now - timedelta(seconds=1)).isoformat().replace("+00:00", "Z")
    am.push_alerts([alert])


def ack(user, tag: str, minutes: int = 30, cluster: str = "default", alertname="DiskFull"):
    matchers = [Matcher("alertname", "=", alertname), Matcher("test_id", "=", tag)]
    made, silence = acknowledge(Actor(user), matchers, cluster, timedelta(minutes=minutes))
    return made, silence


def run_at(moment: datetime, cluster: str = "default") -> job.Result:
    """The job's run (with the cluster's lock, as beat runs it) at `moment`: alertui's clock
    only; Alertmanager keeps its own, so the silences it holds stay active."""
    with time_machine.travel(moment, tick=False):
        return job.tend_acknowledgements(cluster=cluster)


def am_silence(am, silence_id: str) -> dict:
    response = requests.get(f"{am.url}/api/v2/silence/{silence_id}", timeout=10)
    response.raise_for_status()
    return response.json()


def am_end(am, silence_id: str) -> datetime:
    return parse_time(am_silence(am, silence_id)["endsAt"])


def fresh(made: Acknowledgement) -> Acknowledgement:
    return Acknowledgement.objects.get(pk=made.pk)


def same_moment(a: datetime, b: datetime) -> bool:
    """Alertmanager keeps milliseconds; alertui sends microseconds."""
    return abs(a - b) < timedelta(milliseconds=1)

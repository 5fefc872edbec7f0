"""Typed client for the parts of the Prometheus HTTP API v1 alertui reads: targets, scrape
pools, rules and build info. Every call is bounded in time and size (alertui.integrations.http);
errors carry Prometheus's own message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from alertui.integrations import values
from alertui.integrations.connection import Connection
from alertui.integrations.http import DEFAULT_MAX_RESPONSE_BYTES, Transport, TransportError
from alertui.integrations.values import parse_time

NEVER = datetime.fromisoformat("0001-01-01T00:00:00+00:00")


def _never_is_none(value: datetime | None) -> datetime | None:
    """Go's zero time, which Prometheus reports for "not yet", becomes None."""
    return None if value is None or value <= NEVER else value


class PrometheusError(Exception):
    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Target:
    scrape_pool: str
    scrape_url: str
    global_url: str
    health: str  # up | down | unknown
    last_error: str
    last_scrape: datetime | None  # None: never scraped yet
    last_scrape_duration: float
    scrape_interval: str
    labels: dict[str, str]
    discovered_labels: dict[str, str]

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Target:
        return cls(
            scrape_pool=str(data.get("scrapePool") or ""),
            scrape_url=str(data.get("scrapeUrl") or ""),
            global_url=str(data.get("globalUrl") or ""),
            health=str(data.get("health") or "unknown"),
            last_error=str(data.get("lastError") or ""),
            last_scrape=_never_is_none(parse_time(data.get("lastScrape"))),
            last_scrape_duration=float(data.get("lastScrapeDuration") or 0),
            scrape_interval=str(data.get("scrapeInterval") or ""),
            labels={str(k): str(v) for k, v in (data.get("labels") or {}).items()},
            discovered_labels={
                str(k): str(v) for k, v in (data.get("discoveredLabels") or {}).items()
            },
        )


@dataclass(frozen=True)
class Rule:
    group: str
    file: str
    name: str
    type: str  # alerting | recording
    query: str
    health: str  # ok | err | unknown
    last_error: str
    state: str  # alerting rules: inactive | pending | firing
    labels: dict[str, str]
    last_evaluation: datetime | None

    @classmethod
    def from_api(cls, group: dict[str, Any], data: dict[str, Any]) -> Rule:
        return cls(
            group=str(group.get("name") or ""),
            file=str(group.get("file") or ""),
            name=str(data.get("name") or ""),
            type=str(data.get("type") or ""),
            query=str(data.get("query") or ""),
            health=str(data.get("health") or "unknown"),
            last_error=str(data.get("lastError") or ""),
            state=str(data.get("state") or ""),
            labels={str(k): str(v) for k, v in (data.get("labels") or {}).items()},
            last_evaluation=_never_is_none(parse_time(data.get("lastEvaluation"))),
        )


class PrometheusClient:
    """One Prometheus server (a Connection, or a plain URL for one without credentials); every
    call ends within `timeout` seconds and reads at most `max_response_bytes`."""

    def __init__(
        self,
        server: Connection | str,
        timeout: float = 10.0,
        connect_timeout: float = 3.0,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ):
        connection = server if isinstance(server, Connection) else Connection.from_url(server)
        self.url = connection.url
        self._transport = Transport(
            connection,
            deadline=timeout,
            connect_timeout=connect_timeout,
            max_bytes=max_response_bytes,
        )

    def _data(self, path: str, params: dict | None = None):
        try:
            answer = self._transport.call("GET", f"/api/v1{path}", params=params)
        except TransportError as e:
            raise PrometheusError(f"{self.url}: {e.reason}") from None
        if answer.access_refused:
            raise PrometheusError(f"{self.url}: {answer.access_refused}", answer.status)
        try:
            body = values.loads(answer.body)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            text = answer.text.strip()[:300] or answer.reason
            raise PrometheusError(f"{self.url}: {answer.status} {text}", answer.status)
        if body.get("status") != "success":
            message = body.get("error") or f"{answer.status} {answer.reason}"
            raise PrometheusError(f"{self.url}: {message}", answer.status)
        data = body.get("data")
        if data is not None and not isinstance(data, dict):
            raise PrometheusError(f"{self.url}: unexpected response (data is not an object)")
        return data

    def active_targets(self) -> list[Target]:
        data = self._data("/targets", {"state": "active"}) or {}
        return [_parse(Target.from_api, t) for t in data.get("activeTargets") or []]

    def scrape_pools(self) -> list[str]:
        """Every configured scrape job, including those with no target at all (2.42+)."""
        data = self._data("/scrape_pools") or {}
        return [str(p) for p in data.get("scrapePools") or []]

    def rules(self) -> list[Rule]:
        data = self._data("/rules") or {}
        groups = data.get("groups") or []
        if not isinstance(groups, list) or not all(isinstance(g, dict) for g in groups):
            raise PrometheusError(f"{self.url}: unexpected response (rule groups)")
        return [
            _parse(lambda r, g=group: Rule.from_api(g, r), rule)
            for group in groups
            for rule in group.get("rules") or []
        ]

    def version(self) -> str:
        data = self._data("/status/buildinfo") or {}
        return str(data.get("version") or "")


def _parse(from_api, item):
    try:
        return from_api(item)
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise PrometheusError(f"unexpected response from Prometheus ({e})") from None

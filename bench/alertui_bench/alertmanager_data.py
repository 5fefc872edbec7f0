"""The data loaded into Alertmanager: firing alerts with the labels a Kubernetes fleet has,
silences by a few people, and the names both (and the audit rows) are made of."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import requests

from .config import HTTP_TIMEOUT, BenchError

ALERTNAMES = [
    "KubePodCrashLooping",
    "KubePodNotReady",
    "KubeDeploymentReplicasMismatch",
    "KubeStatefulSetReplicasMismatch",
    "KubeContainerWaiting",
    "KubeDaemonSetRolloutStuck",
    "KubeJobFailed",
    "KubeHpaMaxedOut",
    "KubeCPUOvercommit",
    "KubeMemoryOvercommit",
    "KubePersistentVolumeFillingUp",
    "KubePersistentVolumeErrors",
    "KubeNodeNotReady",
    "KubeNodeUnreachable",
    "KubeletTooManyPods",
    "KubeClientErrors",
    "KubeAPIErrorBudgetBurn",
    "KubeVersionMismatch",
    "NodeFilesystemSpaceFillingUp",
    "NodeFilesystemAlmostOutOfSpace",
    "NodeMemoryHighUtilization",
    "NodeHighNumberConntrackEntriesUsed",
    "NodeNetworkReceiveErrs",
    "NodeClockNotSynchronising",
    "NodeRAIDDegraded",
    "NodeDiskIOSaturation",
    "NodeCPUHighUsage",
    "TargetDown",
    "PrometheusRuleFailures",
    "PrometheusNotConnectedToAlertmanagers",
    "AlertmanagerFailedToSendAlerts",
    "HTTPHighErrorRate",
    "HTTPHighLatencyP99",
    "GRPCServerErrors",
    "PostgresReplicationLag",
    "PostgresTooManyConnections",
    "RedisMemoryHigh",
    "RedisDown",
    "KafkaConsumerLag",
    "KafkaUnderReplicatedPartitions",
    "ElasticsearchClusterYellow",
    "CertificateExpiringSoon",
    "IngressHigh5xxRate",
    "JobQueueBacklog",
    "CronJobMissedSchedule",
    "ContainerOOMKilled",
    "ContainerCPUThrottlingHigh",
    "ServiceLevelObjectiveBreach",
    "DNSResolutionFailures",
    "BlackboxProbeFailed",
]
assert len(set(ALERTNAMES)) == 50
NAMESPACES = [
    "payments",
    "checkout",
    "search",
    "auth",
    "kube-system",
    "monitoring",
    "ingress-nginx",
    "logging",
    "billing",
    "catalog",
    "orders",
    "inventory",
    "notifications",
    "recommendations",
    "users",
    "gateway",
    "data-pipeline",
    "ml-serving",
    "cache",
    "storage",
]
CLUSTERS = ["prod-eu-west-1", "prod-us-east-1", "staging-eu-west-1"]
COMPONENTS = ["api", "web", "worker", "db", "cache", "gateway", "scheduler", "consumer"]
SILENCE_AUTHORS = ["alice", "bob", "carol", "dave", "erin@example.com", "amtool"]
SILENCE_COMMENTS = [
    "Deploying the fix from OPS-{t}, expected to clear within the hour",
    "Known issue, tracked in INC-{t}; vendor is on it",
    "Planned maintenance window (CHG-{t})",
    "Flapping during the node pool upgrade, OPS-{t}",
    "Noisy after the migration; threshold change in review (PR #{t})",
    "Capacity added, waiting for the rebalance to finish",
]


def am_time(moment: datetime) -> str:
    """A UTC time as Alertmanager writes it."""
    return moment.isoformat().replace("+00:00", "Z")


def _severity_of(name: str) -> str:
    digest = sum(name.encode()) % 10
    return "critical" if digest < 2 else ("warning" if digest < 8 else "info")


def _job_of(name: str, service: str) -> str:
    if name.startswith(("Kube", "Container")):
        return "kube-state-metrics"
    if name.startswith("Node"):
        return "node-exporter"
    if name.startswith(("Prometheus", "Alertmanager", "TargetDown")):
        return "prometheus"
    if name.startswith(("Blackbox", "Certificate", "DNS")):
        return "blackbox"
    return service


def make_alerts(count: int, seed: int) -> list[dict]:
    """`count` distinct firing alerts over 50 alert names, with labels a Kubernetes fleet has."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    weights = [1 / (k + 1) ** 0.7 for k in range(len(ALERTNAMES))]  # a few names dominate
    alerts = []
    for i in range(count):
        name = rng.choices(ALERTNAMES, weights)[0]
        namespace = rng.choice(NAMESPACES)
        cluster = rng.choices(CLUSTERS, [0.45, 0.45, 0.10])[0]
        service = f"{namespace}-{rng.choice(COMPONENTS)}"
        pod = f"{service}-{rng.randrange(16**8):08x}-{i:05x}"
        instance = f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}:{rng.choice([8080, 9100])}"
        labels = {
            "alertname": name,
            "severity": _severity_of(name),
            "namespace": namespace,
            "job": _job_of(name, service),
            "instance": instance,
            "pod": pod,
            "cluster": cluster,
            "service": service,
        }
        annotations = {
            "summary": f"{name} on {namespace}/{pod}",
            "description": (
                f"{name}: pod {pod} in namespace {namespace} on cluster {cluster} has been in "
                f"this state for more than 15 minutes (current value {rng.uniform(0, 100):.2f})."
                " Check recent deployments and the container logs."
            ),
            "runbook_url": f"https://runbooks.example.com/alerts/{name.lower()}",
        }
        starts = now - timedelta(seconds=rng.uniform(60, 3 * 86400))
        alerts.append(
            {
                "labels": labels,
                "annotations": annotations,
                "startsAt": am_time(starts),
                "endsAt": am_time(now + timedelta(hours=1)),
                "generatorURL": (
                    f"https://prometheus.{cluster}.example.com/graph?g0.expr="
                    f"ALERTS%7Balertname%3D%22{name}%22%7D&g0.tab=1"
                ),
            }
        )
    return alerts


def with_fresh_ends(alerts: list[dict]) -> list[dict]:
    """The same alerts as Prometheus re-sends them: endsAt moved forward."""
    ends = am_time(datetime.now(UTC) + timedelta(hours=1))
    return [{**a, "endsAt": ends} for a in alerts]


def post_alerts(am_url: str, alerts: list[dict], batch: int = 500) -> None:
    session = requests.Session()
    for i in range(0, len(alerts), batch):
        r = session.post(
            f"{am_url}/api/v2/alerts", json=alerts[i : i + batch], timeout=HTTP_TIMEOUT
        )
        if r.status_code != 200:
            raise BenchError(f"POST /api/v2/alerts: {r.status_code} {r.text[:300]}")


def alert_count(am_url: str, session=requests) -> int:
    """How many alerts Alertmanager lists now."""
    return len(session.get(f"{am_url}/api/v2/alerts", timeout=HTTP_TIMEOUT).json())


def _matcher(name: str, value: str, regex: bool = False) -> dict:
    return {"name": name, "value": value, "isRegex": regex, "isEqual": True}


def make_silences(alerts: list[dict], count: int, seed: int) -> list[dict]:
    """`count` silences by a few people: some on the pod or instance of a firing alert (so
    those alerts are silenced), the rest on things not alerting right now."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    matching = min(int(count * 0.6), len(alerts) // 5)
    silences = []
    for j in range(count):
        if j < matching:
            labels = alerts[rng.randrange(len(alerts))]["labels"]
            kind = rng.random()
            if kind < 0.7:
                matchers = [_matcher("pod", labels["pod"])]
            elif kind < 0.85:
                matchers = [
                    _matcher("namespace", labels["namespace"]),
                    _matcher("pod", labels["pod"]),
                ]
            else:
                matchers = [_matcher("instance", labels["instance"])]
        elif rng.random() < 0.5:
            ns = rng.choice(NAMESPACES)
            matchers = [
                _matcher("namespace", ns),
                _matcher("pod", f"{ns}-legacy-{j:04d}-.*", regex=True),
            ]
        else:
            matchers = [_matcher("instance", f"10.250.{j // 250}.{j % 250}:9100")]
        starts = now + timedelta(hours=2) if rng.random() < 0.05 else now
        duration = rng.choice([1, 2, 2, 4, 8, 24, 72, 168])
        silences.append(
            {
                "matchers": matchers,
                "startsAt": am_time(starts),
                "endsAt": am_time(starts + timedelta(hours=duration)),
                "createdBy": rng.choices(SILENCE_AUTHORS, [4, 3, 2, 2, 1, 1])[0],
                "comment": rng.choice(SILENCE_COMMENTS).format(t=rng.randrange(1000, 9999)),
            }
        )
    return silences


def post_silences(am_url: str, silences: list[dict], expire_fraction: float, seed: int) -> dict:
    session = requests.Session()
    ids = []
    for body in silences:
        r = session.post(f"{am_url}/api/v2/silences", json=body, timeout=HTTP_TIMEOUT)
        if r.status_code != 200:
            raise BenchError(f"POST /api/v2/silences: {r.status_code} {r.text[:300]}")
        ids.append(r.json()["silenceID"])
    rng = random.Random(seed)
    expired = rng.sample(ids, int(len(ids) * expire_fraction))
    for sid in expired:
        r = session.delete(f"{am_url}/api/v2/silence/{sid}", timeout=HTTP_TIMEOUT)
        if r.status_code != 200:
            raise BenchError(f"DELETE /api/v2/silence/{sid}: {r.status_code} {r.text[:300]}")
    return {"created": len(ids), "expired": len(expired)}

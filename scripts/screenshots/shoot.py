"""Screenshots of alertui for the README, from the running demo (scripts/screenshots.sh).

  shoot.py seed   push a shift's worth of synthetic alerts and two silences made "outside
                  alertui" (as amtool or a deploy pipeline would) to the demo's Alertmanager
  shoot.py pages  in Chromium: make, extend and expire silences through the pages, once (so
                  the audit has a browser's rows too)
  shoot.py shoot  in Chromium: take the screenshots

Environment (set by scripts/screenshots.sh): ALERTUI_URL, AM_URL, DEMO_USER, DEMO_PASSWORD,
SCREENSHOTS_DIR, CHROMIUM (default /usr/bin/chromium).

Everything is idempotent: alerts are pushed again with the same labels (Alertmanager keeps
one per label set) and the silences are made only when Alertmanager holds none with their
comment, so running it again refreshes the pictures without piling up history.
"""

import json
import os
import sys
import urllib.request
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

AM = os.environ.get("AM_URL", "http://127.0.0.1:9093")
APP = os.environ.get("ALERTUI_URL", "http://127.0.0.1:8000")
OUT = Path(os.environ.get("SCREENSHOTS_DIR", "docs/screenshots"))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
WAIT_MS = 15_000
CLUSTER = "prod-eu-1"

# (alertname, severity, namespace, started minutes ago, {more labels}, summary): a night on
# call in a Kubernetes cluster. One new critical among many older warnings and infos.
SHIFT = [
    ("KubePersistentVolumeFillingUp", "critical", "postgres", 6,
     {"persistentvolumeclaim": "data-orders-db-0", "job": "kubelet"},
     "Volume data-orders-db-0 is 97% full and fills within the hour"),
    ("KubePodCrashLooping", "warning", "payments", 38, {"pod": "checkout-7d9f8b6c5d-q2x7z",
     "container": "checkout", "job": "kube-state-metrics"},
     "Pod payments/checkout-7d9f8b6c5d-q2x7z is restarting 4 times / 10 minutes"),
    ("KubePodCrashLooping", "warning", "payments", 37, {"pod": "checkout-7d9f8b6c5d-m8k2p",
     "container": "checkout", "job": "kube-state-metrics"},
     "Pod payments/checkout-7d9f8b6c5d-m8k2p is restarting 3 times / 10 minutes"),
    ("KubeDeploymentReplicasMismatch", "warning", "payments", 35,
     {"deployment": "checkout", "job": "kube-state-metrics"},
     "Deployment payments/checkout has had 1 of 3 replicas available for 30 minutes"),
    ("KafkaConsumerLagHigh", "warning", "streaming", 95,
     {"consumergroup": "orders-indexer", "topic": "orders", "job": "kafka-exporter"},
     "Consumer group orders-indexer lags 182k messages behind on orders"),
    ("KafkaConsumerLagHigh", "warning", "streaming", 92,
     {"consumergroup": "billing-events", "topic": "invoices", "job": "kafka-exporter"},
     "Consumer group billing-events lags 41k messages behind on invoices"),
    ("KubeJobFailed", "warning", "data-pipeline", 240,
     {"job_name": "nightly-export-28912340", "job": "kube-state-metrics"},
     "Job data-pipeline/nightly-export-28912340 failed to complete"),
    ("NodeFilesystemAlmostOutOfSpace", "warning", "monitoring", 180,
     {"instance": "ip-10-20-3-17.eu-west-1.compute.internal", "mountpoint": "/var/lib/docker",
      "job": "node-exporter"},
     "Filesystem /var/lib/docker on ip-10-20-3-17 has 6% space left"),
    ("KubeHpaMaxedOut", "warning", "search", 55,
     {"horizontalpodautoscaler": "search-api", "job": "kube-state-metrics"},
     "HPA search/search-api has been at its 12 replicas for 15 minutes"),
    ("CertManagerCertExpirySoon", "warning", "ingress", 600,
     {"name": "wildcard-shop-example-com", "job": "cert-manager"},
     "Certificate wildcard-shop-example-com expires in 13 days"),
    ("EtcdHighFsyncDurations", "warning", "kube-system", 22,
     {"instance": "10.20.1.5:2379", "job": "etcd"},
     "etcd 10.20.1.5 WAL fsync 99th percentile is 0.61 s"),
    ("RedisMemoryHigh", "info", "sessions", 300, {"instance": "redis-sessions-0", "job": "redis"},
     "Redis redis-sessions-0 uses 88% of its maxmemory"),
] + [
    ("CPUThrottlingHigh", "info", ns, 60 + 17 * i,
     {"pod": pod, "container": pod.split("-")[0], "job": "kubelet"},
     f"{40 + 7 * i}% throttling of CPU in namespace {ns} for container {pod.split('-')[0]}")
    for i, (ns, pod) in enumerate([
        ("search", "search-api-6c9d7f-2xk8q"), ("search", "search-api-6c9d7f-8wq4n"),
        ("payments", "fraud-scorer-5b7c9-hh2kd"), ("streaming", "orders-indexer-0"),
        ("monitoring", "prometheus-k8s-1"), ("ingress", "ingress-nginx-controller-7f9-kq2"),
    ])
]  # fmt: skip

# Silences made outside alertui: (createdBy, comment, matchers, hours).
OUTSIDE = [
    ("deploy-bot", "Deploying search-api v3.8.0 (pipeline 48213)",
     [("namespace", "search"), ("alertname", "KubeHpaMaxedOut")], 1),
    ("maria.k", "Kafka broker rolling restart, lag expected to recover (CHG-1190)",
     [("alertname", "KafkaConsumerLagHigh"), ("namespace", "streaming")], 3),
]  # fmt: skip
# Made through the pages: (matchers filter, comment, then).
IN_ALERTUI = [
    ('alertname="KubePodCrashLooping", namespace="payments"',
     "Rolling back checkout to 2.14.0 (INC-2291); pods restart until it is out", "extend"),
    ('alertname="KubeJobFailed", namespace="data-pipeline"',
     "Nightly export re-run by hand, see DATA-877", "expire"),
]  # fmt: skip


def am(path: str, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        AM + path, data=data, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read().decode()
    return json.loads(text) if text.strip() else None


def iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def seed() -> None:
    now = datetime.now(UTC)
    alerts = []
    for name, severity, namespace, minutes, labels, summary in SHIFT:
        alerts.append(
            {
                "labels": {
                    "alertname": name,
                    "severity": severity,
                    "namespace": namespace,
                    "cluster": CLUSTER,
                    **labels,
                },
                "annotations": {
                    "summary": summary,
                    "runbook_url": "https://runbooks.example.com/" + name.lower(),
                },
                "startsAt": iso(now - timedelta(minutes=minutes)),
                "endsAt": iso(now + timedelta(hours=3)),
            }
        )
    am("/api/v2/alerts", alerts)
    print(f"pushed {len(alerts)} alerts to {AM}")
    held = {s["comment"] for s in am("/api/v2/silences")}
    for created_by, comment, matchers, hours in OUTSIDE:
        if comment in held:
            continue
        am(
            "/api/v2/silences",
            {
                "matchers": [{"name": n, "value": v, "isRegex": False} for n, v in matchers],
                "startsAt": iso(now),
                "endsAt": iso(now + timedelta(hours=hours)),
                "createdBy": created_by,
                "comment": comment,
            },
        )
        print(f"silence by {created_by}: {comment}")


def silence_id(comment: str) -> str:
    found = [s for s in am("/api/v2/silences") if s["comment"] == comment]
    if not found:
        sys.exit(f"no silence with comment {comment!r} in Alertmanager after creating it")
    return max(found, key=lambda s: s["updatedAt"])["id"]


def log_in(page) -> None:
    page.goto(APP + "/accounts/login/?next=/alerts/")
    page.get_by_label("Username").fill(os.environ["DEMO_USER"])
    page.get_by_label("Password").fill(os.environ["DEMO_PASSWORD"])
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(APP + "/alerts/", timeout=WAIT_MS)


def fill_silence_form(page, matchers: str, comment: str) -> None:
    """The new-silence form pre-filled from a link, as "Silence" on an alert opens it."""
    page.goto(APP + "/silences/new/?" + urlencode({"filter": matchers, "duration": "2h"}))
    page.get_by_label("Comment", exact=False).first.fill(comment)
    page.locator("#preview, [aria-live]").first.wait_for(timeout=WAIT_MS)
    page.wait_for_load_state("networkidle")


def make_silences(page) -> None:
    held = {s["comment"] for s in am("/api/v2/silences")}
    for matchers, comment, then in IN_ALERTUI:
        if comment in held:
            continue
        fill_silence_form(page, matchers, comment)
        page.get_by_role("button", name="Create silence").click()
        page.wait_for_load_state("networkidle")
        made = silence_id(comment)
        page.goto(f"{APP}/silences/{made}/")
        if then == "extend":
            page.get_by_role("button", name="Extend +1h").click()
        else:
            page.goto(f"{APP}/silences/{made}/expire/")
            page.get_by_role("button", name="Expire now").click()
        page.wait_for_load_state("networkidle")
        print(f"silence through alertui, then {then}: {comment}")


# The form as the picture shows it, filled in but not sent.
FORM_SHOWN = (
    'alertname="CPUThrottlingHigh", namespace="search"',
    "Throttling expected while search-api scales out; limits raised in SRCH-412",
)
# name -> (path, what to do on the page before the picture)
PAGES = {
    "alerts": ("/alerts/", None),
    "silence-form": (None, "form"),
    "audit": ("/audit/", None),
}
# name -> browser context options
LOOKS = {
    "desktop": {"viewport": {"width": 1440, "height": 900}},
    "phone": {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2},
    "dark": {"viewport": {"width": 1440, "height": 900}, "color_scheme": "dark"},
}


@contextmanager
def browser_page(**options):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        try:
            context = browser.new_context(locale="en-GB", timezone_id="Europe/Berlin", **options)
            context.set_default_timeout(WAIT_MS)
            page = context.new_page()
            log_in(page)
            yield page
        finally:
            browser.close()


def pages() -> None:
    with browser_page(**LOOKS["desktop"]) as page:
        make_silences(page)


def shoot() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for look, options in LOOKS.items():
        with browser_page(**options) as page:
            for name, (path, action) in PAGES.items():
                if action == "form":
                    fill_silence_form(page, *FORM_SHOWN)
                    page.evaluate("window.scrollTo(0, 0)")  # the form from its top
                else:
                    page.goto(APP + path)
                    page.wait_for_load_state("networkidle")
                if look == "phone" and name == "audit":  # past the filters, to the cards
                    page.locator("#results").evaluate("el => el.scrollIntoView()")
                target = OUT / f"{name}-{look}.png"
                page.screenshot(path=str(target))
                print(f"{target} ({target.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    commands = {"seed": seed, "pages": pages, "shoot": shoot}
    if len(sys.argv) != 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    commands[sys.argv[1]]()

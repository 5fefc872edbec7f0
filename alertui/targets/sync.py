"""Keep failing scrape targets, scrape pools and failing rules from each Prometheus in step.

Each Prometheus is a source of its own: one unreachable server keeps its last known picture
(and raises its banner) while the others go on updating.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from alertui import clusters
from alertui.clients import prometheus_client
from alertui.clusters import Cluster
from alertui.integrations.prometheus import PrometheusError
from alertui.nav import counts as nav_counts
from alertui.rules import store as rule_store
from alertui.sync import health
from alertui.sync.runs import cluster_sync
from alertui.targets import rows
from alertui.targets.models import FailingTarget, RuleFailure, ScrapePool, TargetHistory


@dataclass
class TargetSyncResult:
    skipped: bool = False
    failing: int = 0
    went_down: int = 0
    came_back: int = 0
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return f"{self.failing} failing (+{self.went_down} -{self.came_back})"

    def failures(self) -> list[str]:
        return list(self.errors)


@cluster_sync("targets", lambda: TargetSyncResult(skipped=True))
def sync_targets(cluster: Cluster) -> TargetSyncResult:
    """Each of the cluster's Prometheus servers, one after another."""
    result = TargetSyncResult()
    for url in cluster.prometheus_urls:
        _sync_source(cluster.name, url, result)
    _forget_removed_sources(cluster.name, cluster.prometheus_urls)
    # The rules are kept by Prometheus URL, of every cluster.
    rule_store.forget_sources_except(
        [url for each in clusters.configured() for url in each.prometheus_urls]
    )
    return result


def _forget_removed_sources(cluster: str, configured: list[str]) -> None:
    """A Prometheus taken out of the cluster: its targets are no longer anyone's concern."""
    now = timezone.now()
    with transaction.atomic():
        for model in (TargetHistory, FailingTarget, ScrapePool, RuleFailure):
            gone = model.objects.filter(cluster=cluster).exclude(source__in=configured)
            if model is TargetHistory:
                gone.filter(up_at=None).update(up_at=now)
            elif gone.delete()[0] and model is FailingTarget:
                nav_counts.targets_changed()


def _sync_source(cluster: str, url: str, result: TargetSyncResult) -> None:
    run = health.Run(health.PROMETHEUS, cluster, url)
    client = prometheus_client(url, cluster=cluster)
    try:
        targets = client.active_targets()
        pools = client.scrape_pools()
        rules = client.rules()
    except PrometheusError as e:
        run.failure(e.message)
        result.errors.append(e.message)
        return
    now = timezone.now()
    # Pool names as stored (the column holds 255 characters), so keys match what is read back.
    failing = {(t.scrape_pool[:255], t.scrape_url): t for t in targets if t.health != "up"}
    up_counts = Counter(t.scrape_pool[:255] for t in targets if t.health == "up")
    pools = [p[:255] for p in pools]
    failing_counts = Counter(pool for pool, _ in failing)
    template = rows.template_version()
    with transaction.atomic():
        mine = {"cluster": cluster, "source": url}
        # Without the stored cells: the sync only writes them (rows.refresh).
        known = {
            (f.scrape_pool, f.scrape_url): f
            for f in FailingTarget.objects.filter(**mine).defer("row_html")
        }
        new_rows, changed_rows, rendered_rows, scraped_rows, history = [], [], [], [], []
        for key, target in failing.items():
            fields = _target_fields(key, target)
            row = known.get(key)
            if row is None:
                # First seen failing now; the history row marks the start of the outage.
                row = FailingTarget(**mine, failing_since=now, **fields)
                rows.refresh(row, template)
                new_rows.append(row)
                history.append(
                    TargetHistory(
                        **mine,
                        scrape_pool=key[0],
                        scrape_url=key[1],
                        job=fields["job"],
                        instance=fields["instance"],
                        last_error=target.last_error,
                        down_at=now,
                    )
                )
                continue
            # Rendered again only when what the cells show changed: the last scrape, which
            # moves at every scrape, is not in them, and is all that changes most of the time.
            changed = {k for k, v in fields.items() if getattr(row, k) != v}
            for name in changed:
                setattr(row, name, fields[name])
            if row.row_template != template or changed & set(rows.SHOWN):
                rows.refresh(row, template)
                rendered_rows.append(row)
            elif changed - set(_SCRAPE_TIMES):
                changed_rows.append(row)
            elif changed:
                scraped_rows.append(row)
        FailingTarget.objects.bulk_create(new_rows, batch_size=500)
        FailingTarget.objects.bulk_update(changed_rows, list(_TARGET_FIELDS), batch_size=500)
        FailingTarget.objects.bulk_update(rendered_rows, _STORED_FIELDS, batch_size=500)
        _write_scrape_times(scraped_rows)
        TargetHistory.objects.bulk_create(history, batch_size=500)
        result.went_down += len(new_rows)
        recovered = [row for key, row in known.items() if key not in failing]
        for row in recovered:
            TargetHistory.objects.filter(
                **mine, scrape_pool=row.scrape_pool, scrape_url=row.scrape_url, up_at=None
            ).update(up_at=now)
            row.delete()
        result.came_back += len(recovered)
        nav_counts.targets_changed()  # every run: a count lost or missing is put right
        _replace_pools(
            mine, set(pools) | set(up_counts) | set(failing_counts), up_counts, failing_counts
        )
        rule_failures = [r for r in rules if r.health == "err"]
        if rule_failures or RuleFailure.objects.filter(**mine).exists():
            RuleFailure.objects.filter(**mine).delete()
            RuleFailure.objects.bulk_create(
                RuleFailure(
                    **mine,
                    group=r.group[:255],
                    file=r.file,
                    name=r.name[:255],
                    type=r.type[:16],
                    query=r.query,
                    error=r.last_error,
                    last_evaluation=r.last_evaluation,
                )
                for r in rule_failures
            )
    rule_store.replace_rules(url, rules)  # what the alerts page shows as an alert's expression
    result.failing += len(failing)
    run.success(changed=True)


_TARGET_FIELDS = (
    "scrape_pool",
    "scrape_url",
    "job",
    "instance",
    "labels",
    "health",
    "last_error",
    "last_scrape",
    "last_scrape_duration",
)


_STORED_FIELDS = [*_TARGET_FIELDS, "row_html", "row_template"]
# What moves at every scrape of a failing target, and nothing else does.
_SCRAPE_TIMES = ("last_scrape", "last_scrape_duration")


def _write_scrape_times(changed: list[FailingTarget], chunk: int = 500) -> None:
    """The new scrape times of `changed`, in one statement per `chunk` rows. Every failing
    target has a new one at each sync; Django's bulk_update builds an expression object per
    row and field, which cost more than the rest of the sync."""
    table = connection.ops.quote_name(FailingTarget._meta.db_table)
    adapt = connection.ops.adapt_datetimefield_value
    # PostgreSQL types a CASE of parameters by its first branch, text for a NULL: each value
    # is cast to its column's type there, as Django's bulk_update does.
    casted = connection.features.requires_casted_case_in_updates
    then = {
        name: f"CAST(%s AS {FailingTarget._meta.get_field(name).db_type(connection)})"
        if casted
        else "%s"
        for name in _SCRAPE_TIMES
    }
    for start in range(0, len(changed), chunk):
        part = changed[start : start + chunk]
        cases = {name: " ".join([f"WHEN %s THEN {then[name]}"] * len(part)) for name in then}
        sql = (
            f"UPDATE {table} SET last_scrape = CASE id {cases['last_scrape']} END, "
            f"last_scrape_duration = CASE id {cases['last_scrape_duration']} END "
            f"WHERE id IN ({', '.join(['%s'] * len(part))})"
        )
        params = [v for row in part for v in (row.pk, adapt(row.last_scrape))]
        params += [v for row in part for v in (row.pk, float(row.last_scrape_duration))]
        params += [row.pk for row in part]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


def _target_fields(key, target) -> dict:
    return {
        "scrape_pool": key[0],
        "scrape_url": key[1],
        "job": target.labels.get("job", "")[:255],
        "instance": target.labels.get("instance", "")[:255],
        "labels": target.labels,
        "health": target.health,
        "last_error": target.last_error,
        "last_scrape": target.last_scrape,
        "last_scrape_duration": target.last_scrape_duration,
    }


def _replace_pools(mine: dict, names, up_counts, failing_counts) -> None:
    ScrapePool.objects.filter(**mine).exclude(name__in=names).delete()
    existing = {p.name: p for p in ScrapePool.objects.filter(**mine)}
    for name in names:
        pool = existing.get(name) or ScrapePool(**mine, name=name)
        counts = (up_counts.get(name, 0), failing_counts.get(name, 0))
        if pool.pk is None or (pool.up, pool.failing) != counts:
            pool.up, pool.failing = counts
            pool.save()

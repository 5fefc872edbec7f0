"""Take credentials out of the source URLs stored before alertui stripped them at start.

Until then `PROMETHEUS_URL=https://user:pass@host` was stored as it was: in source names and
errors shown in /metrics and the banners, and in the targets tables. Current rows are dropped
(the next sync rebuilds them under the bare URL); history keeps its rows, without credentials.
The audit is append-only and is not touched.
"""

import re

from django.db import migrations

USERINFO = re.compile(r"(?<=://)[^/@\s]+@")


def scrub(apps, schema_editor):
    SourceStatus = apps.get_model("alerts", "SourceStatus")
    for status in SourceStatus.objects.all():
        if USERINFO.search(status.name):
            status.delete()
        elif USERINFO.search(status.last_error):
            status.last_error = USERINFO.sub("***@", status.last_error)
            status.save(update_fields=["last_error"])
    for name in ("FailingTarget", "ScrapePool", "RuleFailure"):
        model = apps.get_model("targets", name)
        for row in model.objects.filter(source__contains="@"):
            if USERINFO.search(row.source):
                row.delete()
    TargetHistory = apps.get_model("targets", "TargetHistory")
    for row in TargetHistory.objects.filter(source__contains="@"):
        if USERINFO.search(row.source):
            row.source = USERINFO.sub("", row.source)
            row.save(update_fields=["source"])


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0006_snapshot_version"),
        ("targets", "0001_initial"),
    ]

    operations = [migrations.RunPython(scrub, migrations.RunPython.noop)]

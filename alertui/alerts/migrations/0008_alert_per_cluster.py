"""Alerts are per cluster: the same fingerprint may fire in several clusters, so a row is keyed
by an id, unique by (cluster, fingerprint). The rows there are (the snapshot of the one cluster
alertui showed until now) are copied to the new table under CLUSTER_NAME."""

from django.db import migrations, models

import alertui.clusters

COPIED = [
    "fingerprint", "alertname", "severity", "is_silenced", "is_inhibited", "digest",
    "snapshot_version", "labels", "annotations", "state", "silenced_by", "inhibited_by",
    "receivers", "generator_url", "starts_at", "updated_at", "ends_at",
]


def copy_alerts(apps, schema_editor):
    Alert = apps.get_model("alerts", "Alert")
    ClusterAlert = apps.get_model("alerts", "ClusterAlert")
    cluster = alertui.clusters.default_name()
    rows = Alert.objects.all().values(*COPIED).iterator(chunk_size=2000)
    batch = []
    for row in rows:
        batch.append(ClusterAlert(cluster=cluster, **row))
        if len(batch) >= 2000:
            ClusterAlert.objects.bulk_create(batch)
            batch = []
    ClusterAlert.objects.bulk_create(batch)


class Migration(migrations.Migration):
    # contenttypes: the RenameModel below renames the model's content type, with the
    # ContentType model as that app's migrations leave it.
    dependencies = [
        ("alerts", "0007_source_note"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.CreateModel(
            name="ClusterAlert",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("cluster", models.CharField(db_index=True, default=alertui.clusters.default_name, max_length=63)),
                ("fingerprint", models.CharField(max_length=64)),
                ("alertname", models.CharField(blank=True, db_index=True, max_length=255)),
                ("severity", models.CharField(blank=True, db_index=True, max_length=64)),
                ("is_silenced", models.BooleanField(db_index=True, default=False)),
                ("is_inhibited", models.BooleanField(db_index=True, default=False)),
                ("digest", models.CharField(blank=True, max_length=32)),
                ("snapshot_version", models.PositiveBigIntegerField(db_index=True, default=0)),
                ("labels", models.JSONField(default=dict)),
                ("annotations", models.JSONField(default=dict)),
                ("state", models.CharField(max_length=16)),
                ("silenced_by", models.JSONField(default=list)),
                ("inhibited_by", models.JSONField(default=list)),
                ("receivers", models.JSONField(default=list)),
                ("generator_url", models.TextField(blank=True)),
                ("starts_at", models.DateTimeField(null=True)),
                ("updated_at", models.DateTimeField(null=True)),
                ("ends_at", models.DateTimeField(null=True)),
            ],
            options={"ordering": ["alertname", "cluster", "fingerprint"]},
        ),
        migrations.RunPython(copy_alerts, migrations.RunPython.noop),
        migrations.DeleteModel(name="Alert"),
        migrations.RenameModel(old_name="ClusterAlert", new_name="Alert"),
        migrations.AddConstraint(
            model_name="alert",
            constraint=models.UniqueConstraint(fields=("cluster", "fingerprint"), name="unique_alert"),
        ),
    ]

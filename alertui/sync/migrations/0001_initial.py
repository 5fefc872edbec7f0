"""SourceStatus moves from the alerts app to sync, keeping its table; each row now names its
kind and cluster. The rows of before (sources of the one cluster, named without it) are
health only and the next sync writes them anew; the alerts counter stays, as the snapshot's."""

from django.db import migrations, models

SNAPSHOT = "alertmanager-alerts"


def rename_sources(apps, schema_editor):
    SourceStatus = apps.get_model("sync", "SourceStatus")
    SourceStatus.objects.exclude(name=SNAPSHOT).delete()
    SourceStatus.objects.filter(name=SNAPSHOT).update(
        kind="snapshot",
        last_attempt_at=None,
        last_success_at=None,
        failing_since=None,
        last_error="",
        note="",
    )


class Migration(migrations.Migration):
    initial = True
    dependencies = [("alerts", "0009_history_cluster")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="SourceStatus",
                    fields=[
                        ("name", models.CharField(max_length=64, primary_key=True, serialize=False)),
                        ("last_attempt_at", models.DateTimeField(null=True)),
                        ("last_success_at", models.DateTimeField(null=True)),
                        ("failing_since", models.DateTimeField(null=True)),
                        ("last_error", models.TextField(blank=True)),
                        ("note", models.TextField(blank=True)),
                        ("version", models.PositiveBigIntegerField(default=0)),
                        ("changed_at", models.DateTimeField(null=True)),
                        ("last_duration", models.FloatField(null=True)),
                        ("runs", models.PositiveBigIntegerField(default=0)),
                        ("errors", models.PositiveBigIntegerField(default=0)),
                    ],
                    options={"db_table": "alerts_sourcestatus"},
                ),
            ],
            database_operations=[],
        ),
        migrations.AlterField(
            model_name="sourcestatus",
            name="name",
            field=models.CharField(max_length=255, primary_key=True, serialize=False),
        ),
        migrations.AddField(
            model_name="sourcestatus",
            name="kind",
            field=models.CharField(blank=True, max_length=32),
        ),
        migrations.AddField(
            model_name="sourcestatus",
            name="cluster",
            field=models.CharField(blank=True, db_index=True, max_length=63),
        ),
        migrations.AddField(
            model_name="sourcestatus",
            name="url",
            field=models.CharField(blank=True, max_length=255),
        ),
        migrations.RunPython(rename_sources, migrations.RunPython.noop),
    ]

"""SourceStatus now lives in the sync app (its table stays: see sync 0001)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0009_history_cluster"),
        ("sync", "0001_initial"),
        # Reads SourceStatus from the alerts app.
        ("targets", "0002_scrub_source_credentials"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="SourceStatus")],
            database_operations=[],
        ),
    ]

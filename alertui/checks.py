"""System checks for what an operator's first start gets wrong without a word.

Registered by the accounts app (the first thing a new operator meets is its login page) with
the tag "alertui"; `manage.py check` and `migrate` show them, and alertui/wsgi.py logs them when
the web server starts, since gunicorn runs no checks.
"""

import logging

from django.contrib.staticfiles.storage import ManifestFilesMixin
from django.core import checks
from django.core.files.storage import storages

TAG = "alertui"
log = logging.getLogger(__name__)


def static_manifest(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """Without DEBUG, every page links its CSS and script through the manifest that
    `collectstatic` writes; without the manifest each page answers 500."""
    storage = storages["staticfiles"]
    if not isinstance(storage, ManifestFilesMixin):
        return []
    if storage.manifest_storage.exists(storage.manifest_name):
        return []
    where = storage.manifest_storage.path(storage.manifest_name)
    return [
        checks.Warning(
            f"The static files manifest {where} is missing: with DEBUG off every page answers "
            "500 (Missing staticfiles manifest entry).",
            hint="Run `python manage.py collectstatic --noinput` (the container image does it "
            "when it is built), or point STATIC_ROOT at the folder it wrote.",
            id="alertui.W001",
        )
    ]


def register() -> None:
    checks.register(static_manifest, TAG)


def log_at_start() -> None:
    """Log what the checks find, for servers that do not run them (gunicorn)."""
    for message in checks.run_checks(tags=[TAG]):
        log.warning("%s", message)

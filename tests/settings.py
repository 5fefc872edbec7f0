"""Settings for the test run: the real settings module, with test defaults in the environment.

Everything the tests need differently comes through the same environment variables a deployment
uses, so the test run also exercises alertui/settings.py.
"""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-deployment")
os.environ.setdefault("SECURE_COOKIES", "false")

from alertui.settings import *  # noqa: E402, F403

# The test run's `flush` (tests/testdb), which may empty the append-only audit table.
INSTALLED_APPS = [*INSTALLED_APPS, "tests.testdb"]  # noqa: F405
# Fast password hashing: the tests log users in many times.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
# The manifest (hashed names) needs `collectstatic`; tests serve the source files as they are.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
# Live-server threads must not keep connections open past a test: PostgreSQL cannot drop the
# test database while they do.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
# SQLite as deployed: a database file, not the in-memory database Django tests use by default,
# whose locking (shared cache: "database table is locked" at once) is not SQLite's usual one.
# One file per test run: several runs share this machine.
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": str(Path(tempfile.gettempdir()) / f"alertui-test-{os.getpid()}.sqlite3")
    }
else:
    # Likewise one PostgreSQL test database per run: two runs sharing "test_<name>" would drop
    # each other's database.
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": f"test_{DATABASES['default']['NAME']}_{os.getpid()}"  # noqa: F405
    }
# No Prometheus unless a test starts one and points PROMETHEUS_URLS at it.
PROMETHEUS_URLS = []

# Redis is shared by every test run on the machine (two runs at once, or a run beside a
# developer's): everything a run keeps there (locks, Celery's queue) carries this prefix, and a
# test empties only its own run's keys, never the database.
TEST_REDIS_PREFIX = f"alertui-test-{os.getpid()}"
CELERY_BROKER_TRANSPORT_OPTIONS = {
    **CELERY_BROKER_TRANSPORT_OPTIONS,  # noqa: F405
    "global_keyprefix": f"{TEST_REDIS_PREFIX}:",
}

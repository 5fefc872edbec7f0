"""A PostgreSQL connection that dies between requests (failover, restart, an idle timeout in a
pooler) does not fail the next request: alertui keeps connections for a minute
(CONN_MAX_AGE=60) and checks each before reusing it (CONN_HEALTH_CHECKS).

The web server is the real one (gunicorn with docker/gunicorn.conf.py, one worker with one
thread, so both requests share its connection) with alertui.settings read from the
environment, on the test database.
"""

import os
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from django.db import connection

from tests.servers import HTTP_TIMEOUT, ServerProcess, _free_ports

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="kept connections and their health checks are PostgreSQL settings (DATABASE_URL); "
    "CI runs this file on PostgreSQL",
)


class WebProcess(ServerProcess):
    """alertui under gunicorn on 127.0.0.1, its log in `tmpdir`."""

    kind = "gunicorn"
    ready_path = "/healthz"  # touches no database
    version = "alertui"

    def __init__(self, tmpdir: Path, env: dict[str, str]):
        self.tmpdir = self.storage_path = tmpdir
        self.log_path = tmpdir / "gunicorn.log"
        (self.port,) = _free_ports(1)
        self.env = {
            **env,
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "WEB_CONCURRENCY": "1",
            "GUNICORN_THREADS": "1",
        }

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        config = ROOT / "docker" / "gunicorn.conf.py"
        return [sys.executable, "-m", "gunicorn", "-c", str(config), "alertui.wsgi"]


def database_url(application_name: str) -> str:
    db = connection.settings_dict  # the test database pytest-django made
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    return (
        f"postgres://{quote(db['USER'], safe='')}{password}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}?application_name={application_name}"
    )


def terminate_backends(application_name: str) -> list[bool]:
    with connection.cursor() as cursor:
        # The second argument waits (up to 5 s) until the backend is gone.
        cursor.execute(
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
            " WHERE application_name = %s",
            [application_name],
        )
        return [row[0] for row in cursor.fetchall()]


def test_a_killed_database_connection_does_not_fail_the_next_request(transactional_db, tmp_path):
    application_name = f"alertui-failover-test-{os.getpid()}"
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    env.update(
        SECRET_KEY="k" * 50,
        ALLOWED_HOSTS="127.0.0.1",
        DJANGO_SETTINGS_MODULE="alertui.settings",
        DATABASE_URL=database_url(application_name),
        REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
    )
    with WebProcess(tmp_path, env) as web:
        first = requests.get(f"{web.url}/readyz", timeout=HTTP_TIMEOUT)
        assert first.json()["database"] == "ok"
        # The worker kept its connection; kill it from here, as a failover would.
        assert terminate_backends(application_name) == [True]

        after = requests.get(f"{web.url}/readyz", timeout=HTTP_TIMEOUT)
        assert after.status_code == 200, after.text
        assert after.json()["database"] == "ok"

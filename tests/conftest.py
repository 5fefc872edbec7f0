"""Fixtures: real Alertmanager processes (one per version per session), settings, Redis.

Django settings: pytest-django imports the settings module in its pytest_load_initial_conftests
hook, before pytest imports any conftest (checked with pytest 9.2 and pytest-django 4.14), so
environment defaults set here would come too late; tests/settings.py (DJANGO_SETTINGS_MODULE in
pyproject.toml) sets them before importing alertui.settings.

The Alertmanagers are shared by all tests of a session, so no test may expect an empty one:
each test makes its own silences and alerts with a unique label value and filters by it.
"""

import os
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis

from tests.servers import ALERTMANAGER_VERSIONS, AlertmanagerProcess, binaries_report

pytest_plugins = ["tests.ledger", "tests.notice_receiver", "tests.browsing"]

REDIS_TEST_DB = 15


def pytest_report_header(config):
    """Which Alertmanager and Prometheus binaries this run uses, as each reports itself."""
    return ["servers under test (tests/servers.py):", *(f"  {line}" for line in binaries_report())]


def pytest_unconfigure(config):
    """Remove the SQLite test database's write-ahead log files (tests/settings.py): Django
    deletes the database file only, and a connection some thread left open keeps them."""
    from django.conf import settings

    if not settings.configured:
        return
    name = settings.DATABASES["default"].get("TEST", {}).get("NAME")
    for suffix in ("-wal", "-shm") if name else ():
        Path(name + suffix).unlink(missing_ok=True)


def _start(version: str, tmp_path_factory) -> AlertmanagerProcess:
    return AlertmanagerProcess(version, tmp_path_factory.mktemp(f"am{version}")).start()


@pytest.fixture(scope="session", params=ALERTMANAGER_VERSIONS, ids=lambda v: f"am{v}")
def alertmanager(request, tmp_path_factory):
    """A running Alertmanager of each version under test (HA off); tests run once per version."""
    am = _start(request.param, tmp_path_factory)
    yield am
    am.stop()


@pytest.fixture(scope="session")
def alertmanager_025(tmp_path_factory):
    """A running Alertmanager 0.25 (Debian bookworm), for tests that need only one version."""
    am = _start("0.25", tmp_path_factory)
    yield am
    am.stop()


@pytest.fixture
def am_settings(settings, alertmanager):
    """Django settings pointing at `alertmanager`; parametrizes the test over versions."""
    settings.ALERTMANAGER_URLS = [alertmanager.url]
    settings.ALERTMANAGER_EXTERNAL_URL = alertmanager.url
    return settings


@pytest.fixture
def am(settings, alertmanager_025, redis_db):
    """The shared Alertmanager 0.25 with alertui pointing at it, and Redis for the locks."""
    settings.ALERTMANAGER_URLS = [alertmanager_025.url]
    settings.ALERTMANAGER_EXTERNAL_URL = alertmanager_025.url
    return alertmanager_025


@pytest.fixture(autouse=True)
def _no_connection_outlives_its_test(request):
    """On PostgreSQL, fail a test that leaves a connection to the test database open: one that
    outlives the run makes dropping the test database fail, and points at a thread or a
    context whose connections nobody closes.

    A connection closed by its client a moment ago can still be listed until the server has
    ended its backend, so the check waits (boundedly) for the list to empty."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql" or "django_db_setup" not in request.fixturenames:
        return
    leftovers = _other_backends(connection)
    deadline = time.monotonic() + 10
    while leftovers and time.monotonic() < deadline:
        time.sleep(0.1)
        leftovers = _other_backends(connection)
    assert not leftovers, f"connections to the test database outlive the test: {leftovers}"


def _other_backends(connection) -> list[tuple]:
    import psycopg

    own = connection.connection.info.backend_pid if connection.connection else 0
    params = {**connection.get_connection_params(), "dbname": "postgres", "autocommit": True}
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params) as admin:
        return admin.execute(
            "SELECT pid, state, left(query, 80) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> %s",
            [connection.settings_dict["NAME"], own],
        ).fetchall()


@pytest.fixture
def fresh_snapshot(monkeypatch):
    """Forget the web side's cached alert snapshot.

    The cache is keyed by SourceStatus.version, a counter that restarts when the database is
    emptied between tests: without this, a test whose sync reaches the version an earlier test
    had would be served that test's alerts.
    """
    from alertui.alerts import snapshot

    monkeypatch.setattr(snapshot, "_cache", (object(), []))


@pytest.fixture
def redis_db(settings):
    """settings.REDIS_URL on a test database (15) of the configured Redis, with this run's keys
    (locks, Celery's queue: all under settings.TEST_REDIS_PREFIX) emptied first. Other runs on
    the machine share the database: their keys are left alone."""
    base = urlsplit(os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0")
    url = urlunsplit((base.scheme, base.netloc, f"/{REDIS_TEST_DB}", "", ""))
    client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=3)
    try:
        stale = list(client.scan_iter(f"{settings.TEST_REDIS_PREFIX}:*"))
        if stale:
            client.delete(*stale)
    except redis.RedisError as e:
        raise RuntimeError(f"Redis at {url} is needed for this test: {e}") from e
    settings.REDIS_URL = url
    settings.CELERY_BROKER_URL = url
    settings.LOCK_PREFIX = settings.TEST_REDIS_PREFIX
    yield client
    client.close()


@pytest.fixture
def celery_queue(settings):
    """The Redis key of this run's Celery queue (tests reading what was queued)."""
    return f"{settings.TEST_REDIS_PREFIX}:celery"


@pytest.fixture
def celery_broker():
    """A context manager: tasks queued inside it are published to the broker at `url` (a real
    Redis, or a stand-in) instead of running inline as elsewhere in the tests. Connections and
    producers made before or inside it are dropped on the way in and out."""
    from contextlib import contextmanager

    from kombu import pools

    from alertui.celery import app

    def forget_connections():
        # Close the connections and producers bound to the broker in use and forget them (kombu
        # keeps producer pools per broker URL; Celery forgets its own in a forked worker
        # process the same way), so the next broker gets its own.
        app.pool.force_close_all()
        pools.reset()
        app._after_fork()

    @contextmanager
    def publishing_to(url: str):
        saved = app.conf.task_always_eager, app.conf.broker_url
        forget_connections()  # even eager tasks take a producer from the pool
        app.conf.task_always_eager, app.conf.broker_url = False, url
        try:
            yield app
        finally:
            app.conf.task_always_eager, app.conf.broker_url = saved
            forget_connections()

    return publishing_to


# -- users in each role ----------------------------------------------------------------------


def _user(username: str, role: str):
    from django.contrib.auth.models import Group, User

    from alertui.accounts.roles import SILENCERS, VIEWERS, ensure_roles

    ensure_roles()
    user = User.objects.create_user(username, password="correct horse battery staple")
    if role == "admin":
        user.is_superuser = user.is_staff = True
        user.save()
    else:
        user.groups.add(Group.objects.get(name=SILENCERS if role == "silencer" else VIEWERS))
    return user


@pytest.fixture
def silencer(db):
    return _user("alice", "silencer")


@pytest.fixture
def viewer(db):
    return _user("victor", "viewer")


@pytest.fixture
def admin_user(db):
    return _user("root", "admin")


@pytest.fixture
def silencer_client(client, silencer):
    client.force_login(silencer)
    return client


@pytest.fixture
def viewer_client(client, viewer):
    client.force_login(viewer)
    return client


@pytest.fixture
def tag():
    """A unique label value, so a test finds its own silences in a shared Alertmanager."""
    import uuid

    return uuid.uuid4().hex[:12]


# -- Prometheus ------------------------------------------------------------------------------

# Imported here rather than at the top to keep this section self-contained.
from tests.servers import PROMETHEUS_VERSIONS, PrometheusProcess  # noqa: E402


def _start_prometheus(version: str, tmp_path_factory, alertmanager) -> PrometheusProcess:
    """A started Prometheus sending alerts to `alertmanager`, waited on until its targets have
    been scraped (the broken one is "down"), the "no-endpoints" pool is listed and
    AlwaysFiring fires, so tests see a settled server."""
    prom = PrometheusProcess(
        version, tmp_path_factory.mktemp(f"prom{version}"), alertmanager_urls=[alertmanager.url]
    ).start()
    try:
        prom.wait_settled()
    except BaseException:
        prom.stop()
        raise
    return prom


@pytest.fixture(scope="session", params=PROMETHEUS_VERSIONS, ids=lambda v: f"prom{v}")
def prometheus(request, tmp_path_factory, alertmanager_025):
    """A running, settled Prometheus of each version under test (tests.servers.PrometheusProcess
    documents its jobs and rules), feeding `alertmanager_025`; tests run once per version."""
    prom = _start_prometheus(request.param, tmp_path_factory, alertmanager_025)
    yield prom
    prom.stop()


@pytest.fixture(scope="session")
def prometheus_242(tmp_path_factory, alertmanager_025):
    """A running, settled Prometheus 2.42 (Debian bookworm) feeding `alertmanager_025`."""
    prom = _start_prometheus("2.42", tmp_path_factory, alertmanager_025)
    yield prom
    prom.stop()

"""Configuration from the environment: a bad value stops the start, naming the variable.

Each case starts a fresh Python with only the given environment (plus PATH and HOME) and runs
django.setup() with alertui.settings, as `manage.py` and the WSGI server do at start.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SETUP = "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='alertui.settings'; django.setup()"
SHOW = SETUP + (
    "\nimport json\nfrom django.conf import settings as s\n"
    "print(json.dumps({'engine': s.DATABASES['default']['ENGINE'],"
    " 'database': s.DATABASES['default'].get('NAME'),"
    " 'db_host': s.DATABASES['default'].get('HOST'),"
    " 'db_user': s.DATABASES['default'].get('USER'),"
    " 'db_health_checks': s.DATABASES['default'].get('CONN_HEALTH_CHECKS'),"
    " 'forwarded_proxies': [str(n) for n in s.FORWARDED_PROXIES],"
    " 'header_proxies': [str(n) for n in s.TRUSTED_HEADER_PROXIES],"
    " 'static_root': str(s.STATIC_ROOT),"
    " 'alertmanagers': s.ALERTMANAGER_URLS,"
    " 'alertmanager_link': s.ALERTMANAGER_EXTERNAL_URL,"
    " 'timeout': s.ALERTMANAGER_TIMEOUT,"
    " 'max_duration': s.SILENCE_MAX_DURATION,"
    " 'default_duration': s.SILENCE_DEFAULT_DURATION,"
    " 'secret_key': s.SECRET_KEY,"
    " 'debug': s.DEBUG,"
    " 'backends': s.AUTHENTICATION_BACKENDS,"
    " 'secure_cookies': s.SESSION_COOKIE_SECURE}))"
)
GOOD_KEY = "k" * 50


def start(env: dict[str, str], code: str = SETUP) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def refusal(env: dict[str, str], code: str = SETUP) -> str:
    """The last line of the traceback of a start that must fail."""
    result = start(env, code)
    assert result.returncode != 0, f"started with {env}:\n{result.stdout}"
    return result.stderr.strip().splitlines()[-1]


def effective(env: dict[str, str]) -> dict:
    result = start(env, SHOW)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


# -- refused ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"SECRET_KEY": None}, "SECRET_KEY must be set"),
        ({"SECRET_KEY": "   "}, "SECRET_KEY must be set"),
        ({"DEBUG": "maybe"}, "DEBUG must be true or false, not 'maybe'"),
        ({"ALERTMANAGER_URL": "ftp://x"}, "ALERTMANAGER_URL: 'ftp://x' is not an http(s) URL"),
        ({"ALERTMANAGER_URL": "am:9093"}, "ALERTMANAGER_URL: 'am:9093' is not an http(s) URL"),
        (
            {"ALERTMANAGER_URL": "http://a:9093,ftp://b"},
            "ALERTMANAGER_URL: 'ftp://b' is not an http(s) URL",
        ),
        ({"ALERTMANAGER_URL": " , "}, "ALERTMANAGER_URL must name at least one Alertmanager"),
        ({"PROMETHEUS_URL": "localhost"}, "PROMETHEUS_URL: 'localhost' is not an http(s) URL"),
        ({"ALERTMANAGER_TIMEOUT": "abc"}, "ALERTMANAGER_TIMEOUT must be a whole number"),
        ({"ALERTMANAGER_TIMEOUT": "0"}, "ALERTMANAGER_TIMEOUT must be at least 1"),
        ({"ALERTMANAGER_MAX_RESPONSE_MB": "0"}, "ALERTMANAGER_MAX_RESPONSE_MB must be at least 1"),
        (
            {"ALERTMANAGER_USERNAME": "alertui"},
            "ALERTMANAGER_USERNAME and ALERTMANAGER_PASSWORD (or ALERTMANAGER_PASSWORD_FILE) go",
        ),
        ({"PROMETHEUS_PASSWORD": "pw"}, "PROMETHEUS_USERNAME and PROMETHEUS_PASSWORD (or"),
        (
            {
                "ALERTMANAGER_USERNAME": "alertui",
                "ALERTMANAGER_PASSWORD": "pw",
                "ALERTMANAGER_BEARER_TOKEN": "token",
            },
            "ALERTMANAGER_USERNAME and ALERTMANAGER_BEARER_TOKEN: give basic auth or a token",
        ),
        (
            {"ALERTMANAGER_URL": "http://u:pw@am:9093", "ALERTMANAGER_BEARER_TOKEN": "token"},
            "ALERTMANAGER_URL: 'http://***@am:9093' carries credentials and ALERTMANAGER_USERNAME"
            " or ALERTMANAGER_BEARER_TOKEN gives them too; give them once",
        ),
        (
            {"ALERTMANAGER_PASSWORD_FILE": "/nonexistent", "ALERTMANAGER_USERNAME": "alertui"},
            "ALERTMANAGER_PASSWORD_FILE: cannot read '/nonexistent'",
        ),
        ({"PROMETHEUS_CA_FILE": "/nonexistent/ca.pem"}, "PROMETHEUS_CA_FILE: cannot read"),
        (
            {"ALERTMANAGER_CLIENT_CERT_FILE": "/etc/hostname"},
            "ALERTMANAGER_CLIENT_CERT_FILE and ALERTMANAGER_CLIENT_KEY_FILE go together",
        ),
        ({"PROMETHEUS_INSECURE_SKIP_VERIFY": "maybe"}, "PROMETHEUS_INSECURE_SKIP_VERIFY must be"),
        (
            {"ALERTMANAGER_EXTERNAL_URL": "https://u:pw@am.example.com"},
            "ALERTMANAGER_EXTERNAL_URL must not carry credentials",
        ),
        ({"SILENCE_MAX_DURATION": "forever"}, "SILENCE_MAX_DURATION: 'forever' is not a duration"),
        ({"SILENCE_DEFAULT_DURATION": "0h"}, "SILENCE_DEFAULT_DURATION: The duration must be"),
        ({"SYNC_SILENCES_INTERVAL": "often"}, "SYNC_SILENCES_INTERVAL: 'often' is not a"),
        ({"SECURE_COOKIES": "sometimes"}, "SECURE_COOKIES must be true or false"),
        ({"SESSION_COOKIE_AGE": "10"}, "SESSION_COOKIE_AGE must be at least 60"),
        (
            {"SILENCE_STALE_EXPIRE_HOURS": "100000000"},
            "SILENCE_STALE_EXPIRE_HOURS must be at most 87600",
        ),
        ({"DATABASE_URL": "nonsense://"}, "DATABASE_URL: Scheme 'nonsense://' is unknown"),
        ({"SECRET_KEY_FILE": "/nonexistent"}, "SECRET_KEY_FILE: cannot read '/nonexistent'"),
        ({"TRUSTED_HEADER": "X-Forwarded-User"}, "TRUSTED_HEADER_PROXIES must list"),
        (
            {"FORWARDED_PROXIES": "10.0.0.0/8,ingress.example.com"},
            "FORWARDED_PROXIES: 'ingress.example.com' is not an IP address or network",
        ),
        (
            {"TRUSTED_HEADER_PROXIES": "10.0.0.300"},
            "TRUSTED_HEADER_PROXIES: '10.0.0.300' is not an IP address or network",
        ),
        (
            {
                "TRUSTED_HEADER": "X-Forwarded-User",
                "TRUSTED_HEADER_PROXIES": "10.0.0.5",
                "TRUSTED_HEADER_DEFAULT_ROLE": "admin",
            },
            "TRUSTED_HEADER_DEFAULT_ROLE must be viewer or silencer",
        ),
    ],
    ids=lambda v: ",".join(v) if isinstance(v, dict) else None,
)
def test_it_refuses_to_start_with_a_bad_setting_and_names_it(env, says):
    # A good SECRET_KEY unless the case is about it (None: unset).
    env = {k: v for k, v in {"SECRET_KEY": GOOD_KEY, **env}.items() if v is not None}
    line = refusal(env)
    assert line.startswith("django.core.exceptions.ImproperlyConfigured: "), line
    assert says in line


def test_it_refuses_to_start_the_web_app_with_a_bad_proxy_address():
    env = {
        "SECRET_KEY": GOOD_KEY,
        "TRUSTED_HEADER": "X-Forwarded-User",
        "TRUSTED_HEADER_PROXIES": "10.0.0.5,proxy.example.com",
    }
    line = refusal(env, "import alertui.wsgi")
    assert line.startswith("django.core.exceptions.ImproperlyConfigured: "), line
    assert "TRUSTED_HEADER_PROXIES" in line
    assert "proxy.example.com" in line


# -- accepted --------------------------------------------------------------------------------


def test_it_uses_postgresql_for_a_postgres_database_url():
    found = effective({"SECRET_KEY": GOOD_KEY, "DATABASE_URL": "postgres://u@h/db"})
    assert found["engine"] == "django.db.backends.postgresql"
    assert (found["database"], found["db_host"], found["db_user"]) == ("db", "h", "u")


def test_it_checks_each_kept_postgresql_connection_before_reusing_it():
    # A connection killed by a failover or a PostgreSQL restart is replaced, not used and failed.
    found = effective({"SECRET_KEY": GOOD_KEY, "DATABASE_URL": "postgres://u@h/db"})
    assert found["db_health_checks"] is True


def test_it_reads_proxy_lists_as_networks_with_ipv4_mapped_entries_as_ipv4():
    found = effective(
        {
            "SECRET_KEY": GOOD_KEY,
            "FORWARDED_PROXIES": "10.0.0.5, 10.1.0.0/16,fd00::/8,::ffff:10.2.0.0/112",
            "TRUSTED_HEADER_PROXIES": "::ffff:192.0.2.1",
        }
    )
    assert found["forwarded_proxies"] == ["10.0.0.5/32", "10.1.0.0/16", "fd00::/8", "10.2.0.0/16"]
    assert found["header_proxies"] == ["192.0.2.1/32"]


def test_it_reads_where_the_static_files_are_collected(tmp_path):
    assert effective({"SECRET_KEY": GOOD_KEY})["static_root"] == str(ROOT / "staticfiles")
    found = effective({"SECRET_KEY": GOOD_KEY, "STATIC_ROOT": str(tmp_path)})
    assert found["static_root"] == str(tmp_path)


def test_it_uses_sqlite_in_the_project_without_a_database_url():
    found = effective({"SECRET_KEY": GOOD_KEY})
    assert found["engine"] == "django.db.backends.sqlite3"
    assert found["database"] == str(ROOT / "alertui.sqlite3")


def test_it_reads_the_peers_of_an_alertmanager_cluster():
    found = effective(
        {"SECRET_KEY": GOOD_KEY, "ALERTMANAGER_URL": "http://am1:9093/, https://am2.example:9093"}
    )
    assert found["alertmanagers"] == ["http://am1:9093", "https://am2.example:9093"]
    assert found["alertmanager_link"] == "http://am1:9093"


def test_it_has_documented_defaults():
    found = effective({"SECRET_KEY": GOOD_KEY})
    assert found["alertmanagers"] == ["http://127.0.0.1:9093"]
    assert found["timeout"] == 10
    assert found["max_duration"] == 30 * 86400
    assert found["default_duration"] == 2 * 3600
    assert found["debug"] is False
    assert found["secure_cookies"] is True
    assert found["backends"] == [
        "axes.backends.AxesStandaloneBackend",  # login rate limiting comes first
        "django.contrib.auth.backends.ModelBackend",
    ]


def test_it_reads_durations_and_numbers_as_people_write_them():
    found = effective(
        {
            "SECRET_KEY": GOOD_KEY,
            "SILENCE_MAX_DURATION": "1d 12h",
            "SILENCE_DEFAULT_DURATION": "90m",
            "ALERTMANAGER_TIMEOUT": " 4 ",
        }
    )
    assert found["max_duration"] == 36 * 3600
    assert found["default_duration"] == 90 * 60
    assert found["timeout"] == 4


def test_it_starts_without_a_secret_key_in_debug_mode():
    found = effective({"DEBUG": "true"})
    assert found["debug"] is True
    assert found["secret_key"]
    assert found["secure_cookies"] is False


def test_it_reads_a_secret_from_a_file_before_the_variable(tmp_path):
    secret = tmp_path / "secret_key"
    secret.write_text("from-the-mounted-secret-file\n")
    found = effective({"SECRET_KEY": "from-the-variable", "SECRET_KEY_FILE": str(secret)})
    assert found["secret_key"] == "from-the-mounted-secret-file"


def test_it_puts_the_trusted_header_backend_first_when_enabled():
    found = effective(
        {
            "SECRET_KEY": GOOD_KEY,
            "TRUSTED_HEADER": "X-Forwarded-User",
            "TRUSTED_HEADER_PROXIES": "10.0.0.5,10.1.0.0/16",
        }
    )
    assert found["backends"] == [
        "axes.backends.AxesStandaloneBackend",
        "alertui.accounts.backends.TrustedHeaderBackend",
        "django.contrib.auth.backends.ModelBackend",
    ]


# -- credentials ---------------------------------------------------------------------------------

CONNECTIONS = SETUP + (
    "\nimport json\nfrom django.conf import settings as s\n"
    "print(json.dumps({'alertmanagers': s.ALERTMANAGER_URLS,"
    " 'prometheus': s.PROMETHEUS_URLS,"
    " 'alertmanager_link': s.ALERTMANAGER_EXTERNAL_URL,"
    " 'repr': repr(s.ALERTMANAGER_CONNECTIONS) + repr(s.PROMETHEUS_CONNECTIONS),"
    " 'auth': {u: [c.basic_auth.username, c.basic_auth.password, c.bearer_token]"
    "  if c.basic_auth else [None, None, c.bearer_token]"
    "  for u, c in {**s.ALERTMANAGER_CONNECTIONS, **s.PROMETHEUS_CONNECTIONS}.items()},"
    " 'tls': {u: [c.tls.ca_file, c.tls.cert_file, c.tls.key_file, c.tls.insecure_skip_verify]"
    "  for u, c in s.PROMETHEUS_CONNECTIONS.items()}}))"
)


def connections(env: dict[str, str]) -> tuple[dict, str]:
    result = start({"SECRET_KEY": GOOD_KEY, **env}, CONNECTIONS)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout), result.stdout


def test_it_takes_credentials_out_of_the_urls_and_sends_them_as_basic_auth():
    found, _ = connections(
        {
            "ALERTMANAGER_URL": "https://alertui:s3cr%40t@am-0:9093/, http://am-1:9093",
            "PROMETHEUS_URL": "https://reader:hunter2@prometheus:9090",
        }
    )

    assert found["alertmanagers"] == ["https://am-0:9093", "http://am-1:9093"]
    assert found["prometheus"] == ["https://prometheus:9090"]
    assert found["alertmanager_link"] == "https://am-0:9093"
    assert found["auth"] == {
        "https://am-0:9093": ["alertui", "s3cr@t", ""],
        "http://am-1:9093": [None, None, ""],
        "https://prometheus:9090": ["reader", "hunter2", ""],
    }
    assert "s3cr" not in found["repr"] and "hunter2" not in found["repr"]


def test_it_reads_credentials_and_tls_options_with_secrets_from_files(tmp_path):
    (tmp_path / "password").write_text("from-the-secret-file\n")
    (tmp_path / "token").write_text("token-from-a-file\n")
    pem = tmp_path / "some.pem"
    pem.write_text("not parsed at start")
    found, _ = connections(
        {
            "ALERTMANAGER_URL": "https://am:9093",
            "ALERTMANAGER_BEARER_TOKEN_FILE": str(tmp_path / "token"),
            "PROMETHEUS_URL": "https://prometheus:9090",
            "PROMETHEUS_USERNAME": "reader",
            "PROMETHEUS_PASSWORD_FILE": str(tmp_path / "password"),
            "PROMETHEUS_CA_FILE": str(pem),
            "PROMETHEUS_CLIENT_CERT_FILE": str(pem),
            "PROMETHEUS_CLIENT_KEY_FILE": str(pem),
            "PROMETHEUS_INSECURE_SKIP_VERIFY": "true",
        }
    )

    assert found["auth"] == {
        "https://am:9093": [None, None, "token-from-a-file"],
        "https://prometheus:9090": ["reader", "from-the-secret-file", ""],
    }
    assert found["tls"] == {"https://prometheus:9090": [str(pem), str(pem), str(pem), True]}
    assert "from-a-file" not in found["repr"] and "from-the-secret" not in found["repr"]


def test_a_refused_url_is_named_without_its_credentials():
    result = start({"SECRET_KEY": GOOD_KEY, "ALERTMANAGER_URL": "ftp://alertui:hunter2@am"})

    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == (
        "django.core.exceptions.ImproperlyConfigured: ALERTMANAGER_URL: 'ftp://am' is not an "
        "http(s) URL"
    )
    assert "hunter2" not in result.stderr


# The two readers: servers with credentials (env_connections) and plain URLs (env_urls).
@pytest.mark.parametrize("variable", ["ALERTMANAGER_URL", "NOTIFY_WEBHOOK_URLS"])
@pytest.mark.parametrize("password", ["Zm9v/YmFy+cXV4", "Zm9v#YmFy", "1234?YmFy"])
def test_it_refuses_credentials_it_cannot_take_out_of_a_url(variable, password):
    """A generated password often holds / ? or #: unencoded in a URL, it ends the host part
    early, so the URL kept whole (shown on pages, in the audit, in logs) would carry it."""
    url = f"https://alertui:{password}@server.example.com:9093"
    result = start({"SECRET_KEY": GOOD_KEY, variable: url})

    assert result.returncode != 0, f"started with {url}"
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith(f"django.core.exceptions.ImproperlyConfigured: {variable}: "), line
    assert "percent-encode" in line
    assert "YmFy" not in result.stderr and "Zm9v" not in result.stderr


# Links everyone sees: the header's Alertmanager link, and the links in every notice.
@pytest.mark.parametrize("variable", ["ALERTMANAGER_EXTERNAL_URL", "SITE_URL"])
@pytest.mark.parametrize(
    "url",
    [
        "https://alertui:Zm9vYmFy@site.example.com",
        "https://alertui:Zm9v/YmFy@site.example.com",  # unencoded: host "alertui", path "/...@"
        "https://Zm9v/YmFy@site.example.com/",
        "https://Zm9vYmFy@site.example.com",
        "https://alertui:Zm9v%2FYmFy@site.example.com",
    ],
)
def test_it_refuses_credentials_in_a_url_everyone_sees(variable, url):
    result = start({"SECRET_KEY": GOOD_KEY, variable: url})

    assert result.returncode != 0, f"started with {variable}={url}"
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith(
        f"django.core.exceptions.ImproperlyConfigured: {variable} must not carry credentials"
    ), line
    assert "Zm9v" not in result.stderr


@pytest.mark.parametrize("variable", ["ALERTMANAGER_URL", "PROMETHEUS_URL"])
@pytest.mark.parametrize(
    "url", ["https://am.example.com/?access_token=Zm9vYmFy", "https://am.example.com/am?t=Zm9vYmFy"]
)
def test_it_refuses_a_server_url_with_a_query_that_pages_would_show(variable, url):
    # Paths are appended to the URL, so a query could never work; a token in it would be shown
    # on pages and in /metrics.
    result = start({"SECRET_KEY": GOOD_KEY, variable: url})

    assert result.returncode != 0
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith(f"django.core.exceptions.ImproperlyConfigured: {variable}: "), line
    assert "must not have a query string" in line
    assert "Zm9v" not in result.stderr


@pytest.mark.parametrize("variable", ["NOTIFY_SLACK_WEBHOOK_URL", "NOTIFY_WEBHOOK_URLS"])
def test_a_webhook_url_it_cannot_read_is_refused_without_repeating_it(variable):
    # The scheme forgotten: the message must not print the URL, whose path is the secret.
    result = start({"SECRET_KEY": GOOD_KEY, variable: "hooks.slack.com/services/T0/B0/Zm9vYmFy"})

    assert result.returncode != 0
    line = result.stderr.strip().splitlines()[-1]
    assert line == (
        f"django.core.exceptions.ImproperlyConfigured: {variable}: an entry is not an http(s) "
        "URL (http:// or https:// and a host)"
    )
    assert "Zm9v" not in result.stderr


def test_it_still_reads_urls_with_an_at_sign_percent_encoded():
    found = effective(
        {"SECRET_KEY": GOOD_KEY, "ALERTMANAGER_URL": "https://alertui:Zm9v%2FYm%40Fy@am:9093"}
    )
    assert found["alertmanagers"] == ["https://am:9093"]


DEBUG_PAGE = SETUP + (
    "\nimport sys\nfrom django.test import RequestFactory\n"
    "from django.views.debug import technical_500_response\n"
    "try:\n    raise RuntimeError('boom')\nexcept RuntimeError:\n"
    "    page = technical_500_response(RequestFactory().get('/'), *sys.exc_info())\n"
    "print(page.content.decode())"
)


def test_the_debug_error_page_hides_urls_that_carry_secrets():
    # DEBUG=true lists every setting on an error page; Django hides only names like KEY or PASS.
    result = start(
        {
            "DEBUG": "true",
            "NOTIFY_SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T0/B0/Zm9vYmFy",
            "NOTIFY_WEBHOOK_URLS": "https://hooks.example.com/in?token=c2VjcmV0",
            "REDIS_URL": "redis://:cmVkaXNwYXNz@redis.example.com:6379/0",
        },
        DEBUG_PAGE,
    )

    assert result.returncode == 0, result.stderr
    assert "NOTIFY_SLACK_WEBHOOK_URL" in result.stdout  # the page lists the settings...
    for secret in ("Zm9vYmFy", "c2VjcmV0", "cmVkaXNwYXNz"):
        assert secret not in result.stdout  # ...without these

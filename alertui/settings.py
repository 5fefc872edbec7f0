"""alertui settings: everything comes from the environment, with defaults for a local demo.

Unset DATABASE_URL means SQLite in the project folder; set, it is any database URL Django
supports (PostgreSQL in production). Invalid values stop the start with a message naming the
variable (see alertui/env.py).
"""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from alertui.clusters import from_environment
from alertui.env import (
    env_bool,
    env_duration_seconds,
    env_int,
    env_list,
    env_networks,
    env_str,
    env_urls,
    refuse_credentials,
)
from alertui.scopes.config import from_environment as scopes_from_environment
from alertui.sync.registry import KINDS as SYNC_KINDS
from alertui.sync.schedule import beat_schedule, sync_time_limits

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set (or DEBUG=true for a local demo)")
    SECRET_KEY = "insecure-local-development-key-do-not-deploy"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# alertui's own apps, each a folder of alertui/.
_ALERTUI_APPS = (
    "accounts sync alerts silences audit targets rules api notices maintenance nav policy scopes"
    " stale_silences silence_templates acks"
)
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "django_filters",
    "axes",
    "rest_framework",
    "drf_spectacular",
    "knox",
    *(f"alertui.{app}" for app in _ALERTUI_APPS.split()),
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "alertui.middleware.RejectNulMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "alertui.accounts.middleware.TrustedHeaderMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a lockout into the lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "alertui.urls"
WSGI_APPLICATION = "alertui.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "alertui.context_processors.navigation",
            ],
        },
    },
]

_database_url = env_str("DATABASE_URL")
if _database_url:
    try:
        # Connections are kept for a minute; each is checked before its first use in a request,
        # so after a failover or a restart of PostgreSQL the first request gets a fresh one
        # instead of failing on the dead one.
        DATABASES = {
            "default": dj_database_url.parse(
                _database_url, conn_max_age=60, conn_health_checks=True
            )
        }
    except ValueError as e:
        raise ImproperlyConfigured(f"DATABASE_URL: {e}") from None
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH", str(BASE_DIR / "alertui.sqlite3")),
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                # Write-ahead log: readers (a page, a slow CSV download) no longer block writers
                # until "database is locked", nor writers readers. Stored in the file; set on
                # every connection so an existing database file is switched too.
                "init_command": "PRAGMA journal_mode=WAL",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The most audit events one CSV export holds; a longer one ends with a line saying so.
AUDIT_EXPORT_MAX_ROWS = env_int("AUDIT_EXPORT_MAX_ROWS", 100_000, minimum=1)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # First: refuses logins for a username and address with too many recent failures.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Login rate limiting: after AXES_FAILURE_LIMIT failures for one username from one address,
# that pair is locked out for AXES_COOLOFF_TIME.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(seconds=env_duration_seconds("LOGIN_LOCKOUT", "15m"))
# The pair, never the username alone: nobody can lock a person out everywhere by failing
# their password from one address.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# The client's own address behind the ingress (FORWARDED_PROXIES), as the audit records it.
# Without it every client behind the ingress shares one address, and five wrong passwords from
# anyone lock the username for everyone.
AXES_CLIENT_IP_CALLABLE = "alertui.proxies.client_address"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
# Says why when the CSRF cookie never arrived (HTTPS-only cookies over plain http).
CSRF_FAILURE_VIEW = "alertui.accounts.views.csrf_failure"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

# Trusted-header login for deployments behind an SSO proxy (oauth2-proxy, Authelia, ...).
# Off unless a header is named; honoured only from the listed proxy addresses.
TRUSTED_HEADER = env_str("TRUSTED_HEADER")
TRUSTED_HEADER_PROXIES = env_networks("TRUSTED_HEADER_PROXIES")
TRUSTED_HEADER_DEFAULT_ROLE = env_str("TRUSTED_HEADER_DEFAULT_ROLE", "viewer")
if TRUSTED_HEADER:
    if not TRUSTED_HEADER_PROXIES:
        raise ImproperlyConfigured(
            "TRUSTED_HEADER_PROXIES must list the proxy addresses allowed to set TRUSTED_HEADER"
        )
    if TRUSTED_HEADER_DEFAULT_ROLE not in ("viewer", "silencer"):
        raise ImproperlyConfigured("TRUSTED_HEADER_DEFAULT_ROLE must be viewer or silencer")
    AUTHENTICATION_BACKENDS.insert(1, "alertui.accounts.backends.TrustedHeaderBackend")

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
# Where `manage.py collectstatic` writes and the web server reads the static files.
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Security --------------------------------------------------------------------------------
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 14 * 86400, minimum=60)
# TLS is usually terminated by an ingress or proxy: trust its X-Forwarded-Proto only when told.
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
# Addresses or networks of the ingress or load balancers in front of alertui: from these peers
# the client address for the audit and the login lockout is read from X-Forwarded-For. `unix`
# stands for the peer of a Unix socket, which has no address (a proxy on the same machine).
FORWARDED_PROXIES = env_networks("FORWARDED_PROXIES", unix_socket=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# No inline script or style anywhere: labels and annotations are attacker-controlled, and this
# policy keeps an escaping mistake from becoming script execution.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

# --- Sources ------------------------------------------------------------------------------
# Each URL with its credentials and TLS options (alertui.env.env_connections); the URLs
# themselves never carry credentials, as pages, /metrics and audited errors show them.
# Several clusters come from a YAML file (alertui/clusters.py); without one, ALERTMANAGER_URL
# and PROMETHEUS_URL are one cluster named CLUSTER_NAME. Rows made before there were clusters
# belong to CLUSTER_NAME after `migrate`.
CLUSTER_NAME, CLUSTERS, ALERTMANAGER_CONNECTIONS, PROMETHEUS_CONNECTIONS = from_environment()
ALERTMANAGER_URLS = list(ALERTMANAGER_CONNECTIONS)
if not ALERTMANAGER_URLS:
    raise ImproperlyConfigured("ALERTMANAGER_URL must name at least one Alertmanager")
PROMETHEUS_URLS = list(PROMETHEUS_CONNECTIONS)
# Scopes given in a file (alertui/scopes/config.py), beside those made in the admin.
SCOPES = scopes_from_environment([c.name for c in CLUSTERS] or [CLUSTER_NAME])
# Seconds one call to one server may take, all of it: connecting, sending, reading the answer.
ALERTMANAGER_TIMEOUT = env_int("ALERTMANAGER_TIMEOUT", 10, minimum=1)
PROMETHEUS_TIMEOUT = env_int("PROMETHEUS_TIMEOUT", 10, minimum=1)
# The largest answer read from one server, in MB (10^6 bytes); larger ones are an error.
ALERTMANAGER_MAX_RESPONSE_MB = env_int("ALERTMANAGER_MAX_RESPONSE_MB", 100, minimum=1)
PROMETHEUS_MAX_RESPONSE_MB = env_int("PROMETHEUS_MAX_RESPONSE_MB", 100, minimum=1)
# Where the "Alertmanager" link in the page header points; the first peer by default.
# Every user sees the link; credentials in it cannot become basic auth of a browser.
ALERTMANAGER_EXTERNAL_URL = refuse_credentials(
    "ALERTMANAGER_EXTERNAL_URL", env_str("ALERTMANAGER_EXTERNAL_URL", ALERTMANAGER_URLS[0])
)

ALERTS_REFRESH_SECONDS = env_int("ALERTS_REFRESH_SECONDS", 10, minimum=2)
# Memory each web process may keep for the alerts page's caches (rendered pages, alert HTML,
# filtered views, compiled filter regexes), in MiB; entries beyond it are evicted, oldest first.
ALERTS_CACHE_MB = env_int("ALERTS_CACHE_MB", 32, minimum=1)
# Labels whose values get a colour of their own on the alerts page (the same value, the same
# colour, on every page and for everyone), so one cluster or namespace stands out at a glance.
ALERTS_LABEL_COLORS = env_list("ALERTS_LABEL_COLORS", "cluster,namespace,job")

# Optional bearer token Prometheus must send to scrape /metrics (empty: open, as usual inside
# a cluster).
METRICS_TOKEN = env_str("METRICS_TOKEN")

# --- Silences ----------------------------------------------------------------------------
SILENCE_MAX_DURATION = env_duration_seconds("SILENCE_MAX_DURATION", "30d")
SILENCE_DEFAULT_DURATION = env_duration_seconds("SILENCE_DEFAULT_DURATION", "2h")
POLICY_FILE = env_str("POLICY_FILE")  # silence policy rules, read-only (alertui/policy/config.py)
SILENCE_STALE_AFTER = env_duration_seconds("SILENCE_STALE_AFTER", "1h")  # "stale" on the list
SILENCE_STALE_EXPIRE_HOURS = env_int("SILENCE_STALE_EXPIRE_HOURS", 0, maximum=87600)  # 0: off

# --- The JSON API (/api/v1/) ------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "alertui.api.auth.ApiTokenAuthentication",
        # The browser session, so a logged-in person can read the API (CSRF still enforced).
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "alertui.api.schema.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "alertui.api.pagination.Pagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "alertui.api.errors.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"user": env_str("API_RATE_LIMIT", "600/minute")},
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.UserRateThrottle"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "alertui API",
    "DESCRIPTION": (
        "Silences, alerts, failing targets and the audit history of alertui. Authenticate "
        "with a personal API token: `Authorization: Token <token>`."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
}
# Personal API tokens (django-rest-knox): stored hashed, shown once, revocable by their owner.
KNOX_TOKEN_MODEL = "api.ApiToken"  # swaps out knox's own table...
# ...which knox's migrations would create anyway, with a foreign key to users that blocks
# deleting them and PostgreSQL's TRUNCATE in tests.
MIGRATION_MODULES = {"knox": None}
REST_KNOX = {
    "TOKEN_MODEL": KNOX_TOKEN_MODEL,
    "TOKEN_TTL": None,  # each token gets the expiry its owner chose
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
}
API_TOKEN_MAX_AGE = env_duration_seconds("API_TOKEN_MAX_AGE", "365d")

# --- Notices (Slack and webhooks) ------------------------------------------------------------
# Where links in notices point: the address people open alertui at.
# In every notice: checked for credentials before anything else reads it.
refuse_credentials("SITE_URL", env_str("SITE_URL"))
SITE_URL = env_urls("SITE_URL", "http://localhost:8000")[0]
NOTIFY_SLACK_WEBHOOK_URL = next(iter(env_urls("NOTIFY_SLACK_WEBHOOK_URL")), "")
NOTIFY_WEBHOOK_URLS = env_urls("NOTIFY_WEBHOOK_URLS")
NOTIFY_TIMEOUT = env_int("NOTIFY_TIMEOUT", 10, minimum=1)
NOTIFY_MAX_RETRIES = env_int("NOTIFY_MAX_RETRIES", 6)
# A reminder is sent this long before a silence that still mutes firing alerts expires.
NOTIFY_REMINDER_BEFORE = env_duration_seconds("NOTIFY_REMINDER_BEFORE", "15m")
NOTIFY_REMINDER_INTERVAL = env_duration_seconds("NOTIFY_REMINDER_INTERVAL", "1m")

# --- Celery and Redis ----------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
# Prefix of the Redis lock keys: two alertui installations sharing one Redis need different ones.
LOCK_PREFIX = env_str("LOCK_PREFIX", "alertui")
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Queueing a task (a notice, from inside a silence change) waits at most about a second on a
# broker that accepts connections but never answers, and is not retried: what could not be
# queued stays pending and the sweep (requeue-stalled-notices) queues it later. Without these,
# kombu waits on the socket for ever. Workers read with the event loop, unaffected.
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_timeout": 1, "socket_connect_timeout": 1}
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 0}
SYNC_SILENCES_INTERVAL = env_duration_seconds("SYNC_SILENCES_INTERVAL", "15s")
SYNC_ALERTS_INTERVAL = env_duration_seconds("SYNC_ALERTS_INTERVAL", "10s")
SYNC_TARGETS_INTERVAL = env_duration_seconds("SYNC_TARGETS_INTERVAL", "30s")
PRUNE_INTERVAL = env_duration_seconds("PRUNE_INTERVAL", "1h")
# How long alert and target history is kept. The silence audit history is never pruned.
HISTORY_RETENTION = env_duration_seconds("HISTORY_RETENTION", "90d")
# Maintenance windows: how far ahead their silences are made, and how often the job looks.
MAINTENANCE_HORIZON = env_duration_seconds("MAINTENANCE_HORIZON", "24h")
MAINTENANCE_INTERVAL = env_duration_seconds("MAINTENANCE_INTERVAL", "1m")
ACK_DURATION = env_duration_seconds("ACK_DURATION", "30m")
ACK_MAX_DURATION = env_duration_seconds("ACK_MAX_DURATION", "12h")
ACK_GRACE = env_duration_seconds("ACK_GRACE", "5m")
ACK_INTERVAL = env_duration_seconds("ACK_INTERVAL", "1m")


def _every(task: str, seconds: int) -> dict:
    """A beat entry that expires just before the next is due: no pile-up behind a busy worker."""
    return {"task": task, "schedule": seconds, "options": {"expires": max(1, seconds - 1)}}


# One sync task per kind and cluster (alertui.sync.schedule), with the other periodic jobs.
CELERY_BEAT_SCHEDULE = {
    **beat_schedule(
        sync_time_limits(
            [(c.name, len(c.alertmanagers), len(c.prometheus)) for c in CLUSTERS]
            or [(CLUSTER_NAME, len(ALERTMANAGER_URLS), len(PROMETHEUS_URLS))],
            ALERTMANAGER_TIMEOUT,
            PROMETHEUS_TIMEOUT,
        ),
        {kind.interval_setting: globals()[kind.interval_setting] for kind in SYNC_KINDS},
        prune=PRUNE_INTERVAL,
    ),
    "materialize-maintenance-windows": _every(
        "alertui.maintenance.tasks.materialize_windows", MAINTENANCE_INTERVAL
    ),
    "remind-expiring-silences": _every(
        "alertui.notices.tasks.remind_expiring_silences", NOTIFY_REMINDER_INTERVAL
    ),
    "requeue-stalled-notices": _every("alertui.notices.tasks.requeue_stalled_deliveries", 300),
}

# The DEBUG error page lists the settings: hide the URLs that carry secrets too.
DEFAULT_EXCEPTION_REPORTER_FILTER = "alertui.error_reports.SecretsFilter"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO").upper()},
    # urllib3 writes whole request URLs into its DEBUG lines and some WARNINGs ("Failed to
    # parse headers (url=...)"), and a webhook's URL is its secret (Slack's path is). alertui
    # logs what failed in its own words, without URLs.
    "loggers": {"urllib3": {"level": "ERROR"}},
}

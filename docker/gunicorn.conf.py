"""gunicorn settings for the alertui image (copied to /app/gunicorn.conf.py, which gunicorn reads
from its working directory). Every value comes from the environment, and gunicorn applies
GUNICORN_CMD_ARGS and command-line flags after this file, so any of them can be overridden
without a new image, e.g. GUNICORN_CMD_ARGS="--workers 4 --timeout 90".

Environment (defaults in brackets):
  PORT [8000]                 port to listen on, all IPv4 addresses
  GUNICORN_BIND               full bind address instead, e.g. "[::]:8000" on IPv6-only clusters
  WEB_CONCURRENCY [2]         worker processes (about 1-2 per CPU core given to the container)
  GUNICORN_THREADS [4]        threads per worker; each thread may hold a database connection
  GUNICORN_TIMEOUT [60]       seconds a silent worker lives before it is restarted
  FORWARDED_ALLOW_IPS [127.0.0.1,::1]
                              proxy addresses trusted for X-Forwarded-Proto ("*" when only the
                              ingress or proxy can reach the container). Django itself trusts
                              that header only with BEHIND_TLS_PROXY=true.
  GUNICORN_ACCESS_LOG [-]     "-" for stdout, "" for none; paths without their query string
"""

import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, not {value!r}") from None


bind = [os.environ.get("GUNICORN_BIND") or f"0.0.0.0:{_int('PORT', 8000)}"]
workers = _int("WEB_CONCURRENCY", 2)
# gthread: a slow Alertmanager answer (up to ALERTMANAGER_TIMEOUT) ties up one thread, not a
# whole worker process.
worker_class = "gthread"
threads = _int("GUNICORN_THREADS", 4)
timeout = _int("GUNICORN_TIMEOUT", 60)
# Below Kubernetes' default terminationGracePeriodSeconds (30) and compose's stop timeout (10s
# by default; compose.yml gives the web 30s), so requests in flight finish before a SIGKILL.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 25)
keepalive = 5
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# The heartbeat files go to memory (/dev/shm is a tmpfs in Docker and Kubernetes), not to a
# disk-backed /tmp where fchmod can stall a worker; the root filesystem is read-only anyway.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
# Newer gunicorn opens a control socket under $HOME by default; this image has no writable home.
# (Older versions ignore the unknown setting.)
control_socket_disable = True

accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
# gunicorn's default format logs the whole request line, query string included, and calendar
# feed addresses carry their token there (?token=...): log the path alone (%(U)s), and no
# referrer, which can be such an address too.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(a)s"'
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")

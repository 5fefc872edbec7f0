#!/usr/bin/env bash
# The test command: formatting, lint, missing migrations, then pytest. Arguments go to pytest,
# e.g. `scripts/test.sh -m "not browser" -x tests/test_silences.py`.
#
# Uses PostgreSQL when DATABASE_URL is set (as .ci/run does), else SQLite. Needs Redis at
# REDIS_URL (default 127.0.0.1:6379), started here for the run if it is on loopback and down.
# On a fresh Debian or Ubuntu machine it installs the system packages that are missing (as
# root or with sudo; apt is not touched when nothing is missing).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=scripts/demo/lib.sh
. scripts/demo/lib.sh

# shellcheck disable=SC2046 # a list of package names
apt_install $(test_packages_needed)
ensure_venv dev
export PATH="$ROOT/.venv/bin:$PATH"

# Debian bookworm's, trixie's and sid's Alertmanager/Prometheus for the version-matrix tests
# (tests/servers.py reads the same variable). Cached: after the first run, no network access.
export ALERTUI_BIN_CACHE=${ALERTUI_BIN_CACHE:-$HOME/.cache/alertui/bin}
log "Alertmanager/Prometheus builds in $ALERTUI_BIN_CACHE"
scripts/fetch-upstream-versions.sh "$ALERTUI_BIN_CACHE"
# amtool and promtool for scripts/lint-deploy.sh, unless the machine has its own: the oldest
# versions under test, which know the fewest config fields.
export PATH="$PATH:$ALERTUI_BIN_CACHE/bookworm/usr/bin"

log "ruff format --check"
ruff format --check .
log "ruff check"
ruff check .
log "Dockerfile, compose and Kubernetes manifests (scripts/lint-deploy.sh)"
scripts/lint-deploy.sh
log "makemigrations --check"
# DEBUG=true: settings refuse to load without SECRET_KEY otherwise.
DEBUG=true python manage.py makemigrations --check --dry-run

# Redis for the tests that need one (REDIS_URL, default 127.0.0.1:6379). On loopback and not
# running, one is started for this run and stopped again at exit.
redis_url=${REDIS_URL:-redis://127.0.0.1:6379/0}
if [[ $redis_url =~ ^redis://(127\.0\.0\.1|localhost)(:([0-9]+))?(/|$) ]]; then
  redis_port=${BASH_REMATCH[3]:-6379}
  if ! redis_ping "$redis_port"; then
    port_open "$redis_port" && die "something other than Redis listens on 127.0.0.1:$redis_port"
    command -v redis-server >/dev/null ||
      die "no Redis on 127.0.0.1:$redis_port and no redis-server to start (apt-get install redis-server)"
    redis_dir=$(mktemp -d)
    log "Starting a Redis for this run on 127.0.0.1:$redis_port"
    redis-server --daemonize yes --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no \
      --dir "$redis_dir" --pidfile "$redis_dir/redis.pid" --logfile "$redis_dir/redis.log"
    # shellcheck disable=SC2329 # called by the EXIT trap
    stop_redis() {
      if [[ -s $redis_dir/redis.pid ]]; then kill "$(<"$redis_dir/redis.pid")" 2>/dev/null || true; fi
      sleep 0.5
      rm -rf "$redis_dir"
    }
    trap stop_redis EXIT
    retry 20 0.25 redis_ping "$redis_port" || die "Redis did not start: $(tail -n 5 "$redis_dir/redis.log")"
  fi
fi

# Several pytest processes (pytest-xdist), each with its own Alertmanagers, Prometheus servers,
# test database and Redis key prefix; most tests wait on those servers, so one more process than
# cores keeps the cores busy. A file's tests stay in one process (they share its fixtures).
# PYTEST_WORKERS=0 runs everything in this process.
workers=${PYTEST_WORKERS:-$(($(nproc) + 1 > 4 ? 4 : $(nproc) + 1))}
log "pytest -n $workers $*"
rc=0
pytest -n "$workers" --dist loadfile "$@" || rc=$?
# Exit code 5 means no tests were collected. There always are tests, so that is a failure
# (a wrong path or -k), and it stays non-zero.
((rc != 5)) || warn "pytest collected no tests"
exit "$rc"

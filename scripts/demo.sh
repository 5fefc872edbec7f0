#!/usr/bin/env bash
# One command to see alertui working: real Redis, two clusters ("prod" and "staging", each an
# Alertmanager and a Prometheus with demo alerts, listed in a clusters file), plus the Django
# app, a Celery worker and beat, all on 127.0.0.1.
#
# Usage: scripts/demo.sh [start|services|stop|status|clean]
#   start     (default) install what is missing, start everything, print URL and login
#   services  start only Redis, Alertmanager and Prometheus (run the app yourself, e.g. in an IDE)
#   stop      stop every process this script started (never a Redis it found already running)
#   status    show what is running
#   clean     stop, then delete the state dir (database, silences, logs)
#
# Environment: ALERTUI_PORT (8000), AM_PORT (9093), PROM_PORT (9090), REDIS_PORT (6379),
#   STAGING_AM_PORT (9193), STAGING_PROM_PORT (9190): the staging cluster's,
#   DOWN_PORT (10251, must be closed: the "kube-scheduler" target that is down),
#   ALERTUI_STATE_DIR (.demo), AM_BIN / PROM_BIN (other Alertmanager/Prometheus binaries, e.g.
#   from scripts/fetch-upstream-versions.sh), PYTHON (python3), DATABASE_URL (default: SQLite
#   in the state dir).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/demo/lib.sh
. "$ROOT/scripts/demo/lib.sh"
# shellcheck source=scripts/demo/clusters.sh
. "$ROOT/scripts/demo/clusters.sh"

# Absolute: processes run with the state dir as their working directory.
STATE=$(realpath -m "${ALERTUI_STATE_DIR:-$ROOT/.demo}")
ALERTUI_PORT=${ALERTUI_PORT:-8000}
AM_PORT=${AM_PORT:-9093}
PROM_PORT=${PROM_PORT:-9090}
STAGING_AM_PORT=${STAGING_AM_PORT:-9193}
STAGING_PROM_PORT=${STAGING_PROM_PORT:-9190}
REDIS_PORT=${REDIS_PORT:-6379}
DOWN_PORT=${DOWN_PORT:-10251}
DEMO_USER=oncall
VENV="$ROOT/.venv"

# name:pattern. The pattern must match the process's command line, so a stale pidfile whose
# pid now belongs to an unrelated process is never acted on.
SERVICES=(
  "web:manage.py runserver"
  "beat:celery.* beat"
  "worker:celery.* worker"
  "prometheus:prometheus"
  "alertmanager:alertmanager"
  "prometheus-staging:prometheus"
  "alertmanager-staging:alertmanager"
  "redis:redis-server"
)

# --- process bookkeeping -------------------------------------------------------------------

pattern_of() {
  local entry
  for entry in "${SERVICES[@]}"; do
    [[ ${entry%%:*} == "$1" ]] && echo "${entry#*:}" && return
  done
}

# Print the pid of service $1 if its pidfile names a live process of ours.
our_pid() {
  local pidfile="$STATE/$1.pid" pid
  [[ -f $pidfile ]] || return 1
  pid=$(<"$pidfile")
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qE -- "$(pattern_of "$1")" || return 1
  echo "$pid"
}

# Start a long-running command in the background, in a process group of its own (setsid) so
# that stop can end it together with its children (runserver's reloader, Celery's pool).
start_bg() {
  local name=$1
  shift
  : >"$STATE/$name.log"
  (cd "$STATE" && exec setsid "$@" >>"$STATE/$name.log" 2>&1 </dev/null) &
  echo $! >"$STATE/$name.pid"
}

# Is the process, or any process of its group, still alive?
alive() { kill -0 -- "-$1" 2>/dev/null || kill -0 "$1" 2>/dev/null; }

# Signal a process and its group (ours each lead one; a daemonized Redis too).
signal() { kill "-$1" -- "-$2" 2>/dev/null || kill "-$1" "$2" 2>/dev/null || true; }

# Stop the named services: TERM to all at once, then wait for all (up to 10s), then KILL.
stop_services() {
  local name pid pids=() i
  for name in "$@"; do
    if pid=$(our_pid "$name"); then
      log "Stopping $name (pid $pid)"
      signal TERM "$pid"
      pids+=("$pid")
    fi
    rm -f "$STATE/$name.pid"
  done
  for ((i = 0; i < 40; i++)); do
    for pid in "${pids[@]}"; do
      alive "$pid" && sleep 0.25 && continue 2
    done
    return 0
  done
  for pid in "${pids[@]}"; do
    if alive "$pid"; then
      warn "pid $pid did not stop within 10s; killing it"
      signal KILL "$pid"
    fi
  done
}

fail_with_log() {
  local name=$1
  shift
  warn "last lines of $STATE/$name.log:"
  tail -n 20 "$STATE/$name.log" >&2 || true
  die "$*"
}

# --- installing ----------------------------------------------------------------------------

find_binaries() {
  AM_BIN=${AM_BIN:-$(command -v prometheus-alertmanager || command -v alertmanager || true)}
  PROM_BIN=${PROM_BIN:-$(command -v prometheus || true)}
}

install_missing() {
  local pkgs=() new_services=()
  # shellcheck disable=SC2207
  pkgs+=($(python_packages_needed))
  command -v curl >/dev/null || pkgs+=(curl)
  command -v setsid >/dev/null || pkgs+=(util-linux)
  # A Redis already answering on the port (a system service, a container) is good enough.
  command -v redis-server >/dev/null || redis_ping "$REDIS_PORT" || pkgs+=(redis-server)
  find_binaries
  [[ -n $AM_BIN ]] || { pkgs+=(prometheus-alertmanager) && new_services+=(prometheus-alertmanager); }
  [[ -n $PROM_BIN ]] || { pkgs+=(prometheus) && new_services+=(prometheus); }
  apt_install "${pkgs[@]}"
  find_binaries
  # Debian's postinst may start the packaged services (systemd, or init.d in a container), on
  # all interfaces and on the very ports the demo uses. Installed only for this demo, so stop
  # them, and keep them from starting at boot.
  local svc
  for svc in "${new_services[@]}"; do
    if [[ -d /run/systemd/system ]]; then
      as_root systemctl disable --now "$svc" >/dev/null 2>&1 || true
    elif [[ -x /etc/init.d/$svc ]]; then
      as_root "/etc/init.d/$svc" stop >/dev/null 2>&1 || true
    fi
  done
  [[ -x $AM_BIN && -x $PROM_BIN ]] || die "Alertmanager or Prometheus binary not found"
}

# --- configs -------------------------------------------------------------------------------

render_configs() {
  local conf="$STATE/config"
  mkdir -p "$conf"
  local cluster am prom
  for cluster in prod staging; do
    am=$AM_PORT prom=$PROM_PORT
    [[ $cluster == prod ]] || am=$STAGING_AM_PORT prom=$STAGING_PROM_PORT
    mkdir -p "$conf/$cluster"
    sed -e "s/@AM_PORT@/$am/g" -e "s/@PROM_PORT@/$prom/g" -e "s/@DOWN_PORT@/$DOWN_PORT/g" \
      -e "s/@CLUSTER@/$cluster/g" "$ROOT/scripts/demo/prometheus.yml" >"$conf/$cluster/prometheus.yml"
    cp "$ROOT/scripts/demo/rules.yml" "$conf/$cluster/"
  done
  cp "$ROOT/scripts/demo/alertmanager.yml" "$conf/"
  # The two clusters alertui shows (README, "Several clusters").
  cat >"$conf/clusters.yaml" <<EOF
clusters:
  - name: prod
    alertmanagers: [http://127.0.0.1:$AM_PORT]
    prometheus: [http://127.0.0.1:$PROM_PORT]
  - name: staging
    alertmanagers: [http://127.0.0.1:$STAGING_AM_PORT]
    prometheus: [http://127.0.0.1:$STAGING_PROM_PORT]
EOF
  # Catch a broken config here, with a clear message, rather than as a crash in a log file.
  if command -v amtool >/dev/null; then
    amtool check-config "$conf/alertmanager.yml" >/dev/null || die "alertmanager.yml is invalid"
  fi
  if command -v promtool >/dev/null; then
    promtool check config "$conf/prod/prometheus.yml" >/dev/null || die "prometheus.yml is invalid"
  fi
}

# --- services ------------------------------------------------------------------------------

require_free_port() {
  ! port_open "$2" || die "port $2 ($1) is already in use by another program; set $3 to another port"
}

start_redis() {
  if redis_ping "$REDIS_PORT"; then
    log "Using the Redis already running on 127.0.0.1:$REDIS_PORT"
    return
  fi
  require_free_port Redis "$REDIS_PORT" REDIS_PORT
  log "Starting Redis on 127.0.0.1:$REDIS_PORT"
  # Daemonizes itself and writes its own pidfile. No persistence: it only holds the Celery
  # queue and locks.
  : >"$STATE/redis.log"
  redis-server --daemonize yes --port "$REDIS_PORT" --bind 127.0.0.1 \
    --pidfile "$STATE/redis.pid" --dir "$STATE" --logfile "$STATE/redis.log" \
    --save "" --appendonly no
  retry 20 0.25 redis_ping "$REDIS_PORT" || fail_with_log redis "Redis did not start"
}

# Wait (up to 30s) until every demo alert has reached Alertmanager, so the first sync fills
# the dashboard. Not fatal: the beat schedule picks them up later anyway.
wait_for_alerts() {
  local want=(AlwaysFiring HighErrorRate DiskWillFillIn4Hours TargetDown) body name i missing
  log "Waiting for the demo alerts to reach Alertmanager"
  for ((i = 0; i < 60; i++)); do
    body=$(curl -fsS --max-time 2 "http://127.0.0.1:$AM_PORT/api/v2/alerts" 2>/dev/null || true)
    missing=()
    for name in "${want[@]}"; do
      [[ $body == *"\"alertname\":\"$name\""* ]] || missing+=("$name")
    done
    ((${#missing[@]})) || return 0
    sleep 0.5
  done
  warn "not in Alertmanager after 30s: ${missing[*]} (see $STATE/prometheus.log)"
}

# --- the app -------------------------------------------------------------------------------

# Keep secrets stable across restarts: same login, and sessions survive a re-run.
secret_file() {
  local file="$STATE/$1"
  if [[ ! -s $file ]]; then
    (umask 077 && "$VENV/bin/python" -c "import secrets; print(secrets.token_urlsafe($2))" >"$file")
  fi
  cat "$file"
}

app_env() {
  export DEBUG=true SECURE_COOKIES=false PYTHONUNBUFFERED=1
  SECRET_KEY=$(secret_file secret-key 40)
  export SECRET_KEY
  export CLUSTERS_FILE="$STATE/config/clusters.yaml"
  export REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
  export ALLOWED_HOSTS="localhost,127.0.0.1,[::1]"
  export SITE_URL="http://127.0.0.1:$ALERTUI_PORT"  # links in notices, if any are set up
  # The demo database lives in the state dir, unless a DATABASE_URL was given.
  [[ -n ${DATABASE_URL:-} ]] || export SQLITE_PATH="$STATE/alertui.sqlite3"
  # For running manage.py by hand against the demo: `set -a; . .demo/env; set +a`.
  {
    echo "# Written by scripts/demo.sh: the environment the demo app runs with."
    for var in DEBUG SECURE_COOKIES SECRET_KEY CLUSTERS_FILE REDIS_URL \
      ALLOWED_HOSTS SITE_URL SQLITE_PATH DATABASE_URL; do
      # Single quotes: no value here contains one (secrets are URL-safe base64).
      [[ -z ${!var:-} ]] || printf "%s='%s'\n" "$var" "${!var}"
    done
  } >"$STATE/env"
  chmod 600 "$STATE/env"
}

manage() { "$VENV/bin/python" "$ROOT/manage.py" "$@"; }

start_app() {
  local password
  app_env
  log "Migrating the database"
  manage migrate --no-input >"$STATE/migrate.log" 2>&1 || fail_with_log migrate "migrate failed"
  password=$(secret_file oncall-password 12)
  manage ensure_user "$DEMO_USER" --password "$password" --role silencer >/dev/null ||
    die "manage.py ensure_user failed"
  wait_for_alerts
  log "Syncing once from Alertmanager"
  manage sync || warn "the first sync failed; the Celery beat schedule will retry"
  manage demo_maintenance_window "$DEMO_USER" || warn "the demo's maintenance window was not made"

  log "Starting Celery worker and beat, and the web server on 127.0.0.1:$ALERTUI_PORT"
  start_bg worker "$VENV/bin/celery" -A alertui worker --loglevel INFO --concurrency 2
  # --schedule: keep beat's state file in the state dir, not in the working tree.
  start_bg beat "$VENV/bin/celery" -A alertui beat --loglevel INFO \
    --schedule "$STATE/celerybeat-schedule"
  start_bg web "$VENV/bin/python" "$ROOT/manage.py" runserver "127.0.0.1:$ALERTUI_PORT"
  wait_http "http://127.0.0.1:$ALERTUI_PORT/healthz" 30 || fail_with_log web "the web server did not answer /healthz"
  sleep 1 # let a crashing worker or beat show itself before we report success
  our_pid worker >/dev/null || fail_with_log worker "the Celery worker exited"
  our_pid beat >/dev/null || fail_with_log beat "Celery beat exited"

  cat <<EOF

alertui demo is running (everything on 127.0.0.1):
  alertui       http://127.0.0.1:$ALERTUI_PORT/
                login: $DEMO_USER / $password   (role: silencer)
  prod          Alertmanager http://127.0.0.1:$AM_PORT/  Prometheus http://127.0.0.1:$PROM_PORT/
  staging       Alertmanager http://127.0.0.1:$STAGING_AM_PORT/  Prometheus http://127.0.0.1:$STAGING_PROM_PORT/
  Logs, pids    ${STATE#"$PWD"/}/
  Stop          scripts/demo.sh stop
EOF
}

# --- commands ------------------------------------------------------------------------------

cmd_start() {
  local only_services=${1:-}
  install_missing
  [[ -n $only_services ]] || ensure_venv
  mkdir -p "$STATE"
  touch "$STATE/.alertui-demo" # marks the dir as ours, for `clean`
  # Idempotent: whatever an earlier run left running is stopped first.
  cmd_stop
  # Check every port before starting anything, so a clash leaves nothing half-started.
  require_free_port Alertmanager "$AM_PORT" AM_PORT
  require_free_port Prometheus "$PROM_PORT" PROM_PORT
  require_free_port "staging Alertmanager" "$STAGING_AM_PORT" STAGING_AM_PORT
  require_free_port "staging Prometheus" "$STAGING_PROM_PORT" STAGING_PROM_PORT
  [[ -n $only_services ]] || require_free_port alertui "$ALERTUI_PORT" ALERTUI_PORT
  render_configs
  start_redis
  start_clusters
  wait_ready
  if [[ -n $only_services ]]; then
    wait_for_alerts
    cat <<EOF

Services are running (127.0.0.1). For the app, use:
  CLUSTERS_FILE=$STATE/config/clusters.yaml REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0
Stop with: scripts/demo.sh stop
EOF
    return
  fi
  start_app
}

cmd_stop() {
  local entry names=()
  [[ -d $STATE ]] || return 0
  for entry in "${SERVICES[@]}"; do names+=("${entry%%:*}"); done
  stop_services "${names[@]}"
}

cmd_status() {
  local entry name pid
  for entry in "${SERVICES[@]}"; do
    name=${entry%%:*}
    if pid=$(our_pid "$name" 2>/dev/null); then
      printf '%-13s running (pid %s)\n' "$name" "$pid"
    else
      printf '%-13s stopped\n' "$name"
    fi
  done
}

cmd_clean() {
  cmd_stop
  if [[ -d $STATE ]]; then
    [[ -e $STATE/.alertui-demo ]] || die "$STATE was not made by this script; not deleting it"
    rm -rf "$STATE"
    log "Removed $STATE"
  fi
}

case ${1:-start} in
  start) cmd_start ;;
  services) cmd_start services ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  clean) cmd_clean ;;
  -h | --help | help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" ;;
  *) die "unknown command: $1 (try --help)" ;;
esac

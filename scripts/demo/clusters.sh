# shellcheck shell=bash
# The demo's two clusters, "prod" and "staging": an Alertmanager and a Prometheus each, started
# by scripts/demo.sh (which sources this file and sets STATE, AM_BIN, PROM_BIN and the ports).

# $1: the service's name (alertmanager, alertmanager-staging), $2: its port.
start_alertmanager() {
  log "Starting Alertmanager $("$AM_BIN" --version 2>&1 | awk 'NR==1{print $3}') on 127.0.0.1:$2"
  # --cluster.listen-address= turns off HA gossip, which would otherwise bind 0.0.0.0:9094.
  start_bg "$1" "$AM_BIN" \
    --config.file="$STATE/config/alertmanager.yml" \
    --storage.path="$STATE/$1" \
    --web.listen-address="127.0.0.1:$2" \
    --web.external-url="http://127.0.0.1:$2" \
    --cluster.listen-address=
}

# $1: the service's name, $2: its port, $3: its cluster (the config's folder).
start_prometheus() {
  log "Starting Prometheus $("$PROM_BIN" --version 2>&1 | awk 'NR==1{print $3}') on 127.0.0.1:$2"
  # resend-delay=5s: otherwise alerts reach Alertmanager only a minute after start.
  start_bg "$1" "$PROM_BIN" \
    --config.file="$STATE/config/$3/prometheus.yml" \
    --storage.tsdb.path="$STATE/$1" \
    --storage.tsdb.retention.time=2d \
    --web.listen-address="127.0.0.1:$2" \
    --web.external-url="http://127.0.0.1:$2" \
    --web.enable-lifecycle \
    --rules.alert.resend-delay=5s
}

start_clusters() {
  port_open "$DOWN_PORT" && warn "port $DOWN_PORT is open, so TargetDown will not fire (set DOWN_PORT)"
  start_alertmanager alertmanager "$AM_PORT"
  start_alertmanager alertmanager-staging "$STAGING_AM_PORT"
  start_prometheus prometheus "$PROM_PORT" prod
  start_prometheus prometheus-staging "$STAGING_PROM_PORT" staging
}

wait_ready() {
  local am prom
  for am in "$AM_PORT" "$STAGING_AM_PORT"; do
    wait_http "http://127.0.0.1:$am/-/ready" 30 || fail_with_log alertmanager "Alertmanager is not ready"
  done
  for prom in "$PROM_PORT" "$STAGING_PROM_PORT"; do
    wait_http "http://127.0.0.1:$prom/-/ready" 60 || fail_with_log prometheus "Prometheus is not ready"
  done
}

#!/usr/bin/env bash
# Regenerate the README's screenshots (docs/screenshots/*.png) from the demo: the alerts page,
# the new-silence form and the audit history, each on a desktop (1440x900), a phone (390x844)
# and a desktop in dark mode.
#
# Usage: scripts/screenshots.sh
#
# Uses the demo of scripts/demo.sh: if it does not answer on ALERTUI_PORT, this STARTS it
# (scripts/demo.sh start, the same ports and state dir) and leaves it running; stop it with
# `scripts/demo.sh stop`. It then adds to the demo what a real shift has: about twenty more
# alerts (pushed to its Alertmanager), two silences made outside alertui, and silences made,
# extended and expired through the pages (once: a second run reuses them), and syncs.
#
# It commits nothing: look at the pictures (git diff --stat docs/screenshots), then commit them.
# Environment: the demo's (ALERTUI_PORT, AM_PORT, ALERTUI_STATE_DIR, ...; see scripts/demo.sh),
# CHROMIUM (default /usr/bin/chromium), SCREENSHOTS_DIR (default docs/screenshots).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/demo/lib.sh
. "$ROOT/scripts/demo/lib.sh"

STATE=$(realpath -m "${ALERTUI_STATE_DIR:-$ROOT/.demo}")
ALERTUI_PORT=${ALERTUI_PORT:-8000}
AM_PORT=${AM_PORT:-9093}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
OUT=${SCREENSHOTS_DIR:-$ROOT/docs/screenshots}

[[ -x $CHROMIUM ]] || die "no Chromium at $CHROMIUM (apt-get install chromium, or set CHROMIUM)"

if curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$ALERTUI_PORT/healthz" 2>/dev/null; then
  log "Using the demo running on 127.0.0.1:$ALERTUI_PORT"
else
  log "No demo on 127.0.0.1:$ALERTUI_PORT: starting it (scripts/demo.sh; stop it with scripts/demo.sh stop)"
  "$ROOT/scripts/demo.sh" start
fi
[[ -s $STATE/oncall-password && -s $STATE/env ]] ||
  die "no demo login in $STATE (a demo started with another ALERTUI_STATE_DIR?)"

# Playwright comes with the dev extras.
ensure_venv dev
PY="$ROOT/.venv/bin/python"

export ALERTUI_URL="http://127.0.0.1:$ALERTUI_PORT" AM_URL="http://127.0.0.1:$AM_PORT"
export DEMO_USER=oncall DEMO_PASSWORD CHROMIUM SCREENSHOTS_DIR="$OUT"
DEMO_PASSWORD=$(<"$STATE/oncall-password")

sync_demo() {
  # The demo app's own environment, so the sync writes the demo's database.
  # shellcheck source=/dev/null
  (set -a && . "$STATE/env" && set +a && cd "$STATE" && "$PY" "$ROOT/manage.py" sync) >/dev/null ||
    warn "the sync failed; the demo's beat schedule syncs within seconds anyway"
}

log "Adding a shift's alerts and silences to the demo's Alertmanager"
"$PY" "$ROOT/scripts/screenshots/shoot.py" seed
# Alertmanager shows a pushed alert after its next evaluation of inhibitions and silences.
sleep 2
log "Syncing"
sync_demo
log "Making, extending and expiring silences through the pages (unless done before)"
"$PY" "$ROOT/scripts/screenshots/shoot.py" pages
sync_demo
log "Taking the screenshots into ${OUT#"$ROOT"/}"
"$PY" "$ROOT/scripts/screenshots/shoot.py" shoot
log "Done; nothing was committed. Check them, then: git add ${OUT#"$ROOT"/}"

#!/usr/bin/env bash
# Check the README's promise on a fresh machine: build a minimal root of a Debian suite with
# debootstrap, copy this working tree into it, and run there, as a new user would (root,
# nothing installed, nothing running), the README's commands; then run each a second time, on
# what the first round installed and left running. Report times, tests and versions.
#
# Usage: scripts/check-fresh-machine.sh SUITE       as root; SUITE e.g. bookworm or trixie
#
# In the root, at /root/alertui, twice in this order:
#   scripts/demo.sh                 the demo (left running, as a user would)
#   scripts/demo/check.py           log in to it, see the demo alerts, open every page
#   scripts/test.sh                 the full test suite (SQLite)
#   .ci/run $CHECK_CI_TESTS         CI's command: its PostgreSQL set-up, then those tests
# It takes a while: the full suite twice, 30 to 50 minutes per suite on 2 busy cores.
#
# The root runs in PID and mount namespaces of its own (everything it started ends with the
# check), and in a network namespace of its own (veth + NAT through the host's default route),
# so the host's PostgreSQL, Redis or demo on 127.0.0.1 are not reused. Where the machine refuses
# a network namespace, or with CHECK_NETNS=no, it shares the host's network instead: say so in
# the figures, as the host's services on 127.0.0.1 answer there and ports may clash.
# The root gets the host's apt proxy settings (Acquire::*::Proxy), its locally added CA
# certificates (/usr/local/share/ca-certificates) and its proxy and CA environment variables,
# so it reaches the package registries the way the host does.
#
# Environment: CHECK_DIR (/var/tmp/alertui-fresh: roots, logs and report.txt per suite; the
#   previous check's in previous/),
#   CHECK_CI_TESTS (tests/test_silence_services.py tests/test_audit_pages.py: .ci/run's tests;
#   its full suite is scripts/test.sh's, run just before), CHECK_NETNS (yes|no), KEEP_ROOT=1
#   (keep the root afterwards), DEBIAN_MIRROR (default: from the apt sources, see lib.sh).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/demo/lib.sh
. "$ROOT/scripts/demo/lib.sh"

SUITE=${1:-}
[[ $SUITE =~ ^[a-z]+$ ]] || die "usage: $0 SUITE (a Debian suite, e.g. bookworm or trixie)"
[[ $EUID -eq 0 ]] || die "run as root: debootstrap, chroot and namespaces need it"
command -v debootstrap >/dev/null || die "no debootstrap (apt-get install debootstrap)"
for tool in unshare nsenter ip git; do
  command -v "$tool" >/dev/null || die "no $tool here"
done

BASE=$(realpath -m "${CHECK_DIR:-/var/tmp/alertui-fresh}")
WORK="$BASE/$SUITE"
TARGET="$WORK/root"
LOGS="$WORK/logs"
CI_TESTS=${CHECK_CI_TESTS:-tests/test_silence_services.py tests/test_audit_pages.py}
NETNS=alertui-fresh-$SUITE
# A /30 of our own per suite, for the veth pair between the host and the namespace.
NET_ID=$(($(cksum <<<"$SUITE" | cut -d' ' -f1) % 200 + 20))
HOST_IP=10.231.$NET_ID.1 NS_IP=10.231.$NET_ID.2 SUBNET=10.231.$NET_ID.0/30
VETH_HOST=afresh$NET_ID VETH_NS=afreshns$NET_ID
INIT_PID=
network=shared

# --- the network namespace --------------------------------------------------------------------

netns_up() {
  local uplink
  uplink=$(ip route show default | awk '{for (i = 1; i < NF; i++) if ($i == "dev") print $(i + 1); exit}')
  [[ -n $uplink ]] || return 1
  command -v iptables >/dev/null || {
    warn "no iptables for the namespace's NAT (apt-get install iptables)"
    return 1
  }
  ip netns add "$NETNS" &&
    ip link add "$VETH_HOST" type veth peer name "$VETH_NS" &&
    ip link set "$VETH_NS" netns "$NETNS" &&
    ip addr add "$HOST_IP/30" dev "$VETH_HOST" && ip link set "$VETH_HOST" up &&
    ip -n "$NETNS" addr add "$NS_IP/30" dev "$VETH_NS" && ip -n "$NETNS" link set "$VETH_NS" up &&
    ip -n "$NETNS" link set lo up && ip -n "$NETNS" route add default via "$HOST_IP" || return 1
  [[ -e $BASE/ip_forward.before ]] || cat /proc/sys/net/ipv4/ip_forward >"$BASE/ip_forward.before"
  echo 1 >/proc/sys/net/ipv4/ip_forward
  # Each rule carries the namespace's name as its comment, for netns_down.
  iptables -t nat -A POSTROUTING -s "$SUBNET" ! -d "$SUBNET" -o "$uplink" -j MASQUERADE \
    -m comment --comment "$NETNS" &&
    iptables -I FORWARD -s "$SUBNET" -j ACCEPT -m comment --comment "$NETNS" &&
    iptables -I FORWARD -d "$SUBNET" -j ACCEPT -m comment --comment "$NETNS"
}

netns_down() {
  local rule spec
  ip netns del "$NETNS" 2>/dev/null || true # the veth pair goes with it
  # Our rules carry the namespace's name as their comment; delete exactly those.
  for rule in nat:POSTROUTING filter:FORWARD; do
    while spec=$(iptables -t "${rule%%:*}" -S "${rule#*:}" 2>/dev/null | grep -F -- "--comment $NETNS" | head -n 1) &&
      [[ -n $spec ]]; do
      # shellcheck disable=SC2086 # the rule's words, as iptables -S printed them
      iptables -t "${rule%%:*}" ${spec/-A /-D } || break
    done
  done
  # The last check to end puts IP forwarding back as it found it.
  if [[ -e $BASE/ip_forward.before ]] && ! ip netns list | grep -q '^alertui-fresh-'; then
    cat "$BASE/ip_forward.before" >/proc/sys/net/ipv4/ip_forward
    rm -f "$BASE/ip_forward.before"
  fi
}

# --- the machine: a root, an init in namespaces of its own, commands run in them -------------

stop_machine() {
  # Killing the PID namespace's init ends every process in it; its mounts go with it.
  if [[ -n $INIT_PID ]]; then
    kill -KILL "$INIT_PID" 2>/dev/null || true
    wait 2>/dev/null || true
  fi
  netns_down
  if [[ -z ${KEEP_ROOT:-} && -d $TARGET ]]; then rm -rf --one-file-system "$TARGET"; fi
}

build_root() {
  local proxy pid
  # Processes left in the root by a check that was killed midway: end them (by their ids).
  for pid in /proc/[0-9]*; do
    [[ $(readlink "$pid/root" 2>/dev/null) != "$TARGET" ]] || kill -KILL "${pid#/proc/}" 2>/dev/null || true
  done
  rm -rf --one-file-system "$TARGET"
  mkdir -p "$TARGET" "$BASE/debs"
  # debootstrap reads the proxy from the environment, apt from its configuration.
  proxy=$(eval "$(apt-config shell P Acquire::http::Proxy)" && echo "${P:-}")
  [[ -z $proxy ]] || export http_proxy=$proxy
  log "debootstrap --variant=minbase $SUITE from $MIRROR"
  debootstrap --variant=minbase --cache-dir="$BASE/debs" "$SUITE" "$TARGET" "$MIRROR" \
    >"$LOGS/debootstrap.log" 2>&1 || {
    tail -n 20 "$LOGS/debootstrap.log" >&2
    die "debootstrap failed (log: $LOGS/debootstrap.log)"
  }
  apt-config dump | grep -E '^Acquire::[a-z]+::Proxy' >"$TARGET/etc/apt/apt.conf.d/01proxy-from-host" || true
  if [[ -d /usr/local/share/ca-certificates ]]; then
    cp -a /usr/local/share/ca-certificates/. "$TARGET/usr/local/share/ca-certificates/"
  fi
  if [[ -f /etc/ssl/certs/ca-certificates.crt ]]; then
    mkdir -p "$TARGET/etc/ssl/certs"
    cp /etc/ssl/certs/ca-certificates.crt "$TARGET/etc/ssl/certs/"
  fi
  # The resolver must be reachable from the namespace: not a loopback stub.
  if grep -q '^nameserver 127\.' /etc/resolv.conf && [[ -f /run/systemd/resolve/resolv.conf ]]; then
    cp /run/systemd/resolve/resolv.conf "$TARGET/etc/resolv.conf"
  else
    cp -L /etc/resolv.conf "$TARGET/etc/resolv.conf"
  fi
  # As a fresh install writes it (the root shares the host's name): make-ssl-cert wants it.
  printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\tlocalhost ip6-localhost ip6-loopback\n' \
    "$(uname -n)" >"$TARGET/etc/hosts"
  # The working tree as a clone would have it: tracked and new files, not what .gitignore hides.
  mkdir -p "$TARGET/root/alertui"
  git -C "$ROOT" ls-files -z --cached --others --exclude-standard |
    tar -C "$ROOT" --null -T - --ignore-failed-read -cf - 2>/dev/null | tar -C "$TARGET/root/alertui" -xf -
}

start_machine() {
  local ns_exec=() child i
  if [[ ${CHECK_NETNS:-yes} != no ]]; then
    if netns_up; then
      network="own network namespace ($NS_IP, NAT)"
      ns_exec=(ip netns exec "$NETNS")
    else
      warn "no network namespace here; running in the host's network (its services on 127.0.0.1 answer)"
      netns_down
    fi
  fi
  # shellcheck disable=SC2016 # expanded by the inner bash
  "${ns_exec[@]}" unshare --pid --mount --fork --propagation private -- bash -c '
    set -e
    mount -t proc proc "$1/proc"
    mount -t sysfs sysfs "$1/sys"
    mount --rbind /dev "$1/dev"
    mount -t tmpfs -o mode=1777 shm "$1/dev/shm"
    mount -t tmpfs -o mode=755 run "$1/run"
    exec chroot "$1" /bin/sleep infinity' _ "$TARGET" 2>>"$LOGS/machine.log" &
  # The namespace's init is unshare's child; it is ready once it runs inside the root.
  for ((i = 0; i < 100; i++)); do
    child=$(cat "/proc/$!/task/$!/children" 2>/dev/null || true)
    child=${child%% *}
    if [[ -n $child && $(readlink "/proc/$child/root") == "$TARGET" ]]; then
      INIT_PID=$child
      return
    fi
    sleep 0.1
  done
  die "the root's namespaces did not start"
}

# Run a command line in the root as its user would: a login environment, from the repository.
# Only the host's proxy and CA variables come along.
in_root() {
  local vars=(HOME=/root LANG=C.UTF-8 TERM=dumb PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)
  local var
  for var in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY SSL_CERT_FILE \
    REQUESTS_CA_BUNDLE PIP_CERT CURL_CA_BUNDLE; do
    [[ -z ${!var:-} ]] || vars+=("$var=${!var}")
  done
  nsenter --target "$INIT_PID" --mount --pid --net --root --wd -- \
    /usr/bin/env -i "${vars[@]}" /bin/bash -c "cd /root/alertui && $1"
}

# --- steps and the report ---------------------------------------------------------------------

REPORT="$WORK/report.txt"
failed=0
step_no=0
STEP_LOG=
test_log=

# step NAME TIMEOUT COMMAND: run COMMAND in the root (output to a log), record rc and time.
step() {
  local name=$1 limit=$2 command=$3 log start rc=0 seconds result
  step_no=$((step_no + 1))
  log=$LOGS/$(printf '%02d-%s' "$step_no" "${name%% *}" | tr -c 'a-z0-9.\n-' '-').log
  STEP_LOG=$log
  log "[$SUITE] $name: $command (log: $log)"
  start=$(date +%s)
  # In the background, so that a signal to this script ends the check at once (see the traps).
  in_root "timeout -k 30 $limit $command" >"$log" 2>&1 </dev/null &
  wait $! || rc=$?
  seconds=$(($(date +%s) - start))
  # pytest's closing line, when the step ran pytest; else the last line of output.
  result=$(grep -E '^=+ .*[0-9]+ (passed|failed|error|errors)\b.* in [0-9.]+s' "$log" | tail -n 1 | tr -d '=' | xargs) || true
  [[ -n $result ]] || result=$(grep -v '^\s*$' "$log" | tail -n 1 | cut -c1-100)
  printf '%-22s rc=%-3s %5ss  %s\n' "$name" "$rc" "$seconds" "$result" | tee -a "$REPORT"
  if ((rc != 0)); then
    failed=$((failed + 1))
    grep -E '^(FAILED|ERROR) ' "$log" | tee -a "$REPORT" || true
    tail -n 15 "$log" | sed 's/^/    /' >&2
  fi
}

MIRROR=$(debian_mirror)
# The previous check's logs and report stay, in previous/.
if [[ -d $LOGS ]]; then
  rm -rf "$WORK/previous"
  mkdir -p "$WORK/previous"
  mv "$LOGS" "$WORK/previous/"
  if [[ -f $REPORT ]]; then mv "$REPORT" "$WORK/previous/"; fi
fi
mkdir -p "$LOGS"
# A check killed midway may have left its namespace and rules: clear them first.
netns_down
trap stop_machine EXIT
trap 'exit 130' INT TERM
started=$(date +%s)
build_root
debootstrap_seconds=$(($(date +%s) - started))
start_machine
{
  echo "== $SUITE: fresh minbase root from $MIRROR, built in ${debootstrap_seconds}s"
  # shellcheck disable=SC2016 # expanded in the root
  echo "   $(in_root '. /etc/os-release && echo "$PRETTY_NAME"; echo "kernel $(uname -r)"' | paste -sd ',')"
  echo "   network: $network; tree: $(git -C "$ROOT" describe --always --dirty)"
} | tee "$REPORT"
for round in 1 2; do
  step "demo.sh ($round)" 30m "scripts/demo.sh"
  step "demo check ($round)" 5m ".venv/bin/python scripts/demo/check.py"
  step "test.sh ($round)" 90m "scripts/test.sh"
  test_log=$STEP_LOG
  step ".ci/run ($round)" 30m ".ci/run $CI_TESTS"
done
{
  echo "versions under test (pytest header of the last test.sh):"
  grep -E '^  (Alertmanager|Prometheus) [0-9.]+ \(' "$test_log" || echo "  (none found)"
  echo "demo ran: $(grep -h -E 'Starting (Alertmanager|Prometheus) ' "$LOGS/01-demo.sh.log" | sed 's/.*Starting //; s/ on .*//' | paste -sd ',')"
  echo "python: $(in_root 'python3 -V'); total $(($(date +%s) - started))s; $failed step(s) failed"
} | tee -a "$REPORT"
log "report: $REPORT"
((failed == 0))

# shellcheck shell=bash
# Shared helpers for scripts/demo.sh, scripts/test.sh and .ci/run. Source it, don't run it.
# Needs: ROOT (the repository root) set by the caller.

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
warn() { printf '\033[33mwarning:\033[0m %s\n' "$*" >&2; }
die() {
  printf '\033[31merror:\033[0m %s\n' "$*" >&2
  exit 1
}

# Run as root directly, or through sudo; never sudo when already root.
as_root() {
  if [[ $EUID -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null; then
    sudo "$@"
  else
    die "need root for: $* (run as root or install sudo)"
  fi
}

# apt-get install the given packages, with one `apt-get update` first, only if the list is
# non-empty: a machine that already has everything never touches apt.
apt_install() {
  (($#)) || return 0
  command -v apt-get >/dev/null || die "missing packages ($*) and no apt-get to install them"
  log "Installing with apt: $*"
  # Finish what an interrupted earlier install left unconfigured (apt refuses to go on
  # otherwise); a no-op when nothing was interrupted.
  as_root env DEBIAN_FRONTEND=noninteractive dpkg --configure -a
  # A failing update (one broken third-party repo) need not stop the install: warn and try.
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq ||
    warn "apt-get update failed; trying the install with the package lists there are"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}

# Is a TCP port on loopback accepting connections? (bash /dev/tcp: no ss/nc needed.)
port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Does a Redis answer PING on this loopback port?
redis_ping() {
  local reply=""
  {
    exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
    printf 'PING\r\n' >&3
    read -r -t 2 reply <&3 || true
    exec 3>&-
  } 2>/dev/null
  [[ "$reply" == +PONG* ]]
}

# retry TRIES DELAY CMD...: run CMD until it succeeds, at most TRIES times, DELAY seconds apart.
retry() {
  local tries=$1 delay=$2 i
  shift 2
  for ((i = 1; i < tries; i++)); do
    "$@" && return 0
    sleep "$delay"
  done
  "$@"
}

# Poll a URL until it answers 2xx, up to $2 seconds.
wait_http() {
  local url=$1 timeout=${2:-30} i
  for ((i = 0; i < timeout * 2; i++)); do
    curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null && return 0
    sleep 0.5
  done
  return 1
}

PYTHON=${PYTHON:-python3}

# Apt packages needed for a Python with a working venv. On Debian, ensurepip (and so
# `python3 -m venv`) comes only with python3-venv.
python_packages_needed() {
  if ! command -v "$PYTHON" >/dev/null; then
    echo python3 python3-venv
  elif ! "$PYTHON" -c 'import ensurepip, venv' 2>/dev/null; then
    echo python3-venv
  fi
}

# Create/refresh .venv. $1 = "dev" for the dev extras. A stamp file newer than pyproject.toml
# means "installed"; the Makefile uses the same stamps, so both agree on when to reinstall.
ensure_venv() {
  local extra=${1:-} venv="$ROOT/.venv" stamp spec
  "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
    die "$PYTHON is $("$PYTHON" -V 2>&1); alertui needs Python 3.11+ (set PYTHON=python3.x)"
  # `import pip`: a venv whose creation was interrupted has a python but no pip yet.
  if [[ -e "$venv" ]] && ! "$venv/bin/python" -c 'import pip' 2>/dev/null; then
    warn "$venv is broken (moved, Python upgraded, or its creation interrupted); recreating it"
    rm -rf "$venv"
  fi
  [[ -x "$venv/bin/python" ]] || { log "Creating $venv" && "$PYTHON" -m venv "$venv"; }
  if [[ $extra == dev ]]; then
    stamp="$venv/.installed-dev" spec="${ROOT}[dev]"
  else
    stamp="$venv/.installed" spec="$ROOT"
    # A dev install includes the base one.
    [[ -e "$venv/.installed-dev" && ! "$ROOT/pyproject.toml" -nt "$venv/.installed-dev" &&
      ! "$ROOT/constraints.txt" -nt "$venv/.installed-dev" ]] &&
      stamp="$venv/.installed-dev"
  fi
  if [[ ! -e "$stamp" || "$ROOT/pyproject.toml" -nt "$stamp" || "$ROOT/constraints.txt" -nt "$stamp" ]]; then
    log "Installing alertui into .venv (pip install -c constraints.txt -e '.${spec#"$ROOT"}')"
    # Output goes to a log: setuptools' build warnings would bury the messages that matter.
    # constraints.txt pins every package to the versions tested (scripts/lock-dependencies.sh).
    "$venv/bin/python" -m pip install --disable-pip-version-check -c "$ROOT/constraints.txt" \
      -e "$spec" >"$venv/pip-install.log" 2>&1 || {
      tail -n 30 "$venv/pip-install.log" >&2
      die "pip install failed (full log: $venv/pip-install.log)"
    }
    touch "$stamp"
  fi
}

# Apt packages that scripts/test.sh needs and this machine lacks: a Python with venv, Redis for
# the tests, Chromium for the browser tests, docker-compose for scripts/lint-deploy.sh (`config`
# only, no engine).
# Alertmanager and Prometheus come from scripts/fetch-upstream-versions.sh, not from apt.
test_packages_needed() {
  python_packages_needed
  command -v redis-server >/dev/null || redis_ping 6379 || echo redis-server
  [[ -x /usr/bin/chromium ]] || echo chromium
  command -v docker-compose >/dev/null || echo docker-compose
}

# The Debian mirror that this machine's apt sources name, or $DEBIAN_MIRROR when set. apt
# itself reads the sources (deb822 *.sources and one-line *.list files alike; `--print-uris`
# downloads nothing). A source counts when the Release file apt last downloaded for it says
# "Origin: Debian" and "Label: Debian" (not debian-security, Ubuntu or a third-party
# repository); where apt has downloaded none (container images delete the lists), a source of
# this Debian release's own suite, or of sid, counts.
debian_mirror() {
  if [[ -n ${DEBIAN_MIRROR:-} ]]; then
    echo "${DEBIAN_MIRROR%/}"
    return
  fi
  local lists sources url file suite id="" codename=""
  lists=$(eval "$(apt-config shell D Dir::State::Lists/d)" && echo "${D:-/var/lib/apt/lists}")
  # Lines such as: 'http://mirror/debian/dists/trixie/InRelease' mirror_debian_dists_trixie_InRelease 0
  sources=$(apt-get --print-uris update 2>/dev/null | sed -n "s|^'\(.*\)/dists/\([^ ]*\)/InRelease' \([^ ]*\) .*|\1 \2 \3|p")
  while read -r url suite file; do
    for file in "$lists/$file" "$lists/${file%InRelease}Release"; do
      if [[ -f $file ]] && grep -qx 'Origin: Debian' "$file" && grep -qx 'Label: Debian' "$file"; then
        echo "$url"
        return
      fi
    done
  done <<<"$sources"
  local os_release=${OS_RELEASE:-/etc/os-release}
  if [[ -r $os_release ]]; then
    id=$(sed -n 's/^ID=//p' "$os_release") codename=$(sed -n 's/^VERSION_CODENAME=//p' "$os_release")
  fi
  while read -r url suite file; do
    if [[ $id == debian && -n $url && ($suite == "$codename" || $suite == sid || $suite == unstable) ]]; then
      echo "$url"
      return
    fi
  done <<<"$sources"
  die "no Debian mirror in this machine's apt sources (/etc/apt/sources.list*): set DEBIAN_MIRROR to one, e.g. DEBIAN_MIRROR=http://<your Debian mirror>/debian"
}

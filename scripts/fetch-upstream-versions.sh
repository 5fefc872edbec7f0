#!/usr/bin/env bash
# Fetch the Alertmanager and Prometheus builds of Debian bookworm, trixie and sid that the
# tests run (tests/servers.py names their versions), the same way on every host and without a
# system install: `apt-get download` with a private sources list, then `dpkg -x` into a cache
# folder. The binaries are static Go programs.
#
# Usage: scripts/fetch-upstream-versions.sh [CACHE_DIR]
# Layout: $CACHE_DIR/<suite>/usr/bin/{prometheus-alertmanager,prometheus,amtool,...} and
#   $CACHE_DIR/<suite>/packages (the Debian package versions unpacked there).
# Mirror: the Debian mirror of this machine's apt sources, or DEBIAN_MIRROR (see debian_mirror
#   in scripts/demo/lib.sh). apt's own configuration applies, its proxy
#   (Acquire::http::Proxy) included. A complete cache needs no network.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/demo/lib.sh
. "$ROOT/scripts/demo/lib.sh"

cache="${1:-${ALERTUI_BIN_CACHE:-$HOME/.cache/alertui/bin}}"
keyring=${DEBIAN_KEYRING:-/usr/share/keyrings/debian-archive-keyring.gpg}
mkdir -p "$cache"
# One fetch at a time: several test runs on a machine may share the cache.
exec 9>"$cache/.lock"
flock 9

# Do both binaries of a suite's root run? (A fetch cut short leaves no root at all, as roots
# are moved into place whole; this also accepts roots of the older layout, without `packages`,
# unless a binary was cut short. The function's redirection also silences bash's report of a
# crash, "Segmentation fault".)
usable() {
  "$1/usr/bin/prometheus-alertmanager" --version && "$1/usr/bin/prometheus" --version
} >/dev/null 2>&1

mirror=
for suite in bookworm trixie sid; do
  dest="$cache/$suite"
  usable "$dest" && continue
  [[ -n $mirror ]] || mirror=$(debian_mirror)
  [[ -r $keyring ]] || die "no $keyring to check Debian's signatures with (apt-get install debian-archive-keyring, or set DEBIAN_KEYRING)"
  log "Fetching Debian $suite's Alertmanager and Prometheus from $mirror"
  work=$(mktemp -d "$cache/.fetch-$suite.XXXXXX")
  # shellcheck disable=SC2064 # expand now: $work changes with each suite
  trap "rm -rf '$work'" EXIT
  mkdir -p "$work/lists/partial" "$work/debs" "$work/root"
  echo "deb [signed-by=$keyring] $mirror $suite main" >"$work/sources.list"
  # Check-Valid-Until=false: mirrors (and snapshots) may serve a sid Release file past its
  # Valid-Until date; the signature is still checked. Sandbox::User=root: the private lists
  # folder is not readable by _apt. An empty dpkg status: else a newer version installed here
  # (trixie's, on a trixie machine) would be the candidate, and not found in bookworm's lists.
  : >"$work/status"
  apt_opts=(-o "Dir::Etc::SourceList=$work/sources.list" -o "Dir::Etc::SourceParts=-"
    -o "Dir::State::status=$work/status"
    -o "Dir::State::Lists=$work/lists" -o "Dir::Cache::Archives=$work/debs" -o "APT::Get::List-Cleanup=0"
    -o "Acquire::Check-Valid-Until=false" -o "APT::Sandbox::User=root")
  apt-get "${apt_opts[@]}" update -qq
  (cd "$work/debs" && apt-get "${apt_opts[@]}" download prometheus-alertmanager prometheus)
  for deb in "$work"/debs/*.deb; do
    dpkg -x "$deb" "$work/root"
    # shellcheck disable=SC2016 # dpkg-deb's own ${field} syntax
    dpkg-deb -W --showformat='${Package} ${Version}\n' "$deb" >>"$work/root/packages"
  done
  usable "$work/root" || die "the binaries unpacked from Debian $suite do not run (see $work/root)"
  # Moved into place whole, so a test run never sees a half-unpacked suite.
  if [[ -e $dest ]]; then mv "$dest" "$work/replaced"; fi
  mv "$work/root" "$dest"
  rm -rf "$work"
  trap - EXIT
  echo "$suite: $("$dest/usr/bin/prometheus-alertmanager" --version 2>&1 | head -1)"
  echo "$suite: $("$dest/usr/bin/prometheus" --version 2>&1 | head -1)"
done

# Debian's Alertmanager 0.25 (bookworm) reads its notification templates (default.tmpl,
# email.tmpl) from this absolute folder at start and exits without them; later builds embed
# them. On a machine without the prometheus-alertmanager package, put bookworm's copies there
# (the files that package installs).
templates=/usr/share/prometheus/alertmanager
for template in default.tmpl email.tmpl; do
  if [[ ! -e $templates/$template && -e $cache/bookworm$templates/$template ]]; then
    log "Installing $templates/$template (Debian's Alertmanager 0.25 needs it there)"
    as_root install -D -m 0644 "$cache/bookworm$templates/$template" "$templates/$template" ||
      warn "could not write $templates/$template: the Alertmanager 0.25 tests will not start"
  fi
done

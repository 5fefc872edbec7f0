"""The parts measured inside alertui's own Python (after django.setup()), each run in a fresh
interpreter: `bench/run.py --child TASK --spec SPEC.json --child-out OUT.json`."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

from .config import BENCH_SCRIPT, PYTHON
from .processes import run_checked

# task -> (module, function taking the spec and returning the results); the modules import
# alertui's models, so they are imported only after django.setup().
TASKS = {
    "seed": ("child_seed", "seed_audit"),
    "sync": ("child_sync", "measure_sync"),
    "profile": ("child_views", "measure_views"),
}


def run_child(task: str, spec: dict, env: dict, tmpdir: Path, timeout: float) -> dict:
    """Run `task` in a fresh interpreter that calls django.setup() with `env`."""
    spec_path = tmpdir / f"{task}-spec.json"
    out_path = tmpdir / f"{task}-out.json"
    spec_path.write_text(json.dumps(spec))
    out_path.unlink(missing_ok=True)
    cmd = [
        PYTHON,
        str(BENCH_SCRIPT),
        "--child",
        task,
        "--spec",
        str(spec_path),
        "--child-out",
        str(out_path),
    ]
    run_checked(f"{task} child", cmd, tmpdir / f"{task}.log", timeout, env=env)
    return json.loads(out_path.read_text())


def child_main(task: str, spec_path: str, out_path: str) -> None:
    import django

    spec = json.loads(Path(spec_path).read_text())
    django.setup()
    module, function = TASKS[task]
    result = getattr(importlib.import_module(f".{module}", __package__), function)(spec)
    Path(out_path).write_text(json.dumps(result, default=str))

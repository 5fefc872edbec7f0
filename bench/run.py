#!/usr/bin/env python3
"""alertui benchmark: real Alertmanager, Prometheus, database, sync and gunicorn, one command.

    .venv/bin/python bench/run.py --alerts 1000 --alerts 10000 [--db postgres|sqlite]
                                  [--out bench/results/NAME.md]
    .venv/bin/python bench/run.py --render bench/results/NAME.json   # rewrite NAME.md only

The parts are in bench/alertui_bench/ (its __init__.py lists them); what each number means:
bench/README.md.
"""

import sys
from pathlib import Path

# The project root, for tests.servers and alertui (this folder, with the package, is already
# on the path when this file is run).
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from alertui_bench.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())

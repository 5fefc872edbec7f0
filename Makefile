# Shortcuts for the scripts that do the work. `make test ARGS="-k silences -x"` passes
# arguments to pytest.
.PHONY: help demo stop test fmt lint

VENV_STAMP := .venv/.installed-dev

help:
	@echo "make demo   start the local demo (scripts/demo.sh): Redis, Alertmanager, Prometheus, alertui"
	@echo "make stop   stop everything the demo started"
	@echo "make test   lint, migration check and pytest (scripts/test.sh; ARGS=... for pytest)"
	@echo "make fmt    format the code (ruff: imports, then layout)"
	@echo "make lint   check formatting and lint without changing anything"

demo:
	scripts/demo.sh

stop:
	scripts/demo.sh stop

test:
	scripts/test.sh $(ARGS)

fmt: $(VENV_STAMP)
	.venv/bin/ruff check --select I --fix .
	.venv/bin/ruff format .

lint: $(VENV_STAMP)
	.venv/bin/ruff format --check .
	.venv/bin/ruff check .

# The same venv setup as the scripts (same stamp file), so none of them reinstalls needlessly.
$(VENV_STAMP): pyproject.toml
	ROOT="$(CURDIR)" bash -c '. scripts/demo/lib.sh && ensure_venv dev'

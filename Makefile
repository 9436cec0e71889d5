# Two commands: `make run` (serve the dashboard) and `make test` (run the whole suite).
# Both create the virtual environment and install what is needed on first use.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

SAMPLE_RETAIL       := data/sample/manifest.json
SAMPLE_SUBSCRIPTION := data/sample-subscription/manifest.json

.PHONY: run test install data lint format bench bench-quick clean

run: install data
	$(VENV)/bin/streamlit run app.py

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

install: $(STAMP)

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Reinstall whenever the declared dependencies change.
$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

data: install $(SAMPLE_RETAIL) $(SAMPLE_SUBSCRIPTION)

$(SAMPLE_RETAIL):
	$(VENV)/bin/crm sample --out data/sample

$(SAMPLE_SUBSCRIPTION):
	$(VENV)/bin/crm sample --out data/sample-subscription --business-model contractual

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Benchmarks (benchmarks/README.md): the full run at 1,000,000 customers, the quick one at 200,000.
bench: install
	$(PY) benchmarks/run.py --json benchmarks/results/latest-full.json

bench-quick: install
	$(PY) benchmarks/run.py --quick --json benchmarks/results/latest-quick.json

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

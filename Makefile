# Two commands: `make run` (serve the dashboard) and `make test` (run the whole suite).
# Both create the virtual environment and install what is needed on first use.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

SAMPLE_RETAIL       := data/sample/manifest.json
SAMPLE_SUBSCRIPTION := data/sample-subscription/manifest.json

.PHONY: run test install postgres java data lint format bench bench-quick clean

run: install data
	$(VENV)/bin/streamlit run app.py

test: install postgres java
	$(PY) -m pytest $(PYTEST_ARGS)

# tests/test_sql.py starts a throwaway PostgreSQL server itself (initdb + pg_ctl on a free
# localhost port): install Debian's postgresql package when its server binaries are missing
# (with root or password-less sudo; without them the SQL tests skip locally, fail under CI).
PG_INITDB = $(firstword $(wildcard /usr/lib/postgresql/*/bin/initdb))

postgres:
	@if [ -z "$(PG_INITDB)" ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "make: installing Debian's postgresql for the SQL tests"; \
	  SUDO=""; if [ "$$(id -u)" -ne 0 ]; then SUDO="sudo -n"; fi; \
	  ( $$SUDO mkdir -p /etc/postgresql-common && \
	    { [ -e /etc/postgresql-common/createcluster.conf ] || \
	      echo "create_main_cluster = false" | $$SUDO tee /etc/postgresql-common/createcluster.conf >/dev/null; } && \
	    $$SUDO apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql >/dev/null ) || \
	  echo "make: could not install postgresql: the SQL tests will be skipped (CI fails them)"; \
	fi

# tests/test_spark*.py run PySpark in local mode, which needs a Java runtime, and read
# PostgreSQL through JDBC: install Debian's openjdk-17-jre-headless and its JDBC driver
# libpostgresql-jdbc-java when missing (without root or sudo they skip locally and fail
# under CI).
java:
	@if { ! command -v java >/dev/null 2>&1 || [ ! -e /usr/share/java/postgresql.jar ]; } && \
	    command -v apt-get >/dev/null 2>&1; then \
	  echo "make: installing Debian's openjdk-17-jre-headless for the Spark tests"; \
	  SUDO=""; if [ "$$(id -u)" -ne 0 ]; then SUDO="sudo -n"; fi; \
	  ( $$SUDO apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq openjdk-17-jre-headless \
	      libpostgresql-jdbc-java >/dev/null ) || \
	  echo "make: could not install Java: the Spark tests will be skipped (CI fails them)"; \
	fi

install: $(STAMP)

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Reinstall whenever the declared dependencies change.
$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[test,spark]"
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

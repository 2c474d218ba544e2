# The two commands: `make demo` and `make test`. Both bootstrap .venv on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck check bench postgres clean mutation

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/lastmile demo --out demo-output

# The store suite runs on DuckDB and on a real PostgreSQL server; scripts/postgres.sh
# installs (Debian) and starts one and prints its URL. The Spark tests (marker `spark`) need
# Java 17+; scripts/java.sh installs Debian's when there is none. The tests run in TEST_WORKERS
# processes (pytest-xdist), a module per process so that its shared fixtures are built once: two,
# one per core of the machines CI runs on, takes the suite from about 25 minutes to about 14.
TEST_WORKERS ?= 2
test: $(STAMP)
	bash scripts/java.sh
	url=$${LASTMILE_TEST_POSTGRES_URL:-$$(bash scripts/postgres.sh)} || exit 1; \
		LASTMILE_TEST_POSTGRES_URL=$$url $(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadscope

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

check: lint typecheck test

bench: $(STAMP)
	$(BIN)/python bench/ingest.py

# Mutation testing of the counting and matching code ([tool.mutmut] in pyproject.toml); long
# (hours on 2 cores), so not part of `make test` or CI. The summary is in README.md.
mutation: $(STAMP)
	$(BIN)/pip install --quiet -e '.[mutation]'
	$(BIN)/python scripts/mutation.py
	$(BIN)/python scripts/mutation_summary.py

clean:
	rm -rf $(VENV) demo-output lastmile.duckdb mutants mutation

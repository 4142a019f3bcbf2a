# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: run test setup setup-dev lint typecheck migrations-check pytest bench messages screenshots clean

run: setup
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py demo
	@echo ""
	@echo "  casemanager is at http://127.0.0.1:$(PORT)/  (sign in as demo / demo)"
	@echo ""
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

test: setup-dev lint typecheck migrations-check pytest

setup: .stamp-system .stamp-runtime
setup-dev: setup .stamp-dev

.stamp-system: scripts/install-system-packages.sh
	sh scripts/install-system-packages.sh
	@touch $@

$(BIN)/python: | .stamp-system
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11 or newer is needed"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

.stamp-runtime: requirements.txt $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	@touch $@

.stamp-dev: requirements-dev.txt .stamp-runtime
	$(BIN)/pip install --quiet -r requirements-dev.txt
	@touch $@

lint: setup-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup-dev
	$(BIN)/mypy .

migrations-check: setup-dev
	$(BIN)/python manage.py makemigrations --check --dry-run

pytest: setup-dev
	$(BIN)/pytest

bench: setup-dev
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/api.py
	$(BIN)/python bench/dossier.py
	$(BIN)/python bench/capture.py
	$(BIN)/python bench/watch.py
	$(BIN)/python bench/sellerprofile.py
	$(BIN)/python bench/load.py

messages: setup-dev
	$(BIN)/python manage.py makemessages -l zh_Hans --ignore ".venv/*" --ignore "var/*" --ignore "bench/*" --ignore "tests/*"
	msgfmt -o locale/zh_Hans/LC_MESSAGES/django.mo locale/zh_Hans/LC_MESSAGES/django.po

# Screenshots of the main screens for docs/, taken by the browser journeys on the demo data.
screenshots: setup-dev
	CM_SCREENSHOTS=docs/screenshots $(BIN)/pytest -q -p no:cacheprovider tests/browser

clean:
	rm -rf $(VENV) .stamp-* .mypy_cache .ruff_cache .pytest_cache

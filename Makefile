# Shortcuts for the scripts in scripts/ and manage.py. `make help` lists them.
# Extra pytest arguments: make test ARGS="-k invoice -x"

PORT ?= 5050
MARIADB_URL ?= mysql://root:@127.0.0.1:3306/otb_billing
PYTHON := .venv/bin/python

.PHONY: help run test test-mariadb ci dev setup lint format migrate migrations demo admin \
	check-deploy clean release test-install seed bench constraints

help:
	@echo "make run           set up and serve with demo data at http://127.0.0.1:$(PORT)"
	@echo "make test          the test suite on SQLite (ARGS=... for pytest)"
	@echo "make test-mariadb  the test suite on MariaDB (MARIADB_URL=$(MARIADB_URL))"
	@echo "make ci            everything CI checks (.ci/run)"
	@echo "make setup         install what is missing (system packages, .venv)"
	@echo "make dev           the same, with the test and lint tools"
	@echo "make lint          ruff check, ruff format --check and mypy"
	@echo "make format        ruff format and ruff check --fix"
	@echo "make migrate       apply migrations to the instance's database"
	@echo "make migrations NAME=add_x   new migrations, named"
	@echo "make demo          load the demo data (safe to repeat)"
	@echo "make admin         give the user admin a new random password"
	@echo "make check-deploy  Django's deployment checks with this instance's settings"
	@echo "make test-install  install, upgrade, roll back and remove an instance (root, MariaDB)"
	@echo "make seed          fill the empty database DATABASE_URL names for the benchmarks (bench/README.md)"
	@echo "make bench         the benchmarks of bench/ on the database DATABASE_URL names (bench/RESULTS.md)"
	@echo "make constraints   write constraints.txt (exact versions) from what .venv has"
	@echo "make release       dist/otb_billing-vX.Y.Z.zip from the tag vX.Y.Z (VERSION=X.Y.Z)"
	@echo "make clean         remove collected static files and caches (keeps var/ and .env)"

run:
	PORT=$(PORT) ./scripts/quickstart.sh

test:
	./scripts/test.sh $(ARGS)

# pytest-django creates and drops test_<database name>; the user needs CREATE and DROP.
test-mariadb:
	DATABASE_URL=$(MARIADB_URL) ./scripts/test.sh $(ARGS)

ci:
	bash .ci/run

# Runs deploy/install.sh into a throw-away root on this machine's MariaDB, as CI does.
test-install:
	bash deploy/tests/install_test.sh

# A million invoices (default) for the benchmarks, into the empty database DATABASE_URL names.
seed:
	$(PYTHON) -m bench.seed $(ARGS)

# Page latency, PDF, issuing, throughput and memory; bench/README.md. make bench ARGS=--smoke
bench:
	$(PYTHON) bench/run.py $(ARGS)

# Refuses unless the tag vX.Y.Z exists and PROJECT_STATE.md and the README changelog name it.
release:
	./scripts/release.sh $(VERSION)

# System packages and .venv with the test and lint tools.
dev:
	./scripts/setup.sh --dev

lint: dev
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy

format: dev
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .

setup:
	./scripts/setup.sh

# constraints.txt: the exact versions every install uses (pip -c), the transitive ones too,
# from .venv as it is; no dependency of setup/dev, which would put the old pins back first.
# To upgrade, see CONTRIBUTING.md, "Dependencies".
constraints:
	@# Refuses a .venv that misses a requirement or its bounds, or whose packages conflict.
	$(PYTHON) -m pip install --disable-pip-version-check --dry-run -q --no-index \
	  -r requirements-dev.txt
	$(PYTHON) -m pip check
	{ printf '%s\n' \
	  '# Exact versions of everything requirements-dev.txt installs, transitive dependencies' \
	  '# included: the set the test suite passes with. Every install uses it as constraints:' \
	  '#   pip install -r requirements-dev.txt -c constraints.txt   (servers: requirements.txt)' \
	  '# Generated, do not edit: `make constraints` writes `.venv/bin/pip freeze` here' \
	  '# (CONTRIBUTING.md, "Dependencies", says how to upgrade).'; \
	  $(PYTHON) -m pip freeze --disable-pip-version-check; } >constraints.txt.new
	mv constraints.txt.new constraints.txt

migrate: setup
	$(PYTHON) manage.py migrate

migrations: dev
	@test -n "$(NAME)" || { echo 'Name it: make migrations NAME=add_invoice_discount'; exit 1; }
	$(PYTHON) manage.py makemigrations --name $(NAME)

demo: setup
	$(PYTHON) manage.py seed_demo

admin: setup
	$(PYTHON) manage.py create_user admin --role administrator --random-password --reset

check-deploy: setup
	$(PYTHON) manage.py check --deploy

clean:
	rm -rf staticfiles .pytest_cache .ruff_cache .hypothesis
	find . -path ./.venv -prune -o -name __pycache__ -type d -exec rm -rf {} +

#!/usr/bin/env bash
# CI's benchmark smoke run: a throw-away MariaDB database with a small volume
# (python -m bench.seed), its journal export checked by hledger and against the reports, then
# bench/run.py --smoke: every phase runs and every page answers 200.
# Timings are not judged here (bench/RESULTS.md is where they are, on a million invoices).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$OTB_ROOT"

name="otb_bench_smoke_$(date +%Y%m%d%H%M%S)_$$"
work=$(mktemp -d /tmp/otb-bench-smoke.XXXXXX)
admin() { mariadb --protocol=tcp -h 127.0.0.1 -P 3306 -u root -e "$1"; }
cleanup() {
  admin "DROP DATABASE IF EXISTS $name" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

start_mariadb
admin "CREATE DATABASE $name CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
secret_key=$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))')
export DATABASE_URL="mysql://root:@127.0.0.1:3306/$name" OTB_VAR_DIR="$work/var" \
  OTB_ENV_FILE=/nonexistent DEBUG=false ALLOWED_HOSTS='*' SECRET_KEY="$secret_key"
.venv/bin/python manage.py migrate --noinput --verbosity 0
.venv/bin/python -m bench.seed --clients 100 --invoices 3000 --check
# The journal export of those books: hledger checks it (Debian's), and its balances equal the
# reports (manage.py check_books_export; SPEC: Exports and imports).
ensure_packages hledger
.venv/bin/python manage.py check_books_export --start 2000-01-01 --end "$(date -d '+1 year' +%F)"
.venv/bin/python bench/run.py --smoke --out "$work/RESULTS.md"
# The recurring run (bench/recurring.py): 20 schedules made once, numbers gapless.
.venv/bin/python -m bench.recurring --smoke --out "$work/RESULTS.md"
.venv/bin/python -m bench.exports --smoke --out "$work/RESULTS.md"  # every accounting export writes (bench/exports.py)
.venv/bin/python -m bench.imports --smoke --out "$work/RESULTS.md"  # 200 clients previewed and imported (bench/imports.py)

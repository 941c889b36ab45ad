#!/usr/bin/env bash
# Runs the whole test suite: installs what is missing (system packages with apt, the dev
# requirements into .venv), then pytest with any arguments given, e.g.
#   ./scripts/test.sh -k invoice -x
#   OTB_TEST_WORKERS=0 ./scripts/test.sh -x   # in one process (a debugger, pdb)
#   DATABASE_URL=mysql://root:@127.0.0.1:3306/otb_billing ./scripts/test.sh   # on MariaDB
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$OTB_ROOT"

ensure_python_env requirements-dev.txt
# The browser tests drive the system's chromium (Playwright downloads no browser here), and
# the PDF tests read PDFs back with pdftotext; the fonts are the ones the app renders with.
ensure_packages chromium
ensure_pdf_packages
# The accounting exports' journals are checked by the real tool: hledger (Debian's).
ensure_packages hledger
# Two worker processes (pytest-xdist) by default: the suite is mostly waiting on the database,
# PDFs and the browser, and halves its time on two cores. Each worker has its own test
# database (test_<name>_gw0, ...).
exec .venv/bin/pytest -n "${OTB_TEST_WORKERS:-2}" "$@"

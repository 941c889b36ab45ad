#!/usr/bin/env bash
# Runs the whole test suite: installs what is missing (system packages with apt, the dev
# requirements into .venv), then pytest with any arguments given, e.g.
#   ./scripts/test.sh -k invoice -x
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
exec .venv/bin/pytest "$@"

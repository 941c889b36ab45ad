#!/usr/bin/env bash
# Installs what OTB Billing needs on this machine, and nothing that is there already: system
# packages (apt) and .venv with requirements.txt; with --dev also requirements-dev.txt
# (pytest, ruff). quickstart.sh and test.sh do this themselves.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

case "${1:-}" in
  "") ensure_python_env requirements.txt ;;
  --dev) ensure_python_env requirements-dev.txt ;;
  *) die "usage: $0 [--dev]" ;;
esac

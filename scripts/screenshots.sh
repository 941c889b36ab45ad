#!/usr/bin/env bash
# Retakes the README's screenshots (docs/*.png) from the demo data, on a throw-away SQLite
# database and a gunicorn on a spare port; the quick start's var/ is left alone.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$OTB_ROOT"

ensure_python_env requirements-dev.txt
ensure_env_file
ensure_pdf_packages
ensure_packages chromium poppler-utils

work=$(mktemp -d)
trap 'kill "${server:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
export OTB_VAR_DIR=$work/var DATABASE_URL="sqlite:///$work/var/otb.sqlite3"
mkdir -p "$OTB_VAR_DIR"
port=${PORT:-5091}

say "Demo data in $work"
.venv/bin/python manage.py migrate --noinput --verbosity 0
.venv/bin/python manage.py collectstatic --noinput --verbosity 0
.venv/bin/python manage.py seed_demo >/dev/null
password=$(.venv/bin/python manage.py create_user shots --role administrator --random-password |
  sed -n 's/^Password for shots: //p')

.venv/bin/gunicorn otb.wsgi:application --bind "127.0.0.1:$port" >"$work/server.log" 2>&1 &
server=$!
wait_until_ready "$server" "$work/server.log" "Listening at" 30 ||
  die "gunicorn did not start: $(cat "$work/server.log")"

say "Screenshots into docs/"
.venv/bin/python docs/screenshots.py "http://127.0.0.1:$port" shots "$password"
ls -l docs/*.png

#!/usr/bin/env bash
# Retakes the README's screenshots (docs/*.png) from the demo data, on a throw-away SQLite
# database and a gunicorn on a spare port, with a mail sink of its own for the portal's
# sign-in e-mail; the quick start's var/ is left alone. "scripts/screenshots.sh portal" (or
# "office") retakes only the client portal's (the office's).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$OTB_ROOT"

ensure_python_env requirements-dev.txt
ensure_env_file
ensure_pdf_packages
ensure_packages chromium poppler-utils

work=$(mktemp -d)
trap 'kill "${server:-}" "${sink:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
export OTB_VAR_DIR=$work/var DATABASE_URL="sqlite:///$work/var/otb.sqlite3"
export STATIC_ROOT=$work/static
mkdir -p "$OTB_VAR_DIR"
port=${PORT:-5091}
sink_port=${SINK_PORT:-5092}

say "Demo data in $work"
.venv/bin/python manage.py migrate --noinput --verbosity 0
.venv/bin/python manage.py collectstatic --noinput --verbosity 0
.venv/bin/python manage.py seed_demo >/dev/null
password=$(.venv/bin/python manage.py create_user shots --role administrator --random-password |
  sed -n 's/^Password for shots: //p')

# The demo's e-mail goes to 127.0.0.1:1025 (the quick start's mail sink); this one's goes to
# a sink of its own, where the portal's sign-in link is read from.
.venv/bin/python manage.py mailsink --port "$sink_port" --dir "$work/mail" >"$work/mailsink.log" 2>&1 &
sink=$!
wait_until_ready "$sink" "$work/mailsink.log" "Mail sink on" 30 ||
  die "the mail sink did not start: $(cat "$work/mailsink.log")"
.venv/bin/python manage.py shell --verbosity 0 -c "
from settings_app.models import BusinessSettings
BusinessSettings.objects.update(smtp_port=$sink_port)"

.venv/bin/gunicorn otb.wsgi:application --bind "127.0.0.1:$port" >"$work/server.log" 2>&1 &
server=$!
wait_until_ready "$server" "$work/server.log" "Listening at" 30 ||
  die "gunicorn did not start: $(cat "$work/server.log")"

say "Screenshots into docs/"
.venv/bin/python docs/screenshots.py "http://127.0.0.1:$port" shots "$password" "$work/mail" "${1:-}"
ls -l docs/*.png

#!/usr/bin/env bash
# Sets up OTB Billing on this machine and runs it on SQLite with demo data at
# http://127.0.0.1:5050 (PORT=8080 for another port). Installs what is missing (system
# packages with apt, Python packages into .venv), writes .env if there is none, migrates,
# loads the demo data, gives the user "admin" a new random password and prints it.
# Safe to run again: it keeps your data and only resets admin's password.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$OTB_ROOT"

port=${PORT:-5050}
ensure_python_env requirements.txt
ensure_env_file

say "Preparing the database and static files"
.venv/bin/python manage.py migrate --noinput
.venv/bin/python manage.py collectstatic --noinput --verbosity 0
.venv/bin/python manage.py seed_demo

admin_output=$(.venv/bin/python manage.py create_user admin --role administrator \
  --random-password --reset)
password=$(sed -n 's/^Password for admin: //p' <<<"$admin_output")
[ -n "$password" ] || die "create_user printed no password: $admin_output"

cat <<MSG

OTB Billing is starting at http://127.0.0.1:$port/
  Username: admin
  Password: $password
(Running this script again gives admin a new password.) Stop the server with Ctrl+C.

MSG

export WEB_CONCURRENCY=${WEB_CONCURRENCY:-2}
exec .venv/bin/gunicorn otb.wsgi:application --bind "127.0.0.1:$port" --access-logfile -

#!/usr/bin/env bash
# Sets up OTB Billing on this machine and runs it on SQLite with demo data at
# http://127.0.0.1:5050 (PORT=8080 for another port). Installs what is missing (system
# packages with apt, Python packages into .venv), writes .env if there is none, migrates,
# loads the demo data, makes the invoices its recurring schedules have due (as the daily
# timer of an installed server does), gives the user "admin" a new random password and
# prints it. A local mail sink on 127.0.0.1:1025 (manage.py mailsink) receives the e-mail the
# demo sends and keeps each message in var/mail/. Safe to run again: it keeps your data and
# only resets admin's password.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$OTB_ROOT"

port=${PORT:-5050}
# The address the links in e-mails start with (a client opens its invoice from one): the
# commands below (the recurring run e-mails invoices) have no request to take it from.
export OTB_BASE_URL=${OTB_BASE_URL:-http://127.0.0.1:$port}
# What this script and the app write (the database, uploads, backups, kept e-mail) is this
# user's only; var/ of an older quick start is made so too.
umask 077
[ -d var ] && chmod -R go-rwx var
ensure_python_env requirements.txt
ensure_env_file

say "Preparing the database and static files"
.venv/bin/python manage.py migrate --noinput
.venv/bin/python manage.py collectstatic --noinput --verbosity 0
.venv/bin/python manage.py seed_demo

# The demo's settings send e-mail to 127.0.0.1:1025; a mail sink there keeps every message
# (started before the recurring run, which e-mails the demo retainer's invoices).
# Wait until it says it listens, or has exited (port 1025 taken), and say which.
sink_log=var/mailsink.log
: >"$sink_log"
.venv/bin/python manage.py mailsink --port 1025 --dir var/mail >"$sink_log" 2>&1 &
sink_pid=$!
trap 'kill "$sink_pid" 2>/dev/null || true' EXIT
sink_state=0
wait_until_ready "$sink_pid" "$sink_log" "Mail sink on" 60 || sink_state=$?
case $sink_state in
  0) mail_note="E-mail the demo sends is kept in var/mail/ (one .eml file per message)." ;;
  1) mail_note="The mail sink could not start: $(tail -n 1 "$sink_log")
The demo's e-mail goes to whatever listens on 127.0.0.1:1025, or fails to send (see /outbox/)." ;;
  *) mail_note="The mail sink has not started yet (see $sink_log); e-mail may fail to send." ;;
esac

# The demo's schedules start months back: the first run makes their invoices, each once;
# a later one (the quick start run again) makes only what has fallen due since.
say "Making the invoices the recurring schedules have due (manage.py run_recurring)"
.venv/bin/python manage.py run_recurring ||
  say "run_recurring could not bill every schedule (see above); the demo starts anyway."

admin_output=$(.venv/bin/python manage.py create_user admin --role administrator \
  --random-password --reset)
password=$(sed -n 's/^Password for admin: //p' <<<"$admin_output")
[ -n "$password" ] || die "create_user printed no password: $admin_output"

cat <<MSG

OTB Billing is starting at http://127.0.0.1:$port/
  Username: admin
  Password: $password
  Second factor: not required in this demo (an installed server requires it for
  administrators: REQUIRE_SECOND_FACTOR_FOR_ADMINS=true in .env). Anyone can turn it on
  under their name at the top right.
(Running this script again gives admin a new password.) Stop the server with Ctrl+C.
$mail_note
The client portal, as a client sees it: http://127.0.0.1:$port/portal/
  Sign in with accounts@mapleleaf-pm.example.com: the sign-in link arrives in var/mail/
  (the newest file); open it and press "Sign in". The retainer invoices the recurring run
  e-mailed to Maple are there too, each with its own link (/i/...) to that one invoice.
The demo's recurring schedules made their invoices above. ".venv/bin/python manage.py
run_recurring" makes what falls due later, never twice (an installed server runs it daily).

MSG

export WEB_CONCURRENCY=${WEB_CONCURRENCY:-2}
# Not exec: the mail sink is stopped when gunicorn ends.
# The access log names a document link's path without its token, and the workers are
# gthread ones (a long export streams past the timeout), as in production.
.venv/bin/gunicorn otb.wsgi:application --bind "127.0.0.1:$port" --access-logfile - \
  --logger-class otb.access_log.MaskedLinksLogger --worker-class gthread --threads 1 \
  --worker-connections 1 --keep-alive 0

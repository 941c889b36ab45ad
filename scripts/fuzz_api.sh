#!/usr/bin/env bash
# Fuzzes the REST API with Schemathesis against its own OpenAPI schema (/api/schema/): every
# operation gets generated valid and invalid input, and every answer must be no server error
# (5xx) and must match the schema. Runs on a throw-away SQLite database with demo data, served
# by gunicorn on a free port of 127.0.0.1; nothing else is reached. Exits with Schemathesis's
# status. Options after the script's name go to `schemathesis run`, e.g.
#   ./scripts/fuzz_api.sh --include-path-regex '^/api/v1/payments'
# FUZZ_MAX_EXAMPLES (default 25 per operation), FUZZ_MAX_TIME (seconds, default 150),
# FUZZ_CHECKS (default not_a_server_error,response_schema_conformance; "all" for every check)
# and FUZZ_SEED (default: a new one each run, printed by Schemathesis) tune it.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$OTB_ROOT"

ensure_python_env requirements-dev.txt

work=$(mktemp -d "${TMPDIR:-/tmp}/otb-fuzz.XXXXXX")
server_pid=
# shellcheck disable=SC2317  # run by the trap
stop_server() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 50); do
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.2
    done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap stop_server EXIT
trap 'exit 130' INT TERM

# A throw-away instance: its own SQLite database and files, no env file, production-like flags.
export DJANGO_SETTINGS_MODULE=otb.settings
export OTB_VAR_DIR="$work/var" OTB_ENV_FILE=/nonexistent/otb-fuzz.env
export DEBUG=false ALLOWED_HOSTS=127.0.0.1,localhost HTTPS=false
# The demo's SMTP server (127.0.0.1:1025) does not run here, and fuzzed settings may name
# any host: each send attempt fails, and quickly.
export OTB_SMTP_TIMEOUT=3
# No collectstatic for a throw-away instance: static files come from the app folders.
export STATICFILES_BACKEND=django.contrib.staticfiles.storage.StaticFilesStorage
SECRET_KEY=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(50))')
export SECRET_KEY
unset DATABASE_URL
# Only 127.0.0.1 is ever asked: no proxy in between.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
mkdir -p "$OTB_VAR_DIR"

say "Preparing a throw-away database in $OTB_VAR_DIR"
.venv/bin/python manage.py migrate --noinput -v 0
OTB_ADMIN_PASSWORD=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(18))') \
  .venv/bin/python manage.py create_user fuzzer --role administrator >/dev/null
.venv/bin/python manage.py seed_demo >/dev/null
token=$(.venv/bin/python manage.py create_api_token fuzzer --name schemathesis 2>/dev/null \
  | awk 'NF { last = $NF } END { print last }')
[ -n "$token" ] || die "manage.py create_api_token printed no token"

port=$(.venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
say "Starting gunicorn on $base (its tracebacks of server errors are shown at the end)"
.venv/bin/gunicorn otb.wsgi:application --bind "127.0.0.1:$port" --workers 2 --timeout 60 \
  --graceful-timeout 5 >"$work/gunicorn.log" 2>&1 &
server_pid=$!

ready=
for _ in $(seq 150); do
  kill -0 "$server_pid" 2>/dev/null || break
  if .venv/bin/python - "$base/api/schema/" "$token" <<'PY' 2>/dev/null; then
import sys
import urllib.request

request = urllib.request.Request(sys.argv[1], headers={"Authorization": f"Token {sys.argv[2]}"})
with urllib.request.urlopen(request, timeout=2) as response:
    sys.exit(0 if response.status == 200 else 1)
PY
    ready=1
    break
  fi
  sleep 0.2
done
if [ -z "$ready" ]; then
  cat "$work/gunicorn.log" >&2
  die "gunicorn did not serve $base/api/schema/ within 30 s"
fi

seed_args=()
[ -n "${FUZZ_SEED:-}" ] && seed_args=(--seed "$FUZZ_SEED")
say "Schemathesis: $base/api/schema/"
status=0
SCHEMATHESIS_TELEMETRY=false timeout --kill-after 10 "$((${FUZZ_MAX_TIME:-150} + 60))" \
  .venv/bin/schemathesis run "$base/api/schema/" \
  --url "$base" \
  --header "Authorization: Token $token" \
  --checks "${FUZZ_CHECKS:-not_a_server_error,response_schema_conformance}" \
  --phases examples,coverage,fuzzing,stateful \
  --max-examples "${FUZZ_MAX_EXAMPLES:-25}" \
  --max-time "${FUZZ_MAX_TIME:-150}" \
  --request-timeout 20 \
  --max-redirects 0 \
  --generation-database none \
  --suppress-health-check too_slow,filter_too_much \
  --no-color \
  "${seed_args[@]}" "$@" || status=$?

# The server's own account of each server error (its traceback), for whoever fixes it.
server_errors() {
  # From "Internal Server Error: /path" to the next log record ("Bad Request: /path", a
  # gunicorn line, ...); at most 2,000 lines.
  awk '
    /^Internal Server Error: / { show = 1 }
    show && !/^Internal Server Error: / && (/^[A-Z][A-Za-z -]+: \/[^ ]*$/ || /^\[[0-9-]+ [0-9:]+ [+-][0-9]+\] /) { show = 0 }
    show && shown++ < 2000
  ' "$work/gunicorn.log"
}
if grep -q '^Internal Server Error: ' "$work/gunicorn.log"; then
  echo
  echo "===== Server errors in the gunicorn log"
  server_errors
  [ "$status" -ne 0 ] || status=1
fi
exit "$status"

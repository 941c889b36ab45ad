#!/usr/bin/env bash
# CI's installer test, on the CI machine itself and its running MariaDB, as root:
#   1. deploy/install.sh --unattended --no-systemd into a throw-away root and instance; the
#      app answers on its port, a user logs in, an invoice is issued and its PDF served; the
#      env file is 0600; no secret is in the installer's output or logs; the database account
#      has rights on its own database only.
#   2. A second instance on another port beside it, and a port clash refused.
#   3. The upgrade (deploy/upgrade.sh from a newer tree): backup taken, new version answers,
#      nothing lost.
#   4. An upgrade whose migration fails: rolled back, the previous version answers again with
#      its data, and the failed migration left no table or column behind.
#   5. deploy/uninstall.sh removes everything it made: database, users, files.
# Run from anywhere: bash deploy/tests/install_test.sh
set -euo pipefail
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=scripts/lib.sh
. "$SRC/scripts/lib.sh"
[ "$(id -u)" -eq 0 ] || die "The installer test runs the installer, which needs root."

WORK=$(mktemp -d /tmp/otb-install-test.XXXXXX)
chmod 0755 "$WORK" # the instance's user must reach its code below it
ROOT=$WORK/root
A=ci$$a
B=ci$$b
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT_A=$(free_port)
PORT_B=$(free_port)
HOST=billing.ci.test
VERSION=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$SRC/pyproject.toml" | head -n 1)
NEXT_VERSION=$VERSION.post1
BAD_VERSION=$VERSION.post2

(umask 077 && python3 -c 'import secrets; print(secrets.token_urlsafe(16))' >"$WORK/admin-password")
ADMIN_PASSWORD=$(cat "$WORK/admin-password")

cleanup() {
  local status=$?
  for instance in "$A" "$B"; do
    "$SRC/deploy/uninstall.sh" --root "$ROOT" --instance "$instance" --no-systemd --yes \
      >/dev/null 2>&1 || true
  done
  rm -rf "$WORK"
  exit "$status"
}
trap cleanup EXIT

passed=0
ok() {
  passed=$((passed + 1))
  printf '  ok  %s\n' "$*"
}
fail() {
  printf '  FAILED: %s\n' "$*" >&2
  exit 1
}
show_and_fail() { # show_and_fail FILE message
  sed 's/^/    | /' "$1" >&2
  fail "$2"
}

paths() { # paths INSTANCE: sets the variables of that instance
  ENV_FILE=$ROOT/etc/otb_billing/$1.env
  APP_HOME=$ROOT/opt/otb_billing/$1
  MANAGE=$APP_HOME/manage
  BACKUPS=$ROOT/var/backups/otb_billing/$1
  INSTALL_LOG=$ROOT/var/log/otb_billing/$1-install.log
  APP_LOG=$ROOT/var/log/otb_billing/$1.log
  PID_FILE=$ROOT/var/lib/otb_billing/$1/gunicorn.pid
}

smoke() { python3 "$SRC/deploy/tests/smoke.py" "$@" --host "$HOST" --https; }
sql() { mariadb --protocol=tcp -h 127.0.0.1 -P 3306 -u root --batch --skip-column-names -e "$1"; }

copy_tree() { # copy_tree DEST VERSION: the source tree as a newer release would ship it
  mkdir -p "$1"
  tar -C "$SRC" --exclude=./.git --exclude=./.venv --exclude=./var --exclude=./staticfiles \
    --exclude=__pycache__ -cf - . | tar -C "$1" -xf -
  sed -i "s/^version = \".*\"$/version = \"$2\"/" "$1/pyproject.toml"
}

no_secret_in() { # no_secret_in FILE...: none of this instance's secrets is in the files
  local secret_key db_password file
  secret_key=$(sed -n 's/^SECRET_KEY=//p' "$ENV_FILE")
  db_password=$(sed -n 's|^DATABASE_URL=mysql://[^:]*:\([^@]*\)@.*|\1|p' "$ENV_FILE")
  [ ${#secret_key} -ge 40 ] && [ ${#db_password} -ge 20 ] || fail "secrets not found in $ENV_FILE"
  for file in "$@"; do
    [ -f "$file" ] || fail "$file is missing"
    for secret in "$secret_key" "$db_password" "$ADMIN_PASSWORD"; do
      grep -qF -- "$secret" "$file" && fail "a secret appears in $file"
    done
  done
  return 0
}

echo "== 1. Fresh install of instance $A on port $PORT_A (root $ROOT)"
paths "$A"
if ! "$SRC/deploy/install.sh" --unattended --no-systemd --root "$ROOT" --instance "$A" \
  --port "$PORT_A" --domain "$HOST" --admin-email ci@example.com \
  --admin-password-file "$WORK/admin-password" --keep-backups 5 >"$WORK/install.out" 2>&1; then
  show_and_fail "$WORK/install.out" "the installer failed"
fi
grep -q "OTB Billing $VERSION is installed as instance $A" "$WORK/install.out" \
  || show_and_fail "$WORK/install.out" "the installer did not say it installed"
ok "the installer ran unattended and said so"

[ "$(stat -c '%a %U' "$ENV_FILE")" = "600 otb-$A" ] \
  || fail "env file: $(stat -c '%a %U' "$ENV_FILE"), not 600 otb-$A"
ok "the env file is mode 0600, owned by otb-$A"

DATA=$ROOT/var/lib/otb_billing/$A
for dir in "$DATA" "$DATA/media" "$BACKUPS"; do
  [ "$(stat -c '%a %U' "$dir")" = "700 otb-$A" ] || fail "$dir: $(stat -c '%a %U' "$dir"), not 700 otb-$A"
done
ok "the data, uploads and backup folders are mode 0700, owned by otb-$A"

python3 "$SRC/deploy/healthcheck.py" --port "$PORT_A" --host "$HOST" --https \
  --version "$VERSION" --timeout 10 >/dev/null || fail "the app does not answer on $PORT_A"
[ "$(ps -o user= -p "$(cat "$PID_FILE")")" = "otb-$A" ] || fail "gunicorn does not run as otb-$A"
ok "the app answers on port $PORT_A with version $VERSION, as the user otb-$A"

smoke login --port "$PORT_A" --user admin --password-file "$WORK/admin-password" \
  --second-factor-file "$WORK/admin-codes" --expect-setup >/dev/null \
  || fail "logging in as admin, setting up the second factor it must have"
ok "admin logs in through the login page, and must set up a second factor first"

(umask 077 && "$MANAGE" create_api_token admin --name ci 2>/dev/null >"$WORK/token")
smoke invoice --port "$PORT_A" --token-file "$WORK/token" --pdf "$WORK/a.pdf" >"$WORK/invoice.json" \
  || fail "issuing an invoice and fetching its PDF"
NUMBER=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["number"])' <"$WORK/invoice.json")
TOTAL=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])' <"$WORK/invoice.json")
pdftotext "$WORK/a.pdf" - | grep -q "$NUMBER" || fail "the PDF does not show $NUMBER"
ok "invoice $NUMBER ($TOTAL) issued; its PDF is served and shows its number"

no_secret_in "$WORK/install.out" "$INSTALL_LOG" "$APP_LOG"
ok "no secret key, database or admin password in the installer's output or logs"

grants=$(sql "SHOW GRANTS FOR 'otb_$A'@'127.0.0.1'")
grep -q "ON \`otb_$A\`.\*" <<<"$grants" || fail "no grant on otb_$A: $grants"
if grep -v "GRANT USAGE ON \*\.\*" <<<"$grants" | grep -v "ON \`otb_$A\`.\*" | grep -q .; then
  fail "the account has rights beyond its database: $grants"
fi
grep -qE "ALL PRIVILEGES|GRANT OPTION|SUPER|FILE|PROCESS" <<<"$grants" \
  && fail "the account has more than it needs: $grants"
ok "the database account has rights on otb_$A only, no ALL, SUPER, FILE or GRANT"

grep -q "ExecStart=$ROOT/opt/otb_billing/%i/current" "$ROOT/etc/systemd/system/otb-billing@.service" \
  || fail "the systemd unit was not written with the instance's paths"
[ -f "$ROOT/etc/systemd/system/otb-billing-maintenance@.timer" ] || fail "no maintenance timer"
[ -f "$ROOT/etc/systemd/system/otb-billing-outbox@.timer" ] || fail "no e-mail outbox timer"
[ -f "$ROOT/etc/systemd/system/otb-billing-rates@.timer" ] || fail "no exchange rates timer"
grep -q "manage.py import_rates" "$ROOT/etc/systemd/system/otb-billing-rates@.service" \
  || fail "the exchange rates unit does not import the rates"
# The daily maintenance's steps, each its own ExecStart; the recurring invoices after the backup.
steps=$(sed -n 's/^ExecStart=.* manage\.py //p' \
  "$ROOT/etc/systemd/system/otb-billing-maintenance@.service" | paste -sd' ')
[ "$steps" = "refresh_invoice_status backup send_reminders run_recurring" ] \
  || fail "the daily maintenance runs: $steps (expected refresh_invoice_status backup send_reminders run_recurring)"
if command -v systemd-analyze >/dev/null 2>&1; then
  # systemd's own check of the units as written, for this instance (its paths exist).
  mkdir "$WORK/units"
  for unit in otb-billing@ otb-billing-maintenance@ otb-billing-outbox@ otb-billing-rates@; do
    cp "$ROOT/etc/systemd/system/$unit.service" "$WORK/units/$unit$A.service"
  done
  for unit in otb-billing-maintenance@ otb-billing-outbox@ otb-billing-rates@; do
    cp "$ROOT/etc/systemd/system/$unit.timer" "$WORK/units/$unit$A.timer"
  done
  (cd "$WORK/units" && systemd-analyze verify ./*.service ./*.timer) >"$WORK/verify.out" 2>&1 \
    || show_and_fail "$WORK/verify.out" "systemd-analyze verify refuses the units"
  [ -s "$WORK/verify.out" ] && show_and_fail "$WORK/verify.out" "systemd-analyze warns"
fi
ok "the systemd units (service, daily maintenance with the recurring invoices, e-mail outbox, exchange rates, their timers) are written and verify"

echo "== 2. A second instance $B on port $PORT_B beside it"
paths "$B"
if "$SRC/deploy/install.sh" --unattended --no-systemd --root "$ROOT" --instance "$B" \
  --port "$PORT_A" --admin-password-file "$WORK/admin-password" >"$WORK/clash.out" 2>&1; then
  fail "a second instance on port $PORT_A was accepted"
fi
grep -q "port $PORT_A is taken by the instance $A" "$WORK/clash.out" \
  || show_and_fail "$WORK/clash.out" "the port clash was not explained"
id "otb-$B" >/dev/null 2>&1 && fail "the refused install created the user otb-$B"
ok "the same port for a second instance is refused before anything is made"

if ! "$SRC/deploy/install.sh" --unattended --no-systemd --root "$ROOT" --instance "$B" \
  --port "$PORT_B" --admin-password-file "$WORK/admin-password" >"$WORK/install-b.out" 2>&1; then
  show_and_fail "$WORK/install-b.out" "installing the second instance failed"
fi
python3 "$SRC/deploy/healthcheck.py" --port "$PORT_B" --version "$VERSION" --timeout 10 \
  >/dev/null || fail "instance $B does not answer on $PORT_B"
[ "$(sql "SELECT COUNT(*) FROM otb_$B.billing_invoice")" = 0 ] || fail "$B sees invoices"
[ "$(stat -c '%U' "$ENV_FILE")" = "otb-$B" ] || fail "$B's env file is not its own"
ok "instance $B runs on port $PORT_B with its own user, database and (empty) data"
"$SRC/deploy/uninstall.sh" --root "$ROOT" --instance "$B" --no-systemd --yes >/dev/null
paths "$A"

echo "== 3. Upgrade $A to $NEXT_VERSION"
copy_tree "$WORK/next" "$NEXT_VERSION"
backups_before=$(find "$BACKUPS" -name 'otb-backup-*.tar.gz' | wc -l)
if ! "$WORK/next/deploy/upgrade.sh" --no-systemd --root "$ROOT" --instance "$A" \
  >"$WORK/upgrade.out" 2>&1; then
  show_and_fail "$WORK/upgrade.out" "the upgrade failed"
fi
grep -q "upgraded from $VERSION to $NEXT_VERSION" "$WORK/upgrade.out" \
  || show_and_fail "$WORK/upgrade.out" "the upgrade did not say it upgraded"
python3 "$SRC/deploy/healthcheck.py" --port "$PORT_A" --host "$HOST" --https \
  --version "$NEXT_VERSION" --timeout 10 >/dev/null || fail "the new version does not answer"
[ "$(find "$BACKUPS" -name 'otb-backup-*.tar.gz' | wc -l)" -eq $((backups_before + 1)) ] \
  || fail "no backup was taken before the upgrade"
smoke fetch --port "$PORT_A" --token-file "$WORK/token" --number "$NUMBER" --pdf "$WORK/b.pdf" \
  >"$WORK/after.json" || fail "invoice $NUMBER after the upgrade"
grep -q "\"total\": \"$TOTAL\"" "$WORK/after.json" || fail "invoice $NUMBER changed: $(cat "$WORK/after.json")"
smoke login --port "$PORT_A" --user admin --password-file "$WORK/admin-password" \
  --second-factor-file "$WORK/admin-codes" >/dev/null \
  || fail "admin cannot log in after the upgrade"
no_secret_in "$WORK/upgrade.out" "$INSTALL_LOG" "$APP_LOG"
for archive in "$BACKUPS"/otb-backup-*.tar.gz; do
  [ "$(stat -c '%a' "$archive")" = 600 ] || fail "$archive is mode $(stat -c '%a' "$archive"), not 600"
done
ok "upgraded in place: backup taken, $NEXT_VERSION answers, invoice $NUMBER and admin's login kept"

echo "== 4. An upgrade whose migration fails is rolled back"
copy_tree "$WORK/bad" "$BAD_VERSION"
latest=$(find "$SRC/billing/migrations" -name '[0-9][0-9][0-9][0-9]_*.py' -printf '%f\n' | sort | tail -n 1)
cat >"$WORK/bad/billing/migrations/9999_ci_fails.py" <<MIGRATION
from django.db import migrations, models


def fail(apps, schema_editor):
    raise RuntimeError("CI: this migration fails on purpose")


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("billing", "${latest%.py}")]
    operations = [
        migrations.AddField("client", "ci_probe", models.CharField(max_length=5, default="")),
        migrations.CreateModel("CiProbe", [("id", models.AutoField(primary_key=True))]),
        migrations.RunPython(fail),
    ]
MIGRATION
clients_before=$(sql "SELECT COUNT(*) FROM otb_$A.billing_client")
if "$WORK/bad/deploy/upgrade.sh" --no-systemd --root "$ROOT" --instance "$A" \
  >"$WORK/bad.out" 2>&1; then
  fail "an upgrade with a failing migration reported success"
fi
grep -q "Rolled back: version $NEXT_VERSION runs again" "$WORK/bad.out" \
  || show_and_fail "$WORK/bad.out" "the failed upgrade did not say it rolled back"
python3 "$SRC/deploy/healthcheck.py" --port "$PORT_A" --host "$HOST" --https \
  --version "$NEXT_VERSION" --timeout 10 >/dev/null || fail "the old version does not answer"
[ -z "$(sql "SHOW COLUMNS FROM otb_$A.billing_client LIKE 'ci_probe'")" ] \
  || fail "the failed migration's column is still there"
[ -z "$(sql "SHOW TABLES FROM otb_$A LIKE 'billing_ciprobe'")" ] \
  || fail "the failed migration's table is still there"
[ "$(sql "SELECT COUNT(*) FROM otb_$A.django_migrations WHERE name = '9999_ci_fails'")" = 0 ] \
  || fail "the failed migration is recorded as applied"
[ "$(sql "SELECT COUNT(*) FROM otb_$A.billing_client")" = "$clients_before" ] \
  || fail "clients were lost"
readlink "$APP_HOME/current" | grep -q "v$NEXT_VERSION-" || fail "current is not $NEXT_VERSION"
compgen -G "$APP_HOME/releases/v$BAD_VERSION-*" >/dev/null && fail "the failed release is left"
smoke fetch --port "$PORT_A" --token-file "$WORK/token" --number "$NUMBER" --pdf "$WORK/c.pdf" \
  >"$WORK/rolled-back.json" || fail "invoice $NUMBER after the rollback"
grep -q "\"total\": \"$TOTAL\"" "$WORK/rolled-back.json" || fail "invoice $NUMBER changed"
no_secret_in "$WORK/bad.out" "$INSTALL_LOG" "$APP_LOG"
ok "rolled back: $NEXT_VERSION answers again, invoice $NUMBER intact, no trace of the migration"

echo "== 5. Uninstall"
"$SRC/deploy/uninstall.sh" --root "$ROOT" --instance "$A" --no-systemd --yes >"$WORK/uninstall.out" 2>&1 \
  || show_and_fail "$WORK/uninstall.out" "uninstall failed"
[ -z "$(sql "SHOW DATABASES LIKE 'otb_$A'")" ] || fail "the database otb_$A is left"
[ "$(sql "SELECT COUNT(*) FROM mysql.user WHERE user = 'otb_$A'")" = 0 ] || fail "the account is left"
id "otb-$A" >/dev/null 2>&1 && fail "the user otb-$A is left"
[ ! -e "$APP_HOME" ] && [ ! -e "$ENV_FILE" ] || fail "files of $A are left"
compgen -G "$ROOT/etc/systemd/system/otb-billing*" >/dev/null && fail "systemd units are left"
python3 "$SRC/deploy/healthcheck.py" --port "$PORT_A" --timeout 1 >/dev/null 2>&1 \
  && fail "something still answers on $PORT_A"
ok "uninstalled: no database, account, user, file, unit or process left"

echo "Installer test passed ($passed checks)."

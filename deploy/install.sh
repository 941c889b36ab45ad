#!/usr/bin/env bash
# Installs OTB Billing on this Debian 12/13 or Ubuntu 22.04/24.04 server, or upgrades the
# instance that is already installed. Run it as root from the unpacked release or a clone:
#
#   sudo deploy/install.sh                       # asks a few questions
#   sudo deploy/install.sh --unattended --domain billing.example.com \
#        --admin-email you@example.com           # asks nothing
#   sudo deploy/install.sh --instance acme --port 5051 ...   # one more instance
#
# Run again (or deploy/upgrade.sh) on an installed instance, it upgrades it: backup first,
# new code and dependencies beside the old ones, migrate, restart, check; if any of that
# fails, the old code and the database as it was are put back. `--help` lists the options.
set -eEuo pipefail
umask 022

# shellcheck source=deploy/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

usage() {
  cat <<'USAGE'
Usage: deploy/install.sh [options]

Installs OTB Billing, or upgrades an installed instance. Every option also has an environment
variable (in brackets).

  --instance NAME         instance name (default: main) [OTB_INSTANCE]
  --port N                port gunicorn listens on, on 127.0.0.1 (default: 5050) [OTB_PORT]
  --domain NAME           the host name users reach it at, e.g. billing.example.com; the
                          instance then expects HTTPS from nginx (see --no-https) [OTB_DOMAIN]
  --no-https              with --domain: plain HTTP (a test server; never for real use)
  --admin-user NAME       the first administrator's user name (default: admin) [OTB_ADMIN_USER]
  --admin-email ADDRESS   the first administrator's e-mail address [OTB_ADMIN_EMAIL]
  --admin-password-file F read the first administrator's password from file F; without it
                          the installer asks, or (--unattended) generates one and prints it
                          once [OTB_ADMIN_PASSWORD_FILE]
  --workers N             gunicorn worker processes (default: 2 per CPU + 1, at most 8)
  --keep-backups N        daily backups to keep (default: 14) [OTB_BACKUP_KEEP]
  --import-rates          import the ECB's exchange rates each working day (the timer
                          otb-billing-rates@NAME.timer; it fetches OTB_RATES_URL, default the
                          ECB's daily file). Off unless given: the app never needs the
                          network. An upgrade without it leaves the timer as it was.
                          [OTB_IMPORT_RATES=1]
  --unattended            ask nothing; take flags, environment and defaults [OTB_UNATTENDED=1]
  --no-systemd            start gunicorn directly instead of through systemd (containers,
                          CI); nothing restarts it at boot [OTB_NO_SYSTEMD=1]
  --root DIR              install under DIR instead of / (tests) [OTB_INSTALL_ROOT]
  --db-admin-defaults F   a my.cnf-style file ([client] user=, password=) of a MariaDB account
                          that may create databases and users; default: root via the socket
  -h, --help              this text

Files of instance NAME:
  /opt/otb_billing/NAME/            releases/, current -> the running release, manage (wrapper)
  /etc/otb_billing/NAME.env         its settings, mode 0600 (README: "Configuration")
  /var/lib/otb_billing/NAME/        uploaded files
  /var/backups/otb_billing/NAME/    backups (daily, and before every upgrade)
  /var/log/otb_billing/NAME-install.log   what the installer did
USAGE
}

# --- options ----------------------------------------------------------------------------------
INSTANCE=${OTB_INSTANCE:-}
PORT=${OTB_PORT:-}
DOMAIN=${OTB_DOMAIN:-}
HTTPS_ON=1
ADMIN_USER=${OTB_ADMIN_USER:-}
ADMIN_EMAIL=${OTB_ADMIN_EMAIL:-}
ADMIN_PASSWORD_FILE=${OTB_ADMIN_PASSWORD_FILE:-}
WORKERS=
KEEP_BACKUPS=${OTB_BACKUP_KEEP:-14}
UNATTENDED=${OTB_UNATTENDED:-0}
NO_SYSTEMD=${OTB_NO_SYSTEMD:-0}
IMPORT_RATES=${OTB_IMPORT_RATES:-0}
INSTALL_ROOT=${OTB_INSTALL_ROOT:-}
DB_ADMIN_DEFAULTS=

need_value() { [ $# -ge 2 ] && [ -n "$2" ] || die "$1 needs a value (see --help)"; }
while [ $# -gt 0 ]; do
  case $1 in
    --instance) need_value "$@"; INSTANCE=$2; shift ;;
    --port) need_value "$@"; PORT=$2; shift ;;
    --domain) need_value "$@"; DOMAIN=$2; shift ;;
    --no-https) HTTPS_ON=0 ;;
    --admin-user) need_value "$@"; ADMIN_USER=$2; shift ;;
    --admin-email) need_value "$@"; ADMIN_EMAIL=$2; shift ;;
    --admin-password-file) need_value "$@"; ADMIN_PASSWORD_FILE=$2; shift ;;
    --workers) need_value "$@"; WORKERS=$2; shift ;;
    --keep-backups) need_value "$@"; KEEP_BACKUPS=$2; shift ;;
    --unattended) UNATTENDED=1 ;;
    --no-systemd) NO_SYSTEMD=1 ;;
    --import-rates) IMPORT_RATES=1 ;;
    --root) need_value "$@"; INSTALL_ROOT=$2; shift ;;
    --db-admin-defaults) need_value "$@"; DB_ADMIN_DEFAULTS=$2; shift ;;
    -h | --help) usage; exit 0 ;;
    *) die "Unknown option “$1” (see --help)" ;;
  esac
  shift
done

[ "$(id -u)" -eq 0 ] || die "Run the installer as root: sudo $0 $*"
if [ -n "$INSTALL_ROOT" ]; then
  case $INSTALL_ROOT in
    /*) ;;
    *) die "--root: give an absolute path" ;;
  esac
  INSTALL_ROOT=${INSTALL_ROOT%/}
fi

# --- questions (interactive mode) -------------------------------------------------------------
ask() { # ask VAR "question" default
  local answer
  read -r -p "$2 [$3]: " answer </dev/tty || die "No answer read; run with --unattended"
  printf -v "$1" '%s' "${answer:-$3}"
}

ADMIN_PASSWORD=
if [ "$UNATTENDED" != 1 ]; then
  [ -r /dev/tty ] && : </dev/tty 2>/dev/null \
    || die "No terminal to ask questions on: run with --unattended and the options you need."
  echo "OTB Billing installer. Press Enter to take the value in brackets."
  [ -n "$INSTANCE" ] || ask INSTANCE "Instance name (one per customer on a shared server)" main
fi
INSTANCE=${INSTANCE:-main}
check_instance_name
set_paths
UPGRADE=0
[ -L "$CURRENT" ] && UPGRADE=1

if [ "$UNATTENDED" != 1 ] && [ "$UPGRADE" = 0 ]; then
  [ -n "$DOMAIN" ] || ask DOMAIN "Domain users will reach it at (empty: this machine only)" ""
  [ -n "$PORT" ] || ask PORT "Port on 127.0.0.1 for the app" 5050
  [ -n "$ADMIN_USER" ] || ask ADMIN_USER "First administrator's user name" admin
  [ -n "$ADMIN_EMAIL" ] || ask ADMIN_EMAIL "Their e-mail address (may be empty)" ""
  if [ -z "$ADMIN_PASSWORD_FILE" ]; then
    while :; do
      read -r -s -p "Their password (empty: generate one): " ADMIN_PASSWORD </dev/tty
      echo
      [ -z "$ADMIN_PASSWORD" ] && break
      read -r -s -p "The same password again: " again </dev/tty
      echo
      [ "$ADMIN_PASSWORD" = "$again" ] && break
      echo "The two passwords differ; again."
    done
    unset again
  fi
fi
ADMIN_USER=${ADMIN_USER:-admin}

# --- checks -----------------------------------------------------------------------------------
if [ "$UPGRADE" = 1 ]; then
  existing_port=$(env_value OTB_PORT)
  if [ -n "$PORT" ] && [ -n "$existing_port" ] && [ "$PORT" != "$existing_port" ]; then
    die "--port $PORT: instance $INSTANCE listens on $existing_port. An upgrade keeps it; to \
change it, edit OTB_PORT in $ENV_FILE and run the installer again."
  fi
  PORT=${existing_port:-${PORT:-5050}}
else
  PORT=${PORT:-5050}
fi
[[ $PORT =~ ^[0-9]+$ ]] && [ "$PORT" -ge 1024 ] && [ "$PORT" -le 65535 ] \
  || die "--port: “$PORT” is not a port number from 1024 to 65535."
if [ -n "$DOMAIN" ] && ! [[ $DOMAIN =~ ^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$ ]]; then
  die "--domain: “$DOMAIN” is not a host name (letters, digits, dots and hyphens)."
fi
if [ -n "$ADMIN_EMAIL" ] && ! [[ $ADMIN_EMAIL =~ ^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$ ]]; then
  die "--admin-email: “$ADMIN_EMAIL” is not an e-mail address."
fi
[[ $ADMIN_USER =~ ^[A-Za-z0-9@.+_-]{1,150}$ ]] \
  || die "--admin-user: “$ADMIN_USER” may hold only letters, digits and @ . + - _"
[[ $KEEP_BACKUPS =~ ^[0-9]+$ ]] && [ "$KEEP_BACKUPS" -ge 1 ] \
  || die "--keep-backups: “$KEEP_BACKUPS” is not a number of 1 or more."
if [ -n "$WORKERS" ] && ! { [[ $WORKERS =~ ^[0-9]+$ ]] && [ "$WORKERS" -ge 1 ]; }; then
  die "--workers: “$WORKERS” is not a number of 1 or more."
fi
if [ -n "$ADMIN_PASSWORD_FILE" ]; then
  [ -r "$ADMIN_PASSWORD_FILE" ] || die "--admin-password-file: cannot read $ADMIN_PASSWORD_FILE"
  ADMIN_PASSWORD=$(head -n 1 "$ADMIN_PASSWORD_FILE")
  [ -n "$ADMIN_PASSWORD" ] || die "--admin-password-file: $ADMIN_PASSWORD_FILE is empty"
fi

USE_SYSTEMD=1
if [ "$NO_SYSTEMD" = 1 ]; then
  USE_SYSTEMD=0
elif [ -n "$INSTALL_ROOT" ]; then
  die "--root installs outside the system's folders, where systemd cannot run it: add --no-systemd"
elif ! systemd_runs; then
  die "systemd does not run on this machine (a container?). Add --no-systemd: gunicorn is \
then started directly, and nothing restarts it after a reboot."
fi

# Another instance on this port?
if [ "$UPGRADE" = 0 ]; then
  for other in "$ETC_DIR"/*.env; do
    [ -f "$other" ] && [ "$other" != "$ENV_FILE" ] || continue
    if [ "$(sed -n 's/^OTB_PORT=//p' "$other" | tail -n 1)" = "$PORT" ]; then
      die "--port $PORT is taken by the instance $(basename "$other" .env); choose another."
    fi
  done
  if command -v ss >/dev/null 2>&1 && [ -n "$(ss -ltnH "sport = :$PORT" 2>/dev/null)" ]; then
    die "--port $PORT: another program listens on it already (ss -ltnp 'sport = :$PORT'); \
choose another port."
  fi
fi

# --- log, lock, error handling ------------------------------------------------------------------
# /etc/otb_billing stays readable: each instance's file in it is 0600, owned by its user.
install -d -m 0755 "$OPT_DIR" "$APP_HOME" "$ETC_DIR" "$LOG_DIR"
exec 9>"$APP_HOME/.install.lock"
flock -n 9 || die "Another install or upgrade of instance $INSTANCE is running."
touch "$INSTALL_LOG" && chmod 0600 "$INSTALL_LOG"
# fd 3 and 4: the terminal alone, for what must not reach the log (a generated password).
exec 3>&1 4>&2
exec > >(tee -a "$INSTALL_LOG") 2>&1
TEE_PID=$!
MAIN_PID=$BASHPID
finish() {
  # Let tee write the last lines before the script's caller reads on.
  exec 1>&3 2>&4
  wait "$TEE_PID" 2>/dev/null || true
}
trap finish EXIT
printf '\n#### %s: %s of instance %s from %s\n' "$(date -u +%FT%TZ)" \
  "$([ "$UPGRADE" = 1 ] && echo upgrade || echo install)" "$INSTANCE" "$SOURCE_ROOT"

CURRENT_STEP="starting"
step() {
  CURRENT_STEP=$1
  printf '\n==> %s\n' "$1"
}

ROLLBACK_ARMED=0
on_error() {
  local status=$?
  # A failure inside a ( subshell ) reaches the main script too: handle it there, once.
  [ "$BASHPID" = "$MAIN_PID" ] || exit "$status"
  trap - ERR
  set +e
  if [ "$ROLLBACK_ARMED" = 1 ]; then
    rollback "$CURRENT_STEP"
  fi
  printf '\nERROR: the step “%s” failed (exit code %s).\n' "$CURRENT_STEP" "$status" >&2
  printf 'What it printed is above, and in %s.\n' "$INSTALL_LOG" >&2
  if [ "$UPGRADE" = 1 ]; then
    printf 'Nothing was changed: the installed version still runs. ' >&2
  fi
  printf 'Fix the cause and run the same command again: it goes on from there.\n' >&2
  exit 1
}
trap on_error ERR

VERSION=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$SOURCE_ROOT/pyproject.toml" | head -n 1)
[ -n "$VERSION" ] || die "No version in $SOURCE_ROOT/pyproject.toml: is this an OTB Billing tree?"

# --- system --------------------------------------------------------------------------------------
step "Installing the system packages OTB Billing needs (Python, build tools, Pango, fonts, MariaDB)"
ensure_system # sets PYTHON
ensure_packages mariadb-server mariadb-client

step "Starting MariaDB"
start_mariadb
find_db_admin

step "Creating the system user $APP_USER"
if id "$APP_USER" >/dev/null 2>&1; then
  echo "It exists."
else
  useradd --system --user-group --home-dir "$DATA_DIR" --no-create-home \
    --shell /usr/sbin/nologin --comment "OTB Billing instance $INSTANCE" "$APP_USER"
fi

step "Creating the folders of instance $INSTANCE"
install -d -m 0755 "$RELEASES" "$INSTALL_ROOT/var/lib" "$INSTALL_ROOT/var/backups"
install -d -m 0755 "$DATA_PARENT" "$BACKUP_PARENT"
install -d -m 0700 -o "$APP_USER" -g "$APP_USER" "$DATA_DIR" "$DATA_DIR/media"
install -d -m 0700 -o "$APP_USER" -g "$APP_USER" "$BACKUP_DIR"
[ "$USE_SYSTEMD" = 1 ] || { touch "$APP_LOG" && chown "$APP_USER:$APP_USER" "$APP_LOG" && chmod 0640 "$APP_LOG"; }
echo "Code: $APP_HOME   Data: $DATA_DIR   Backups: $BACKUP_DIR"

# --- settings and database --------------------------------------------------------------------
step "Writing the settings file $ENV_FILE (mode 0600)"
if [ -f "$ENV_FILE" ]; then
  echo "It exists: kept as it is (its secret key and database password stay)."
else
  secret_key=$("$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(50))')
  # A Fernet key (32 random bytes, url-safe base64): encrypts the SMTP password at rest.
  encryption_key=$("$PYTHON" -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())')
  db_password=$("$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(24))')
  hosts="127.0.0.1,localhost"
  https=false
  origins=
  if [ -n "$DOMAIN" ]; then
    hosts="$DOMAIN,$hosts"
    if [ "$HTTPS_ON" = 1 ]; then
      https=true
      origins="https://$DOMAIN"
    else
      origins="http://$DOMAIN"
    fi
  fi
  (
    umask 077
    cat >"$ENV_FILE.partial" <<ENV
# OTB Billing, instance $INSTANCE. Written by deploy/install.sh on $(date -u +%F).
# Private (mode 0600): it holds the secret key and the database password. The README,
# "Configuration", explains every key. After a change: systemctl restart $SERVICE
OTB_INSTANCE=$INSTANCE
SECRET_KEY=$secret_key
OTB_ENCRYPTION_KEYS=$encryption_key
DEBUG=false
ALLOWED_HOSTS=$hosts
CSRF_TRUSTED_ORIGINS=$origins
# The address the links in e-mails start with; the daily reminders and recurring run need it.
OTB_BASE_URL=$origins
HTTPS=$https
DATABASE_URL=mysql://$DB_USER:$db_password@127.0.0.1:3306/$DB_NAME
OTB_VAR_DIR=$DATA_DIR
OTB_BACKUP_DIR=$BACKUP_DIR
OTB_BACKUP_KEEP=$KEEP_BACKUPS
OTB_PORT=$PORT
# Administrators sign in with a second factor (an authenticator app) too.
REQUIRE_SECOND_FACTOR_FOR_ADMINS=true
${WORKERS:+WEB_CONCURRENCY=$WORKERS}
ENV
  )
  unset secret_key encryption_key
  chown "$APP_USER:$APP_USER" "$ENV_FILE.partial"
  chmod 0600 "$ENV_FILE.partial"
  mv "$ENV_FILE.partial" "$ENV_FILE"
fi
chown "$APP_USER:$APP_USER" "$ENV_FILE"
chmod 0600 "$ENV_FILE"
db_password=$(env_value DATABASE_URL | sed -n 's|^mysql://[^:]*:\([^@]*\)@.*|\1|p')
[ -n "$db_password" ] || die "$ENV_FILE has no DATABASE_URL=mysql://user:password@… line."
MASK=$db_password

step "Creating the database $DB_NAME and its user $DB_USER (only the rights on that database)"
# The app's account may change the tables of its own database (migrations, restore) and
# nothing else: no global privilege, no other database, no GRANT.
db_admin <<SQL
CREATE DATABASE IF NOT EXISTS \`$DB_NAME\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS '$DB_USER'@'localhost' IDENTIFIED BY '$db_password';
CREATE USER IF NOT EXISTS '$DB_USER'@'127.0.0.1' IDENTIFIED BY '$db_password';
ALTER USER '$DB_USER'@'localhost' IDENTIFIED BY '$db_password';
ALTER USER '$DB_USER'@'127.0.0.1' IDENTIFIED BY '$db_password';
GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, DROP, REFERENCES,
  CREATE TEMPORARY TABLES, LOCK TABLES ON \`$DB_NAME\`.* TO '$DB_USER'@'localhost';
GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, DROP, REFERENCES,
  CREATE TEMPORARY TABLES, LOCK TABLES ON \`$DB_NAME\`.* TO '$DB_USER'@'127.0.0.1';
SQL
unset db_password

# --- the new release ------------------------------------------------------------------------------
# Each version goes into a folder of its own with its own virtualenv; "current" points to the
# one that runs. An upgrade builds the new one beside the old, so going back is a link away.
manage() { # manage RELEASE ARGS...: manage.py of RELEASE as the app's user
  local release=$1
  shift
  (cd "$release" && runuser -u "$APP_USER" -- env OTB_ENV_FILE="$ENV_FILE" \
    "$release/.venv/bin/python" "$release/manage.py" "$@")
}

RELEASE_NAME="v$VERSION-$(date -u +%Y%m%dT%H%M%SZ)"
NEW=$RELEASES/$RELEASE_NAME
OLD=
OLD_VERSION=
if [ "$UPGRADE" = 1 ]; then
  OLD=$(readlink -f "$CURRENT")
  OLD_VERSION=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$OLD/pyproject.toml" | head -n 1)
fi

step "Installing version $VERSION into $NEW"
# A folder without .complete is what an interrupted run left behind.
for partial in "$RELEASES"/*; do
  [ -d "$partial" ] && [ ! -e "$partial/.complete" ] && [ "$partial" != "$OLD" ] \
    && rm -rf "$partial"
done
mkdir -p "$NEW"
tar -C "$SOURCE_ROOT" \
  --exclude=./.git --exclude=./.venv --exclude=./var --exclude=./staticfiles \
  --exclude=./.env --exclude=./media --exclude=__pycache__ --exclude=./.pytest_cache \
  --exclude=./.ruff_cache --exclude=./.hypothesis --exclude=./.schemathesis \
  --exclude=./node_modules -cf - . | tar -C "$NEW" -xf -
echo "Code copied. Creating its virtualenv and installing the Python packages (a few minutes)."
"$PYTHON" -m venv "$NEW/.venv"
# requirements.txt at the versions constraints.txt pins: those CI tested (scripts/lib.sh).
pip_install_pinned "$NEW" requirements.txt
echo "Collecting the static files."
(cd "$NEW" && OTB_ENV_FILE="$ENV_FILE" "$NEW/.venv/bin/python" manage.py collectstatic \
  --noinput --verbosity 0)
(cd "$NEW" && OTB_ENV_FILE="$ENV_FILE" "$NEW/.venv/bin/python" manage.py check)
"$NEW/.venv/bin/python" -m compileall -q -x '/(\.venv|staticfiles|static|templates)/' "$NEW"
chmod -R u=rwX,go=rX "$NEW"
runuser -u "$APP_USER" -- test -r "$NEW/manage.py" || die "The user $APP_USER cannot read \
$NEW: a folder above it is closed to other users (chmod o+x it)."
touch "$NEW/.complete"

# --- switching over -----------------------------------------------------------------------------
switch_to() { # points "current" at $1, in one rename
  ln -sfn "$1" "$APP_HOME/.current.new"
  mv -Tf "$APP_HOME/.current.new" "$CURRENT"
}

check_answers() { # check_answers VERSION
  local host https_flag=()
  host=$(env_value ALLOWED_HOSTS | cut -d, -f1)
  [ "$(env_value HTTPS)" = true ] && https_flag=(--https)
  "$PYTHON" "$DEPLOY_DIR/healthcheck.py" --port "$PORT" --host "${host:-127.0.0.1}" \
    "${https_flag[@]}" --version "$1" --timeout 60
}

ARCHIVE=
rollback() {
  local failed_step=$1
  ROLLBACK_ARMED=0
  printf '\n==> The step “%s” failed: rolling back to version %s\n' "$failed_step" \
    "$OLD_VERSION" >&2
  stop_app
  if manage "$OLD" restore --force "$ARCHIVE" && switch_to "$OLD" && start_app \
    && check_answers "$OLD_VERSION"; then
    rm -rf "$NEW"
    printf '\nERROR: the upgrade to %s failed at “%s”.\n' "$VERSION" "$failed_step" >&2
    printf 'Rolled back: version %s runs again, with the data of the backup taken just before\n' \
      "$OLD_VERSION" >&2
    printf 'the upgrade (%s). What failed is above, and in %s.\n' "$ARCHIVE" "$INSTALL_LOG" >&2
    exit 1
  fi
  printf '\nERROR: the upgrade failed at “%s”, and so did the rollback.\n' "$failed_step" >&2
  printf 'To restore by hand: %s restore --force %s, then point %s at %s and start the app.\n' \
    "$MANAGE" "$ARCHIVE" "$CURRENT" "$OLD" >&2
  exit 2
}

if [ "$UPGRADE" = 1 ]; then
  step "Stopping version $OLD_VERSION, so no one writes while it is backed up and migrated"
  stop_app
  step "Backing up the data before the upgrade"
  if ! backup_output=$(manage "$OLD" backup); then
    printf '%s\n' "$backup_output"
    start_app || true
    die "The backup failed, so nothing was upgraded; version $OLD_VERSION runs again."
  fi
  printf '%s\n' "$backup_output"
  ARCHIVE=$(sed -n 's/^Backup written: //p' <<<"$backup_output")
  [ -f "$ARCHIVE" ] || die "The backup printed no archive; nothing was upgraded."
  ROLLBACK_ARMED=1
fi

step "Migrating the database to version $VERSION"
manage "$NEW" migrate --noinput

step "Making $RELEASE_NAME the current release"
switch_to "$NEW"
cat >"$MANAGE.new" <<WRAPPER
#!/bin/sh
# manage.py of OTB Billing instance $INSTANCE, as its user, with its settings. Run as root:
#   $MANAGE backup        $MANAGE create_user NAME --role bookkeeper --random-password
cd "$CURRENT" || exit 1
exec runuser -u "$APP_USER" -- env OTB_ENV_FILE="$ENV_FILE" "$CURRENT/.venv/bin/python" \\
  "$CURRENT/manage.py" "\$@"
WRAPPER
chmod 0750 "$MANAGE.new"
mv -f "$MANAGE.new" "$MANAGE"

GENERATED_PASSWORD=0
if [ "$UPGRADE" = 0 ]; then
  step "Creating the first administrator, $ADMIN_USER"
  if [ -z "$ADMIN_PASSWORD" ]; then
    ADMIN_PASSWORD=$("$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(15))')
    GENERATED_PASSWORD=1
  fi
  # The password travels in the environment, never on a command line.
  export OTB_ADMIN_PASSWORD=$ADMIN_PASSWORD
  if ! created=$(manage "$CURRENT" create_user "$ADMIN_USER" --role administrator \
    --email "$ADMIN_EMAIL" 2>&1); then
    if grep -q "already exists" <<<"$created"; then
      echo "$ADMIN_USER exists already (an earlier run): its password is left as it is."
      GENERATED_PASSWORD=0
    else
      printf '%s\n' "$created"
      false
    fi
  else
    printf '%s\n' "$created"
  fi
  unset OTB_ADMIN_PASSWORD
fi

if [ "$USE_SYSTEMD" = 1 ]; then
  step "Installing the systemd units $SERVICE, $TIMER (daily maintenance, backup, \
reminders and recurring invoices) and $OUTBOX_TIMER (e-mail every 5 minutes)"
else
  step "Writing the systemd units (not enabled: --no-systemd)"
fi
install -d -m 0755 "$UNIT_DIR"
for template in "$DEPLOY_DIR"/systemd/*.in; do
  unit=$(basename "$template" .in)
  sed -e "s|@OPT_DIR@|$OPT_DIR|g" -e "s|@ETC_DIR@|$ETC_DIR|g" \
    -e "s|@DATA_DIR@|$DATA_PARENT|g" -e "s|@BACKUP_DIR@|$BACKUP_PARENT|g" \
    "$template" >"$UNIT_DIR/$unit"
done
if [ "$USE_SYSTEMD" = 1 ]; then
  systemctl daemon-reload
  systemctl enable --quiet "$SERVICE" "$TIMER" "$OUTBOX_TIMER"
  # The exchange rates import reaches the ECB: only when asked for (an upgrade without
  # --import-rates leaves it on or off, as it was).
  if [ "$IMPORT_RATES" = 1 ]; then
    systemctl enable --quiet "$RATES_TIMER"
  fi
fi

step "Starting OTB Billing $VERSION on 127.0.0.1:$PORT"
start_app
if [ "$USE_SYSTEMD" = 1 ]; then
  systemctl start "$TIMER" "$OUTBOX_TIMER"
  if [ "$IMPORT_RATES" = 1 ]; then
    systemctl start "$RATES_TIMER"
  fi
fi

step "Checking that it answers"
check_answers "$VERSION"
ROLLBACK_ARMED=0

# Keep the running release and the two before it.
mapfile -t old_releases < <(find "$RELEASES" -mindepth 1 -maxdepth 1 -type d -name 'v*' \
  -printf '%T@ %p\n' | sort -rn | cut -d' ' -f2-)
kept=0
for release in "${old_releases[@]}"; do
  [ "$release" = "$NEW" ] && continue
  kept=$((kept + 1))
  [ "$kept" -gt 2 ] && rm -rf "$release"
done

# An nginx site for this instance, with its domain and port, to copy into place.
nginx_name=${DOMAIN:-billing.example.com}
sed -e "s/billing\.example\.com/$nginx_name/g" -e "s/127\.0\.0\.1:5050/127.0.0.1:$PORT/" \
  -e "s/otb_billing_main/otb_billing_$INSTANCE/g" -e "s/otb-billing-NAME/otb-billing-$INSTANCE/g" \
  -e "s|/etc/otb_billing/NAME|$ETC_DIR/$INSTANCE|g" \
  "$DEPLOY_DIR/nginx/otb-billing.conf" >"$NGINX_FILE"

# --- done --------------------------------------------------------------------------------------
url="http://127.0.0.1:$PORT/"
[ -n "$DOMAIN" ] && url="$([ "$(env_value HTTPS)" = true ] && echo https || echo http)://$DOMAIN/"
if [ "$UPGRADE" = 1 ]; then
  printf '\nOTB Billing instance %s is upgraded from %s to %s.\n' "$INSTANCE" "$OLD_VERSION" \
    "$VERSION"
  printf 'The backup taken before the upgrade: %s\n' "$ARCHIVE"
else
  printf '\nOTB Billing %s is installed as instance %s.\n' "$VERSION" "$INSTANCE"
  printf '  Address:  %s   (gunicorn on 127.0.0.1:%s)\n' "$url" "$PORT"
  printf '  Log in:   %s  (administrators then set up a second factor: an authenticator app)\n' \
    "$ADMIN_USER"
  if [ "$GENERATED_PASSWORD" = 1 ]; then
    printf '  Password: (generated; printed at the end, and only there)\n'
  fi
fi
cat <<NEXT

Next steps:
  - Put nginx with HTTPS in front of it: $NGINX_FILE is ready for $nginx_name
    (its first lines say how to enable it and get a certificate with certbot).
  - Settings: $ENV_FILE (README, "Configuration"); business details at ${url}settings/
  - manage.py of this instance: $MANAGE <command>   (e.g. backup, create_user)
  - Backups: daily into $BACKUP_DIR (the newest $(env_value OTB_BACKUP_KEEP) kept).
  - Upgrade: unpack the new release and run its deploy/install.sh --instance $INSTANCE
  - Exchange rates: $MANAGE import_rates FILE_OR_URL imports the ECB's reference rates
NEXT
if [ "$USE_SYSTEMD" = 1 ]; then
  if systemctl is-enabled --quiet "$RATES_TIMER" 2>/dev/null; then
    printf "    (%s imports the ECB's daily file each working day)\n" "$RATES_TIMER"
  else
    printf '    (each working day too: systemctl enable --now %s)\n' "$RATES_TIMER"
  fi
  printf '  - Service: systemctl status %s   journalctl -u %s\n' "$SERVICE" "$SERVICE"
else
  printf '  - No systemd: it runs until stopped (pid in %s, log in %s); nothing restarts it\n' \
    "$PID_FILE" "$APP_LOG"
  printf '    at boot, and the daily maintenance (%s refresh_invoice_status; backup;\n' "$MANAGE"
  printf '    send_reminders; run_recurring) and the e-mail retries (process_outbox, every few\n'
  printf "    minutes) are yours, as is the optional import of the ECB's exchange rates\n"
  printf '    (import_rates, working days).\n'
fi
if [ "$GENERATED_PASSWORD" = 1 ]; then
  # After the log's last line, on the terminal only: the install log never holds it.
  finish
  printf '\nPassword of %s: %s\n(Note it now: it is shown only this once. Change it after logging in.)\n' \
    "$ADMIN_USER" "$ADMIN_PASSWORD"
fi

# shellcheck shell=bash
# Shared by install.sh and uninstall.sh (sourced, not run): where an instance lives, how to
# reach MariaDB as its administrator, and how to start and stop the app.

DEPLOY_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SOURCE_ROOT=$(dirname "$DEPLOY_DIR")
# say, die, as_root, ensure_packages, ensure_system, start_mariadb, pip_install_pinned
# shellcheck source=scripts/lib.sh
. "$SOURCE_ROOT/scripts/lib.sh"

# The instance name goes into a system user (otb-NAME), a database and its user (otb_NAME)
# and the systemd units (otb-billing@NAME): lower-case letters, digits and _ fit them all.
INSTANCE_PATTERN='^[a-z][a-z0-9_]{0,23}$'

# Every path of an instance. INSTALL_ROOT (--root) moves all of them under one folder: for
# tests, which must not touch the real /etc and /opt.
# shellcheck disable=SC2034  # used by the scripts that source this file
set_paths() {
  OPT_DIR=$INSTALL_ROOT/opt/otb_billing
  ETC_DIR=$INSTALL_ROOT/etc/otb_billing
  LOG_DIR=$INSTALL_ROOT/var/log/otb_billing
  UNIT_DIR=$INSTALL_ROOT/etc/systemd/system
  DATA_PARENT=$INSTALL_ROOT/var/lib/otb_billing
  BACKUP_PARENT=$INSTALL_ROOT/var/backups/otb_billing
  APP_HOME=$OPT_DIR/$INSTANCE
  RELEASES=$APP_HOME/releases
  CURRENT=$APP_HOME/current
  MANAGE=$APP_HOME/manage
  ENV_FILE=$ETC_DIR/$INSTANCE.env
  NGINX_FILE=$ETC_DIR/$INSTANCE.nginx.conf
  DATA_DIR=$DATA_PARENT/$INSTANCE
  BACKUP_DIR=$BACKUP_PARENT/$INSTANCE
  INSTALL_LOG=$LOG_DIR/$INSTANCE-install.log
  APP_LOG=$LOG_DIR/$INSTANCE.log
  PID_FILE=$DATA_DIR/gunicorn.pid
  APP_USER=otb-$INSTANCE
  DB_NAME=otb_$INSTANCE
  DB_USER=otb_$INSTANCE
  SERVICE=otb-billing@$INSTANCE.service
  TIMER=otb-billing-maintenance@$INSTANCE.timer
  OUTBOX_TIMER=otb-billing-outbox@$INSTANCE.timer
  RATES_TIMER=otb-billing-rates@$INSTANCE.timer
}

check_instance_name() {
  [[ $INSTANCE =~ $INSTANCE_PATTERN ]] || die "--instance: “$INSTANCE” is not a valid name. \
Use 1 to 24 lower-case letters, digits or _, starting with a letter (e.g. main, acme_ltd)."
}

systemd_runs() { [ -d /run/systemd/system ]; }

# A value of the instance's env file (the last line that sets it), or nothing.
env_value() {
  [ -f "$ENV_FILE" ] || return 0
  sed -n "s/^$1=//p" "$ENV_FILE" | tail -n 1
}

# --- MariaDB as its administrator -----------------------------------------------------------
# On Debian and Ubuntu, root reaches MariaDB through the socket without a password. Elsewhere
# --db-admin-defaults FILE names a my.cnf-style file with [client] user= and password=.
DB_ADMIN_ARGS=()
find_db_admin() {
  if [ -n "${DB_ADMIN_DEFAULTS:-}" ]; then
    [ -r "$DB_ADMIN_DEFAULTS" ] || die "--db-admin-defaults: cannot read $DB_ADMIN_DEFAULTS"
    DB_ADMIN_ARGS=("--defaults-extra-file=$DB_ADMIN_DEFAULTS")
  elif mariadb --protocol=socket -u root -e 'SELECT 1' >/dev/null 2>&1; then
    DB_ADMIN_ARGS=(--protocol=socket -u root)
  elif mariadb --protocol=tcp -h 127.0.0.1 -P 3306 -u root -e 'SELECT 1' >/dev/null 2>&1; then
    DB_ADMIN_ARGS=(--protocol=tcp -h 127.0.0.1 -P 3306 -u root)
  else
    die "Cannot log in to MariaDB as its administrator (root through the socket, or root on \
127.0.0.1 without a password). Give --db-admin-defaults FILE, a file with [client] user=... \
password=... of an account that may create databases and users."
  fi
}

# Runs the SQL given on standard input as the administrator. SQL travels on stdin, never on
# the command line, because it may hold a password; so may an error message, which is
# printed with MASK (a secret) replaced.
db_admin() {
  local errors status=0
  errors=$(mariadb "${DB_ADMIN_ARGS[@]}" --batch --skip-column-names 2>&1 >/dev/null) \
    || status=$?
  if [ "$status" -ne 0 ]; then
    [ -n "${MASK:-}" ] && errors=${errors//"$MASK"/********}
    printf 'MariaDB said: %s\n' "$errors" >&2
  fi
  return "$status"
}

# The same, printing the result rows (for questions, not for statements with secrets).
db_query() {
  mariadb "${DB_ADMIN_ARGS[@]}" --batch --skip-column-names -e "$1"
}

# --- the app's process ----------------------------------------------------------------------
# Under systemd: the unit otb-billing@NAME. Without it (--no-systemd: containers, CI): gunicorn
# as a daemon with a pid file, logging to $APP_LOG.
app_pid() {
  local pid
  [ -f "$PID_FILE" ] || return 1
  pid=$(cat "$PID_FILE" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && printf '%s\n' "$pid"
}

stop_app() {
  local pid _
  if [ "$USE_SYSTEMD" = 1 ]; then
    systemctl stop "$SERVICE" 2>/dev/null || true
    return 0
  fi
  pid=$(app_pid) || return 0
  kill -TERM "$pid"
  for _ in $(seq 40); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 1
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$PID_FILE"
}

start_app() {
  if [ "$USE_SYSTEMD" = 1 ]; then
    systemctl restart "$SERVICE"
    return
  fi
  stop_app
  (
    cd "$CURRENT" || exit 1
    # The daemon must not inherit the installer's lock (fd 9) or its terminal (fds 3, 4).
    exec 3>&- 4>&- 9>&-
    runuser -u "$APP_USER" -- env OTB_ENV_FILE="$ENV_FILE" \
      "$CURRENT/.venv/bin/gunicorn" --config "$CURRENT/deploy/gunicorn.conf.py" \
      --daemon --pid "$PID_FILE" --access-logfile "$APP_LOG" --error-logfile "$APP_LOG" \
      otb.wsgi:application
  )
}

#!/usr/bin/env bash
# Removes an OTB Billing instance that deploy/install.sh set up: stops it, removes its units,
# code, settings and system user, and (unless --keep-data) its database, uploads and backups.
#
#   sudo deploy/uninstall.sh --instance NAME [--keep-data] [--yes]
set -euo pipefail

# shellcheck source=deploy/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

usage() {
  cat <<'USAGE'
Usage: deploy/uninstall.sh --instance NAME [options]

  --instance NAME         the instance to remove (required)
  --keep-data             keep its database, uploaded files and backups
  --yes                   do not ask for confirmation
  --no-systemd            it was installed with --no-systemd
  --root DIR              it was installed with --root DIR
  --db-admin-defaults F   as for install.sh
USAGE
}

INSTANCE=
KEEP_DATA=0
YES=0
NO_SYSTEMD=${OTB_NO_SYSTEMD:-0}
INSTALL_ROOT=${OTB_INSTALL_ROOT:-}
DB_ADMIN_DEFAULTS=
while [ $# -gt 0 ]; do
  case $1 in
    --instance) [ $# -ge 2 ] || die "--instance needs a value"; INSTANCE=$2; shift ;;
    --keep-data) KEEP_DATA=1 ;;
    --yes) YES=1 ;;
    --no-systemd) NO_SYSTEMD=1 ;;
    --root) [ $# -ge 2 ] || die "--root needs a value"; INSTALL_ROOT=${2%/}; shift ;;
    --db-admin-defaults) [ $# -ge 2 ] || die "--db-admin-defaults needs a value"
      DB_ADMIN_DEFAULTS=$2; shift ;;
    -h | --help) usage; exit 0 ;;
    *) die "Unknown option “$1” (see --help)" ;;
  esac
  shift
done
[ "$(id -u)" -eq 0 ] || die "Run it as root."
[ -n "$INSTANCE" ] || die "Name the instance: --instance NAME"
check_instance_name
set_paths
USE_SYSTEMD=1
{ [ "$NO_SYSTEMD" = 1 ] || ! systemd_runs; } && USE_SYSTEMD=0

[ -e "$APP_HOME" ] || [ -e "$ENV_FILE" ] || id "$APP_USER" >/dev/null 2>&1 \
  || die "There is no instance $INSTANCE here ($APP_HOME, $ENV_FILE)."

if [ "$YES" != 1 ]; then
  what="its code, settings and system user"
  [ "$KEEP_DATA" = 1 ] || what="$what, and its DATABASE, UPLOADS and BACKUPS"
  read -r -p "Remove OTB Billing instance $INSTANCE: $what? Type the instance name: " answer \
    </dev/tty
  [ "$answer" = "$INSTANCE" ] || die "Not confirmed; nothing removed."
fi

say "Stopping instance $INSTANCE"
if [ "$USE_SYSTEMD" = 1 ]; then
  systemctl disable --now --quiet "$SERVICE" "$TIMER" "$OUTBOX_TIMER" "$RATES_TIMER" \
    2>/dev/null || true
fi
stop_app

if [ "$KEEP_DATA" = 0 ]; then
  say "Dropping the database $DB_NAME and its user"
  find_db_admin
  db_admin <<SQL
DROP DATABASE IF EXISTS \`$DB_NAME\`;
DROP USER IF EXISTS '$DB_USER'@'localhost';
DROP USER IF EXISTS '$DB_USER'@'127.0.0.1';
SQL
  rm -rf "$DATA_DIR" "$BACKUP_DIR"
fi

say "Removing its code, settings and logs"
rm -rf "$APP_HOME"
rm -f "$ENV_FILE" "$NGINX_FILE" "$INSTALL_LOG" "$APP_LOG"
if id "$APP_USER" >/dev/null 2>&1; then
  if [ "$KEEP_DATA" = 1 ]; then
    echo "The system user $APP_USER stays: it owns the kept data in $DATA_DIR."
  else
    userdel "$APP_USER"
  fi
fi

# The unit templates serve every instance: they go with the last one.
if ! compgen -G "$OPT_DIR/*/current" >/dev/null; then
  rm -f "$UNIT_DIR"/otb-billing@.service "$UNIT_DIR"/otb-billing-maintenance@.service \
    "$UNIT_DIR"/otb-billing-maintenance@.timer "$UNIT_DIR"/otb-billing-outbox@.service \
    "$UNIT_DIR"/otb-billing-outbox@.timer "$UNIT_DIR"/otb-billing-rates@.service \
    "$UNIT_DIR"/otb-billing-rates@.timer
  [ "$USE_SYSTEMD" = 1 ] && systemctl daemon-reload
fi
say "Instance $INSTANCE is removed."

#!/usr/bin/env bash
# Upgrades an installed OTB Billing instance to the code this script comes with:
#   sudo deploy/upgrade.sh [--instance NAME]
# The same as running deploy/install.sh again: backup first, new release beside the old one,
# migrate, restart, check, and back to the old code and data if any step fails.
set -euo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
instance=${OTB_INSTANCE:-main}
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  [ "${args[$i]}" = --instance ] && instance=${args[$((i + 1))]:-}
done
root=${OTB_INSTALL_ROOT:-}
for ((i = 0; i < ${#args[@]}; i++)); do
  [ "${args[$i]}" = --root ] && root=${args[$((i + 1))]:-}
done
if [ ! -L "${root%/}/opt/otb_billing/$instance/current" ]; then
  echo "ERROR: instance $instance is not installed here; install it with deploy/install.sh" >&2
  exit 1
fi
exec "$here/install.sh" --unattended "$@"

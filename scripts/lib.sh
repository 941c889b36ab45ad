# shellcheck shell=bash
# Shared by the scripts beside it (sourced, not run): find the system Python, install the
# system packages that are missing, and keep .venv in step with the requirements files and
# constraints.txt.
# Everything is checked first, so a second run installs nothing, asks for no sudo and works
# offline.

OTB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV="$OTB_ROOT/.venv"

say() { printf '==> %s\n' "$*"; }
die() {
  printf 'ERROR: %s\n' "$*" >&2
  exit 1
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "root rights are needed to run: $*  (install sudo, or run this script as root)"
  fi
}

# Installs those of the given Debian/Ubuntu packages that are not installed yet.
ensure_packages() {
  local missing=() package
  if ! command -v dpkg-query >/dev/null 2>&1; then
    say "Not a Debian or Ubuntu system: make sure these are installed: $*"
    return 0
  fi
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q ' installed$' \
      || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "Installing system packages: ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    "${missing[@]}"
}

python_is_recent() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; }

# Sets PYTHON to the system Python the virtualenv is made from (3.11 or newer) and installs
# it, its venv module and headers, and what mysqlclient is compiled with. OTB_PYTHON
# overrides the choice (its packages are then up to you).
ensure_system() {
  local py=python3
  if [ -n "${OTB_PYTHON:-}" ]; then
    PYTHON=$OTB_PYTHON
    python_is_recent "$PYTHON" || die "OTB_PYTHON=$PYTHON is not Python 3.11 or newer"
    return 0
  fi
  [ -x /usr/bin/python3 ] || ensure_packages python3
  # Ubuntu 22.04's python3 is 3.10; it has python3.11 as a package of its own.
  python_is_recent /usr/bin/python3 || py=python3.11
  ensure_packages "$py" "$py-venv" "$py-dev" build-essential pkg-config libmariadb-dev
  ensure_pdf_packages
  PYTHON=/usr/bin/$py
}

# What WeasyPrint renders invoice PDFs with (Pango, fonts: emoji too, or a client named
# "Café ☕" prints boxes) and the tests read them with (poppler-utils). libharfbuzz-subset0 makes smaller PDFs faster; Ubuntu 22.04 has no such
# package (WeasyPrint then subsets fonts with fontTools), so it is installed only where known.
ensure_pdf_packages() {
  local packages=(libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core fonts-noto-color-emoji
    poppler-utils)
  if command -v apt-cache >/dev/null 2>&1 && apt-cache show libharfbuzz-subset0 >/dev/null 2>&1; then
    packages+=(libharfbuzz-subset0)
  fi
  ensure_packages "${packages[@]}"
}

ensure_venv() {
  if [ -x "$VENV/bin/pip" ] && python_is_recent "$VENV/bin/python"; then
    return 0
  fi
  say "Creating the virtualenv .venv from $PYTHON"
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
}

# pip_install_pinned DIR FILE: installs the requirements file DIR/FILE into DIR/.venv at the
# exact versions DIR/constraints.txt pins, the transitive dependencies' too (`make constraints`
# writes that file). The installer uses it for each release's virtualenv as well.
pip_install_pinned() {
  "$1/.venv/bin/python" -m pip install --disable-pip-version-check -q -r "$1/$2" \
    -c "$1/constraints.txt"
}

# .venv in step with requirements file $1 and constraints.txt: pip installs nothing, and needs
# no network, when .venv has the pinned versions already, and replaces those that differ from
# a pin (after a change to either file).
ensure_requirements() {
  pip_install_pinned "$OTB_ROOT" "$1"
}

# Everything the app (requirements.txt) or development (requirements-dev.txt) needs.
ensure_python_env() {
  ensure_system
  ensure_venv
  ensure_requirements "$1"
  # Where the SQLite databases live by default (settings.VAR_DIR).
  mkdir -p "${OTB_VAR_DIR:-$OTB_ROOT/var}"
}

# Writes the instance's env file with a new secret key unless it exists already.
ensure_env_file() {
  local file=${OTB_ENV_FILE:-$OTB_ROOT/.env} secret_key encryption_key
  [ -e "$file" ] && return 0
  say "Writing $file (settings of this instance; .env.example lists them all)"
  secret_key=$("$VENV/bin/python" -c 'import secrets; print(secrets.token_urlsafe(50))')
  # A Fernet key: 32 random bytes, url-safe base64.
  encryption_key=$("$VENV/bin/python" -c \
    'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())')
  (
    umask 077
    cat >"$file" <<ENV
# Written by scripts/quickstart.sh. Keep it private: it holds the secret key.
# .env.example describes every setting (database, HTTPS, paths, ...).
SECRET_KEY=$secret_key
# Encrypts the SMTP password in the database (SECURITY.md, "Keys").
OTB_ENCRYPTION_KEYS=$encryption_key
DEBUG=false
ALLOWED_HOSTS=127.0.0.1,localhost
ENV
  )
  chmod 600 "$file"
}

# --- MariaDB ------------------------------------------------------------------------------
# True when a MariaDB server answers on 127.0.0.1:3306 (mariadb-admin ping succeeds even when
# the login is refused: it only asks whether the server runs).
mariadb_answers() {
  mariadb-admin --protocol=tcp -h 127.0.0.1 -P 3306 -u root --connect-timeout=2 ping \
    >/dev/null 2>&1
}

# Starts the local MariaDB server unless it answers already: through systemd where it runs,
# else directly (containers, CI). Waits up to a minute for it.
start_mariadb() {
  mariadb_answers && return 0
  say "MariaDB does not answer on 127.0.0.1:3306: starting it"
  if [ -d /run/systemd/system ]; then
    as_root systemctl enable --now mariadb
  else
    # /run is emptied at boot; the server needs its socket folder.
    as_root install -d -o mysql -g mysql /run/mysqld
    as_root start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
  fi
  local _
  for _ in $(seq 60); do
    mariadb_answers && return 0
    sleep 1
  done
  die "MariaDB did not answer within 60 s; see 'journalctl -u mariadb' or /var/log/mysql/"
}

# Wait until the background process PID has written READY to LOG (it is up) or has exited
# (it could not start), at most TIMEOUT seconds. Returns 0 when up, 1 when it exited, 2
# when neither happened in time. A condition, polled: no guess of how long a start takes.
wait_until_ready() {
  local pid=$1 log=$2 ready=$3 timeout=${4:-30}
  local deadline=$((SECONDS + timeout))
  while [ "$SECONDS" -lt "$deadline" ]; do
    if grep -qF -- "$ready" "$log" 2>/dev/null; then
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      # It may have written the line just before it ended.
      grep -qF -- "$ready" "$log" 2>/dev/null && return 0
      return 1
    fi
    sleep 0.1
  done
  return 2
}

#!/usr/bin/env bash
# A three-node MariaDB Galera cluster on loopback, with HAProxy in front, for the cluster
# tests (scripts/test_galera.sh) and for trying a cluster out. From Debian's packages:
# mariadb-server (its galera-4), rsync for state transfers, haproxy.
#
#   scripts/galera.sh start     # nodes on 127.0.0.1:3311-3313, HAProxy on 127.0.0.1:3310
#   scripts/galera.sh stop      # stops everything and removes the data directories
#   scripts/galera.sh status    # each node's state and the cluster's size
#   scripts/galera.sh kill N    # kills node N at once (kill -9), as a crash would
#   scripts/galera.sh revive N  # starts node N again; it rejoins and catches up
#
# Everything lives in $OTB_GALERA_DIR (default /tmp/otb-galera). Root on the nodes has no
# password and listens on 127.0.0.1 only: a test cluster, never one for real data.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DIR=${OTB_GALERA_DIR:-/tmp/otb-galera}
NODES=(1 2 3)
PROXY_PORT=3310
MARIADBD=/usr/sbin/mariadbd

node_port() { echo $((3310 + $1)); }
gcomm_port() { echo $((4570 + $1)); }
cluster_address() {
  local n addresses=()
  for n in "${NODES[@]}"; do addresses+=("127.0.0.1:$(gcomm_port "$n")"); done
  local IFS=,
  echo "gcomm://${addresses[*]}"
}

sql() { # sql N STATEMENT: run on node N through its socket
  mariadb --no-defaults -uroot -S "$DIR/node$1/mysqld.sock" -N -B -e "$2"
}

write_config() {
  local n=$1 user_line=""
  # As root, the nodes run as the mysql user of the mariadb-server package: rsync's state
  # transfer daemon, started by a root node, would write as "nobody" and fail.
  if [ "$(id -u)" -eq 0 ]; then user_line="user = mysql"; fi
  mkdir -p "$DIR/node$n"
  cat >"$DIR/node$n/my.cnf" <<EOF
[mariadbd]
$user_line
datadir = $DIR/node$n/data
socket = $DIR/node$n/mysqld.sock
pid-file = $DIR/node$n/mysqld.pid
log-error = $DIR/node$n/error.log
port = $(node_port "$n")
bind-address = 127.0.0.1
character-set-server = utf8mb4
collation-server = utf8mb4_unicode_ci
skip-name-resolve
innodb_buffer_pool_size = 128M
innodb_log_file_size = 48M
innodb_flush_log_at_trx_commit = 2
binlog_format = ROW
innodb_autoinc_lock_mode = 2
wsrep_on = ON
wsrep_provider = /usr/lib/galera/libgalera_smm.so
wsrep_cluster_name = otb_test
wsrep_cluster_address = $(cluster_address)
wsrep_node_name = node$n
wsrep_node_address = 127.0.0.1:$(gcomm_port "$n")
wsrep_provider_options = "gmcast.listen_addr=tcp://127.0.0.1:$(gcomm_port "$n");ist.recv_addr=127.0.0.1:$((4580 + n));gcache.size=128M"
wsrep_sst_method = rsync
wsrep_sst_receive_address = 127.0.0.1:$((4590 + n))
EOF
}

start_node() { # start_node N [--wsrep-new-cluster]
  local n=$1
  shift
  "$MARIADBD" --defaults-file="$DIR/node$n/my.cnf" "$@" >>"$DIR/node$n/stdout.log" 2>&1 &
}

wait_synced() { # wait_synced N SECONDS
  local n=$1 deadline=$((SECONDS + $2)) state
  while [ $SECONDS -lt $deadline ]; do
    state=$(wsrep_status "$n" LOCAL_STATE_COMMENT || true)
    [ "$state" = "Synced" ] && return 0
    sleep 0.3
  done
  tail -n 30 "$DIR/node$n/error.log" >&2 || true
  die "node $n is not synced after $2 s (log: $DIR/node$n/error.log)"
}

write_proxy_config() {
  local n servers=""
  for n in "${NODES[@]}"; do
    servers+="  server node$n 127.0.0.1:$(node_port "$n") check"$'\n'
  done
  # A node that stops answering is out after two checks 300 ms apart, and the connections
  # through it are cut, so the app sees an error at once instead of waiting on a dead node.
  cat >"$DIR/haproxy.cfg" <<EOF
global
  maxconn 512
  pidfile $DIR/haproxy.pid

defaults
  mode tcp
  timeout connect 2s
  timeout client 120s
  timeout server 120s

listen galera
  bind 127.0.0.1:$PROXY_PORT
  balance leastconn
  option mysql-check user haproxy_check
  default-server inter 300ms fall 2 rise 3 on-marked-down shutdown-sessions
$servers
EOF
}

start() {
  ensure_packages mariadb-server galera-4 rsync haproxy
  [ -e "$DIR" ] && stop
  mkdir -p "$DIR"
  local n
  for n in "${NODES[@]}"; do write_config "$n"; done
  if [ "$(id -u)" -eq 0 ]; then chown -R mysql:mysql "$DIR"; fi
  say "Bootstrapping node 1"
  mariadb-install-db --defaults-file="$DIR/node1/my.cnf" --auth-root-authentication-method=normal \
    >"$DIR/node1/install.log" 2>&1 || die "mariadb-install-db failed: $DIR/node1/install.log"
  start_node 1 --wsrep-new-cluster
  wait_synced 1 60
  # Root over TCP without a password (a test cluster on loopback), and the user HAProxy's
  # check logs in as; replicated to the other nodes by their state transfer.
  sql 1 "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1';
         GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
         CREATE USER IF NOT EXISTS 'haproxy_check'@'127.0.0.1';"
  for n in "${NODES[@]:1}"; do
    say "Starting node $n (joins by a state transfer from the cluster)"
    mkdir -p "$DIR/node$n/data"
    if [ "$(id -u)" -eq 0 ]; then chown -R mysql:mysql "$DIR/node$n"; fi
    start_node "$n"
    wait_synced "$n" 90
  done
  write_proxy_config
  haproxy -f "$DIR/haproxy.cfg" -D
  status
  say "Cluster ready: DATABASE_URL=mysql://root:@127.0.0.1:$PROXY_PORT/NAME (HAProxy), or the nodes on ports $(node_port 1)-$(node_port 3)"
}

kill_node() {
  local pid
  pid=$(cat "$DIR/node$1/mysqld.pid" 2>/dev/null) || die "node $1 is not running"
  kill -9 "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  rm -f "$DIR/node$1/mysqld.pid" "$DIR/node$1/mysqld.sock"
}

revive() {
  start_node "$1"
  wait_synced "$1" 90
}

stop() {
  local n pid
  if [ -f "$DIR/haproxy.pid" ]; then
    kill "$(cat "$DIR/haproxy.pid")" 2>/dev/null || true
  fi
  for n in "${NODES[@]}"; do
    pid=$(cat "$DIR/node$n/mysqld.pid" 2>/dev/null) || continue
    kill "$pid" 2>/dev/null || continue
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
  done
  rm -rf "$DIR"
}

wsrep_status() { # wsrep_status N NAME
  sql "$1" "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS
            WHERE VARIABLE_NAME = 'WSREP_$2'" 2>/dev/null
}

status() {
  local n
  for n in "${NODES[@]}"; do
    if wsrep_status "$n" LOCAL_STATE_COMMENT >/dev/null; then
      printf 'node %s (port %s): %s, cluster size %s\n' "$n" "$(node_port "$n")" \
        "$(wsrep_status "$n" LOCAL_STATE_COMMENT)" "$(wsrep_status "$n" CLUSTER_SIZE)"
    else
      printf 'node %s (port %s): down\n' "$n" "$(node_port "$n")"
    fi
  done
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  kill) kill_node "${2:?node number}" ;;
  revive) revive "${2:?node number}" ;;
  *) die "usage: $0 start|stop|status|kill N|revive N" ;;
esac

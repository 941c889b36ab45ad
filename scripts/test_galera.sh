#!/usr/bin/env bash
# The cluster tests (SPEC: Scale): starts a three-node MariaDB Galera cluster with HAProxy in
# front (scripts/galera.sh), runs the concurrency tests with their writers spread over the
# three nodes and the test that kills a node in the middle of a run, through HAProxy, then
# stops and removes the cluster, whatever happened. Arguments go to pytest.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$OTB_ROOT"

trap 'bash scripts/galera.sh stop' EXIT
started=$SECONDS
bash scripts/galera.sh start
say "Cluster up in $((SECONDS - started)) s"

# The test database is made through HAProxy; the tests reach the nodes by their ports.
export OTB_GALERA_NODES=3311,3312,3313
export DATABASE_URL=mysql://root:@127.0.0.1:3310/otb_galera
# Reads wait for what the cluster committed before them (README: Scaling out).
export DB_WSREP_SYNC_WAIT=1
# In one process: each test already runs several writers against the three nodes.
OTB_TEST_WORKERS=${OTB_TEST_WORKERS:-0} ./scripts/test.sh -m "concurrency or galera" "$@"

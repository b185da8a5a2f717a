#!/bin/sh
# The cross-language demo (`make demo`; examples/README.md, "The demo"): the C server and a
# Python and a Rust client, three processes sharing one session protocol.
#
#   demo.sh DEMO_SERVER PYTHON RUST_DEMO_CLIENT [demo_server options...]
#
# The server prints the progress and the table. Exit status: 0 when the server and both
# clients passed every check, else the first failure's status.
set -u
if [ $# -lt 3 ]; then
    echo "usage: demo.sh DEMO_SERVER PYTHON RUST_DEMO_CLIENT [demo_server options...]" >&2
    exit 3
fi
here=$(cd "$(dirname "$0")" && pwd)
server=$1 python=$2 rust=$3
shift 3
SHMIPC_SOCKET_DIR=$(mktemp -d "${TMPDIR:-/tmp}/shmipc-demo-XXXXXX") || exit 3
export SHMIPC_SOCKET_DIR
pids=""
trap 'kill $pids 2>/dev/null; rm -rf "$SHMIPC_SOCKET_DIR"' EXIT
trap 'exit 130' INT TERM

"$server" -n demo "$@" &
srv=$!
pids=$srv
tries=0
while [ ! -S "$SHMIPC_SOCKET_DIR/demo.sock" ] && kill -0 $srv 2>/dev/null && [ $tries -lt 400 ]; do
    sleep 0.05
    tries=$((tries + 1))
done
# The Python client allocates its answers in a lend arena of its own.
"$python" "$here/python/demo_client.py" -n demo &
py=$!
"$rust" -n demo &
rs=$!
pids="$srv $py $rs"
wait $py; py_rc=$?
wait $rs; rs_rc=$?
wait $srv; srv_rc=$?
pids=""
for rc in $srv_rc $py_rc $rs_rc; do
    [ "$rc" -ne 0 ] && exit "$rc"
done
exit 0

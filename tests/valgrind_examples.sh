#!/bin/sh
# The C examples under valgrind memcheck: no invalid access, no uninitialised read, no
# leak (definite or indirect) in any process of the demo and of an echo server with two
# clients; then each fuzz harness over its seed corpus (tests/fuzz/replay.c). Run by
# `make check-valgrind` (not part of make check: slow).
set -u
b=${SHMIPC_BUILDDIR:?}
vg="valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect --trace-children=yes"
dir=$(mktemp -d /tmp/shmipc-valgrind-XXXXXX)
export SHMIPC_SOCKET_DIR="$dir"
n=0
fails=0
t() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fails=$((fails + 1)); fi; }
run() { "$b/libtool" --mode=execute $vg "$@"; } # the real binaries, not libtool's wrappers

cd "$b" || exit 1
run ./examples/c/named_list >"$dir/demo.out" 2>&1
t $? "the demo (two processes) is clean under memcheck" || cat "$dir/demo.out"
for provider in shared lend; do
    run ./examples/c/echo_server -n vg -p $provider -c 2 -s 1,4096,1048576 -r 20 \
        >"$dir/server.out" 2>&1 &
    srv=$!
    for _ in $(seq 200); do grep -q listening "$dir/server.out" && break; sleep 0.05; done
    run ./examples/c/echo_client -n vg -a first >"$dir/c1.out" 2>&1; c1=$?
    run ./examples/c/echo_client -n vg -a second >"$dir/c2.out" 2>&1; c2=$?
    wait $srv; s=$?
    test $c1 = 0 && test $c2 = 0; t $? "$provider provider: two echo clients are clean" ||
        cat "$dir/c1.out" "$dir/c2.out"
    test $s = 0; t $? "$provider provider: the echo server is clean" || cat "$dir/server.out"
done
for h in blob proto ring pool containers; do
    run ./tests/fuzz/replay_$h "${SHMIPC_SRCDIR:?}/tests/fuzz/corpus/$h" >"$dir/fuzz.out" 2>&1
    t $? "fuzz_$h: its seed corpus replays clean under memcheck" || cat "$dir/fuzz.out"
done
rm -rf "$dir"
echo "1..$n"
test $fails -eq 0

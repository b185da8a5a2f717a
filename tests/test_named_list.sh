#!/bin/sh
# examples/c/named_list runs, shows two processes sharing the list, and ends at its baseline.
set -u
out=$("${SHMIPC_BUILDDIR:?}/examples/c/named_list" 2>&1)
rc=$?
echo "$out" | sed 's/^/# /'
n=0
fails=0
t() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fails=$((fails + 1)); fi; }
t $rc "the demo exits 0"
echo "$out" | grep -q "added by reader pid"; t $? "the writer sees the reader's item"
echo "$out" | grep -q "back to baseline; allocator check: ok"; t $? "nothing leaked"
echo "1..$n"
test $fails -eq 0

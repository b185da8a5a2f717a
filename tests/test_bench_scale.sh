#!/bin/sh
# bench/scale's smallest run (--smoke) goes through every part with real processes (a
# server, its clients, eight clients at once, forty lifetimes with kills), so the benchmark
# keeps working. Its figures are not judged here: a benchmark, not a timed test.
set -u
csv="${TMPDIR:-/tmp}/test_bench_scale.$$.csv"
out=$("${SHMIPC_BUILDDIR:?}/bench/scale" --smoke --csv "$csv" 2>&1)
rc=$?
echo "$out" | sed 's/^/# /'
n=0
fails=0
t() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fails=$((fails + 1)); fi; }
t $rc "bench/scale --smoke exits 0"
for part in loans sessions at-once names churn; do
	case "$part" in churn) echo "$out" | grep -q "^lend provider: not in this build" && continue;; esac
	echo "$out" | grep -q "^| $part |"; t $? "the table has the $part rows"
done
echo "$out" | grep -q "| failed |"; t $((! $?)) "no size failed"
if echo "$out" | grep -q "^lend provider: not in this build"; then
	echo "ok $((n + 1)) - eight lend clients at once connected # SKIP no jemalloc"
	echo "ok $((n + 2)) - every churn lifetime lived # SKIP no jemalloc"
	n=$((n + 2))
else
	echo "$out" | grep -q "^| at-once | lend | 8 | clients connected | 8 |"; t $? "eight lend clients at once connected"
	echo "$out" | grep -q "^| churn | lend | 40 | client lifetimes that failed | 0 |"; t $? "every churn lifetime lived"
fi
# the CSV: its header and a line for each row of the table (fewer without jemalloc)
rows=$(echo "$out" | grep -c '^| ')
test "$rows" -gt 10 && test "$(grep -c '' "$csv" 2>/dev/null)" -eq "$rows"; t $? "the CSV has the rows"
rm -f "$csv"
echo "1..$n"
test $fails -eq 0

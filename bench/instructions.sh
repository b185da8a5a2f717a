#!/bin/sh
# bench/instructions.sh — instructions per warm round trip (bench/instructions.c), under
# valgrind's callgrind: each shape runs for LOW and HIGH round trips and the difference of
# the two totals, divided by HIGH - LOW, is one round trip's work, set-up and exit left out.
#   bench/instructions.sh [PROGRAM]   (make bench-instructions)
set -eu
prog=${1:-bench/instructions}
low=1000
high=6000
command -v valgrind >/dev/null || { echo "bench-instructions: valgrind is not installed"; exit 0; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Total instructions (Ir) callgrind counted for one run.
total() {
    valgrind --tool=callgrind --callgrind-out-file="$tmp/out" "$@" >/dev/null 2>"$tmp/err" ||
        { cat "$tmp/err" >&2; exit 1; }
    sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$tmp/out"
}

printf '| provider | shape | instructions per round trip |\n|---|---|---|\n'
for provider in lend shared; do
    for shape in both one; do
        flag=
        [ "$shape" = one ] && flag=--one-way
        a=$(total "$prog" "$provider" $low $flag)
        b=$(total "$prog" "$provider" $high $flag)
        label="an object each way"
        [ "$shape" = one ] && label="one way, empty answer"
        printf '| %s | %s | %d |\n' "$provider" "$label" $(( (b - a) / (high - low) ))
    done
done

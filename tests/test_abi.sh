#!/bin/sh
# build-aux/abi.sh, the rule of make check-abi and make abi-baseline, on a small library of
# its own: a baseline records its -version-info; an added function and an options struct
# grown at its end pass; a removed function or a struct changed elsewhere fails while
# -version-info stays, and abi-baseline refuses to record it until CURRENT+1:0:0.
set -u
src=${SHMIPC_SRCDIR:?}
abi="$src/build-aux/abi.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! command -v abidw >/dev/null || ! command -v abidiff >/dev/null; then
    echo "1..0 # SKIP libabigail (abigail-tools) is not installed"
    exit 0
fi
n=0
fails=0
t() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fails=$((fails + 1)); fi; }

# lib VARIANT FIELDS FUNCS: libprobe.so in $tmp/VARIANT with header probe.h.
lib() {
    mkdir -p "$tmp/$1"
    printf '#include <stddef.h>\ntypedef struct shmipc_server_opts { size_t size; %s } shmipc_server_opts;\nstruct shmipc_arena_stats { %s };\nint probe_open(const shmipc_server_opts *o, struct shmipc_arena_stats *s);\n%s\n' \
        "$2" "$3" "$4" >"$tmp/$1/probe.h"
    printf '#include "probe.h"\nint probe_open(const shmipc_server_opts *o, struct shmipc_arena_stats *s) { (void)s; return (int)o->size; }\n%s\n' \
        "$5" >"$tmp/$1/probe.c"
    ${CC:-cc} -g -shared -fPIC -o "$tmp/$1/libprobe.so" "$tmp/$1/probe.c" 2>"$tmp/cc.log" ||
        cat "$tmp/cc.log"
}
run() { # run MODE VARIANT VERSION_INFO
    sh "$abi" "$1" "$tmp/$2/libprobe.so" "$tmp/base.abi" "$3" "$tmp/$2/probe.h" >"$tmp/out" 2>&1
}
base_fields='int a;'
stats='long used;'
lib v1 "$base_fields" "$stats" 'int probe_gone(void);' 'int probe_gone(void) { return 0; }'
run baseline v1 0:0:0
t $? "abi-baseline writes a baseline"
grep -q 'shmipc: libtool -version-info 0:0:0' "$tmp/base.abi"
t $? "the baseline records the -version-info it was made for"
run check v1 0:0:0
t $? "check-abi: the same library passes"
run check v1 1:0:0
t $((! $?)) "check-abi: a -version-info the baseline was not made for fails"

lib v2 "$base_fields long b;" "$stats" 'int probe_gone(void); int probe_new(void);' \
    'int probe_gone(void) { return 0; } int probe_new(void) { return 1; }'
run check v2 0:0:0
t $? "check-abi: an added function and an options struct grown at its end pass"

lib v3 "$base_fields" "$stats" '' ''
run check v3 0:0:0
rc=$?
t $((! rc)) "check-abi: a removed function fails while -version-info is unchanged"
grep -q 'bump it in configure.ac' "$tmp/out"
t $? "and says to bump -version-info with the baseline"
lib v4 "$base_fields" "int first; $stats" 'int probe_gone(void);' 'int probe_gone(void) { return 0; }'
run check v4 0:0:0
t $((! $?)) "check-abi: a field inserted before the others of another struct fails"

run baseline v3 0:1:0
t $((! $?)) "abi-baseline refuses an incompatible change under -version-info 0:1:0"
run check v1 0:0:0
t $? "and leaves the old baseline as it was"
run baseline v3 1:0:0
t $? "abi-baseline records it with CURRENT+1:0:0"
run check v3 1:0:0
t $? "after which check-abi passes"
echo "1..$n"
test $fails -eq 0

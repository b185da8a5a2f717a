#!/bin/sh
# One recipe for the C core (core/sources.am): the Python extension's build reads it as make
# does (recipe.txt, written by make: one NAME=words line per assignment), and it lists every
# core/*.c. (The Rust build's reading is compared in its own test, shmipc-sys tests/recipe.rs,
# under make check-rust.)
set -u
b=${SHMIPC_BUILDDIR:?}
s=${SHMIPC_SRCDIR:?}
n=0
fails=0
t() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fails=$((fails + 1)); fi; }

python=${PYTHON3:-python3}
py=$("$python" "$s/bindings/python/src/shmipc/_build_ffi.py" --recipe "$s/core")
t $? "the Python build reads core/sources.am"
test "$py" = "$(cat "$b/recipe.txt")"
t $? "the Python build reads it as make does" || diff "$b/recipe.txt" - <<EOF2 | sed 's/^/# /'
$py
EOF2
missing=""
for c in "$s"/core/*.c; do
    grep -q "^CORE_SOURCES=.*core/$(basename "$c")\( \|$\)" "$b/recipe.txt" ||
        missing="$missing core/$(basename "$c")"
done
test -z "$missing"; t $? "it lists every core/*.c${missing:+ (missing:$missing)}"
grep -q "^CORE_DEFINES=.*-DSHMIPC_BUILDING" "$b/recipe.txt"; t $? "with the core's defines"
echo "1..$n"
test $fails -eq 0

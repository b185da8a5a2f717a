#!/bin/sh
# `make install` into a staging root, then build and run an outside program with nothing
# but pkg-config's flags; the installed libraries export their header's functions and
# nothing else, each with its symbol version (core/libshmipc.map, mpi/libshmipc_mpi.map).
set -u
b=${SHMIPC_BUILDDIR:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
fails=0
t() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fails=$((fails + 1)); fi; }

unset MAKEFLAGS MFLAGS
make -C "$b" install DESTDIR="$tmp/root" >"$tmp/install.log" 2>&1
t $? "make install DESTDIR=..." || cat "$tmp/install.log"
libdir=$(pkg-config --variable=libdir "$b/shmipc.pc")
root=$tmp/root
export PKG_CONFIG_PATH="$root$libdir/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$root"
test -f "$root$libdir/pkgconfig/shmipc.pc"; t $? "shmipc.pc installed in $libdir/pkgconfig"
version=$(pkg-config --modversion shmipc)
t $? "pkg-config knows shmipc ($version)"

cat >"$tmp/prog.c" <<'PROG'
#include <shmipc.h>
#include <shmipc/offptr.h>
#include <stdio.h>
#include <string.h>
int main(int argc, char **argv)
{
    shmipc_pool *p;
    shmipc_arena *a;
    void *x;
    (void)argc;
    if (strcmp(shmipc_version(), argv[1]) != 0 || strcmp(SHMIPC_VERSION_STRING, argv[1]) != 0)
        return 2;
    if (shmipc_pool_create(NULL, 1 << 20, 0, &p) || shmipc_arena_create(p, &a))
        return 3;
    if (shmipc_named_alloc(a, "x", 64, &x) != 1 || shmipc_arena_check(a) != 0)
        return 4;
    shmipc_arena_close(a);
    puts("installed library works");
    return 0;
}
PROG
lib="$root$libdir/libshmipc.so"
static=""
[ -f "$lib" ] || static="--static" # a --disable-shared build (e.g. the sanitizer run)
# CC, CFLAGS and LDFLAGS are the build's (sanitizer flags included).
# shellcheck disable=SC2046,SC2086
${CC:-cc} ${CFLAGS:-} -Wall -Werror -o "$tmp/prog" "$tmp/prog.c" ${LDFLAGS:-} \
    $(pkg-config $static --cflags --libs shmipc) 2>"$tmp/cc.log"
t $? "an outside program builds with pkg-config --cflags --libs shmipc" || cat "$tmp/cc.log"
LD_LIBRARY_PATH="$root$libdir" "$tmp/prog" "$version" >/dev/null
t $? "and runs against the installed library (version $version)"

# exports LIB HEADER MACRO MAP: LIB exports exactly the functions HEADER declares with
# MACRO, and (where this build versions its symbols) each with the version node of MAP that
# lists it, the map listing the same functions.
exports() {
    name=$(basename "$1")
    declared=$(sed -n "s/^$3[^(]*[^a-z0-9_]\(shmipc_[a-z0-9_]*\)(.*/\1/p" "$2" | LC_ALL=C sort)
    # defined, not local: name@@version, or name alone if unversioned
    dyn=$(readelf --dyn-syms -W "$1" | awk '$7 ~ /^[0-9]+$/ && $5 != "LOCAL" {print $8}' |
        LC_ALL=C sort)
    names=$(echo "$dyn" | sed 's/@.*//')
    missing=$(echo "$declared" | grep -vxF "$names" || true)
    extra=$(echo "$names" | grep -vxF "$declared" || true)
    test -z "$missing$extra"
    t $? "$name exports exactly the functions of $(basename "$2")${missing:+; missing: $missing}${extra:+; not declared there: $extra}"
    if [ "${SHMIPC_SYMBOL_VERSIONS:-0}" = 1 ]; then
        listed=$(awk '/^[A-Z0-9_.]+ *\{/ {node = $1} /^ +shmipc_[a-z0-9_]+;/ \
            {sub(/;.*/, ""); print $1 "@@" node}' "$4" | LC_ALL=C sort)
        test "$(echo "$listed" | sed 's/@.*//')" = "$declared"
        t $? "$(basename "$4") lists the same functions as $(basename "$2")"
        wrong=$(echo "$dyn" | grep -vxF "$listed" || true)
        test -z "$wrong"
        t $? "every symbol of $name carries the version its map gives it${wrong:+: $wrong}"
    else
        n=$((n + 1)); echo "ok $n # SKIP symbol versions: the linker takes no version script"
    fi
}

if [ -f "$lib" ]; then
    exports "$lib" "$SHMIPC_SRCDIR/core/include/shmipc.h" SHMIPC_API \
        "$SHMIPC_SRCDIR/core/libshmipc.map"
    if [ "${SHMIPC_SYMBOL_VERSIONS:-0}" = 1 ]; then
        readelf --dyn-syms -W "$tmp/prog" | grep -q ' shmipc_pool_create@SHMIPC_0\.1'
        t $? "the outside program records the version of the symbols it links"
    fi
    mpi="$root$libdir/libshmipc_mpi.so"
    if [ -f "$mpi" ]; then
        exports "$mpi" "$SHMIPC_SRCDIR/mpi/include/shmipc_mpi.h" SHMIPC_MPI_API \
            "$SHMIPC_SRCDIR/mpi/libshmipc_mpi.map"
    fi
    exports=$(nm -D --defined-only "$lib" | awk '$2 ~ /[TDBR]/ {print $3}')
    je=$(echo "$exports" | grep '^shmipc_je_' | head -n 3 || true)
    test -z "$je"; t $? "none of the built-in jemalloc's symbols (shmipc_je_*) is exported${je:+: $je}"
    if pkg-config --print-requires-private shmipc | grep -q jemalloc; then
        n=$((n + 1)); echo "ok $n # SKIP libjemalloc: this build links the system's"
    else
        ! readelf -d "$lib" | grep -q 'NEEDED.*libjemalloc'
        t $? "the library needs no libjemalloc (its own is inside)"
    fi
else
    n=$((n + 1)); echo "ok $n # SKIP exports: this build has no shared library"
fi
test -f "$root$libdir/libshmipc.a"; t $? "the static library is installed too"
echo "1..$n"
test $fails -eq 0

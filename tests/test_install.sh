#!/bin/sh
# `make install` into a staging root, then build and run an outside program with nothing
# but pkg-config's flags; the installed library exports the public API and nothing else.
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

if [ -f "$lib" ]; then
    exports=$(nm -D --defined-only "$lib" | awk '$2 ~ /[TDBR]/ {print $3}')
    echo "$exports" | grep -q '^shmipc_arena_open$'; t $? "the public API is exported"
    leaked=$(echo "$exports" | grep -v '^shmipc_[a-z]' || true)
    test -z "$leaked"; t $? "nothing but shmipc_* is exported${leaked:+: $leaked}"
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

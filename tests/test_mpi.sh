#!/bin/sh
# libshmipc_mpi with real MPI jobs on this machine (mpirun --oversubscribe): what the ranks
# check is in tests/helper_mpi.c (each of its "ok - ..." lines is a test here). Then what
# only the outside sees: two jobs at once with one name, a job whose rank is killed (and
# what `shmipc gc` does after it), a socket topology of two packages (a mount namespace in
# which cpu1 is package 1), the example, and the installed library.
set -u
b=${SHMIPC_BUILDDIR:?}
s=${SHMIPC_SRCDIR:?}
mpiexec=${SHMIPC_MPIEXEC:-}
helper=$b/tests/helper_mpi
tmp=$(mktemp -d /tmp/shmipc-mpi-XXXXXX)
p=t$$ # the names of this test
n=0
fails=0
t() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fails=$((fails + 1)); fi; }
skip() { n=$((n + 1)); echo "ok $n # SKIP $1"; }
ours() { ls /dev/shm | grep "^shmipc\.$(id -u)\.$p" ; }
trap 'rm -rf "$tmp"' EXIT
trap "exit 1" INT TERM HUP

if [ -z "$mpiexec" ] || ! command -v "$mpiexec" >/dev/null; then
    echo "1..0 # SKIP no MPI launcher (mpirun or mpiexec) was found by configure"
    exit 0
fi
# Open MPI: more ranks than cores, and as root only when asked to
mpi_flags=""
if "$mpiexec" --version 2>&1 | grep -q "Open MPI"; then
    mpi_flags="--oversubscribe --bind-to none"
    [ "$(id -u)" = 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi

# Under ASan (make check-asan) LeakSanitizer would report what Open MPI leaks at exit:
# that is suppressed, with its components kept loaded so that their frames have names
# (and full stacks); leaks of shmipc's code are still reported.
export OMPI_MCA_mca_base_component_disable_dlclose=1
export LSAN_OPTIONS="suppressions=$s/tests/lsan-mpi.supp:fast_unwind_on_malloc=0:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"

# Run a job ($1: label, $2: ranks, the rest: the program and its arguments), output in
# $tmp/<label>.out. Returns mpirun's status.
launch() {
    label=$1 np=$2
    shift 2
    # shellcheck disable=SC2086
    $via timeout 120 "$mpiexec" $mpi_flags -np "$np" "$@" >"$tmp/$label.out" 2>&1
}
# The same, and its "ok - " lines become tests.
job() {
    launch "$@"
    status=$?
    report "$1" "$2"
    return $status
}
# The lines of job $1 (of $2 ranks) as tests.
report() {
    grep -q '^ok - \|^not ok - ' "$tmp/$1.out" || { t 1 "$1: the job reported nothing"; cat "$tmp/$1.out"; }
    while IFS= read -r line; do
        case $line in
        "ok - "*) t 0 "-np $2: ${line#ok - }" ;;
        "not ok - "*) t 1 "-np $2: ${line#not ok - }" ;;
        "# "*) echo "$line" ;;
        esac
    done <"$tmp/$1.out"
}

via="" # a command to run mpirun through
start=$(date +%s)
job share4 4 "$helper" share "$p-share4"; t $? "the 4-rank job exits 0"
job share8 8 "$helper" share "$p-share8"; t $? "the 8-rank job exits 0"
job errors 4 "$helper" errors "$p-errors"; t $? "the job of bad input exits 0"
test -z "$(ours)"; t $? "nothing of these jobs left in /dev/shm"

# Two jobs at once, the same name: each keeps its own arena (their rank 0s wait for each
# other once open).
launch concurrent-a 2 "$helper" concurrent "$p-both" "$tmp" a &
pid_a=$!
launch concurrent-b 2 "$helper" concurrent "$p-both" "$tmp" b; rc_b=$?
wait $pid_a; rc_a=$?
report concurrent-a 2
report concurrent-b 2
test $rc_a = 0 && test $rc_b = 0; t $? "two concurrent jobs with the name '$p-both' exit 0"
name_a=$(cat "$tmp/a.name" 2>/dev/null) name_b=$(cat "$tmp/b.name" 2>/dev/null)
test -n "$name_a" && test -n "$name_b" && test "$name_a" != "$name_b"
t $? "their pools have different names ($name_a, $name_b)"
test -z "$(ours)"; t $? "nothing of them left in /dev/shm"

# A rank is killed: the job dies without MPI_Finalize and leaves its arena; `shmipc gc`
# removes it (its creator is dead and no process maps it). In a shm directory of its own,
# so that gc sees nothing of other tests.
SHMIPC_SHM_DIR=$(mktemp -d /dev/shm/mpi-test.XXXXXX)
export SHMIPC_SHM_DIR
job kill 4 "$helper" kill "$p-killed"; rc=$?
test $rc != 0; t $? "the job whose rank was killed fails (mpirun: $rc)"
left=$(ls "$SHMIPC_SHM_DIR")
test "$(echo "$left" | grep -c "^shmipc\.$(id -u)\.$p-killed\.mpi\.")" = 1
t $? "it left its arena: $left"
"$b/tools/shmipc" gc --dry-run >"$tmp/gc-dry.out" 2>&1 && grep -q "^would remove .*$p-killed" "$tmp/gc-dry.out"
t $? "shmipc gc --dry-run lists it: $(cat "$tmp/gc-dry.out")"
"$b/tools/shmipc" gc >"$tmp/gc.out" 2>&1 && grep -q "^removed .*$p-killed.*which is dead; used by no process" "$tmp/gc.out"
t $? "shmipc gc removes it: $(cat "$tmp/gc.out")"
test -z "$(ls -A "$SHMIPC_SHM_DIR")"; t $? "the shm directory is empty after gc"
rm -rf "$SHMIPC_SHM_DIR"
unset SHMIPC_SHM_DIR

# Two CPU packages, faked: in a mount namespace cpu1's physical_package_id reads 1.
pkg1=/sys/devices/system/cpu/cpu1/topology/physical_package_id
echo 1 >"$tmp/package1"
if [ "$(id -u)" != 0 ] || [ ! -f "$pkg1" ] || ! command -v unshare >/dev/null ||
        ! unshare -m sh -c "mount --bind '$tmp/package1' '$pkg1'" 2>/dev/null; then
    skip "two packages: needs root, unshare and a cpu1 to make cpu1 package 1 in a mount namespace"
else
    # shellcheck disable=SC2317
    in_two_packages() {
        unshare -m sh -c 'mount --bind "$1" "$2" && shift 2 && exec "$@"' sh "$tmp/package1" "$pkg1" "$@"
    }
    via=in_two_packages
    job socket-bind 4 "$helper" socket "$p-sock" bind; t $? "two packages, ranks bound: the job exits 0"
    job socket-mixed 4 "$helper" socket "$p-mixed" mixed; t $? "two packages, odd ranks unbound: the job exits 0"
    via=""
    test -z "$(ours)"; t $? "nothing of them left in /dev/shm"
fi

# The example: one table per node against one copy per rank.
example=$b/examples/mpi/lookup_table
launch example 4 "$example" 200000; rc=$?
grep -q "^node .*: 4 ranks; the table of 200000 doubles (1.5 MiB): shmipc holds it once (1.5 MiB used in the arena), plain MPI 4 times (6.1 MiB)$" "$tmp/example.out" &&
    grep -q "the shared table and the copies agree$" "$tmp/example.out" && test $rc = 0
t $? "the example, 4 ranks, prints the memory of one table against 4 copies"
sed 's/^/# /' "$tmp/example.out"
test -z "$(ls /dev/shm | grep "^shmipc\.$(id -u)\.lookup_table\.mpi\.")"
t $? "the example leaves nothing in /dev/shm"

# Installed: the header, the library (exporting shmipc_mpi_* only) and shmipc_mpi.pc,
# with which an outside program builds and runs.
unset MAKEFLAGS MFLAGS
make -C "$b" install DESTDIR="$tmp/root" >"$tmp/install.log" 2>&1
t $? "make install DESTDIR=..." || cat "$tmp/install.log"
prefix=$(pkg-config --variable=prefix "$b/shmipc_mpi.pc")
libdir=$(pkg-config --variable=libdir "$b/shmipc_mpi.pc")
root=$tmp/root
test -f "$root$(pkg-config --variable=includedir "$b/shmipc_mpi.pc")/shmipc_mpi.h" &&
    test -f "$root$libdir/pkgconfig/shmipc_mpi.pc"
t $? "shmipc_mpi.h and shmipc_mpi.pc are installed"
# The installed .pc files, moved under the staging root (MPI's own stay where they are).
mkdir "$tmp/pc"
for f in shmipc shmipc_mpi; do
    sed "s|^prefix=.*|prefix=$root$prefix|" "$root$libdir/pkgconfig/$f.pc" >"$tmp/pc/$f.pc"
done
pc() { PKG_CONFIG_PATH="$tmp/pc" pkg-config "$@"; }
lib="$root$libdir/libshmipc_mpi.so"
static=""
[ -f "$lib" ] || static="--static" # a --disable-shared build (the sanitizer runs)
# shellcheck disable=SC2046,SC2086
${CC:-cc} ${CFLAGS:-} -Wall -Werror -o "$tmp/outside" "$s/examples/mpi/lookup_table.c" \
    ${LDFLAGS:-} $(pc $static --cflags --libs shmipc_mpi) 2>"$tmp/cc.log"
t $? "an outside program builds with pkg-config --cflags --libs shmipc_mpi"
sed 's/^/# /' "$tmp/cc.log"
LD_LIBRARY_PATH="$root$libdir" launch outside 2 "$tmp/outside" 1000 &&
    grep -q "copies agree" "$tmp/outside.out"
t $? "and runs on 2 ranks against the installed libraries"
if [ -f "$lib" ]; then
    leaked=$(nm -D --defined-only "$lib" | awk '$2 ~ /[TDBR]/ {print $3}' | grep -v '^shmipc_mpi_[a-z]')
    test -z "$leaked"; t $? "libshmipc_mpi exports shmipc_mpi_* only${leaked:+: $leaked}"
else
    skip "exports: this build has no shared library"
fi
echo "# MPI tests: $(($(date +%s) - start)) s"
echo "1..$n"
test $fails -eq 0

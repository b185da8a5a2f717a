#!/bin/sh
# abi.sh check|baseline LIB BASELINE VERSION_INFO HEADER... — the C ABI against its baseline
# (make check-abi, make abi-baseline; docs/versioning.md).
#
# The baseline is abidw's XML of LIB (libabigail, Debian's abigail-tools), the public
# headers' types only, with the libtool -version-info it was made for in a comment. `check`
# compares the built LIB with it (abidiff) and fails on an incompatible change: a function
# removed (abidiff's ABIDIFF_ABI_INCOMPATIBLE_CHANGE bit), or any other change that is not an
# addition or an options struct grown at its end (abi/shmipc.abignore). It also fails when
# the baseline records another -version-info than configure.ac's: the two change together.
# `baseline` writes the baseline anew, but refuses to record an incompatible change under an
# unchanged -version-info: libtool's rule then wants CURRENT+1:0:0 first. (Deleting the old
# baseline starts afresh: there is nothing to compare with.)
set -u
mode=$1 lib=$2 baseline=$3 version_info=$4
shift 4
here=$(cd "$(dirname "$0")" && pwd)
suppr="$here/../abi/shmipc.abignore"
name=$(basename "$lib")
for tool in abidw abidiff; do
    command -v $tool >/dev/null || {
        echo "$mode-abi: $tool is missing (Debian: apt-get install abigail-tools)"
        exit 1
    }
done
[ -f "$lib" ] || { echo "$mode-abi: $lib is not built (a --disable-shared build?)"; exit 1; }
readelf -S "$lib" | grep -q '\.debug_info' ||
    { echo "$mode-abi: $lib has no debug information (build with CFLAGS=-g)"; exit 1; }
hf=
for h in "$@"; do hf="$hf --hf $h"; done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The ABI of the built library, as the baseline stores it.
# shellcheck disable=SC2086
abidw $hf --drop-private-types --no-corpus-path --no-comp-dir-path --short-locs \
    --type-id-style hash --exported-interfaces-only --out-file "$tmp/now.abi" "$lib" || exit 1
{
    head -n 1 "$tmp/now.abi"
    echo "  <!-- shmipc: libtool -version-info $version_info (make abi-baseline) -->"
    tail -n +2 "$tmp/now.abi"
} >"$tmp/new.abi"

recorded=
[ -f "$baseline" ] &&
    recorded=$(sed -n 's/.*shmipc: libtool -version-info \([0-9]*:[0-9]*:[0-9]*\).*/\1/p' \
        "$baseline" | head -n 1)

# diff: abidiff's report into $tmp/diff.txt; sets `incompatible` (yes/no) and `changed`.
diff() {
    abidiff --drop-private-types "$baseline" "$tmp/new.abi" >"$tmp/diff.txt" 2>&1
    rc=$?
    [ $((rc & 3)) -eq 0 ] || { cat "$tmp/diff.txt"; echo "$mode-abi: abidiff failed ($rc)"; exit 1; }
    changed=no incompatible=no
    [ $((rc & 4)) -eq 0 ] || changed=yes
    [ $((rc & 8)) -eq 0 ] || incompatible=yes
    # Any change left once additions and options structs grown at their end are set aside.
    abidiff --drop-private-types --no-added-syms --suppr "$suppr" "$baseline" "$tmp/new.abi" \
        >"$tmp/rest.txt" 2>&1
    [ $(($? & 4)) -eq 0 ] || incompatible=yes
}

case $mode in
check)
    [ -f "$baseline" ] || { echo "check-abi: no baseline $baseline: make abi-baseline"; exit 1; }
    [ -n "$recorded" ] ||
        { echo "check-abi: $baseline records no -version-info: make abi-baseline"; exit 1; }
    diff
    if [ $incompatible = yes ]; then
        cat "$tmp/diff.txt"
        if [ "$recorded" = "$version_info" ]; then
            echo "check-abi: $name: an incompatible ABI change, and -version-info is still" \
                "$version_info: bump it in configure.ac by libtool's rule (CURRENT+1:0:0)," \
                "then make abi-baseline, and commit both together (docs/versioning.md)"
        else
            echo "check-abi: $name: an incompatible ABI change; -version-info is now" \
                "$version_info but the baseline is $recorded's: make abi-baseline"
        fi
        exit 1
    fi
    if [ "$recorded" != "$version_info" ]; then
        echo "check-abi: $baseline was made for -version-info $recorded, configure.ac says" \
            "$version_info: they change together (make abi-baseline, one commit)"
        exit 1
    fi
    if [ $changed = yes ]; then
        cat "$tmp/diff.txt"
        echo "check-abi: $name: compatible changes since the baseline (at the release: new" \
            "functions in a new version node, -version-info CURRENT+1:0:AGE+1, make abi-baseline)"
    fi
    echo "check-abi: $name: no incompatible change since the baseline ($version_info)"
    ;;
baseline)
    if [ -f "$baseline" ] && [ -n "$recorded" ]; then
        diff
        old_c=${recorded%%:*} old_a=${recorded##*:}
        new_c=${version_info%%:*} new_a=${version_info##*:}
        if [ $incompatible = yes ] && { [ "$new_c" -le "$old_c" ] || [ "$new_a" -ne 0 ]; }; then
            cat "$tmp/diff.txt"
            echo "abi-baseline: $name: an incompatible ABI change since the baseline" \
                "($recorded), and -version-info $version_info does not say so: by libtool's" \
                "rule it becomes $((old_c + 1)):0:0 (configure.ac) first (docs/versioning.md)"
            exit 1
        fi
    fi
    mkdir -p "$(dirname "$baseline")"
    cp "$tmp/new.abi" "$baseline"
    echo "abi-baseline: $baseline written (-version-info $version_info)"
    ;;
*)
    echo "usage: $0 check|baseline LIB BASELINE VERSION_INFO HEADER..." >&2
    exit 2
    ;;
esac

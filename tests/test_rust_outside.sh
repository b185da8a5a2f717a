#!/bin/sh
# An outside cargo project that depends on the crates by path (tests/rust_outside, the
# [dependencies] lines of bindings/rust/README.md) builds and runs a lend session with no
# libshmipc installed and no LD_LIBRARY_PATH, while PKG_CONFIG_PATH finds a "libshmipc" of
# this very version that cannot be linked: shmipc-sys must build its bundled core and not
# look at pkg-config unless asked. make check-rust-package runs it on the packaged crates,
# unpacked in SHMIPC_CRATES_DIR (its shmipc-sys/ and shmipc-safe/: what a user of the
# published crates builds); without it, on the repository's.
set -u
src=${SHMIPC_SRCDIR:?}
crates=${SHMIPC_CRATES_DIR:-$src/bindings/rust}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
version=$(sed -n 's/^#define SHMIPC_VERSION_STRING "\(.*\)"$/\1/p' "$src/core/include/shmipc.h")
mkdir -p "$tmp/outside/src" "$tmp/pc" "$tmp/sockets"
sed "s|@RUST_DIR@|$crates|" "$src/tests/rust_outside/Cargo.toml.in" >"$tmp/outside/Cargo.toml"
# A packaged shmipc-safe names shmipc-sys by version (crates.io): the unpacked one stands in.
[ -z "${SHMIPC_CRATES_DIR:-}" ] ||
    printf '\n[patch.crates-io]\nshmipc-sys = { path = "%s/shmipc-sys" }\n' "$crates" \
        >>"$tmp/outside/Cargo.toml"
cp "$src/tests/rust_outside/src/main.rs" "$tmp/outside/src/"
cp "$src/bindings/rust/Cargo.lock" "$tmp/outside/"
cat >"$tmp/pc/shmipc.pc" <<PC
Name: shmipc
Description: a decoy: no such library
Version: $version
Libs: -L$tmp/nowhere -lshmipc_decoy
Cflags: -I$tmp/nowhere
PC
cd "$tmp/outside" || exit 1
echo "1..1"
if env -u LD_LIBRARY_PATH -u SHMIPC_SYS_USE_PKG_CONFIG PKG_CONFIG_PATH="$tmp/pc" \
        SHMIPC_SOCKET_DIR="$tmp/sockets" CARGO_TARGET_DIR="$tmp/target" \
        ${CARGO:-cargo} run -q >"$tmp/out" 2>&1 && grep -q "^outside: ok" "$tmp/out"; then
    echo "ok 1 - an outside project builds and runs with the bundled core, whatever PKG_CONFIG_PATH says"
else
    cat "$tmp/out"
    echo "not ok 1 - an outside project builds and runs with the bundled core, whatever PKG_CONFIG_PATH says"
    exit 1
fi

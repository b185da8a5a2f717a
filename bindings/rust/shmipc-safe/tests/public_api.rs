//! The crate's public items, listed from its sources and compared with the reviewed listing
//! `public-api.txt` (a `cargo public-api`-style check without its nightly toolchain): an item
//! added, removed or changed fails this test until the listing is regenerated on purpose
//! (`SHMIPC_PUBLIC_API_BLESS=1 cargo test -p shmipc-safe --test public_api`) and reviewed.
//! Raw FFI reaches users only through the `sys` re-export and the `as_raw` escape hatches,
//! whose use needs `unsafe`: the second test keeps it so.

use std::fs;
use std::path::Path;

const KINDS: &[&str] = &[
    "fn ",
    "unsafe fn ",
    "const fn ",
    "struct ",
    "enum ",
    "type ",
    "const ",
    "static ",
    "trait ",
    "use ",
    "mod ",
];

/// "file: item" for every `pub` item (not `pub(crate)`), its signature up to `{` or `;`, and
/// every `impl` of a public trait, in source order.
fn listing() -> String {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files: Vec<_> = fs::read_dir(&src)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    files.sort();
    let mut out = String::new();
    for path in files {
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = fs::read_to_string(&path).unwrap();
        let text = text.split("#[cfg(test)]").next().unwrap(); // unit tests are not API
        let mut lines = text.lines();
        while let Some(line) = lines.next() {
            let item = line.trim_start();
            let public = item
                .strip_prefix("pub ")
                .is_some_and(|rest| KINDS.iter().any(|k| rest.starts_with(k)));
            let trait_impl = item.starts_with("impl") && item.contains(" for ");
            if !public && !trait_impl {
                continue;
            }
            // A fn ends at its body (`;` may be in an array type), a use at `;`.
            let ends: &[char] = if item.starts_with("pub use ") {
                &[';']
            } else if item.contains("fn ") {
                &['{']
            } else {
                &['{', ';']
            };
            let mut signature = item.to_string();
            while !signature.contains(ends) {
                match lines.next() {
                    Some(next) => signature = format!("{signature} {}", next.trim()),
                    None => break,
                }
            }
            let end = signature.find(ends).unwrap_or(signature.len());
            let signature = signature[..end]
                .trim()
                .replace("( ", "(")
                .replace(", )", ")")
                .replace("{ ", "{")
                .replace(", }", "}");
            out.push_str(&format!("{file}: {signature}\n"));
        }
    }
    out
}

#[test]
fn the_public_api_is_the_reviewed_one() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("public-api.txt");
    let now = listing();
    if std::env::var_os("SHMIPC_PUBLIC_API_BLESS").is_some() {
        fs::write(&path, &now).unwrap();
    }
    let reviewed = fs::read_to_string(&path).unwrap_or_default();
    assert!(
        now == reviewed,
        "the public API changed: review it, then regenerate public-api.txt \
         (SHMIPC_PUBLIC_API_BLESS=1). Now:\n{now}"
    );
}

#[test]
fn raw_ffi_leaks_only_through_sys_and_as_raw() {
    for line in listing().lines() {
        let item = line.split_once(": ").unwrap().1;
        let raw = item.contains("sys::") || item.contains("shmipc_sys") || item.contains("*mut ");
        let allowed = item == "pub use shmipc_sys as sys"
            || item.starts_with("pub fn as_raw(&self) -> *mut sys::")
            || item.starts_with("pub const ") // constants with the C values
            || item.starts_with("pub struct Blob(sys::shmipc_blob)") // a private field
            || item.starts_with("impl From<sys::shmipc_rel> for Rel") // the same layout
            || item.starts_with("impl From<Rel> for sys::shmipc_rel");
        assert!(!raw || allowed, "raw FFI in the public API: {line}");
        assert!(
            !item.contains("extern \"C\""),
            "a C function in the public API: {line}"
        );
    }
}

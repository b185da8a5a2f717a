//! The bindings and the crate agree with the C headers they come from.

/// The crate's version is the C library's (`SHMIPC_VERSION_STRING` in shmipc.h): cargo
/// needs it written in Cargo.toml, and this test keeps the two from drifting apart.
#[test]
fn crate_version_is_the_headers() {
    let header = std::str::from_utf8(shmipc_sys::SHMIPC_VERSION_STRING).unwrap();
    assert_eq!(header.trim_end_matches('\0'), env!("CARGO_PKG_VERSION"));
}

/// The pregenerated `src/bindings.rs` (used without the `bindgen` feature, so that users
/// need no libclang) is exactly what bindgen makes of the headers now. After a header
/// change, `SHMIPC_SYS_BLESS=1 cargo test -p shmipc-sys --features bindgen` rewrites it.
#[cfg(feature = "bindgen")]
#[test]
fn pregenerated_bindings_are_bindgens_output() {
    let fresh = include_str!(concat!(env!("OUT_DIR"), "/bindings.rs"));
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/bindings.rs");
    if std::env::var_os("SHMIPC_SYS_BLESS").is_some() {
        std::fs::write(path, fresh).expect("cannot rewrite src/bindings.rs");
    }
    let committed = std::fs::read_to_string(path).expect("src/bindings.rs is readable");
    assert!(
        committed == fresh,
        "src/bindings.rs differs from bindgen's output for the current headers; \
         regenerate it: SHMIPC_SYS_BLESS=1 cargo test -p shmipc-sys --features bindgen"
    );
}

/// A round trip through the linked library: the functions resolve and behave.
#[test]
fn linked_library_answers() {
    use std::ffi::CStr;
    // SAFETY: shmipc_version and shmipc_strerror return static NUL-terminated strings
    // (shmipc.h: "never NULL").
    let (version, text) = unsafe {
        (
            CStr::from_ptr(shmipc_sys::shmipc_version()),
            CStr::from_ptr(shmipc_sys::shmipc_strerror(shmipc_sys::SHMIPC_ENOENT)),
        )
    };
    assert_eq!(
        version.to_bytes_with_nul(),
        shmipc_sys::SHMIPC_VERSION_STRING
    );
    assert!(!text.to_bytes().is_empty());
    // SAFETY: no arguments; a pure query.
    assert_eq!(
        unsafe { shmipc_sys::shmipc_version_number() },
        shmipc_sys::SHMIPC_VERSION_NUMBER
    );
}

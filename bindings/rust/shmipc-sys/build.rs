//! Build script of shmipc-sys: link libshmipc and (with the `bindgen` feature) generate the
//! bindings.
//!
//! 1. An installed libshmipc whose version equals this crate's C headers' (pkg-config), unless
//!    `SHMIPC_SYS_BUNDLED` is set in the environment.
//! 2. Otherwise the C core shipped in this crate (`core/`), compiled with the `cc` crate
//!    (feature `bundled`, on by default): every `core/*.c`, with jemalloc when pkg-config
//!    finds it (the lend provider uses it).
//!
//! The include directory is passed on to dependents' build scripts as `DEP_SHMIPC_INCLUDE`.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

fn main() {
    let core = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets it")).join("core");
    let include = core.join("include");
    let header = include.join("shmipc.h");
    let version = header_version(&header);

    println!("cargo::rerun-if-env-changed=SHMIPC_SYS_BUNDLED");
    println!("cargo::rerun-if-changed={}", include.display());
    println!("cargo::metadata=include={}", include.display());

    if env::var_os("SHMIPC_SYS_BUNDLED").is_some() || !link_installed(&version) {
        build_bundled(&core, &version);
    }
    #[cfg(feature = "bindgen")]
    generate_bindings(&include);
}

/// The value of `SHMIPC_VERSION_STRING` in the header this crate is built with.
fn header_version(header: &Path) -> String {
    let text = fs::read_to_string(header)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", header.display()));
    text.lines()
        .find_map(|line| {
            line.strip_prefix("#define SHMIPC_VERSION_STRING")
                .map(|v| v.trim().trim_matches('"').to_owned())
        })
        .unwrap_or_else(|| panic!("{} defines no SHMIPC_VERSION_STRING", header.display()))
}

/// Link an installed libshmipc of exactly `version`; false if there is none.
fn link_installed(version: &str) -> bool {
    if pkg_config::Config::new()
        .exactly_version(version)
        .probe("shmipc")
        .is_ok()
    {
        return true;
    }
    let any = pkg_config::Config::new()
        .cargo_metadata(false)
        .probe("shmipc");
    if let Ok(other) = any {
        println!(
            "cargo::warning=the installed libshmipc is {}, these bindings are {version}: \
             using the bundled C sources",
            other.version
        );
    }
    false
}

#[cfg(not(feature = "bundled"))]
fn build_bundled(_core: &Path, version: &str) {
    panic!(
        "no installed libshmipc {version} was found by pkg-config, and the `bundled` feature \
         (which compiles the C core shipped in this crate) is disabled"
    );
}

/// Compile every `core/*.c` into a static libshmipc.
#[cfg(feature = "bundled")]
fn build_bundled(core: &Path, _version: &str) {
    let sources = files_with_extension(core, "c");
    // Files, not the directory: an in-tree autotools build puts its objects in core/ too.
    for file in sources.iter().chain(&files_with_extension(core, "h")) {
        println!("cargo::rerun-if-changed={}", file.display());
    }

    // Probe only; jemalloc's link flags must follow libshmipc's, so they are printed after.
    let jemalloc = pkg_config::Config::new()
        .atleast_version("5")
        .cargo_metadata(false)
        .probe("jemalloc")
        .ok();

    let mut build = cc::Build::new();
    build
        .files(&sources)
        .include(core.join("include"))
        .include(core)
        .define("SHMIPC_BUILDING", None)
        .flag("-std=gnu11")
        .flag("-pthread")
        .flag("-fvisibility=hidden");
    if let Some(lib) = &jemalloc {
        build
            .define("SHMIPC_HAVE_JEMALLOC", "1")
            .includes(&lib.include_paths);
    }
    build.compile("shmipc");

    if let Some(lib) = &jemalloc {
        for dir in &lib.link_paths {
            println!("cargo::rustc-link-search=native={}", dir.display());
        }
        for name in &lib.libs {
            println!("cargo::rustc-link-lib={name}");
        }
    }
    println!("cargo::rustc-link-lib=pthread");
}

/// The files of `dir` named `*.<ext>`, sorted.
#[cfg(feature = "bundled")]
fn files_with_extension(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.expect("readable directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == ext))
        .collect();
    files.sort();
    files
}

/// Generate the bindings of the public headers into `$OUT_DIR/bindings.rs`.
#[cfg(feature = "bindgen")]
fn generate_bindings(include: &Path) {
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets it"));
    let bindings = bindgen::Builder::default()
        .header(include.join("shmipc.h").to_string_lossy())
        .clang_arg(format!("-I{}", include.display()))
        .allowlist_function("shmipc_.*")
        .allowlist_type("shmipc_.*")
        .allowlist_var("SHMIPC_.*")
        // a C brace initializer ({1}), not a number
        .blocklist_item("SHMIPC_REL_NULL")
        .use_core()
        // SHMIPC_POOL_MAX and friends are casts that only clang can evaluate
        .clang_macro_fallback()
        .clang_macro_fallback_build_dir(&out)
        .rust_target(bindgen::RustTarget::stable(80, 0).expect("a Rust version bindgen knows"))
        // prettyplease, not rustfmt: the output must not depend on the rustfmt installed
        .formatter(bindgen::Formatter::Prettyplease)
        // the headers' doc comments, which are Doxygen's, become the items' docs
        .parse_callbacks(Box::new(DoxygenComments))
        .generate()
        .expect("bindgen could not read the shmipc headers");
    bindings
        .write_to_file(out.join("bindings.rs"))
        .expect("cannot write the bindings");
}

/// The headers' doc comments are written for Doxygen (`make docs`) and kept brief and plain,
/// so that they read as Markdown too: only Doxygen's own markup needs changing.
#[cfg(feature = "bindgen")]
#[derive(Debug)]
struct DoxygenComments;

#[cfg(feature = "bindgen")]
impl bindgen::callbacks::ParseCallbacks for DoxygenComments {
    /// `/**< ... */` (a member's doc) loses its `<`, `@return ...` becomes a paragraph
    /// "Returns ...", and `#NAME` (Doxygen's link to NAME) becomes NAME.
    fn process_comment(&self, comment: &str) -> Option<String> {
        let comment = comment.trim_start().strip_prefix('<').unwrap_or(comment);
        let mut out = String::with_capacity(comment.len());
        for line in comment.lines() {
            if !out.is_empty() {
                out.push('\n');
            }
            let text = line.trim_start();
            match text.strip_prefix("@return ") {
                Some(rest) => {
                    out.push('\n');
                    out.push_str(&line[..line.len() - text.len()]);
                    out.push_str("Returns ");
                    out.push_str(rest);
                }
                None => out.push_str(line),
            }
        }
        Some(unhash(&out))
    }
}

/// `text` without the `#` of Doxygen's explicit links (`#SHMIPC_MSG_MAX`).
#[cfg(feature = "bindgen")]
fn unhash(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let name_follows = chars
            .peek()
            .is_some_and(|n| n.is_ascii_alphabetic() || *n == '_');
        if c != '#' || !name_follows {
            out.push(c);
        }
    }
    out
}

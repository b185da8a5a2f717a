//! Build script of shmipc-sys: link libshmipc and (with the `bindgen` feature) generate the
//! bindings.
//!
//! 1. By default (feature `bundled`), the C core shipped in this crate (`core/`), compiled as
//!    `core/sources.am` says (the recipe Autotools and the Python extension read too), with
//!    the jemalloc shipped beside it (`jemalloc/`), built with that recipe's flags into a
//!    static library whose symbols are prefixed and hidden. Nothing is looked up on the host.
//! 2. An installed libshmipc whose version equals this crate's C headers', found by
//!    pkg-config, only when asked: the feature `pkg-config`, or `SHMIPC_SYS_USE_PKG_CONFIG=1`
//!    in the environment. Never because `PKG_CONFIG_PATH` happens to find one.
//!
//! The include directory is passed on to dependents' build scripts as `DEP_SHMIPC_INCLUDE`.

#[cfg(feature = "bundled")]
#[path = "recipe.rs"]
mod recipe;
use std::env;
use std::fs;
use std::path::{Path, PathBuf};
#[cfg(feature = "bundled")]
use std::process::Command;

fn main() {
    let crate_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let core = crate_dir.join("core");
    let include = core.join("include");
    let header = include.join("shmipc.h");
    let version = header_version(&header);

    println!("cargo::rerun-if-env-changed=SHMIPC_SYS_USE_PKG_CONFIG");
    println!("cargo::rerun-if-changed={}", include.display());
    println!("cargo::metadata=include={}", include.display());

    if use_pkg_config() {
        link_installed(&version);
    } else {
        build_bundled(&crate_dir, &version);
    }
    #[cfg(feature = "bindgen")]
    generate_bindings(&include);
}

/// The feature `pkg-config`, or `SHMIPC_SYS_USE_PKG_CONFIG` set to anything but `0`.
fn use_pkg_config() -> bool {
    cfg!(feature = "pkg-config")
        || env::var_os("SHMIPC_SYS_USE_PKG_CONFIG").is_some_and(|v| !v.is_empty() && v != "0")
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

/// Link the installed libshmipc of exactly `version` (pkg-config), or fail saying why.
fn link_installed(version: &str) {
    if let Err(e) = pkg_config::Config::new()
        .exactly_version(version)
        .probe("shmipc")
    {
        panic!(
            "the installed libshmipc was asked for (feature `pkg-config` or \
             SHMIPC_SYS_USE_PKG_CONFIG), but pkg-config found no libshmipc {version}: {e}"
        );
    }
}

#[cfg(not(feature = "bundled"))]
fn build_bundled(_crate_dir: &Path, _version: &str) {
    panic!(
        "the `bundled` feature (which compiles the C core shipped in this crate) is disabled: \
         enable it, or link an installed libshmipc (feature `pkg-config`)"
    );
}

/// Compile the core's sources with their jemalloc into a static libshmipc, as
/// `core/sources.am` says.
#[cfg(feature = "bundled")]
fn build_bundled(crate_dir: &Path, _version: &str) {
    let core = crate_dir.join("core");
    let recipe = recipe::read(&core.join("sources.am"));
    let words = |name: &str| -> &[String] {
        recipe
            .get(name)
            .unwrap_or_else(|| panic!("core/sources.am has no {name}"))
    };
    let files: Vec<PathBuf> = words("CORE_SOURCES")
        .iter()
        .map(|f| crate_dir.join(f))
        .collect();
    println!(
        "cargo::rerun-if-changed={}",
        core.join("sources.am").display()
    );
    for file in &files {
        println!("cargo::rerun-if-changed={}", file.display());
    }

    let mut build = cc::Build::new();
    let tls: Vec<&String> = words("CORE_TLS_FLAGS")
        .iter()
        .filter(|f| build.is_flag_supported(f.as_str()).unwrap_or(false))
        .collect();
    let mut jemalloc_cflags = words("JEMALLOC_CFLAGS_BUILD").to_vec();
    jemalloc_cflags.extend(tls.iter().map(|f| f.to_string()));
    let jemalloc = build_jemalloc(crate_dir, &build.get_compiler(), &jemalloc_cflags, words);
    build
        .files(
            files
                .iter()
                .filter(|f| f.extension().is_some_and(|e| e == "c")),
        )
        .include(core.join("include"))
        .include(&core)
        .include(jemalloc.join("include"));
    for define in words("CORE_DEFINES")
        .iter()
        .chain(words("CORE_JEMALLOC_DEFINES"))
    {
        let define = define.strip_prefix("-D").expect("a -D define");
        match define.split_once('=') {
            Some((name, value)) => build.define(name, value),
            None => build.define(define, None),
        };
    }
    for flag in words("CORE_FLAGS") {
        build.flag(flag);
    }
    for flag in tls {
        build.flag(flag);
    }
    build.compile("shmipc");

    println!(
        "cargo::rustc-link-search=native={}",
        jemalloc.join("lib").display()
    );
    println!("cargo::rustc-link-lib=static=jemalloc_pic");
    println!("cargo::rustc-link-lib=pthread");
}

/// Configure and build the crate's `jemalloc/` in `$OUT_DIR/jemalloc` (its static PIC library
/// only); that directory.
#[cfg(feature = "bundled")]
fn build_jemalloc<'a>(
    crate_dir: &Path,
    compiler: &cc::Tool,
    cflags: &[String],
    words: impl Fn(&str) -> &'a [String],
) -> PathBuf {
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets it")).join("jemalloc");
    if out.join("lib/libjemalloc_pic.a").is_file() {
        return out;
    }
    fs::create_dir_all(&out).expect("cannot make the jemalloc build directory");
    let configure = crate_dir.join("jemalloc").join("configure");
    let run = |cmd: &mut Command| {
        let done = cmd
            .current_dir(&out)
            .env("CC", compiler.path())
            .env("CFLAGS", cflags.join(" "))
            .env("CPPFLAGS", "")
            .env("LDFLAGS", "")
            .env_remove("MAKEFLAGS")
            .env_remove("MFLAGS")
            .output()
            .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
        if !done.status.success() {
            panic!(
                "building jemalloc failed: {cmd:?}\n{}{}",
                String::from_utf8_lossy(&done.stdout),
                String::from_utf8_lossy(&done.stderr)
            );
        }
    };
    run(Command::new("sh")
        .arg(&configure)
        .args(words("JEMALLOC_CONFIGURE_FLAGS")));
    run(Command::new("make").args(["-j2", "lib/libjemalloc_pic.a"]));
    out
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

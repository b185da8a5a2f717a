//! The catalogue's structs and the constants of the echo roles and of the demo come from
//! their C headers (examples/include/shmipc_echo.h, which includes shmipc_catalog.h, and
//! shmipc_demo.h) through bindgen, never retyped: `shmipc_rel` fields become `shmipc::Rel`,
//! and the structs derive `bytemuck::Pod` so that objects can be viewed as them.

use std::env;
use std::path::PathBuf;

use bindgen::callbacks::{DeriveInfo, DeriveTrait, ImplementsTrait, IntKind, ParseCallbacks};

/// What bindgen cannot know by itself about the catalogue.
#[derive(Debug)]
struct Catalogue;

impl ParseCallbacks for Catalogue {
    /// The structs are plain data: views of objects may have their type.
    fn add_derives(&self, info: &DeriveInfo<'_>) -> Vec<String> {
        if info.name.starts_with("catalog") {
            vec!["bytemuck::Pod".into(), "bytemuck::Zeroable".into()]
        } else {
            vec![]
        }
    }

    /// `shmipc::Rel`, standing for `shmipc_rel`, is Copy, Debug, Hash, PartialEq.
    fn blocklisted_type_implements_trait(
        &self,
        name: &str,
        _derive: DeriveTrait,
    ) -> Option<ImplementsTrait> {
        (name == "shmipc_rel").then_some(ImplementsTrait::Yes)
    }

    /// The catalogue's constants are `uint64_t` in C (UINT64_C).
    fn int_macro(&self, name: &str, _value: i64) -> Option<IntKind> {
        name.starts_with("CATALOG_").then_some(IntKind::U64)
    }
}

fn main() {
    let include = env::var("DEP_SHMIPC_INCLUDE").expect("shmipc-sys gives its include directory");
    let headers = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap()).join("../include");
    let (echo, demo) = (headers.join("shmipc_echo.h"), headers.join("shmipc_demo.h"));
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    println!("cargo::rerun-if-changed={}", headers.display());

    bindgen::Builder::default()
        .header(echo.to_string_lossy())
        .header(demo.to_string_lossy())
        .clang_arg(format!("-I{include}"))
        .allowlist_type("catalog.*")
        .allowlist_var("CATALOG_.*|ECHO_.*|DEMO_.*")
        .blocklist_type("shmipc_rel")
        .raw_line("use shmipc::Rel as shmipc_rel;")
        .parse_callbacks(Box::new(Catalogue))
        // CATALOG_MAGIC and CATALOG_FNV_INIT are UINT64_C(...): only clang evaluates them
        .clang_macro_fallback()
        .clang_macro_fallback_build_dir(&out)
        .formatter(bindgen::Formatter::Prettyplease)
        .generate()
        .expect("bindgen could not read shmipc_echo.h and shmipc_demo.h")
        .write_to_file(out.join("echo.rs"))
        .expect("cannot write the echo roles' bindings");
}

//! What the Rust examples share: the declarations of `shmipc_echo.h`, `shmipc_catalog.h`
//! and `shmipc_demo.h` (from bindgen), and the Rust side of the echo roles of `examples/README.md` — the
//! catalogue built and walked through the safe crate's views and offset pointers, the
//! messages, the byte pattern, and getopt-style options.

/// The C headers' declarations: `catalog`, `catalog_record`, `CATALOG_*`, `ECHO_*`, `DEMO_*`.
#[allow(non_camel_case_types)]
pub mod c {
    include!(concat!(env!("OUT_DIR"), "/echo.rs"));
}

pub mod catalog;
pub mod demo;
pub mod echo;
pub mod options;

//! The build script reads `core/sources.am` as make does: `make check-rust` names make's
//! reading (`recipe.txt`, one `NAME=words` line per assignment) in `SHMIPC_RECIPE`. Without
//! it the test checks only that the recipe lists every `core/*.c` of the crate.

#[path = "../recipe.rs"]
mod recipe;

use std::path::Path;

#[test]
fn the_recipe_reads_as_make_reads_it() {
    let core = Path::new(env!("CARGO_MANIFEST_DIR")).join("core");
    let read = recipe::read(&core.join("sources.am"));
    let mut lines: Vec<String> = read
        .iter()
        .map(|(name, words)| format!("{name}={}", words.join(" ")))
        .collect();
    lines.sort();
    let sources = &read["CORE_SOURCES"];
    for entry in std::fs::read_dir(&core).expect("core/") {
        let name = entry
            .expect("an entry")
            .file_name()
            .into_string()
            .expect("UTF-8");
        if name.ends_with(".c") {
            let path = format!("core/{name}");
            assert!(
                sources.contains(&path),
                "core/sources.am does not list {path}"
            );
        }
    }
    if let Some(make) = std::env::var_os("SHMIPC_RECIPE") {
        let make = std::fs::read_to_string(make).expect("make's recipe.txt");
        assert_eq!(
            lines.join("\n"),
            make.trim_end(),
            "build.rs and make read core/sources.am differently"
        );
    }
}

//! `core/sources.am`, the one recipe of the C core, as the build script reads it (and the test
//! `tests/recipe.rs`, which compares this reading with make's).

use std::collections::HashMap;
use std::fs;
use std::path::Path;

/// The assignments of `core/sources.am` (`NAME = words`; a trailing backslash continues the
/// line; `#` starts a comment), `$(NAME)` expanded.
pub fn read(path: &Path) -> HashMap<String, Vec<String>> {
    let text = fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
        .replace("\\\n", " ");
    let mut values: HashMap<String, Vec<String>> = HashMap::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let (name, words) = line
            .split_once('=')
            .unwrap_or_else(|| panic!("{}: not an assignment: {line}", path.display()));
        let mut expanded = Vec::new();
        for word in words.split_whitespace() {
            let mut word = word.to_owned();
            while let Some(start) = word.find("$(") {
                let end = start + word[start..].find(')').expect("a closed $(NAME)");
                let value = values[&word[start + 2..end]].join(" ");
                word.replace_range(start..=end, &value);
            }
            expanded.push(word);
        }
        values.insert(name.trim().to_owned(), expanded);
    }
    values
}

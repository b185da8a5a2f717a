//! Command lines read as getopt(3) reads them, so that the Rust programs take exactly the C
//! ones' options.

/// The options of `args`, for an optstring in which every letter takes a value (e.g.
/// "n:a:t:" is `"nat"`): `-x VALUE` or `-xVALUE`, until `--`. An unknown letter, a missing
/// value or an argument that is not an option is an error (None).
pub fn parse(args: impl IntoIterator<Item = String>, letters: &str) -> Option<Vec<(char, String)>> {
    let mut args = args.into_iter();
    let mut found = Vec::new();
    while let Some(arg) = args.next() {
        if arg == "--" {
            return args.next().is_none().then_some(found);
        }
        let mut chars = arg.chars();
        let (Some('-'), Some(letter)) = (chars.next(), chars.next()) else {
            return None;
        };
        if !letters.contains(letter) {
            return None;
        }
        let attached = chars.as_str();
        let value = if attached.is_empty() {
            args.next()?
        } else {
            attached.to_owned()
        };
        found.push((letter, value));
    }
    Some(found)
}

/// A client's command line, `[-n SERVER] [-a APP] [-t TIMEOUT_MS]`, over the defaults in
/// `args` (server, app, timeout in ms); None if it is not one.
pub fn client(
    args: impl IntoIterator<Item = String>,
    (mut server, mut app, mut timeout_ms): (String, String, i64),
) -> Option<(String, String, i64)> {
    for (letter, value) in parse(args, "nat")? {
        match letter {
            'n' => server = value,
            'a' => app = value,
            _ => timeout_ms = value.parse().ok()?,
        }
    }
    Some((server, app, timeout_ms))
}

/// A number as strtoull(text, NULL, 0) reads a well-formed one: 0x.. hex, 0.. octal, else
/// decimal.
pub fn c_number(text: &str) -> Option<u64> {
    if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        u64::from_str_radix(hex, 16).ok()
    } else if text.len() > 1 && text.starts_with('0') {
        u64::from_str_radix(&text[1..], 8).ok()
    } else {
        text.parse().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn reads_like_getopt() {
        let got = parse(args("-n x -ty -a z"), "nat").unwrap();
        assert_eq!(
            got,
            [('n', "x".into()), ('t', "y".into()), ('a', "z".into())]
        );
        assert_eq!(parse(args("-n x --"), "nat").unwrap().len(), 1);
        for bad in ["-q 1", "-n", "extra", "-n x extra", "-- extra", "-"] {
            assert_eq!(parse(args(bad), "nat"), None, "{bad:?}");
        }
    }

    #[test]
    fn numbers_as_strtoull() {
        assert_eq!(c_number("4096"), Some(4096));
        assert_eq!(c_number("0x100"), Some(256));
        assert_eq!(c_number("010"), Some(8));
        assert_eq!(c_number("0"), Some(0));
        assert_eq!(c_number("12abc"), None);
    }
}

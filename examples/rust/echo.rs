//! The echo roles' messages and byte pattern, as `shmipc_echo.h` defines them.

use std::ffi::CStr;

use crate::c::{ECHO_DEFAULT_APP, ECHO_DEFAULT_SERVER, ECHO_MSG_MAX};

/// The longest message of the protocol.
pub const MSG_MAX: usize = ECHO_MSG_MAX as usize;

/// A C header's string constant, as bindgen gives it (NUL-terminated bytes).
pub(crate) fn c_str(bytes: &'static [u8]) -> &'static str {
    CStr::from_bytes_with_nul(bytes)
        .ok()
        .and_then(|s| s.to_str().ok())
        .expect("the header's strings are ASCII")
}

/// The server's default name ("echo").
pub fn default_server() -> &'static str {
    c_str(ECHO_DEFAULT_SERVER)
}

/// The client's default app name ("echo-client").
pub fn default_app() -> &'static str {
    c_str(ECHO_DEFAULT_APP)
}

/// The server's bytes: byte i of n is `(i * 13 + n) & 0xff`.
pub fn fill(bytes: &mut [u8]) {
    let n = bytes.len();
    for (i, byte) in bytes.iter_mut().enumerate() {
        *byte = i.wrapping_mul(13).wrapping_add(n) as u8;
    }
}

/// `<word> <n> <hash>`, the hash as 16 lowercase hex digits.
pub fn format(word: &str, n: u64, hash: u64) -> String {
    format!("{word} {n} {hash:016x}")
}

/// Parse a message as `<word> <n> <hex>`.
pub fn parse(msg: &[u8], word: &str) -> Option<(u64, u64)> {
    if msg.len() > MSG_MAX {
        return None;
    }
    let rest = std::str::from_utf8(msg)
        .ok()?
        .strip_prefix(word)?
        .strip_prefix(' ')?;
    let (n, hash) = rest.split_once(' ')?;
    let n = n
        .parse()
        .ok()
        .filter(|_| n.bytes().all(|b| b.is_ascii_digit()))?;
    let hash = u64::from_str_radix(hash, 16)
        .ok()
        .filter(|_| !hash.starts_with('+'))?;
    Some((n, hash))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_read_back() {
        let msg = format("sum", 65536, 0xabc);
        assert_eq!(msg, "sum 65536 0000000000000abc");
        assert_eq!(parse(msg.as_bytes(), "sum"), Some((65536, 0xabc)));
        assert_eq!(parse(msg.as_bytes(), "catalog"), None);
        for bad in [
            "sum",
            "sum ",
            "sum 1",
            "sum 1 x",
            "sum -1 2",
            "sum 1 2 3",
            "sum +1 2",
            "sum1 2",
        ] {
            assert_eq!(parse(bad.as_bytes(), "sum"), None, "{bad:?}");
        }
        assert_eq!(
            parse(format!("sum 1 {}", "0".repeat(200)).as_bytes(), "sum"),
            None
        );
    }

    #[test]
    fn the_pattern_is_the_c_one() {
        let mut bytes = [0u8; 300];
        fill(&mut bytes);
        assert_eq!(bytes[0], 300u32 as u8);
        assert_eq!(bytes[1], (13 + 300u32) as u8);
        assert_eq!(default_server(), "echo");
        assert_eq!(default_app(), "echo-client");
    }
}

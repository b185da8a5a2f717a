//! `shmipc::Error`: the C library's error code with its text and the failure's detail.

use std::ffi::{c_int, CStr};
use std::fmt;

use shmipc_sys as sys;

/// What kind of failure an [`Error`] is: one per `SHMIPC_E*` code of `shmipc.h`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// `SHMIPC_EINVAL`: invalid argument (bad name, size, flag or handle).
    InvalidArgument,
    /// `SHMIPC_ENOMEM`: the arena, the pool or the system is full.
    OutOfMemory,
    /// `SHMIPC_ENOENT`: no such pool, arena, named allocation or server.
    NotFound,
    /// `SHMIPC_EEXIST`: already exists (or exists with another size).
    AlreadyExists,
    /// `SHMIPC_EPERM`: permission denied (e.g. refused by a server's allow-list).
    PermissionDenied,
    /// `SHMIPC_ECLOSED`: the peer or the session is gone.
    Closed,
    /// `SHMIPC_ETIMEDOUT`: timed out.
    TimedOut,
    /// `SHMIPC_EBADBLOB`: a lend blob is malformed, forged, of another session, or used twice.
    BadBlob,
    /// `SHMIPC_ESTALE`: a lend blob refers to a loan that is gone.
    Stale,
    /// `SHMIPC_EPROTO`: incompatible protocol or ABI version.
    Protocol,
    /// `SHMIPC_ENOTSUP`: not supported by this build or provider.
    NotSupported,
    /// `SHMIPC_ESYS`: a system call failed (the detail names it and its errno).
    System,
    /// `SHMIPC_ECORRUPT`: not a shmipc pool, or its header or allocator state is corrupt.
    Corrupt,
    /// `SHMIPC_EMSGSIZE`: a message larger than the buffer (or than [`crate::MSG_MAX`]).
    MessageSize,
    /// `SHMIPC_EOWNERDEAD`: a mutex was acquired, but its last holder died holding it.
    OwnerDead,
    /// A code this version of the crate does not know.
    Unknown,
}

impl ErrorKind {
    fn of(code: c_int) -> ErrorKind {
        match code {
            sys::SHMIPC_EINVAL => ErrorKind::InvalidArgument,
            sys::SHMIPC_ENOMEM => ErrorKind::OutOfMemory,
            sys::SHMIPC_ENOENT => ErrorKind::NotFound,
            sys::SHMIPC_EEXIST => ErrorKind::AlreadyExists,
            sys::SHMIPC_EPERM => ErrorKind::PermissionDenied,
            sys::SHMIPC_ECLOSED => ErrorKind::Closed,
            sys::SHMIPC_ETIMEDOUT => ErrorKind::TimedOut,
            sys::SHMIPC_EBADBLOB => ErrorKind::BadBlob,
            sys::SHMIPC_ESTALE => ErrorKind::Stale,
            sys::SHMIPC_EPROTO => ErrorKind::Protocol,
            sys::SHMIPC_ENOTSUP => ErrorKind::NotSupported,
            sys::SHMIPC_ESYS => ErrorKind::System,
            sys::SHMIPC_ECORRUPT => ErrorKind::Corrupt,
            sys::SHMIPC_EMSGSIZE => ErrorKind::MessageSize,
            sys::SHMIPC_EOWNERDEAD => ErrorKind::OwnerDead,
            _ => ErrorKind::Unknown,
        }
    }
}

/// A failed shmipc call: the negative `SHMIPC_E*` code, its text (`shmipc_strerror`) and the
/// detail of this failure (`shmipc_error_detail`, e.g. which name or which field).
///
/// ```
/// let err = shmipc::Arena::open("no/slashes", 1 << 20, shmipc::Scope::Node).unwrap_err();
/// assert_eq!(err.kind(), shmipc::ErrorKind::InvalidArgument);
/// assert_eq!(err.code(), shmipc_sys::SHMIPC_EINVAL);
/// assert!(err.to_string().starts_with(err.message()));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    code: c_int,
    detail: String,
    message_len: Option<usize>,
    peer_died: bool,
}

/// `Result<T, shmipc::Error>`.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// The error of a C call (through [`shmipc_sys`](crate::sys)) that just returned
    /// `code`, with the calling thread's detail: call it right after the failing call, in
    /// the same thread (the next failure there replaces the detail).
    pub fn from_code(code: c_int) -> Error {
        // SAFETY: shmipc_error_detail returns a NUL-terminated per-thread string that stays
        // valid until this thread's next failing call; it is copied before any other call.
        let detail = unsafe { CStr::from_ptr(sys::shmipc_error_detail()) };
        Error {
            code,
            detail: detail.to_string_lossy().into_owned(),
            message_len: None,
            peer_died: false,
        }
    }

    /// An error found on the Rust side before calling C (e.g. a name with a NUL byte).
    pub(crate) fn new(code: c_int, detail: impl Into<String>) -> Error {
        Error {
            code,
            detail: detail.into(),
            message_len: None,
            peer_died: false,
        }
    }

    /// A session call's error, told by `shmipc_session_peer_gone` (`gone`) whether the peer
    /// crashed.
    pub(crate) fn with_peer_gone(mut self, gone: c_int) -> Error {
        self.peer_died = self.code == sys::SHMIPC_ECLOSED && gone == sys::SHMIPC_PEER_DIED as c_int;
        self
    }

    pub(crate) fn with_message_len(mut self, len: usize) -> Error {
        self.message_len = Some(len);
        self
    }

    /// The `SHMIPC_E*` code (negative).
    pub fn code(&self) -> i32 {
        self.code
    }

    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        ErrorKind::of(self.code)
    }

    /// The code's text, as `shmipc_strerror` gives it.
    pub fn message(&self) -> &'static str {
        // SAFETY: shmipc_strerror returns a static NUL-terminated string for any code
        // ("unknown error" for codes outside the list), never NULL.
        let text = unsafe { CStr::from_ptr(sys::shmipc_strerror(self.code)) };
        text.to_str().unwrap_or("unknown error")
    }

    /// What exactly failed ("" when the library said nothing more).
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// For [`Session::recv`](crate::Session::recv) failures that concern one message: its
    /// length. With [`ErrorKind::MessageSize`] the message is still queued (receive it with a
    /// buffer this large); with [`ErrorKind::BadBlob`] or [`ErrorKind::Stale`] it was received
    /// into the buffer but its object could not be borrowed.
    pub fn message_len(&self) -> Option<usize> {
        self.message_len
    }

    /// For a [`Closed`](ErrorKind::Closed) error of a [`Session`](crate::Session) call: true
    /// if the peer's process died, was killed or hung up without a goodbye (or this side
    /// closed the session on a misbehaving peer), false after an orderly end (the peer said
    /// goodbye, or the session was shut down in this process). The detail says it too.
    pub fn peer_died(&self) -> bool {
        self.peer_died
    }
}

/// The code with its text, the kind and the detail: what `fn main() -> Result<(),
/// shmipc::Error>` prints.
impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Error");
        s.field("code", &self.code)
            .field("kind", &self.kind())
            .field("message", &self.message())
            .field("detail", &self.detail);
        if let Some(len) = self.message_len {
            s.field("message_len", &len);
        }
        if self.peer_died {
            s.field("peer_died", &true);
        }
        s.finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.detail.is_empty() {
            f.write_str(self.message())
        } else {
            write!(f, "{}: {}", self.message(), self.detail)
        }
    }
}

impl std::error::Error for Error {}

/// Turn a C return code into a `Result`.
pub(crate) fn check(rc: c_int) -> Result<()> {
    if rc == 0 {
        Ok(())
    } else {
        Err(Error::from_code(rc))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_of_the_header_has_a_kind_and_a_text() {
        for code in sys::SHMIPC_ERRNO_MIN..0 {
            let err = Error::new(code, "");
            assert_ne!(err.kind(), ErrorKind::Unknown, "code {code}");
            assert_ne!(err.message(), "unknown error", "code {code}");
        }
        assert_eq!(Error::new(-1000, "").kind(), ErrorKind::Unknown);
    }

    #[test]
    fn display_joins_text_and_detail() {
        let err = Error::new(sys::SHMIPC_ENOENT, "no server 'x'");
        assert_eq!(err.to_string(), format!("{}: no server 'x'", err.message()));
        assert_eq!(
            Error::new(sys::SHMIPC_ENOENT, "").to_string(),
            err.message()
        );
    }

    #[test]
    fn debug_shows_the_code_s_text_and_the_detail() {
        let err = Error::new(sys::SHMIPC_ECLOSED, "the peer said goodbye");
        let debug = format!("{err:?}");
        assert!(
            debug.contains("code: -6") && debug.contains("kind: Closed"),
            "{debug}"
        );
        assert!(
            debug.contains(&format!("message: {:?}", err.message())),
            "{debug}"
        );
        assert!(
            debug.contains("detail: \"the peer said goodbye\""),
            "{debug}"
        );
        let died = err.with_peer_gone(sys::SHMIPC_PEER_DIED as c_int);
        assert!(died.peer_died() && format!("{died:?}").contains("peer_died: true"));
        let timeout = Error::new(sys::SHMIPC_ETIMEDOUT, "");
        assert!(!timeout
            .with_peer_gone(sys::SHMIPC_PEER_DIED as c_int)
            .peer_died());
    }
}

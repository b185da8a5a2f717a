//! Zero-copy shared memory between processes written in Rust, C and Python on one Linux
//! host: the safe API over [`shmipc_sys`].
//!
//! The package is `shmipc-safe`; the library is imported as `shmipc`.
//!
//! # A tour
//!
//! A [`Server`] listens on a Unix socket; a client [`Session::connect`]s to it, and both get
//! a [`Session`]. Either side makes an [`Object`] in the session's [`Arena`], fills it, and
//! lends it with a message ([`Session::send_with`]): only a 64-byte [`Blob`] travels. The
//! peer's [`Session::recv`] returns the object borrowed, as an `Object<ReadOnly>`: a `&[u8]`
//! (or a typed view) of the very same memory. When the borrower drops it, the lender's
//! arena gets the memory back — also if the borrower is killed.
//!
//! ```
//! use std::time::Duration;
//! use shmipc::{ClientOptions, Server, ServerOptions, Session};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = std::env::temp_dir().join(format!("shmipc-doc-tour-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir)?;
//! let server = Server::open("tour", &ServerOptions::new().socket_dir(&dir))?;
//! // The client would be another process; a thread does for the tour.
//! let client = std::thread::spawn({
//!     let dir = dir.clone();
//!     move || -> shmipc::Result<u64> {
//!         let session = Session::connect("tour", "tour-client", &ClientOptions::new().socket_dir(dir))?;
//!         let mut buf = [0u8; 64];
//!         let msg = session.recv(&mut buf, Some(Duration::from_secs(10)))?;
//!         assert_eq!(&buf[..msg.len], b"numbers");
//!         let numbers = msg.object.expect("an object came with the message");
//!         // read in place: no copy was made
//!         Ok(numbers.view_slice::<u64>(0, 4)?.iter().sum())
//!     }
//! });
//! let session = server.accept(Some(Duration::from_secs(10)))?;
//! let mut obj = session.arena().new_object(4 * 8)?;
//! obj.view_slice_mut::<u64>(0, 4)?.copy_from_slice(&[1, 2, 3, 4]);
//! session.send_with(b"numbers", &obj)?;
//! assert_eq!(client.join().unwrap()?, 10);
//! # drop((obj, session, server));
//! # std::fs::remove_dir(&dir)?;
//! # Ok(()) }
//! ```
//!
//! # What the types guarantee
//!
//! - **Errors**: every call returns [`Result`]; an [`Error`] carries the C library's code
//!   ([`Error::code`], [`Error::kind`]), its text and the detail of the failure. Bad input
//!   is an error, never a crash.
//! - **Lifetimes**: an [`Object`] keeps its arena mapped by itself (in C the handle holds a
//!   reference to it), so it may outlive its session; every slice and view borrows the
//!   object, so none outlives the mapping.
//! - **Read-only in the type system**: `Object<ReadWrite>` is `DerefMut<Target = [u8]>`,
//!   `Object<ReadOnly>` — what a peer lends — only `Deref`. A borrowed object of the lend
//!   provider is mapped read-only and cannot become writable; one of the shared provider
//!   can, after a run-time check ([`Object::into_writable`]).
//! - **Typed views** of plain-data `#[repr(C)]` types ([`bytemuck::Pod`]):
//!   [`Object::view_at`], [`Object::view_slice`] and their `_mut` forms check bounds and
//!   alignment. [`Rel`] is C's self-relative pointer (`shmipc_rel`); [`Object::follow`]
//!   checks that it and its target lie inside the object.
//! - **Threads**: [`Session`], [`Arena`] and [`Object`] are `Send + Sync` (the C core allows
//!   concurrent sends, receives, lends, borrows and allocations); [`Server`] is `Send` only
//!   (accept from one thread at a time).
//! - **Named allocations** (Umpire's SHARED resource): [`Arena::open`] finds or creates a
//!   named arena, [`Arena::named`] a named allocation in it, shared by every process that
//!   asks for the name and freed with the last [`Named`].
//! - **Event loops**: [`Session`] and [`Server`] are `AsFd`/`AsRawFd`, readable when a
//!   message or a client waits.
//! - **Per process**: handles belong to the process that made them. In a child made by
//!   `fork()` (such as `libc::fork` or `nix::unistd::fork`), every call on an inherited
//!   [`Session`], [`Server`], [`Arena`] or [`Object`] returns an [`Error`] of kind
//!   [`ErrorKind::InvalidArgument`] ("... inherited across fork"), and dropping it frees
//!   only the child's copy: the parent's session, counts and server name are untouched. The
//!   child opens its own sessions and arenas. (An object's bytes are shared memory that the
//!   child still maps: writing them through an inherited `Object` writes the parent's.)
//!
//! Shared memory is shared: another process may write an object while this one reads it.
//! The references this crate hands out are sound within this process (handles are unique;
//! writable ones exist only where the memory is mapped writable), but across processes the
//! protocol must give an object to one writer at a time — lend it, then leave it alone
//! until the answer comes.
#![warn(missing_docs)]

mod arena;
mod error;
mod named;
mod object;
mod rel;
mod session;

pub use arena::{Arena, ArenaStats, Scope};
/// The crate whose [`Pod`](bytemuck::Pod) trait the typed views require.
pub use bytemuck;
pub use error::{Error, ErrorKind, Result};
pub use named::Named;
pub use object::{Access, Object, ReadOnly, ReadWrite};
pub use rel::Rel;
pub use session::{
    AppRule, Blob, ClientOptions, Message, Provider, Server, ServerOptions, Session, ShutdownHandle,
};
pub use shmipc_sys as sys;

/// The largest message [`Session::send`] accepts (`SHMIPC_MSG_MAX`).
pub const MSG_MAX: usize = sys::SHMIPC_MSG_MAX as usize;

/// The version of the C headers these bindings were made from (`SHMIPC_VERSION_STRING`).
pub const VERSION: &str = match std::str::from_utf8(without_nul(sys::SHMIPC_VERSION_STRING)) {
    Ok(version) => version,
    Err(_) => panic!("SHMIPC_VERSION_STRING is ASCII"),
};

const fn without_nul(bytes: &[u8]) -> &[u8] {
    match bytes {
        [text @ .., 0] => text,
        _ => bytes,
    }
}

/// The version of the C library linked in (may differ from [`VERSION`] only when linked
/// against another build).
pub fn version() -> &'static str {
    // SAFETY: shmipc_version returns a static NUL-terminated string.
    let version = unsafe { std::ffi::CStr::from_ptr(sys::shmipc_version()) };
    version.to_str().unwrap_or("")
}

#[cfg(test)]
mod tests {
    #[test]
    fn versions_agree() {
        assert_eq!(super::VERSION, super::version());
        assert_eq!(super::VERSION, env!("CARGO_PKG_VERSION"));
    }
}

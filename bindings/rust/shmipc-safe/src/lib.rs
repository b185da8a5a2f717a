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
//! let obj = obj.into_read_only(); // frozen: what is lent is written no more
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
//! - **Frozen in the type system**: `Object<ReadWrite>` — a new object no one else has seen
//!   — is `DerefMut<Target = [u8]>`; `Object<ReadOnly>` — frozen: what may be lent, and what
//!   a peer lends — only `Deref`, and it never becomes writable again (see "Shared bytes").
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
//! - **Arrow** (feature `arrow`): `shmipc::arrow::write` puts record batches into an object
//!   as one Arrow IPC stream (one copy); `shmipc::arrow::read` returns batches whose buffers
//!   point into the object and keep it alive. Python's `shmipc.arrow` reads and writes the
//!   same streams (`docs/arrow.md`).
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
//! # Shared bytes: why the references are sound
//!
//! A `&[u8]` or `&T` promises that nothing writes the bytes while it lives, and a `&mut
//! [u8]` that nothing else reads or writes them; a write that another process makes meanwhile
//! is a data race, undefined behaviour, whichever process makes it. So this crate hands out
//! references only to bytes that no process may write while they live, by these rules:
//!
//! 1. **A writer is alone.** An `Object<ReadWrite>` comes only from
//!    [`Arena::new_object`]: a new allocation that no other handle, in this process or any
//!    other, refers to. Its `&mut [u8]` borrows the handle mutably, so it is the one access.
//! 2. **Lending freezes.** [`Session::send_with`], [`Session::send_with_timeout`] and
//!    [`Session::lend`] take only an `Object<ReadOnly>`, and the only way from a writable
//!    object to one is [`Object::into_read_only`], which consumes the writable handle. The
//!    type system thus orders every write of this process before the loan (the send's
//!    release/acquire hand-over in the channel orders it before the peer's reads).
//! 3. **Nothing thaws.** No method makes an `Object<ReadOnly>` writable: not a borrowed one
//!    (its owner still reads it, and other borrowers too), not a frozen one of ours (peers
//!    may hold it). To write again, make a new object. Borrowing gives `Object<ReadOnly>`.
//! 4. **Memory that every process may write hands out no references.** A named allocation
//!    ([`Named`]) is shared by every process that opens the arena, with no loan to order
//!    them: its bytes are copied with volatile accesses ([`Named::read`], [`Named::write`]),
//!    shared counters are atomics ([`Named::atomic_u64`]), and slice views are `unsafe` with
//!    their contract stated ([`Named::as_slice`]).
//!
//! In Miri's terms: every `&[u8]` of an object is derived from a handle whose bytes have
//! one writer in all, the process that made it, whose last write happens before the freeze
//! (rule 2) and which never writes again (rules 1, 3); the borrower's reads happen after
//! the send that carried the loan (the channel's acquire), so every read/write pair is
//! ordered and no two accesses race. The `&mut [u8]` of rule 1 is unique by construction
//! (no other handle exists), and the volatile and atomic accesses of rule 4 are never
//! references, so they create no aliasing claim that another process could break.
//!
//! **What the crate assumes of other processes.** Rust code in another process that uses
//! this crate follows these rules by construction. A peer written in C or Python, or Rust
//! code that writes through [`sys`] or [`Object::as_raw`] (which needs `unsafe`), must
//! follow the same protocol: write an object only before lending it, never write one
//! borrowed. With the **lend provider** the kernel enforces half of it: a borrower's
//! mapping of the owner's memory is read-only, so only the lender could break the rule,
//! and a Rust lender cannot. With the **shared provider** every side maps the session's
//! arenas writable: a foreign peer that writes what it borrowed (or what it was never lent)
//! breaks the contract, as a process writing another's memory through `/proc/pid/mem`
//! would; a program that must not trust its peer's code uses the lend provider.
#![warn(missing_docs)]

mod arena;
#[cfg(feature = "arrow")]
pub mod arrow;
pub mod collections;
mod error;
mod mutex;
mod named;
mod object;
mod rel;
mod session;

pub use arena::{Arena, ArenaStats, Scope};
/// The crate whose [`Pod`](bytemuck::Pod) trait the typed views require.
pub use bytemuck;
pub use error::{Error, ErrorKind, Result};
pub use mutex::{Mutex, MutexGuard};
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

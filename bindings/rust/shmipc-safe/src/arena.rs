//! `Arena`: a shared-memory allocator that objects are made in.

use std::ffi::{c_int, CString};
use std::ptr::{self, NonNull};

use shmipc_sys as sys;

use crate::error::{check, Error, Result};
use crate::object::Object;

/// Statistics of an arena ([`Arena::stats`]; the C library's `struct shmipc_arena_stats`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ArenaStats {
    /// Bytes the allocator manages.
    pub capacity: usize,
    /// Bytes in allocated blocks, with block headers and the name directory (Umpire's
    /// "actual size").
    pub used: usize,
    /// `capacity - used`.
    pub free: usize,
    /// The largest block one allocation can get.
    pub largest_free: usize,
    /// Live allocations, named ones included.
    pub allocations: usize,
    /// Live named allocations.
    pub named: usize,
    /// Times a dead lock holder's operation was rolled back.
    pub lock_recoveries: u64,
    /// Frees refused (foreign, interior or double), and releases a lend-provider peer
    /// reported for loans it did not hold.
    pub bad_frees: u64,
}

/// Which processes share a named arena ([`Arena::open`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Scope {
    /// One arena per host.
    #[default]
    Node,
    /// One arena per CPU package: the package of the CPUs the caller is bound to.
    Socket,
}

/// A handle of an arena of the shared provider: an allocator whose state lives in a
/// shared-memory pool that every process of the arena maps read-write.
///
/// Arenas come from [`Arena::open`] (a named arena, found or created by any process),
/// [`Arena::anonymous`] (a private one, e.g. for tests), or a session
/// ([`Session::arena`](crate::Session::arena), [`Session::app_arena`](crate::Session::app_arena):
/// borrowed from the session). Dropping an owned arena closes the handle; allocations stay in
/// the pool, and objects made in it keep it mapped.
#[derive(Debug)]
pub struct Arena {
    raw: NonNull<sys::shmipc_arena>,
}

// SAFETY: an arena handle is not tied to a thread (shmipc.h: "distinct handles may be used
// from any threads"), so it may be moved to another thread and closed there.
unsafe impl Send for Arena {}
// SAFETY: "One arena handle may be used by several threads at once (allocation is
// serialised by the arena's process-shared lock)" (shmipc.h); `&Arena` only allocates,
// reads statistics and checks, and closing needs ownership.
unsafe impl Sync for Arena {}

impl Arena {
    /// Find or create the named arena `name` of `size` bytes (size counts only when
    /// creating), race-free across processes. Its pool is `/dev/shm/shmipc.<uid>.<name>`
    /// (or `<name>@s<package>` for [`Scope::Socket`]) until [`Arena::unlink`].
    pub fn open(name: &str, size: usize, scope: Scope) -> Result<Arena> {
        let name = c_name(name)?;
        let scope = match scope {
            Scope::Node => sys::SHMIPC_SCOPE_NODE,
            Scope::Socket => sys::SHMIPC_SCOPE_SOCKET,
        } as c_int;
        let mut raw = ptr::null_mut();
        // SAFETY: name is NUL-terminated and outlives the call; raw is a valid out-pointer.
        check(unsafe { sys::shmipc_arena_open(name.as_ptr(), size, scope, &mut raw) })?;
        Ok(Arena::owning(raw))
    }

    /// A new arena of `size` bytes in an anonymous memfd pool: private to this process
    /// unless its pool's fd is passed on.
    pub fn anonymous(size: usize) -> Result<Arena> {
        let mut pool = ptr::null_mut();
        // SAFETY: a NULL name makes an anonymous pool; pool is a valid out-pointer.
        check(unsafe { sys::shmipc_pool_create(ptr::null(), size, 0, &mut pool) })?;
        let mut raw = ptr::null_mut();
        // SAFETY: pool is the live pool just made; on success the arena owns it.
        let rc = unsafe { sys::shmipc_arena_create(pool, &mut raw) };
        if rc != 0 {
            let err = Error::from_code(rc);
            // SAFETY: the arena did not take the pool: it is still ours to close.
            unsafe { sys::shmipc_pool_close(pool) };
            return Err(err);
        }
        Ok(Arena::owning(raw))
    }

    /// Remove a named arena's name (in every scope); processes that have it open keep it.
    pub fn unlink(name: &str) -> Result<()> {
        let name = c_name(name)?;
        // SAFETY: name is NUL-terminated and outlives the call.
        check(unsafe { sys::shmipc_arena_unlink(name.as_ptr()) })
    }

    /// An owned handle just returned by the C library (non-NULL on success).
    fn owning(raw: *mut sys::shmipc_arena) -> Arena {
        Arena {
            raw: NonNull::new(raw).expect("a successful shmipc call returns a handle"),
        }
    }

    /// A handle that the caller owns and closes itself: wrap it in `ManuallyDrop`.
    pub(crate) fn borrowed(raw: *mut sys::shmipc_arena) -> Option<Arena> {
        NonNull::new(raw).map(|raw| Arena { raw })
    }

    /// The C handle, for calls through `shmipc-sys`; it stays owned by this `Arena`.
    pub fn as_raw(&self) -> *mut sys::shmipc_arena {
        self.raw.as_ptr()
    }

    /// A new object of `size` bytes (16-byte aligned, contents unspecified), writable by
    /// this process, lendable to a session's peer if this is the session's arena or its app
    /// arena.
    ///
    /// ```
    /// let arena = shmipc::Arena::anonymous(1 << 20)?;
    /// let mut obj = arena.new_object(64)?;
    /// obj.fill(7);
    /// assert_eq!(obj.len(), 64);
    /// assert!(obj.iter().all(|&b| b == 7));
    /// # Ok::<(), shmipc::Error>(())
    /// ```
    pub fn new_object(&self, size: usize) -> Result<Object> {
        let mut raw = ptr::null_mut();
        // SAFETY: the arena handle is live; raw is a valid out-pointer.
        check(unsafe { sys::shmipc_obj_new(self.raw.as_ptr(), size, &mut raw) })?;
        let raw = NonNull::new(raw).expect("a successful shmipc_obj_new returns a handle");
        // SAFETY: a new handle whose one reference is ours, of an object no one has seen.
        unsafe { Object::from_new(raw) }.ok_or_else(|| {
            Error::new(
                sys::SHMIPC_EPERM,
                "the arena is mapped read-only in this process",
            )
        })
    }

    /// The arena's statistics.
    pub fn stats(&self) -> Result<ArenaStats> {
        // SAFETY: a struct of integers: all zeroes is a valid value.
        let mut stats: sys::shmipc_arena_stats = unsafe { std::mem::zeroed() };
        // SAFETY: the arena handle is live; stats is a valid out-pointer.
        check(unsafe { sys::shmipc_arena_stats(self.raw.as_ptr(), &mut stats) })?;
        Ok(ArenaStats {
            capacity: stats.capacity,
            used: stats.used,
            free: stats.free,
            largest_free: stats.largest_free,
            allocations: stats.allocations,
            named: stats.named,
            lock_recoveries: stats.lock_recoveries,
            bad_frees: stats.bad_frees,
        })
    }

    /// A full consistency check of the allocator's state ([`ErrorKind::Corrupt`] if it
    /// fails).
    ///
    /// [`ErrorKind::Corrupt`]: crate::ErrorKind::Corrupt
    pub fn check(&self) -> Result<()> {
        // SAFETY: the arena handle is live.
        check(unsafe { sys::shmipc_arena_check(self.raw.as_ptr()) })
    }
}

impl Drop for Arena {
    fn drop(&mut self) {
        // SAFETY: an owned, live handle (session arenas are held in ManuallyDrop and never
        // dropped here); it is not used afterwards.
        unsafe { sys::shmipc_arena_close(self.raw.as_ptr()) }
    }
}

/// A name or path as a C string; an interior NUL is an invalid argument.
pub(crate) fn c_name(name: &str) -> Result<CString> {
    CString::new(name)
        .map_err(|_| Error::new(sys::SHMIPC_EINVAL, format!("{name:?} contains a NUL byte")))
}

//! `Named`: an allocation found or created by name in a shared arena (Umpire's "SHARED"
//! resource), with a reference count per name across processes.

use std::collections::BTreeSet;
use std::ffi::{c_void, CString};
use std::fmt;
use std::ptr::{self, NonNull};
use std::sync::atomic::AtomicU64;
use std::sync::{Mutex, MutexGuard, PoisonError};

use bytemuck::Pod;
use shmipc_sys as sys;

use crate::arena::{c_name, Arena};
use crate::error::{Error, Result};

/// The addresses of the named allocations this process holds a `Named` of: one per
/// allocation, so that `&mut Named` is unique in this process.
static HELD: Mutex<BTreeSet<usize>> = Mutex::new(BTreeSet::new());

fn held() -> MutexGuard<'static, BTreeSet<usize>> {
    // The set stays consistent whatever panicked while holding the lock.
    HELD.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One reference to a named allocation of an [`Arena`] ([`Arena::named`]): every process
/// that asks the arena for the same name gets the same memory, and the memory is freed when
/// the last reference anywhere is dropped.
///
/// It borrows the arena handle, which keeps the memory mapped. Every process that maps the
/// arena may write the memory at any time, so a `Named` hands out no `&[u8]` in safe code
/// (one would be a data race with such a write): its bytes are copied in and out with
/// volatile accesses ([`Named::read`], [`Named::write`]), shared counters are atomics
/// ([`Named::atomic_u64`]), and a slice view is `unsafe` with its contract stated
/// ([`Named::as_slice`], [`Named::as_mut_slice`]), for programs that say who writes when
/// (e.g. one creates and fills, the others read after a barrier, as the example
/// `named_arena` does). A process holds at most one `Named` of an allocation at a time.
pub struct Named<'a> {
    arena: &'a Arena,
    name: CString,
    data: NonNull<u8>,
    len: usize,
    created: bool,
}

impl Arena {
    /// Find or create the allocation `name` of `size` bytes, atomically across processes,
    /// taking one reference to it ([`Named::created`] says whether this call made it: its
    /// bytes are then unspecified, initialise them). An existing allocation of another size
    /// is [`ErrorKind::AlreadyExists`](crate::ErrorKind::AlreadyExists), and so is one this process
    /// already holds through this arena handle.
    ///
    /// ```
    /// # fn main() -> shmipc::Result<()> {
    /// let arena = shmipc::Arena::anonymous(1 << 20)?;
    /// let table = arena.named("table", 4 * 8)?;
    /// assert!(table.created());
    /// table.write(0, bytemuck::cast_slice(&[1.0f64, 2.0, 3.0, 4.0]))?;
    /// drop(table); // the last reference: freed
    /// assert!(arena.named("table", 4 * 8)?.created());
    /// # Ok(()) }
    /// ```
    pub fn named(&self, name: &str, size: usize) -> Result<Named<'_>> {
        let name = c_name(name)?;
        let mut out: *mut c_void = ptr::null_mut();
        // SAFETY: the arena handle is live; name is NUL-terminated; out is a valid
        // out-pointer.
        let rc = unsafe { sys::shmipc_named_alloc(self.as_raw(), name.as_ptr(), size, &mut out) };
        // 1: created, 0: found
        if rc < 0 {
            return Err(Error::from_code(rc));
        }
        let created = rc == 1;
        let named = Named {
            arena: self,
            name,
            data: NonNull::new(out.cast()).expect("a successful shmipc_named_alloc gives memory"),
            len: size,
            created,
        };
        if !held().insert(named.address()) {
            // Not ours to keep: dropping it would release the other holder's memory.
            // SAFETY: we took one reference just above; this gives it back.
            unsafe { sys::shmipc_named_free(self.as_raw(), named.name.as_ptr()) };
            let text = format!("{} is already held in this process", named.name());
            std::mem::forget(named);
            return Err(Error::new(sys::SHMIPC_EEXIST, text));
        }
        Ok(named)
    }
}

impl Named<'_> {
    /// Whether this call created the allocation (else it found it).
    pub fn created(&self) -> bool {
        self.created
    }

    /// The allocation's name.
    pub fn name(&self) -> &str {
        self.name.to_str().unwrap_or("")
    }

    /// The arena it lives in.
    pub fn arena(&self) -> &Arena {
        self.arena
    }

    fn address(&self) -> usize {
        self.data.as_ptr() as usize
    }

    /// The address of the first byte in this process.
    pub fn as_ptr(&self) -> *const u8 {
        self.data.as_ptr()
    }

    /// The allocation's size in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True for an allocation of 0 bytes.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Copy `buf.len()` bytes from byte `offset` into `buf`, with volatile reads: sound
    /// whatever other processes write meanwhile (a byte written during the copy may be
    /// seen old or new, and the copy is not atomic).
    pub fn read(&self, offset: usize, buf: &mut [u8]) -> Result<()> {
        let at = self.range(offset, buf.len())?;
        for (i, byte) in buf.iter_mut().enumerate() {
            // SAFETY: at..at+len lies in the allocation (range), mapped while self lives;
            // a volatile read of a byte is no data race in Rust's model of memory another
            // process writes (it is not a Rust reference to it).
            *byte = unsafe { ptr::read_volatile(at.add(i)) };
        }
        Ok(())
    }

    /// Copy `data` to byte `offset` with volatile writes (see [`Named::read`]).
    pub fn write(&self, offset: usize, data: &[u8]) -> Result<()> {
        let at = self.range(offset, data.len())?;
        for (i, byte) in data.iter().enumerate() {
            // SAFETY: as in read; no Rust reference to these bytes exists in this process
            // (safe code makes none, and the unsafe views forbid writes while they live).
            unsafe { ptr::write_volatile(at.add(i), *byte) };
        }
        Ok(())
    }

    /// The 8-byte-aligned `u64` at index `index` as an atomic, shared with every process
    /// of the arena (C's `_Atomic uint64_t`, Python's struct views): counters and flags
    /// that several processes update.
    ///
    /// ```
    /// # fn main() -> shmipc::Result<()> {
    /// use std::sync::atomic::Ordering;
    /// let arena = shmipc::Arena::anonymous(1 << 20)?;
    /// let counters = arena.named("counters", 2 * 8)?;
    /// counters.atomic_u64(1)?.store(0, Ordering::Relaxed);
    /// counters.atomic_u64(1)?.fetch_add(5, Ordering::AcqRel);
    /// assert_eq!(counters.atomic_u64(1)?.load(Ordering::Acquire), 5);
    /// # Ok(()) }
    /// ```
    pub fn atomic_u64(&self, index: usize) -> Result<&AtomicU64> {
        let offset = index.saturating_mul(8);
        let at = self.range(offset, 8)?;
        // SAFETY: 8 bytes inside the allocation (range), 8-aligned (named allocations are
        // 16-byte aligned), mapped while the returned reference (which borrows self) lives;
        // AtomicU64 has u64's layout and every bit pattern is valid; concurrent atomic
        // accesses from any process are no data race.
        Ok(unsafe { AtomicU64::from_ptr(at.cast()) })
    }

    /// The allocation as `T`s (its size must be a multiple of `T`'s; named allocations are
    /// 16-byte aligned).
    ///
    /// # Safety
    /// No process may write the allocation while the slice lives (e.g. every writer is
    /// done, and the program synchronised with them, before the readers look).
    pub unsafe fn as_slice<T: Pod>(&self) -> Result<&[T]> {
        // SAFETY: mapped while the slice (which borrows self) lives; no process writes it
        // meanwhile (the caller).
        let bytes = unsafe { std::slice::from_raw_parts(self.data.as_ptr(), self.len) };
        bytemuck::try_cast_slice(bytes).map_err(|e| cast_error::<T>(self.len, e))
    }

    /// The allocation as mutable `T`s, checked like [`Named::as_slice`].
    ///
    /// # Safety
    /// No other process may read or write the allocation while the slice lives (in this
    /// process `&mut self` makes the slice the only access).
    pub unsafe fn as_mut_slice<T: Pod>(&mut self) -> Result<&mut [T]> {
        // SAFETY: mapped writable (a shared arena) while the slice lives; the only access
        // here (`&mut self`, one Named per allocation in a process) and in other processes
        // (the caller).
        let bytes = unsafe { std::slice::from_raw_parts_mut(self.data.as_ptr(), self.len) };
        bytemuck::try_cast_slice_mut(bytes).map_err(|e| cast_error::<T>(self.len, e))
    }

    /// The address of `offset..offset + len`, if it lies in the allocation.
    fn range(&self, offset: usize, len: usize) -> Result<*mut u8> {
        match offset.checked_add(len) {
            // SAFETY: offset <= self.len: inside the allocation or one past its end.
            Some(end) if end <= self.len => Ok(unsafe { self.data.as_ptr().add(offset) }),
            _ => Err(Error::new(
                sys::SHMIPC_EINVAL,
                format!(
                    "{len} bytes at offset {offset} do not fit in {} of {} bytes",
                    self.name(),
                    self.len
                ),
            )),
        }
    }
}

fn cast_error<T>(len: usize, e: bytemuck::PodCastError) -> Error {
    Error::new(
        sys::SHMIPC_EINVAL,
        format!(
            "{len} bytes cannot be viewed as {}: {e:?}",
            std::any::type_name::<T>()
        ),
    )
}

impl Drop for Named<'_> {
    fn drop(&mut self) {
        held().remove(&self.address());
        // SAFETY: the arena handle is live (self borrows it) and self holds one reference
        // to the name, which this gives back; the memory is not touched afterwards.
        unsafe { sys::shmipc_named_free(self.arena.as_raw(), self.name.as_ptr()) };
    }
}

impl fmt::Debug for Named<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Named")
            .field("name", &self.name())
            .field("len", &self.len)
            .field("created", &self.created)
            .finish()
    }
}

// SAFETY: a Named holds a reference of the name, which any thread may drop
// (shmipc_named_free on an arena handle usable from any thread, shmipc.h), and `&Arena` is
// Sync; the bytes are plain shared memory.
unsafe impl Send for Named<'_> {}
// SAFETY: `&Named` reads its fields, and its bytes only with volatile or atomic accesses
// (or through the unsafe views, under their contract).
unsafe impl Sync for Named<'_> {}

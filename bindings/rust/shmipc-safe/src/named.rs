//! `Named`: an allocation found or created by name in a shared arena (Umpire's "SHARED"
//! resource), with a reference count per name across processes.

use std::ffi::{c_void, CString};
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::ptr::{self, NonNull};

use bytemuck::Pod;
use shmipc_sys as sys;

use crate::arena::{c_name, Arena};
use crate::error::{Error, Result};
use crate::object::writers;

/// One reference to a named allocation of an [`Arena`] ([`Arena::named`]): every process
/// that asks the arena for the same name gets the same memory, and the memory is freed when
/// the last reference anywhere is dropped.
///
/// It borrows the arena handle, which keeps the memory mapped. It is `Deref` and `DerefMut`
/// to `[u8]` (a shared arena is writable by every process that maps it), with typed views
/// of plain-data types; a process holds at most one `Named` of an allocation through one
/// arena handle at a time, so `&mut` is unique in this process. Across processes the
/// program must say who writes when, e.g. one creates and fills, the others read after a
/// barrier (the example `named_arena` does).
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
    /// let mut table = arena.named("table", 4 * 8)?;
    /// assert!(table.created());
    /// table.as_mut_slice::<f64>()?.copy_from_slice(&[1.0, 2.0, 3.0, 4.0]);
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
        if !writers().insert(named.address()) {
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

    /// The allocation as `T`s (its size must be a multiple of `T`'s; named allocations are
    /// 16-byte aligned).
    pub fn as_slice<T: Pod>(&self) -> Result<&[T]> {
        bytemuck::try_cast_slice(self).map_err(|e| cast_error::<T>(self.len, e))
    }

    /// The allocation as mutable `T`s, checked like [`Named::as_slice`].
    pub fn as_mut_slice<T: Pod>(&mut self) -> Result<&mut [T]> {
        let len = self.len;
        bytemuck::try_cast_slice_mut(self).map_err(|e| cast_error::<T>(len, e))
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

impl Deref for Named<'_> {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        // SAFETY: data..data+len is the allocation, mapped for as long as the arena handle
        // that self borrows is open, and the slice borrows self.
        unsafe { std::slice::from_raw_parts(self.data.as_ptr(), self.len) }
    }
}

impl DerefMut for Named<'_> {
    fn deref_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in deref; shared arenas are mapped writable by every process of the
        // arena, and no other Named of this address exists in this process (`writers`), so
        // `&mut self` makes this the only slice of it here.
        unsafe { std::slice::from_raw_parts_mut(self.data.as_ptr(), self.len) }
    }
}

impl Drop for Named<'_> {
    fn drop(&mut self) {
        writers().remove(&self.address());
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
// SAFETY: `&Named` only reads its bytes and fields; writing needs `&mut Named`.
unsafe impl Sync for Named<'_> {}

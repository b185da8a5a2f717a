//! `Object`: a handle of a lendable allocation, its bytes, typed views and offset pointers.

use std::ffi::CStr;
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::ptr::NonNull;

use bytemuck::Pod;
use shmipc_sys as sys;

use crate::error::{Error, Result};
use crate::rel::Rel;

mod sealed {
    pub trait Sealed {}
}

/// What this process may do with an object's bytes: [`ReadWrite`] or [`ReadOnly`].
pub trait Access: sealed::Sealed + 'static {
    /// True for [`ReadWrite`].
    const WRITABLE: bool;
}

/// Access of a new object that no one else has seen yet: `Object<ReadWrite>` is
/// `DerefMut`. Only [`Arena::new_object`](crate::Arena::new_object) makes one.
#[derive(Debug)]
pub enum ReadWrite {}

/// Access of a frozen object: one that may be lent, or was lent to this process. What
/// [`Session::borrow`] and [`Session::recv`] return, and what
/// [`Object::into_read_only`] makes of a new object before it is lent. A frozen object
/// never becomes writable again (see "Shared bytes" in the crate documentation).
///
/// Writing through one does not compile:
///
/// ```compile_fail
/// fn scribble(borrowed: &mut shmipc::Object<shmipc::ReadOnly>) {
///     borrowed[0] = 1; // error: DerefMut is not implemented for Object<ReadOnly>
/// }
/// ```
///
/// Nor does lending an object one may still write:
///
/// ```compile_fail
/// fn lend_and_scribble(session: &shmipc::Session, mut obj: shmipc::Object) {
///     session.send_with(b"x", &obj).unwrap(); // error: expected Object<ReadOnly>
///     obj[0] = 1;
/// }
/// ```
///
/// [`Session::borrow`]: crate::Session::borrow
/// [`Session::recv`]: crate::Session::recv
#[derive(Debug)]
pub enum ReadOnly {}

impl sealed::Sealed for ReadWrite {}
impl sealed::Sealed for ReadOnly {}
impl Access for ReadWrite {
    const WRITABLE: bool = true;
}
impl Access for ReadOnly {
    const WRITABLE: bool = false;
}

/// A handle of an object: an allocation in a shared-memory arena that can be lent to a
/// session's peer, with a reference count across processes.
///
/// The handle keeps the arena mapped by itself (it holds a reference to it in C), so an
/// object outlives the session or arena handle it came from, and every `&[u8]` or `&T`
/// borrowed from it lives as long as the handle: the borrow checker ties the memory to what
/// keeps it mapped. Dropping the handle releases its count; the memory is freed when the
/// last count in any process goes (for a loan: when the borrower drops its handle, or when
/// its session ends, even by `kill -9`).
///
/// The type parameter says what this process may do with the bytes: `Object<ReadWrite>`
/// (the default, what [`Arena::new_object`](crate::Arena::new_object) returns: an object no
/// one else has seen) is `Deref` and `DerefMut` to `[u8]`; `Object<ReadOnly>` (frozen: what
/// may be lent, and what a peer lends) is only `Deref`. Lending needs the frozen form
/// ([`Object::into_read_only`] consumes the writable handle), and nothing thaws a frozen
/// object, so no `&[u8]` handed out here can see a write by a process that follows the
/// protocol: "Shared bytes" in the crate documentation says why that is sound. Handles are
/// not `Clone` (share one between threads with `Arc`).
pub struct Object<A: Access = ReadWrite> {
    raw: NonNull<sys::shmipc_obj>,
    data: NonNull<u8>,
    len: usize,
    access: PhantomData<A>,
}

// SAFETY: a shmipc_obj handle is not tied to a thread: its local reference count is atomic
// and releasing it (shmipc_obj_unref) may run on any thread ("the shmipc_obj_* calls may run
// concurrently", shmipc.h, Threads). The bytes are plain shared memory.
unsafe impl<A: Access> Send for Object<A> {}
// SAFETY: `&Object` only reads the handle's immutable pointer and size or calls
// shmipc_obj_writable / shmipc_lend, which the C core allows concurrently; writing the bytes
// needs `&mut Object<ReadWrite>`.
unsafe impl<A: Access> Sync for Object<A> {}

impl<A: Access> Object<A> {
    /// Wrap a handle just returned by a C call (its reference is now ours).
    ///
    /// # Safety
    /// `raw` must be a live handle that no one else will unreference, and if `A` is
    /// `ReadWrite` its bytes must be mapped writable in this process.
    pub(crate) unsafe fn from_raw(raw: NonNull<sys::shmipc_obj>) -> Object<A> {
        // SAFETY: raw is a live handle (caller); both calls only read the handle.
        let (ptr, len) = unsafe {
            (
                sys::shmipc_obj_ptr(raw.as_ptr()),
                sys::shmipc_obj_size(raw.as_ptr()),
            )
        };
        Object {
            raw,
            // A live handle's pointer is never NULL; an empty object could use any address.
            data: NonNull::new(ptr.cast()).unwrap_or(NonNull::dangling()),
            len,
            access: PhantomData,
        }
    }

    /// The same handle with another access marker (no C call: the reference moves over).
    fn retag<B: Access>(self) -> Object<B> {
        let object = Object {
            raw: self.raw,
            data: self.data,
            len: self.len,
            access: PhantomData,
        };
        std::mem::forget(self);
        object
    }

    /// The C handle, for calls through `shmipc-sys`; it stays owned by this `Object`.
    pub fn as_raw(&self) -> *mut sys::shmipc_obj {
        self.raw.as_ptr()
    }

    /// Whether this process has the object's memory mapped writable (`shmipc_obj_writable`):
    /// always for the shared provider, never for what a lend-provider peer lent.
    pub fn is_writable(&self) -> bool {
        // SAFETY: the handle is live while self is.
        unsafe { sys::shmipc_obj_writable(self.raw.as_ptr()) == 1 }
    }

    /// Freeze the object: the same handle, read-only in the type system for good, which
    /// is what [`Session::lend`](crate::Session::lend) and
    /// [`Session::send_with`](crate::Session::send_with) take. Write it first.
    pub fn into_read_only(self) -> Object<ReadOnly> {
        self.retag()
    }

    /// A `T` at byte `offset`: checked to lie inside the object and be aligned for `T`.
    pub fn view_at<T: Pod>(&self, offset: usize) -> Result<&T> {
        let bytes = range(self, offset, std::mem::size_of::<T>(), "view")?;
        bytemuck::try_from_bytes(bytes).map_err(|e| cast_error::<T>(offset, e))
    }

    /// The `T` at the start of the object.
    pub fn view<T: Pod>(&self) -> Result<&T> {
        self.view_at(0)
    }

    /// `count` consecutive `T`s from byte `offset`, checked like [`Object::view_at`].
    pub fn view_slice<T: Pod>(&self, offset: usize, count: usize) -> Result<&[T]> {
        let bytes = range(self, offset, slice_bytes::<T>(count)?, "view")?;
        bytemuck::try_cast_slice(bytes).map_err(|e| cast_error::<T>(offset, e))
    }

    /// Follow an offset pointer that lies in this object to a `T` that lies in it too (both
    /// checked, with the alignment); `None` for the null pointer.
    ///
    /// ```
    /// # fn main() -> shmipc::Result<()> {
    /// use bytemuck::{Pod, Zeroable};
    /// #[repr(C)]
    /// #[derive(Clone, Copy, Pod, Zeroable)]
    /// struct Node { next: shmipc::Rel, value: u64 }
    ///
    /// let arena = shmipc::Arena::anonymous(1 << 20)?;
    /// let mut obj = arena.new_object(2 * std::mem::size_of::<Node>())?;
    /// *obj.view_at_mut::<Node>(0)? = Node { next: shmipc::Rel::NULL, value: 1 };
    /// *obj.view_at_mut::<Node>(16)? = Node { next: shmipc::Rel::NULL, value: 2 };
    /// obj.set_rel(0, Some(16))?; // the first node's `next` -> the second node
    ///
    /// let first: &Node = obj.view()?;
    /// let second: &Node = obj.follow(&first.next)?.expect("linked");
    /// assert_eq!(second.value, 2);
    /// assert!(obj.follow::<Node>(&second.next)?.is_none());
    /// # Ok(()) }
    /// ```
    pub fn follow<T: Pod>(&self, rel: &Rel) -> Result<Option<&T>> {
        self.target_of(rel)?
            .map(|offset| self.view_at(offset))
            .transpose()
    }

    /// Follow an offset pointer to `count` consecutive `T`s inside this object; a null
    /// pointer is an empty slice when `count` is 0 and an error otherwise.
    pub fn follow_slice<T: Pod>(&self, rel: &Rel, count: usize) -> Result<&[T]> {
        match self.target_of(rel)? {
            Some(offset) => self.view_slice(offset, count),
            None if count == 0 => Ok(&[]),
            None => Err(Error::new(
                sys::SHMIPC_EINVAL,
                format!("a null offset pointer where {count} items were expected"),
            )),
        }
    }

    /// Follow an offset pointer to a NUL-terminated string inside this object (the NUL
    /// must come before the object ends); `None` for the null pointer.
    pub fn follow_cstr(&self, rel: &Rel) -> Result<Option<&CStr>> {
        let Some(offset) = self.target_of(rel)? else {
            return Ok(None);
        };
        let tail = range(self, offset, self.len.saturating_sub(offset), "string")?;
        CStr::from_bytes_until_nul(tail).map(Some).map_err(|_| {
            Error::new(
                sys::SHMIPC_EINVAL,
                format!("the string at offset {offset} runs past the object's end"),
            )
        })
    }

    /// The byte offset in this object that `rel` points at, `None` if it is null. `rel`
    /// must itself lie in this object (e.g. a field of a view of it).
    pub fn target_of(&self, rel: &Rel) -> Result<Option<usize>> {
        let field = (rel as *const Rel as usize).wrapping_sub(self.data.as_ptr() as usize);
        if field > self.len || self.len - field < std::mem::size_of::<Rel>() {
            return Err(Error::new(
                sys::SHMIPC_EINVAL,
                "the offset pointer does not lie in this object",
            ));
        }
        if rel.is_null() {
            return Ok(None);
        }
        // field < len <= isize::MAX, so it fits in i128 with any i64 distance.
        let target = field as i128 + i128::from(rel.distance());
        match usize::try_from(target) {
            Ok(target) if target < self.len => Ok(Some(target)),
            _ => Err(Error::new(
                sys::SHMIPC_EINVAL,
                format!(
                    "the offset pointer at {field} points to {target}, outside the object \
                     of {} bytes",
                    self.len
                ),
            )),
        }
    }
}

impl Object<ReadWrite> {
    /// A new object's handle, writable in the type system if this process has the memory
    /// mapped writable (`shmipc_obj_writable`).
    ///
    /// # Safety
    /// `raw` as for [`Object::from_raw`], and the object must be new: no other handle of it
    /// exists anywhere (it was never lent).
    pub(crate) unsafe fn from_new(raw: NonNull<sys::shmipc_obj>) -> Option<Object<ReadWrite>> {
        // SAFETY: as the caller promises; read-only until the check below.
        let object: Object<ReadOnly> = unsafe { Object::from_raw(raw) };
        object.is_writable().then(|| object.retag())
    }

    /// A mutable `T` at byte `offset`, checked like [`Object::view_at`].
    pub fn view_at_mut<T: Pod>(&mut self, offset: usize) -> Result<&mut T> {
        let bytes = range_mut(self, offset, std::mem::size_of::<T>())?;
        bytemuck::try_from_bytes_mut(bytes).map_err(|e| cast_error::<T>(offset, e))
    }

    /// The mutable `T` at the start of the object.
    pub fn view_mut<T: Pod>(&mut self) -> Result<&mut T> {
        self.view_at_mut(0)
    }

    /// `count` consecutive mutable `T`s from byte `offset`.
    pub fn view_slice_mut<T: Pod>(&mut self, offset: usize, count: usize) -> Result<&mut [T]> {
        let bytes = range_mut(self, offset, slice_bytes::<T>(count)?)?;
        bytemuck::try_cast_slice_mut(bytes).map_err(|e| cast_error::<T>(offset, e))
    }

    /// Point the offset pointer stored at byte `at` to byte `target` of this object (`None`:
    /// null). Both must lie in the object and `at` must be aligned for a [`Rel`].
    pub fn set_rel(&mut self, at: usize, target: Option<usize>) -> Result<()> {
        if let Some(t) = target.filter(|&t| t >= self.len) {
            return Err(Error::new(
                sys::SHMIPC_EINVAL,
                format!("target {t} is outside the object of {} bytes", self.len),
            ));
        }
        let rel = Rel::between(at, target).ok_or_else(|| {
            Error::new(
                sys::SHMIPC_EINVAL,
                format!("an offset pointer at {at} cannot point inside itself"),
            )
        })?;
        *self.view_at_mut::<Rel>(at)? = rel;
        Ok(())
    }
}

impl<A: Access> Deref for Object<A> {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        // SAFETY: data..data+len is the object's memory, mapped (at least readable) for as
        // long as the handle lives, and the returned slice borrows self.
        unsafe { std::slice::from_raw_parts(self.data.as_ptr(), self.len) }
    }
}

impl DerefMut for Object<ReadWrite> {
    fn deref_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in deref; an Object<ReadWrite> exists only for a new object mapped
        // writable here (from_new, the only way to make one) and is never lent (lending takes
        // Object<ReadOnly>), so this is the only handle of the memory anywhere, and
        // `&mut self` makes this the only slice of it.
        unsafe { std::slice::from_raw_parts_mut(self.data.as_ptr(), self.len) }
    }
}

impl<A: Access> Drop for Object<A> {
    fn drop(&mut self) {
        // SAFETY: we own one reference of a live handle; it is not used afterwards.
        unsafe { sys::shmipc_obj_unref(self.raw.as_ptr()) }
    }
}

impl<A: Access> fmt::Debug for Object<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Object")
            .field("access", &access_name::<A>())
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

/// "ReadWrite" or "ReadOnly".
fn access_name<A: Access>() -> &'static str {
    let path = std::any::type_name::<A>();
    path.rsplit("::").next().unwrap_or(path)
}

/// The bytes `offset..offset + len` of an object, or an error naming `what` was asked.
fn range<'a>(bytes: &'a [u8], offset: usize, len: usize, what: &str) -> Result<&'a [u8]> {
    bounds(bytes.len(), offset, len, what).map(|end| &bytes[offset..end])
}

fn range_mut(bytes: &mut [u8], offset: usize, len: usize) -> Result<&mut [u8]> {
    bounds(bytes.len(), offset, len, "view").map(move |end| &mut bytes[offset..end])
}

/// The end of `offset..offset + len` if it lies within `size` bytes.
fn bounds(size: usize, offset: usize, len: usize, what: &str) -> Result<usize> {
    offset
        .checked_add(len)
        .filter(|&end| end <= size)
        .ok_or_else(|| {
            Error::new(
                sys::SHMIPC_EINVAL,
                format!("a {what} of {len} bytes at offset {offset} does not fit in the object of {size} bytes"),
            )
        })
}

fn slice_bytes<T>(count: usize) -> Result<usize> {
    count.checked_mul(std::mem::size_of::<T>()).ok_or_else(|| {
        Error::new(
            sys::SHMIPC_EINVAL,
            format!(
                "{count} items of {} bytes overflow",
                std::mem::size_of::<T>()
            ),
        )
    })
}

fn cast_error<T>(offset: usize, e: bytemuck::PodCastError) -> Error {
    Error::new(
        sys::SHMIPC_EINVAL,
        format!(
            "cannot view offset {offset} as {} (align {}): {e:?}",
            std::any::type_name::<T>(),
            std::mem::align_of::<T>()
        ),
    )
}

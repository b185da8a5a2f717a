//! Shared containers: [`Vec`], [`Str`] and [`Map`], thin layers over the C library's
//! `shmipc_vec`, `shmipc_str` and `shmipc_map` (docs/containers.md). Each lives in a named
//! allocation of an [`Arena`]: `X::open(&arena, name, ..)` finds it, or creates it exactly
//! as C does (`shmipc_named_alloc` of the header's size, then its init), so C, Python and
//! Rust see one container.
//!
//! # Soundness
//!
//! Another process may write a container while this one reads it: the memory is shared and
//! no Rust borrow can stop that. So the safe methods never hand out a reference into it:
//! they copy out ([`Map::get`], [`Vec::get`], [`Str::to_vec`]). A copy taken while another
//! process writes may mix old and new bytes of one value (never bytes from outside the
//! arena: the C reads are bounded); hold the containers' [`Mutex`](crate::Mutex) to read a
//! coherent value. In-place access is `unsafe`, with its contract stated
//! ([`Map::get_in_place`], [`Vec::as_slice`]). Writes take `&mut self` (one writer per
//! handle in this process); across processes, writers take the mutex.
//!
//! ```
//! # fn main() -> shmipc::Result<()> {
//! let arena = shmipc::Arena::anonymous(1 << 20)?;
//! let mut index = shmipc::collections::Map::open(&arena, "index", 8)?;
//! index.insert(b"answer", &42u64.to_ne_bytes())?;
//! assert_eq!(index.get(b"answer"), Some(42u64.to_ne_bytes().to_vec()));
//! assert_eq!(index.len(), 1);
//! # Ok(()) }
//! ```

use std::ffi::c_void;
use std::marker::PhantomData;
use std::mem::size_of;
use std::ptr;
use std::time::{Duration, Instant};

use bytemuck::Pod;
use shmipc_sys as sys;

use crate::arena::Arena;
use crate::error::{check, Error, Result};
use crate::named::Named;

const INIT_WAIT: Duration = Duration::from_secs(5);

/// A copy of n bytes at p, by volatile reads: no Rust reference to memory that another
/// process may write (the model of the crate, lib.rs); a byte written meanwhile may be seen
/// old or new.
fn copy_out(p: *const u8, n: usize) -> std::vec::Vec<u8> {
    // SAFETY (of each read): the callers pass n bytes that the C library checked lie in
    // the arena, mapped while the container's handle lives.
    (0..n)
        .map(|i| unsafe { ptr::read_volatile(p.add(i)) })
        .collect()
}

/// Copy `bytes` to p by volatile writes (see copy_out).
///
/// # Safety
/// p..p+len lies in the arena, mapped writable, and no Rust reference to it exists.
unsafe fn copy_in(p: *mut u8, bytes: &[u8]) {
    for (i, b) in bytes.iter().enumerate() {
        // SAFETY: the caller's contract.
        unsafe { ptr::write_volatile(p.add(i), *b) };
    }
}

/// The named allocation of a header of type H: found (after its creator set `magic`), or
/// created and initialised by `init`.
fn open_header<'a, H>(
    arena: &'a Arena,
    name: &str,
    magic: Option<fn(*const H) -> u64>,
    want: u64,
    init: impl FnOnce(*mut H) -> i32,
) -> Result<(Named<'a>, *mut H)> {
    let named = arena.named(name, size_of::<H>())?;
    // The C library writes the header (shared memory of a writable arena): a raw pointer,
    // never a Rust reference.
    let header = named.as_ptr().cast_mut().cast::<H>();
    if named.created() {
        check(init(header))?;
    } else if let Some(magic) = magic {
        let start = Instant::now();
        while magic(header) != want {
            if start.elapsed() > INIT_WAIT {
                return Err(Error::new(
                    sys::SHMIPC_ECORRUPT,
                    format!("{name} is not an initialised container"),
                ));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    Ok((named, header))
}

/// A read of the `magic` word, atomic: another process may be initialising it.
fn load_magic(word: *const u64) -> u64 {
    // SAFETY: word is the first field of a header inside a named allocation that the
    // caller's Named keeps mapped, 16-byte aligned; the load is atomic, as the store of
    // its creator (another process) may be concurrent.
    unsafe {
        (*(word as *const std::sync::atomic::AtomicU64)).load(std::sync::atomic::Ordering::Acquire)
    }
}

/// A growable array of `T` (`shmipc_vec` of `size_of::<T>()`-byte elements).
pub struct Vec<'a, T: Pod> {
    named: Named<'a>,
    v: *mut sys::shmipc_vec,
    _t: PhantomData<T>,
}

impl<'a, T: Pod> Vec<'a, T> {
    /// Find or create the vector `name` in the arena (elements of `size_of::<T>()` bytes:
    /// an existing vector of another element size is an error).
    pub fn open(arena: &'a Arena, name: &str) -> Result<Self> {
        let (named, v) = open_header(
            arena,
            name,
            Some(|h: *const sys::shmipc_vec| load_magic(h.cast())),
            sys::SHMIPC_VEC_MAGIC,
            // SAFETY: v is the new named allocation of sizeof(shmipc_vec) bytes in arena.
            |v| unsafe { sys::shmipc_vec_init(arena.as_raw(), v, size_of::<T>(), 0) },
        )?;
        // SAFETY: v is an initialised header inside the allocation named keeps mapped.
        let elem = unsafe { (*v).elem_size };
        if elem != size_of::<T>() as u64 {
            return Err(Error::new(
                sys::SHMIPC_EINVAL,
                format!(
                    "{name} holds elements of {elem} bytes, not {}",
                    size_of::<T>()
                ),
            ));
        }
        Ok(Vec {
            named,
            v,
            _t: PhantomData,
        })
    }

    /// Elements in use.
    pub fn len(&self) -> usize {
        // SAFETY: self.v is a live header (self.named keeps it mapped).
        unsafe { sys::shmipc_vec_len(self.v) }
    }

    /// Whether it has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A copy of element i.
    pub fn get(&self, i: usize) -> Option<T> {
        // SAFETY: shmipc_vec_at checks i and the bounds; the element lies in the arena.
        let p = unsafe { sys::shmipc_vec_at(self.v, i) };
        (!p.is_null()).then(|| bytemuck::pod_read_unaligned(&copy_out(p.cast(), size_of::<T>())))
    }

    /// A copy of every element.
    pub fn to_vec(&self) -> std::vec::Vec<T> {
        (0..self.len()).map_while(|i| self.get(i)).collect()
    }

    /// Append an element (growing in the arena).
    pub fn push(&mut self, value: T) -> Result<()> {
        // SAFETY: a live header of the arena; value is size_of::<T>() readable bytes.
        check(unsafe {
            sys::shmipc_vec_push(self.arena().as_raw(), self.v, (&value as *const T).cast())
        })
    }

    /// Overwrite element i.
    pub fn set(&mut self, i: usize, value: T) -> Result<()> {
        // SAFETY: as in get; the arena is mapped writable (a shared arena).
        let p = unsafe { sys::shmipc_vec_at(self.v, i) };
        if p.is_null() {
            return Err(Error::new(
                sys::SHMIPC_EINVAL,
                format!("index {i} out of range"),
            ));
        }
        // SAFETY: p is size_of::<T>() bytes of the (writable, shared) arena, checked by
        // shmipc_vec_at; safe code holds no reference to them.
        unsafe { copy_in(p.cast(), bytemuck::bytes_of(&value)) };
        Ok(())
    }

    /// Remove and return the last element.
    pub fn pop(&mut self) -> Option<T> {
        let last = self.get(self.len().checked_sub(1)?);
        // SAFETY: a live header.
        (unsafe { sys::shmipc_vec_pop(self.v) } == 0)
            .then_some(last)
            .flatten()
    }

    /// Make room for `capacity` elements.
    pub fn reserve(&mut self, capacity: usize) -> Result<()> {
        // SAFETY: a live header of the arena.
        check(unsafe { sys::shmipc_vec_reserve(self.arena().as_raw(), self.v, capacity) })
    }

    /// Set the length to 0 (the memory stays).
    pub fn clear(&mut self) {
        // SAFETY: a live header.
        unsafe { sys::shmipc_vec_clear(self.v) }
    }

    /// The elements in place.
    ///
    /// # Safety
    /// While the slice lives, no process may push past the capacity, reserve, free or
    /// write the vector (hold the mutex that its writers take, or know they are done).
    pub unsafe fn as_slice(&self) -> &[T] {
        let n = self.len();
        // SAFETY: shmipc_vec_at checks the bounds.
        let p = unsafe { sys::shmipc_vec_at(self.v, 0) };
        if n == 0 || p.is_null() || p as usize % std::mem::align_of::<T>() != 0 {
            return &[];
        }
        // SAFETY: n elements from p lie in the arena (checked by the C reads); the
        // caller guarantees nobody writes them while the slice lives.
        unsafe { std::slice::from_raw_parts(p.cast::<T>(), n) }
    }

    fn arena(&self) -> &Arena {
        self.named.arena()
    }
}

/// A byte string (`shmipc_str`).
pub struct Str<'a> {
    named: Named<'a>,
    s: *mut sys::shmipc_str,
}

impl<'a> Str<'a> {
    /// Find or create the string `name` in the arena (empty when created).
    pub fn open(arena: &'a Arena, name: &str) -> Result<Self> {
        let (named, s) = open_header(arena, name, None, 0, |s: *mut sys::shmipc_str| {
            // SAFETY: s is the new allocation of sizeof(shmipc_str) bytes: all zero is "".
            unsafe { ptr::write_bytes(s, 0, 1) };
            0
        })?;
        Ok(Str { named, s })
    }

    /// Its length in bytes.
    pub fn len(&self) -> usize {
        // SAFETY: a live header; the read is bounded.
        unsafe { sys::shmipc_str_len(self.s) }
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A copy of its bytes (read as one block: a concurrent set gives the old or the new).
    pub fn to_vec(&self) -> std::vec::Vec<u8> {
        let mut n = 0usize;
        // SAFETY: a live header; shmipc_str_data gives bytes and length from one block,
        // checked to lie in the arena.
        let p = unsafe { sys::shmipc_str_data(self.s, &mut n) };
        copy_out(p.cast(), n)
    }

    /// Replace its bytes.
    pub fn set(&mut self, bytes: &[u8]) -> Result<()> {
        // SAFETY: a live header of the arena; bytes is readable.
        check(unsafe {
            sys::shmipc_str_set(
                self.named.arena().as_raw(),
                self.s,
                bytes.as_ptr().cast(),
                bytes.len(),
            )
        })
    }
}

/// A hash map from byte-string keys to values of a fixed size (`shmipc_map`).
pub struct Map<'a> {
    named: Named<'a>,
    m: *mut sys::shmipc_map,
}

impl<'a> Map<'a> {
    /// Find or create the map `name` in the arena, of values of `value_size` bytes (an
    /// existing map of another value size is an error).
    pub fn open(arena: &'a Arena, name: &str, value_size: usize) -> Result<Self> {
        let (named, m) = open_header(
            arena,
            name,
            Some(|h: *const sys::shmipc_map| load_magic(h.cast())),
            sys::SHMIPC_MAP_MAGIC,
            // SAFETY: m is the new allocation of sizeof(shmipc_map) bytes in arena.
            |m| unsafe { sys::shmipc_map_init(arena.as_raw(), m, value_size, 0) },
        )?;
        let map = Map { named, m };
        if map.value_size() != value_size {
            return Err(Error::new(
                sys::SHMIPC_EINVAL,
                format!(
                    "{name} holds values of {} bytes, not {value_size}",
                    map.value_size()
                ),
            ));
        }
        Ok(map)
    }

    /// Bytes per value.
    pub fn value_size(&self) -> usize {
        // SAFETY: a live header; value_size is written once, at init.
        unsafe { (*self.m).value_size as usize }
    }

    /// Live entries.
    pub fn len(&self) -> usize {
        // SAFETY: a live header.
        unsafe { sys::shmipc_map_len(self.m) }
    }

    /// Whether it has no entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn value_ptr(&self, key: &[u8]) -> Result<Option<*mut u8>> {
        let mut value: *mut c_void = ptr::null_mut();
        // SAFETY: a live header; key is readable; value a valid out-pointer. Needs no arena.
        let rc = unsafe { sys::shmipc_map_get(self.m, key.as_ptr().cast(), key.len(), &mut value) };
        match rc {
            0 => Ok(Some(value.cast())),
            sys::SHMIPC_ENOENT => Ok(None),
            _ => Err(Error::from_code(rc)),
        }
    }

    /// A copy of key's value (None: no such key, or the map is corrupt).
    pub fn get(&self, key: &[u8]) -> Option<std::vec::Vec<u8>> {
        let p = self.value_ptr(key).ok()??;
        Some(copy_out(p, self.value_size()))
    }

    /// Key's value in place.
    ///
    /// # Safety
    /// While the slice lives, no process may replace or delete key or free the map (hold
    /// the mutex its writers take, or know they are done).
    pub unsafe fn get_in_place(&self, key: &[u8]) -> Option<&[u8]> {
        let p = self.value_ptr(key).ok()??;
        // SAFETY: bounded by shmipc_map_get; the caller guarantees no concurrent writer.
        Some(unsafe { std::slice::from_raw_parts(p, self.value_size()) })
    }

    /// Whether key is there.
    pub fn contains_key(&self, key: &[u8]) -> bool {
        matches!(self.value_ptr(key), Ok(Some(_)))
    }

    /// Set key to value (`value.len()` must be the map's value size).
    pub fn insert(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        if value.len() != self.value_size() {
            return Err(Error::new(
                sys::SHMIPC_EINVAL,
                format!(
                    "a value is {} bytes, not {}",
                    self.value_size(),
                    value.len()
                ),
            ));
        }
        // SAFETY: a live header of the arena; key and value are readable.
        check(unsafe {
            sys::shmipc_map_put(
                self.named.arena().as_raw(),
                self.m,
                key.as_ptr().cast(),
                key.len(),
                value.as_ptr().cast(),
            )
        })
    }

    /// Remove key: whether it was there.
    pub fn remove(&mut self, key: &[u8]) -> Result<bool> {
        // SAFETY: a live header of the arena; key is readable.
        let rc = unsafe {
            sys::shmipc_map_del(
                self.named.arena().as_raw(),
                self.m,
                key.as_ptr().cast(),
                key.len(),
            )
        };
        match rc {
            0 => Ok(true),
            sys::SHMIPC_ENOENT => Ok(false),
            _ => Err(Error::from_code(rc)),
        }
    }

    /// Copies of every (key, value).
    pub fn entries(&self) -> Result<std::vec::Vec<(std::vec::Vec<u8>, std::vec::Vec<u8>)>> {
        let mut out = std::vec::Vec::new();
        let mut pos = 0usize;
        loop {
            let (mut key, mut klen, mut value) = (ptr::null(), 0usize, ptr::null_mut());
            // SAFETY: a live header; the out-pointers are valid.
            let rc =
                unsafe { sys::shmipc_map_next(self.m, &mut pos, &mut key, &mut klen, &mut value) };
            match rc {
                0 => {}
                sys::SHMIPC_ENOENT => return Ok(out),
                _ => return Err(Error::from_code(rc)),
            }
            // key (klen bytes) and value (value_size bytes) lie in the arena (checked by C).
            out.push((
                copy_out(key.cast(), klen),
                copy_out(value.cast(), self.value_size()),
            ));
        }
    }

    /// Recount [`Map::len`] after a writer died mid-update (a lock that said
    /// [`MutexGuard::owner_died`](crate::MutexGuard::owner_died)).
    pub fn repair(&mut self) -> Result<()> {
        // SAFETY: a live header of the arena.
        check(unsafe { sys::shmipc_map_repair(self.named.arena().as_raw(), self.m) })
    }
}

// SAFETY: the handles hold a Named (Send + Sync) and a pointer into its allocation; reads
// are copies made by bounded C calls, writes need `&mut self`.
unsafe impl<T: Pod> Send for Vec<'_, T> {}
// SAFETY: as for Send; `&self` methods only read (copies).
unsafe impl<T: Pod> Sync for Vec<'_, T> {}
// SAFETY: as for Vec.
unsafe impl Send for Str<'_> {}
// SAFETY: as for Vec.
unsafe impl Sync for Str<'_> {}
// SAFETY: as for Vec.
unsafe impl Send for Map<'_> {}
// SAFETY: as for Vec.
unsafe impl Sync for Map<'_> {}

//! `Mutex`: a robust process-shared mutex in a named allocation (`shmipc_mutex`).

use std::time::Duration;

use shmipc_sys as sys;

use crate::arena::Arena;
use crate::error::{Error, Result};
use crate::named::Named;

/// A robust process-shared mutex (`shmipc_mutex`) in a named allocation of an [`Arena`]:
/// [`Mutex::lock`] gives a [`MutexGuard`] that unlocks when dropped. A holder that dies
/// (even by SIGKILL) is reported to the next locker by [`MutexGuard::owner_died`]; the lock
/// itself stays usable. It protects whatever the processes agree it protects (e.g. a
/// [`collections::Map`](crate::collections::Map)); it holds no data itself.
///
/// ```
/// # fn main() -> shmipc::Result<()> {
/// let arena = shmipc::Arena::anonymous(1 << 20)?;
/// let lock = shmipc::Mutex::open(&arena, "lock")?;
/// let guard = lock.lock()?;
/// assert!(!guard.owner_died());
/// # Ok(()) }
/// ```
pub struct Mutex<'a> {
    _named: Named<'a>,
    m: *mut sys::shmipc_mutex,
}

/// The lock held (by this thread); dropping it unlocks.
pub struct MutexGuard<'m> {
    m: *mut sys::shmipc_mutex,
    owner_died: bool,
    _mutex: std::marker::PhantomData<&'m ()>,
}

impl<'a> Mutex<'a> {
    /// Find or create the mutex `name` in the arena.
    pub fn open(arena: &'a Arena, name: &str) -> Result<Self> {
        let named = arena.named(name, std::mem::size_of::<sys::shmipc_mutex>())?;
        // Only the C library touches the mutex: a raw pointer, never a Rust reference.
        let m = named.as_ptr().cast_mut().cast::<sys::shmipc_mutex>();
        if named.created() {
            // SAFETY: m is the new allocation of sizeof(shmipc_mutex) bytes, unused so far.
            let rc = unsafe { sys::shmipc_mutex_init(m) };
            if rc < 0 {
                return Err(Error::from_code(rc));
            }
        }
        Ok(Mutex { _named: named, m })
    }

    /// Take the lock, waiting as long as it takes.
    pub fn lock(&self) -> Result<MutexGuard<'_>> {
        self.lock_timeout(None)
    }

    /// Take the lock, waiting at most `timeout` (None: forever):
    /// [`ErrorKind::TimedOut`](crate::ErrorKind::TimedOut) after that.
    pub fn lock_timeout(&self, timeout: Option<Duration>) -> Result<MutexGuard<'_>> {
        let ms = timeout.map_or(-1, |t| t.as_millis().min(i32::MAX as u128) as i32);
        // SAFETY: self.m is a live shmipc_mutex (self's Named keeps it mapped).
        let rc = unsafe { sys::shmipc_mutex_timedlock(self.m, ms) };
        if rc < 0 && rc != sys::SHMIPC_EOWNERDEAD {
            return Err(Error::from_code(rc));
        }
        Ok(MutexGuard {
            m: self.m,
            owner_died: rc == sys::SHMIPC_EOWNERDEAD,
            _mutex: std::marker::PhantomData,
        })
    }
}

impl MutexGuard<'_> {
    /// Whether the previous holder died holding the lock: what it protects may be
    /// mid-update (e.g. call [`Map::repair`](crate::collections::Map::repair)).
    pub fn owner_died(&self) -> bool {
        self.owner_died
    }
}

impl Drop for MutexGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: this thread holds the lock (the guard is !Send), and the mutex outlives
        // the guard ('m borrows it).
        unsafe { sys::shmipc_mutex_unlock(self.m) };
    }
}

// SAFETY: lock and unlock of a process-shared mutex are thread-safe; the Named is Send+Sync.
unsafe impl Send for Mutex<'_> {}
// SAFETY: as for Send.
unsafe impl Sync for Mutex<'_> {}

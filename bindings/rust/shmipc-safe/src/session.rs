//! Servers, sessions, messages and lend blobs.

use std::cell::Cell;
use std::ffi::{c_int, c_long, c_uint, CString};
use std::fmt;
use std::marker::PhantomData;
use std::mem::{ManuallyDrop, MaybeUninit};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::ptr::{self, NonNull};
use std::sync::{Arc, Weak};
use std::time::Duration;

use shmipc_sys as sys;

use crate::arena::{c_name, Arena};
use crate::error::{check, Error, Result};
use crate::object::{Object, ReadOnly};

/// `AsRawFd` and `AsFd` for a handle type whose C library call `$fd` returns the descriptor.
macro_rules! pollable {
    ($type:ty, $fd:ident, $doc:literal) => {
        impl AsRawFd for $type {
            #[doc = $doc]
            fn as_raw_fd(&self) -> RawFd {
                // SAFETY: the handle is live while self is.
                unsafe { sys::$fd(self.as_raw()) }
            }
        }

        impl AsFd for $type {
            #[doc = $doc]
            fn as_fd(&self) -> BorrowedFd<'_> {
                // SAFETY: the descriptor belongs to the handle and stays open until the
                // handle is dropped, which the borrow of self prevents.
                unsafe { BorrowedFd::borrow_raw(self.as_raw_fd()) }
            }
        }
    };
}

/// How a server's sessions allocate and share objects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Provider {
    /// One pool per arena that both sides map read-write (`SHMIPC_PROVIDER_SHARED`).
    #[default]
    Shared,
    /// Each side allocates in pools only it maps writable; borrowers map them read-only
    /// (`SHMIPC_PROVIDER_LEND`). A build without it refuses with
    /// [`ErrorKind::NotSupported`](crate::ErrorKind::NotSupported).
    Lend,
}

/// One entry of a server's allow-list: an app name (`"*"`: any) and the uid and gid it must
/// run as (`None`: any).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppRule {
    app: String,
    uid: Option<u32>,
    gid: Option<u32>,
}

impl AppRule {
    /// Allow `app` (`"*"`: any app) run by any user.
    pub fn new(app: &str) -> AppRule {
        AppRule {
            app: app.to_owned(),
            uid: None,
            gid: None,
        }
    }

    /// Only when run as this uid.
    pub fn uid(mut self, uid: u32) -> AppRule {
        self.uid = Some(uid);
        self
    }

    /// Only when run as this gid.
    pub fn gid(mut self, gid: u32) -> AppRule {
        self.gid = Some(gid);
        self
    }
}

/// Options of [`Server::open`]; the defaults are the C library's.
#[derive(Clone, Debug, Default)]
pub struct ServerOptions {
    allow: Vec<AppRule>,
    socket_dir: Option<PathBuf>,
    socket_mode: u32,
    session_arena_size: usize,
    app_arena_size: usize,
    provider: Provider,
    handshake_timeout_ms: c_int,
    max_pending: c_int,
    max_apps: c_int,
    max_sessions: c_int,
}

impl ServerOptions {
    /// The defaults: any app of this server's uid, the default socket directory
    /// (`$SHMIPC_SOCKET_DIR`, else `$XDG_RUNTIME_DIR/shmipc`, else `/tmp/shmipc-<uid>`),
    /// socket mode 0600, 16 MiB session arenas, 64 MiB app arenas, the shared provider, a
    /// 5 s handshake timeout, 64 pending handshakes, 64 client apps, 4096 sessions per app.
    pub fn new() -> ServerOptions {
        ServerOptions::default()
    }

    /// Add an allow-list entry (with none, any app run by this server's uid is accepted).
    pub fn allow(mut self, rule: AppRule) -> ServerOptions {
        self.allow.push(rule);
        self
    }

    /// Where the socket goes.
    pub fn socket_dir(mut self, dir: impl Into<PathBuf>) -> ServerOptions {
        self.socket_dir = Some(dir.into());
        self
    }

    /// The socket's permission bits (group and other bits are an explicit opt-in).
    pub fn socket_mode(mut self, mode: u32) -> ServerOptions {
        self.socket_mode = mode;
        self
    }

    /// Bytes of each session's arena.
    pub fn session_arena_size(mut self, size: usize) -> ServerOptions {
        self.session_arena_size = size;
        self
    }

    /// Bytes of each client app's arena.
    pub fn app_arena_size(mut self, size: usize) -> ServerOptions {
        self.app_arena_size = size;
        self
    }

    /// The arena provider of the sessions.
    pub fn provider(mut self, provider: Provider) -> ServerOptions {
        self.provider = provider;
        self
    }

    /// How long a connecting client may take to complete its handshake, from its
    /// connection.
    pub fn handshake_timeout(mut self, timeout: Duration) -> ServerOptions {
        self.handshake_timeout_ms = option_timeout_ms(timeout);
        self
    }

    /// Handshakes in flight at most (0: 64); past it new connections wait in the socket's
    /// backlog, and one that sent nothing for 250 ms gives its slot to a waiting one.
    pub fn max_pending(mut self, n: u16) -> ServerOptions {
        self.max_pending = c_int::from(n);
        self
    }

    /// Client apps that get an app arena at most (0: 64); a client of one more app is
    /// refused ([`ErrorKind::PermissionDenied`](crate::ErrorKind::PermissionDenied)).
    pub fn max_apps(mut self, n: u16) -> ServerOptions {
        self.max_apps = c_int::from(n);
        self
    }

    /// Sessions of one client app open at once at most (0: 4096, the most 65535); a client
    /// past it is refused ([`ErrorKind::PermissionDenied`](crate::ErrorKind::PermissionDenied)).
    pub fn max_sessions(mut self, n: u16) -> ServerOptions {
        self.max_sessions = c_int::from(n);
        self
    }
}

/// Options of [`Session::connect`]; the defaults are the C library's.
#[derive(Clone, Debug, Default)]
pub struct ClientOptions {
    socket_dir: Option<PathBuf>,
    timeout_ms: c_int,
    wait: bool,
}

impl ClientOptions {
    /// The defaults: the default socket directory (see [`ServerOptions::new`]) and 5 s to
    /// connect and complete the handshake.
    pub fn new() -> ClientOptions {
        ClientOptions::default()
    }

    /// Where the server's socket is.
    pub fn socket_dir(mut self, dir: impl Into<PathBuf>) -> ClientOptions {
        self.socket_dir = Some(dir.into());
        self
    }

    /// How long connecting and the handshake may take (`None`: forever).
    pub fn timeout(mut self, timeout: Option<Duration>) -> ClientOptions {
        self.timeout_ms = timeout.map_or(-1, option_timeout_ms);
        self
    }

    /// Wait for a server that is not running yet (`true`), within the timeout, which then
    /// covers waiting too; otherwise (the default) no running server is
    /// [`NotFound`](crate::ErrorKind::NotFound) at once. A client may so start before its
    /// server.
    pub fn wait(mut self, wait: bool) -> ClientOptions {
        self.wait = wait;
        self
    }
}

/// A timeout for a wait: `None` waits forever (-1), otherwise milliseconds rounded up, so
/// that only `Duration::ZERO` polls.
fn wait_ms(timeout: Option<Duration>) -> c_int {
    timeout.map_or(-1, |t| {
        c_int::try_from(t.as_nanos().div_ceil(1_000_000)).unwrap_or(c_int::MAX)
    })
}

/// A timeout option, where the C library reads 0 as "the default": at least 1 ms.
fn option_timeout_ms(timeout: Duration) -> c_int {
    wait_ms(Some(timeout)).max(1)
}

fn c_path(path: &Path) -> Result<CString> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| {
        Error::new(
            sys::SHMIPC_EINVAL,
            format!("{} contains a NUL byte", path.display()),
        )
    })
}

fn c_id(id: Option<u32>) -> c_long {
    id.map_or(c_long::from(sys::SHMIPC_ANY_ID), c_long::from)
}

/// A server: listens on a Unix socket named after it and accepts clients into sessions.
///
/// Dropping it stops serving (the socket goes); sessions already accepted stay open.
///
/// A server is for one thread at a time: it may move to another thread (`Send`) but not be
/// shared (not `Sync`):
///
/// ```compile_fail
/// fn share<T: Sync>(_: &T) {}
/// fn serve(server: &shmipc::Server) {
///     share(server); // error: Server is not Sync
/// }
/// ```
///
/// To stop an [`accept`](Server::accept) from another thread, give that thread a
/// [`ShutdownHandle`] ([`Server::shutdown_handle`]).
pub struct Server {
    inner: Arc<RawServer>,
    _not_sync: PhantomData<Cell<()>>,
}

/// The C server, shared by a [`Server`] and the [`ShutdownHandle`]s that upgrade their
/// `Weak` for the length of a shutdown call: the C handle is closed when the last of them
/// lets go.
struct RawServer {
    raw: NonNull<sys::shmipc_server>,
    // The C server keeps a copy of its options, this pointer included.
    _socket_dir: Option<CString>,
}

// SAFETY: the C handle is used through a `&RawServer` only by the one `Server` that owns
// it (which is not `Sync`: one thread at a time, as shmipc.h asks) and by
// `ShutdownHandle::shutdown`, which calls only `shmipc_server_shutdown`, documented as
// callable from any thread at any time but during `shmipc_server_close` — which runs in
// `drop`, once no `Server` or upgraded handle is left.
unsafe impl Send for RawServer {}
// SAFETY: as above.
unsafe impl Sync for RawServer {}

impl Drop for RawServer {
    fn drop(&mut self) {
        // SAFETY: an owned, live handle, not used afterwards.
        unsafe { sys::shmipc_server_close(self.raw.as_ptr()) }
    }
}

impl RawServer {
    fn shutdown(&self) {
        // SAFETY: the handle is live while self is; shutdown may run concurrently with
        // any call but close (see the Send impl).
        unsafe { sys::shmipc_server_shutdown(self.raw.as_ptr()) }
    }
}

/// Stops a [`Server`]'s accepting from any thread: `Send`, `Sync` and `Clone`. It does not
/// keep the server alive: once the server is dropped, [`shutdown`](ShutdownHandle::shutdown)
/// does nothing.
#[derive(Clone, Debug)]
pub struct ShutdownHandle {
    server: Weak<RawServer>,
}

impl ShutdownHandle {
    /// Stop the server's accepting: the [`Server::accept`] waiting returns
    /// [`ErrorKind::Closed`](crate::ErrorKind::Closed) at once, and so does every later one.
    pub fn shutdown(&self) {
        if let Some(server) = self.server.upgrade() {
            server.shutdown();
        }
    }
}

impl Server {
    /// Start serving `name` (a shmipc name). A stale socket of a dead server is replaced; a
    /// live server's is never taken ([`ErrorKind::AlreadyExists`](crate::ErrorKind)).
    pub fn open(name: &str, options: &ServerOptions) -> Result<Server> {
        let name = c_name(name)?;
        let apps = options
            .allow
            .iter()
            .map(|rule| c_name(&rule.app))
            .collect::<Result<Vec<_>>>()?;
        let rules: Vec<sys::shmipc_app_rule> = options
            .allow
            .iter()
            .zip(&apps)
            .map(|(rule, app)| sys::shmipc_app_rule {
                app: app.as_ptr(),
                uid: c_id(rule.uid),
                gid: c_id(rule.gid),
            })
            .collect();
        let socket_dir = options.socket_dir.as_deref().map(c_path).transpose()?;

        let mut opts = MaybeUninit::<sys::shmipc_server_opts>::zeroed();
        // SAFETY: opts points to writable memory of the right type, which init fills.
        let mut opts = unsafe {
            sys::shmipc_server_opts_init(opts.as_mut_ptr());
            opts.assume_init()
        };
        opts.allow = if rules.is_empty() {
            ptr::null()
        } else {
            rules.as_ptr()
        };
        opts.n_allow = rules.len();
        opts.socket_dir = socket_dir.as_ref().map_or(ptr::null(), |d| d.as_ptr());
        opts.socket_mode = options.socket_mode as c_uint;
        opts.session_arena_size = options.session_arena_size;
        opts.app_arena_size = options.app_arena_size;
        opts.provider = match options.provider {
            Provider::Shared => sys::SHMIPC_PROVIDER_SHARED,
            Provider::Lend => sys::SHMIPC_PROVIDER_LEND,
        } as c_int;
        opts.handshake_timeout_ms = options.handshake_timeout_ms;
        opts.max_pending = options.max_pending;
        opts.max_apps = options.max_apps;
        opts.max_sessions = options.max_sessions;

        let mut raw = ptr::null_mut();
        // SAFETY: every pointer in opts (name, rules and their app names, socket_dir) is
        // valid for the call; the allow-list is copied by the library, socket_dir is kept
        // alive in the Server.
        check(unsafe { sys::shmipc_server_open(name.as_ptr(), &opts, &mut raw) })?;
        Ok(Server {
            inner: Arc::new(RawServer {
                raw: NonNull::new(raw).expect("a successful shmipc_server_open returns a handle"),
                _socket_dir: socket_dir,
            }),
            _not_sync: PhantomData,
        })
    }

    /// The next client whose handshake is complete (wait `None`: forever). Accept never
    /// waits on one client: a silent or slow one delays nobody. Clients that are refused or
    /// fail their handshake are told why and skipped. After a shutdown
    /// ([`Server::shutdown`], [`ShutdownHandle::shutdown`]):
    /// [`ErrorKind::Closed`](crate::ErrorKind::Closed).
    pub fn accept(&self, timeout: Option<Duration>) -> Result<Session> {
        let mut raw = ptr::null_mut();
        // SAFETY: the server handle is live; Server is not Sync, so no other thread uses it
        // (but for shmipc_server_shutdown, which may run concurrently).
        check(unsafe { sys::shmipc_server_accept(self.as_raw(), wait_ms(timeout), &mut raw) })?;
        // SAFETY: a new session handle that we own.
        Ok(unsafe { Session::from_raw(raw) })
    }

    /// Stop accepting: every later [`accept`](Server::accept) returns
    /// [`ErrorKind::Closed`](crate::ErrorKind::Closed) at once. The socket stays until the
    /// server is dropped. From another thread: [`Server::shutdown_handle`].
    pub fn shutdown(&self) {
        self.inner.shutdown();
    }

    /// A handle that shuts this server down from any thread.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle {
            server: Arc::downgrade(&self.inner),
        }
    }

    /// Clients refused so far (allow-list, protocol version, `max_apps` or failed
    /// handshakes, handshakes dropped for time or for `max_pending`).
    #[allow(clippy::useless_conversion)] // c_ulong is u32 on 32-bit targets
    pub fn rejected(&self) -> u64 {
        // SAFETY: the server handle is live.
        u64::from(unsafe { sys::shmipc_server_rejected(self.as_raw()) })
    }

    /// The C handle, for calls through `shmipc-sys`; it stays owned by this `Server`.
    pub fn as_raw(&self) -> *mut sys::shmipc_server {
        self.inner.raw.as_ptr()
    }
}

pollable!(
    Server,
    shmipc_server_fd,
    "Readable when accept has something to do: a new connection, a handshake's next \
     message, a shutdown."
);

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("fd", &self.as_raw_fd())
            .finish_non_exhaustive()
    }
}

/// A session between a server and a client: messages both ways, each optionally lending
/// an object, and the arenas the two sides share.
///
/// One session may be used from several threads at once (`Session` is `Sync`): sends are
/// serialised among themselves, and so are receives. Dropping it closes it: the peer sees
/// [`ErrorKind::Closed`](crate::ErrorKind::Closed); objects keep working until dropped.
pub struct Session {
    raw: NonNull<sys::shmipc_session>,
    // Owned by the C session, which closes them: never dropped here.
    arena: ManuallyDrop<Arena>,
    app_arena: ManuallyDrop<Arena>,
}

// SAFETY: a session handle is not tied to a thread (its locks are process-wide mutexes,
// its state is on the heap).
unsafe impl Send for Session {}
// SAFETY: shmipc.h, Threads: "shmipc_send, shmipc_recv, shmipc_lend, shmipc_borrow and the
// shmipc_obj_* calls may run concurrently"; the other `&self` methods read fields fixed at
// creation (fd, arenas, peer pid) or an atomic flag (closed). shmipc_session_set_spin writes
// a plain field that recv reads, so it takes `&mut self`; closing takes ownership.
unsafe impl Sync for Session {}

/// A received message: its length (the bytes are at the start of the buffer given to
/// [`Session::recv`]) and the object lent with it, borrowed and read-only.
#[derive(Debug)]
pub struct Message {
    /// Bytes of the message.
    pub len: usize,
    /// The object that came with the message, if any.
    pub object: Option<Object<ReadOnly>>,
}

impl Session {
    /// Connect to the server `server` as the app `app`. Refusals are
    /// [`ErrorKind::PermissionDenied`](crate::ErrorKind) with the server's reason in
    /// [`Error::detail`]; no server is [`ErrorKind::NotFound`](crate::ErrorKind).
    pub fn connect(server: &str, app: &str, options: &ClientOptions) -> Result<Session> {
        let (server, app) = (c_name(server)?, c_name(app)?);
        let socket_dir = options.socket_dir.as_deref().map(c_path).transpose()?;
        let mut opts = MaybeUninit::<sys::shmipc_client_opts>::zeroed();
        // SAFETY: opts points to writable memory of the right type, which init fills (its
        // size too: fields a newer C library adds take their defaults).
        let mut opts = unsafe {
            sys::shmipc_client_opts_init(opts.as_mut_ptr());
            opts.assume_init()
        };
        opts.socket_dir = socket_dir.as_ref().map_or(ptr::null(), |d| d.as_ptr());
        opts.timeout_ms = options.timeout_ms;
        opts.wait = c_int::from(options.wait);
        let mut raw = ptr::null_mut();
        // SAFETY: the strings and opts are valid for the call; raw is a valid out-pointer.
        check(unsafe { sys::shmipc_connect(server.as_ptr(), app.as_ptr(), &opts, &mut raw) })?;
        // SAFETY: a new session handle that we own.
        Ok(unsafe { Session::from_raw(raw) })
    }

    /// # Safety
    /// `raw` is a live session handle just returned by the library, owned by the caller.
    unsafe fn from_raw(raw: *mut sys::shmipc_session) -> Session {
        let raw = NonNull::new(raw).expect("a successful shmipc call returns a handle");
        // SAFETY: raw is live; the arenas it returns live as long as the session.
        let (arena, app_arena) = unsafe {
            (
                Arena::borrowed(sys::shmipc_session_arena(raw.as_ptr())),
                Arena::borrowed(sys::shmipc_app_arena(raw.as_ptr())),
            )
        };
        Session {
            raw,
            arena: ManuallyDrop::new(arena.expect("a session has a session arena")),
            app_arena: ManuallyDrop::new(app_arena.expect("a session has an app arena")),
        }
    }

    /// The session-scope arena (freed when the session ends): objects made in it can be
    /// lent to the peer.
    pub fn arena(&self) -> &Arena {
        &self.arena
    }

    /// The client app's arena (lives as long as the server): objects made in it can be lent
    /// to the peer too.
    pub fn app_arena(&self) -> &Arena {
        &self.app_arena
    }

    /// Process id of the peer in this process's pid namespace, from the kernel (not from the
    /// peer's word); 0 if the peer is in a pid namespace this process cannot see (a server
    /// inside a container, its client outside).
    pub fn peer_pid(&self) -> u32 {
        // SAFETY: the session handle is live.
        let pid = unsafe { sys::shmipc_session_peer_pid(self.raw.as_ptr()) };
        u32::try_from(pid).unwrap_or(0)
    }

    /// True once the peer has closed the session or died.
    pub fn is_closed(&self) -> bool {
        // SAFETY: the session handle is live; the flag is read atomically.
        unsafe { sys::shmipc_session_closed(self.raw.as_ptr()) != 0 }
    }

    /// An error of a call on this session: [`Error::peer_died`] says how the peer left.
    fn check(&self, rc: c_int) -> Result<()> {
        check(rc).map_err(|err| self.peer_gone(err))
    }

    fn peer_gone(&self, err: Error) -> Error {
        // SAFETY: the session handle is live; the call reads two atomic flags.
        err.with_peer_gone(unsafe { sys::shmipc_session_peer_gone(self.raw.as_ptr()) })
    }

    /// Which provider the session uses (chosen by the server; a client learns it in the
    /// handshake).
    pub fn provider(&self) -> Provider {
        // SAFETY: the session handle is live; the call only reads it.
        match unsafe { sys::shmipc_session_provider(self.raw.as_ptr()) } as u32 {
            sys::SHMIPC_PROVIDER_LEND => Provider::Lend,
            _ => Provider::Shared,
        }
    }

    /// Do the session's housekeeping without waiting: read control messages, and take the
    /// releases the peer reported (with the lend provider the owner frees objects here, as
    /// well as in send, recv, lend and allocation).
    pub fn poll(&self) -> Result<()> {
        // SAFETY: the session is live; shmipc_session_poll may run beside any other call
        // except close, which needs the session by value.
        self.check(unsafe { sys::shmipc_session_poll(self.raw.as_ptr()) })
    }

    /// Spin this long on an empty channel before sleeping in [`Session::recv`] (default 0;
    /// ~50 µs gives sub-microsecond hand-offs between busy processes).
    pub fn set_spin(&mut self, spin: Duration) {
        let us = c_uint::try_from(spin.as_micros()).unwrap_or(c_uint::MAX);
        // SAFETY: the session handle is live and `&mut self` keeps recv from running.
        unsafe { sys::shmipc_session_set_spin(self.raw.as_ptr(), us) }
    }

    /// Send a message (at most [`MSG_MAX`](crate::MSG_MAX) bytes). Blocks while the channel
    /// is full.
    pub fn send(&self, msg: &[u8]) -> Result<()> {
        self.send_raw(msg, ptr::null_mut(), -1)
    }

    /// Send a message lending `object` with it: the loan is recorded before the message
    /// leaves, so the object lives at least until the peer has borrowed and dropped it (or
    /// the session ends). The object must live in [`Session::arena`] or
    /// [`Session::app_arena`], and be frozen ([`Object::into_read_only`]): no one writes a
    /// lent object.
    pub fn send_with(&self, msg: &[u8], object: &Object<ReadOnly>) -> Result<()> {
        self.send_raw(msg, object.as_raw(), -1)
    }

    /// [`Session::send`], waiting at most `timeout` (`None`: forever, `Some(Duration::ZERO)`:
    /// not at all) for room in the channel. [`TimedOut`](crate::ErrorKind::TimedOut) means
    /// nothing was sent: the same call may be made again.
    pub fn send_timeout(&self, msg: &[u8], timeout: Option<Duration>) -> Result<()> {
        self.send_raw(msg, ptr::null_mut(), wait_ms(timeout))
    }

    /// [`Session::send_with`], waiting at most `timeout` for room. The object is lent only
    /// once there is room: after [`TimedOut`](crate::ErrorKind::TimedOut) nothing was lent.
    pub fn send_with_timeout(
        &self,
        msg: &[u8],
        object: &Object<ReadOnly>,
        timeout: Option<Duration>,
    ) -> Result<()> {
        self.send_raw(msg, object.as_raw(), wait_ms(timeout))
    }

    /// shmipc_send_timeout; `object` is null or the handle of an `&Object` the caller holds.
    fn send_raw(&self, msg: &[u8], object: *mut sys::shmipc_obj, timeout_ms: c_int) -> Result<()> {
        // SAFETY: the session is live while `&self` is; msg is valid for len bytes; object is
        // null or live (the callers borrow the Object for the call).
        self.check(unsafe {
            sys::shmipc_send_timeout(
                self.raw.as_ptr(),
                msg.as_ptr().cast(),
                msg.len(),
                object,
                timeout_ms,
            )
        })
    }

    /// Interrupt the session from any thread: every call waiting on it ([`Session::recv`],
    /// a send waiting for room, a borrow waiting for a pool's announcement) returns
    /// [`Closed`](crate::ErrorKind::Closed) at once, and so do later calls. The peer is told
    /// nothing; dropping the `Session` still ends it.
    pub fn shutdown(&self) {
        // SAFETY: the session is live while `&self` is; shmipc_session_shutdown only stores
        // a flag and writes an eventfd, and may run concurrently with any other call on the
        // session (shmipc.h), so `&self` from another thread is sound.
        unsafe { sys::shmipc_session_shutdown(self.raw.as_ptr()) }
    }

    /// Receive the next message into `buf`, waiting up to `timeout` (`None`: forever,
    /// `Some(Duration::ZERO)`: poll). An object lent with it comes borrowed, read-only.
    ///
    /// Errors: [`TimedOut`](crate::ErrorKind::TimedOut); [`Closed`](crate::ErrorKind::Closed)
    /// when the peer is gone and nothing is queued; [`MessageSize`](crate::ErrorKind) when the
    /// message is larger than `buf` (it stays queued; [`Error::message_len`] says how large);
    /// [`BadBlob`](crate::ErrorKind)/[`Stale`](crate::ErrorKind) when the message came but its
    /// object could not be borrowed.
    pub fn recv(&self, buf: &mut [u8], timeout: Option<Duration>) -> Result<Message> {
        let mut len = 0;
        let mut raw = ptr::null_mut();
        // SAFETY: the session is live; buf is valid for buf.len() bytes; len and raw are
        // valid out-pointers.
        let rc = unsafe {
            sys::shmipc_recv(
                self.raw.as_ptr(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut len,
                &mut raw,
                wait_ms(timeout),
            )
        };
        match rc {
            0 => Ok(Message {
                len,
                // SAFETY: a borrowed handle that we now own, mapped at least readable.
                object: NonNull::new(raw).map(|raw| unsafe { Object::from_raw(raw) }),
            }),
            sys::SHMIPC_EMSGSIZE | sys::SHMIPC_EBADBLOB | sys::SHMIPC_ESTALE => {
                Err(Error::from_code(rc).with_message_len(len))
            }
            _ => Err(self.peer_gone(Error::from_code(rc))),
        }
    }

    /// Lend `object` to the peer without a message: the blob may travel by any means (e.g.
    /// the application's own socket) and is borrowed with [`Session::borrow`] on the other
    /// side, once. The object is frozen, as for [`Session::send_with`].
    pub fn lend(&self, object: &Object<ReadOnly>) -> Result<Blob> {
        let mut blob = Blob(sys::shmipc_blob {
            bytes: [0; Blob::SIZE],
        });
        // SAFETY: the session and the object handle are live; blob is a valid out-pointer.
        self.check(unsafe { sys::shmipc_lend(self.raw.as_ptr(), object.as_raw(), &mut blob.0) })?;
        Ok(blob)
    }

    /// Borrow what the peer lent with `blob`. A malformed, forged or already borrowed blob
    /// is [`BadBlob`](crate::ErrorKind::BadBlob); a loan that is gone is
    /// [`Stale`](crate::ErrorKind::Stale).
    pub fn borrow(&self, blob: &Blob) -> Result<Object<ReadOnly>> {
        let mut raw = ptr::null_mut();
        // SAFETY: the session is live; blob is 64 readable bytes; raw is a valid out-pointer.
        self.check(unsafe { sys::shmipc_borrow(self.raw.as_ptr(), &blob.0, &mut raw) })?;
        let raw = NonNull::new(raw).expect("a successful shmipc_borrow returns a handle");
        // SAFETY: a borrowed handle that we now own, mapped at least readable.
        Ok(unsafe { Object::from_raw(raw) })
    }

    /// The C handle, for calls through `shmipc-sys`; it stays owned by this `Session`.
    pub fn as_raw(&self) -> *mut sys::shmipc_session {
        self.raw.as_ptr()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // SAFETY: an owned, live handle; `&mut self` means no other call overlaps, and the
        // arena fields (owned by the C session) are never used afterwards.
        unsafe { sys::shmipc_session_close(self.raw.as_ptr()) }
    }
}

pollable!(
    Session,
    shmipc_session_fd,
    "For poll, epoll, mio, tokio: becomes readable when a message arrives after a receive \
     found the channel empty, or when the peer goes. Use it like a non-blocking socket: \
     [`Session::recv`] with `Some(Duration::ZERO)` until [`ErrorKind::TimedOut`], then wait \
     for readability. (A message that arrives before the session's first empty receive does \
     not make it readable; readability may also be spurious.)\n\n\
     [`ErrorKind::TimedOut`]: crate::ErrorKind::TimedOut"
);

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("peer_pid", &self.peer_pid())
            .field("closed", &self.is_closed())
            .finish_non_exhaustive()
    }
}

/// A lend blob: the fixed-size, self-validating reference to an object lent to one
/// session's peer ([`Session::lend`], [`Session::borrow`]).
///
/// A plain value: the loan it names lives in the session's refcount table until the peer
/// borrows it (once) or the session ends, whatever happens to the blob.
#[derive(Clone)]
#[repr(transparent)]
pub struct Blob(sys::shmipc_blob);

impl Blob {
    /// Bytes of a blob (`SHMIPC_BLOB_SIZE`).
    pub const SIZE: usize = sys::SHMIPC_BLOB_SIZE as usize;

    /// The blob's bytes, to send by other means.
    pub fn as_bytes(&self) -> &[u8; Blob::SIZE] {
        &self.0.bytes
    }

    /// A blob from bytes received by other means; its contents are checked when borrowed.
    pub fn from_bytes(bytes: &[u8]) -> Result<Blob> {
        let bytes = bytes.try_into().map_err(|_| {
            Error::new(
                sys::SHMIPC_EBADBLOB,
                format!("a lend blob has {} bytes, not {}", Blob::SIZE, bytes.len()),
            )
        })?;
        Ok(Blob(sys::shmipc_blob { bytes }))
    }
}

impl PartialEq for Blob {
    fn eq(&self, other: &Blob) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for Blob {}

impl fmt::Debug for Blob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Blob(")?;
        for byte in self.as_bytes() {
            write!(f, "{byte:02x}")?;
        }
        write!(f, ")")
    }
}

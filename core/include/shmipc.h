/**
 * @file shmipc.h
 * @brief The C API of shmipc: zero-copy shared memory between processes written in C,
 * Python and Rust.
 *
 * Conventions (every function in this header):
 * - returns 0 on success or a negative `SHMIPC_E*` code; results come through
 *   out-parameters;
 * - never aborts the process on bad input, a dead peer or exhausted memory;
 * - shmipc_strerror() gives the text of a code, shmipc_error_detail() the detail of the last
 *   failure in the calling thread (which name, which field, which errno).
 *
 * Names (pools, arenas, named allocations) are 1..#SHMIPC_NAME_MAX characters of
 * `[A-Za-z0-9._-]`, not starting with `.`. Pool and arena names live in a per-user
 * namespace: the object in the shm directory (`/dev/shm`, or `$SHMIPC_SHM_DIR`) is
 * `shmipc.<uid>.<name>`.
 *
 * Thread safety: distinct handles may be used from any threads. One arena handle may be
 * used by several threads at once (allocation is serialised by the arena's process-shared
 * lock). A pool handle is immutable after creation and may be shared freely. Closing a
 * handle while another thread uses it is the caller's bug.
 *
 * Fork: handles are per process. In a forked child, a call on a handle inherited from the
 * parent (session, server, arena, object) returns SHMIPC_EINVAL with the detail "...
 * inherited across fork ..." (functions that return a pointer return NULL, such as
 * shmipc_alloc() and shmipc_obj_ptr()) and touches nothing of the parent's; closing it
 * (shmipc_session_close(), shmipc_server_close(), shmipc_arena_close(), the last
 * shmipc_obj_unref(), shmipc_pool_close()) frees only the child's memory and descriptors:
 * no goodbye, no count dropped, no name removed. Accessors of fixed facts (sizes,
 * providers, the peer's pid, the descriptors, the pool accessors) still answer. The child
 * makes its own handles. Details: docs/design.md, "Fork".
 */
#ifndef SHMIPC_H
#define SHMIPC_H

#include <stddef.h>
#include <stdint.h>

#include "shmipc/offptr.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- export macro ------------------------------------------------------------------ */
#if defined(SHMIPC_BUILDING) && defined(__GNUC__)
#define SHMIPC_API __attribute__((visibility("default")))
#else
/** Marks the functions the library exports (default visibility while building it). */
#define SHMIPC_API
#endif

/* ---- version ----------------------------------------------------------------------- */
/** @defgroup version Version
 * The version of the header and of the library.
 * @{ */

#define SHMIPC_VERSION_MAJOR 0 /**< major version of this header */
#define SHMIPC_VERSION_MINOR 1 /**< minor version of this header */
#define SHMIPC_VERSION_PATCH 0 /**< patch level of this header */
/** The header's version as one number: MAJOR * 10000 + MINOR * 100 + PATCH. */
#define SHMIPC_VERSION_NUMBER                                                                  \
    (SHMIPC_VERSION_MAJOR * 10000 + SHMIPC_VERSION_MINOR * 100 + SHMIPC_VERSION_PATCH)
/* build-aux/version.sh and shmipc-sys's build.rs read the next line as it is: keep the
 * #define alone on it. */
/** The header's version as "MAJOR.MINOR.PATCH". */
#define SHMIPC_VERSION_STRING "0.1.0"

/** The library's version as "MAJOR.MINOR.PATCH" (may differ from the header's when linked
 * against another build). */
SHMIPC_API const char *shmipc_version(void);
/** The library's version as #SHMIPC_VERSION_NUMBER computes it. */
SHMIPC_API unsigned shmipc_version_number(void);

/** @} */

/* ---- errors ------------------------------------------------------------------------ */
/** @defgroup errors Errors
 * Error codes (every call returns 0 or one of them) and their words.
 * @{ */

#define SHMIPC_OK 0           /**< success */
#define SHMIPC_EINVAL (-1)    /**< invalid argument: bad name, size, flag or handle */
#define SHMIPC_ENOMEM (-2)    /**< out of memory: the arena, the pool or the system is full */
#define SHMIPC_ENOENT (-3)    /**< no such pool, arena or named allocation */
#define SHMIPC_EEXIST (-4)    /**< already exists (or exists with another size) */
#define SHMIPC_EPERM (-5)     /**< permission denied */
#define SHMIPC_ECLOSED (-6)   /**< the peer or the session is gone */
#define SHMIPC_ETIMEDOUT (-7) /**< timed out */
#define SHMIPC_EBADBLOB (-8)  /**< lend blob is malformed or forged */
#define SHMIPC_ESTALE (-9)    /**< lend blob refers to an object that is gone */
#define SHMIPC_EPROTO (-10)   /**< incompatible protocol or ABI version */
#define SHMIPC_ENOTSUP (-11)  /**< not supported by this build or provider */
#define SHMIPC_ESYS (-12)     /**< a system call failed (errno in shmipc_error_detail()) */
#define SHMIPC_ECORRUPT                                                                        \
    (-13) /**< not a shmipc pool, or its header/allocator state is corrupt */
#define SHMIPC_EMSGSIZE (-14)   /**< message larger than the buffer (or than #SHMIPC_MSG_MAX) */
#define SHMIPC_EOWNERDEAD (-15) /**< lock acquired, but its last holder died holding it */
#define SHMIPC_ERRNO_MIN (-15)  /**< the lowest error code (codes run from -1 down to it) */

/** Text of an error code; never NULL ("unknown error" for codes outside the list). */
SHMIPC_API const char *shmipc_strerror(int code);
/** Detail of the calling thread's most recent failure, such as "pool 'x' is not a shmipc
 * pool (bad magic)"; "" if there was none. Read it right after the failing call: the next
 * failure in the thread replaces it (successes leave it alone). */
SHMIPC_API const char *shmipc_error_detail(void);
/** Record `detail` as the calling thread's failure detail (as shmipc_error_detail() returns
 * it; NULL records ""): for libraries layered on shmipc, such as libshmipc_mpi, whose
 * failures it reports too.
 * @return code, unchanged. */
SHMIPC_API int shmipc_error_set(int code, const char *detail);

/** @} */

/* ---- limits ------------------------------------------------------------------------ */
/** @defgroup limits Limits
 * Sizes every part of the library keeps to.
 * @{ */

#define SHMIPC_NAME_MAX 127 /**< longest name, in bytes, without the terminating NUL */
/** Longest socket directory, in bytes: every server name up to SHMIPC_NAME_MAX works in
 * one this long (a name too long for the socket path gets a socket named by its hash, and
 * the handshake checks the name); a longer directory is SHMIPC_EINVAL. */
#define SHMIPC_SOCKET_DIR_MAX 83
#define SHMIPC_POOL_MIN 4096              /**< smallest usable pool size */
#define SHMIPC_POOL_MAX ((size_t)1 << 44) /**< largest usable pool size (16 TiB) */

/** @} */

/* ---- pools ------------------------------------------------------------------------- */
/** @defgroup pools Pools
 * Shared-memory segments: anonymous (memfd, passed by fd) or named.
 * @{ */

/** One shared-memory segment: a page-sized validated header (magic, ABI version, pool id,
 * size, creator) followed by the usable bytes that shmipc_pool_base() points at. Per
 * process: in a forked child an inherited pool only answers its accessors and closes (no
 * arena can be made or attached on it). */
typedef struct shmipc_pool shmipc_pool;

#define SHMIPC_RDONLY                                                                          \
    1 /**< map read-only (flag of shmipc_pool_open(), shmipc_pool_from_fd()) */
/** Flag of shmipc_pool_open(): accept a pool that its group or others may write (one its
 * owner created with such a `mode`). Without it such a pool is refused (SHMIPC_EPERM):
 * whoever can write a pool writes the allocator state its users follow. A pool owned by
 * another uid is refused even with it. Ignored by shmipc_pool_from_fd(). */
#define SHMIPC_SHARED_MODE 2

/** Create a pool of `size` usable bytes (rounded up to the page size). name == NULL makes
 * an anonymous memfd pool (no name anywhere, passed to peers by fd); otherwise a named
 * pool, published atomically: a concurrent opener sees it whole or not at all. `mode` is
 * the permission of a named pool (0 = 0600); group/other bits are an explicit opt-in.
 * @return 0, or SHMIPC_EINVAL (size 0 or > #SHMIPC_POOL_MAX, bad name or mode),
 * SHMIPC_EEXIST, SHMIPC_ENOMEM (the shm filesystem has no room), SHMIPC_EPERM,
 * SHMIPC_ESYS. */
SHMIPC_API int shmipc_pool_create(const char *name, size_t size, unsigned mode,
                                  shmipc_pool **out);
/** Open a named pool of the calling user; flags is 0 or #SHMIPC_RDONLY and/or
 * #SHMIPC_SHARED_MODE. Its file is never followed if it is a symbolic link, is not owned by
 * this process's euid, or is writable by group/other without #SHMIPC_SHARED_MODE: another
 * user may have planted it (docs/security.md).
 * @return 0, or SHMIPC_ENOENT, SHMIPC_EPERM (refused as above: the detail names the file,
 * its owner and mode), SHMIPC_ECORRUPT (not a shmipc pool or truncated), SHMIPC_EPROTO
 * (another ABI version), SHMIPC_EINVAL. */
SHMIPC_API int shmipc_pool_open(const char *name, int flags, shmipc_pool **out);
/** Map a pool received as a file descriptor. The pool keeps its own duplicate of fd; the
 * caller still owns fd. An unnamed file (a memfd) must be sealed against shrinking.
 * @return 0, or the errors of shmipc_pool_open(), and SHMIPC_EPERM for a memfd that is not
 * sealed against shrinking. */
SHMIPC_API int shmipc_pool_from_fd(int fd, int flags, shmipc_pool **out);
/** The pool's descriptor, for passing to a peer (`SCM_RIGHTS`); owned by the pool. */
SHMIPC_API int shmipc_pool_fd(const shmipc_pool *p);
/** Start of the usable bytes (page-aligned). */
SHMIPC_API void *shmipc_pool_base(const shmipc_pool *p);
/** Count of the usable bytes. */
SHMIPC_API size_t shmipc_pool_size(const shmipc_pool *p);
/** The pool's random 64-bit id (never 0), the same in every process that maps it. */
SHMIPC_API uint64_t shmipc_pool_id(const shmipc_pool *p);
/** 1 if the pool is mapped writable in this process, 0 if read-only. */
SHMIPC_API int shmipc_pool_writable(const shmipc_pool *p);
/** Unmap and close; NULL is a no-op. A named pool stays until shmipc_pool_unlink(). */
SHMIPC_API void shmipc_pool_close(shmipc_pool *p);
/** Remove a named pool's name; mappings stay valid until closed.
 * @return 0, or SHMIPC_ENOENT, SHMIPC_EINVAL. */
SHMIPC_API int shmipc_pool_unlink(const char *name);

/** @} */

/* ---- arenas (shared provider) ------------------------------------------------------ */
/** @defgroup arenas Arenas and named allocations
 * Shared arenas (TLSF inside a pool, any process may allocate) and allocations found by name.
 * @{ */

/** An allocator whose whole state lives inside one pool (TLSF: O(1) alloc and free), so any
 * process that maps the pool read-write may allocate, write and free. A process-shared
 * robust mutex serialises it; if a process dies holding it, the next locker rolls the
 * interrupted operation back from an undo log, checks the allocator and carries on. Per
 * process: in a forked child an inherited arena refuses every call (SHMIPC_EINVAL, or NULL)
 * and its close frees only the child's copy. */
typedef struct shmipc_arena shmipc_arena;

/* Scopes of named arenas (macros, not an enum: bindings get stable names). */
#define SHMIPC_SCOPE_NODE 0   /**< shmipc_arena_open() scope: one arena per host */
#define SHMIPC_SCOPE_SOCKET 1 /**< shmipc_arena_open() scope: one arena per CPU package */

/** Arena statistics. The type is `struct shmipc_arena_stats` (no typedef): the name
 * shmipc_arena_stats belongs to the function that fills it. */
struct shmipc_arena_stats {
    size_t capacity;          /**< bytes the allocator manages */
    size_t used;              /**< bytes in allocated blocks, with block headers and the name
                                 directory (Umpire's actual size) */
    size_t free;              /**< capacity - used */
    size_t largest_free;      /**< the largest block one allocation can get */
    size_t allocations;       /**< live allocations, named ones included */
    size_t named;             /**< live named allocations */
    uint64_t lock_recoveries; /**< times a dead lock holder's operation was rolled back */
    uint64_t bad_frees;       /**< shmipc_free() calls refused (foreign, interior or double
                                 free), and releases a lend-provider peer reported for loans
                                 it did not hold */
};

/** Named shared allocator: find-or-create the arena `name` of `size` bytes, race-free (two
 * processes racing get one arena; one that dies while creating leaves nothing others wait
 * for). size is used only when creating; an existing arena is opened whatever its size.
 * scope #SHMIPC_SCOPE_NODE: one arena per host; #SHMIPC_SCOPE_SOCKET: one per CPU package,
 * keyed by the package of the CPUs the caller is bound to (its affinity mask must lie in one
 * package, else SHMIPC_EINVAL). The arena's pool is named `<name>` (node) or
 * `<name>@s<package>` (socket). An existing pool is opened as by shmipc_pool_open() without
 * flags: one that is not the caller's own and private is refused (SHMIPC_EPERM).
 * @return 0, or the errors of shmipc_pool_create() and shmipc_pool_open(). */
SHMIPC_API int shmipc_arena_open(const char *name, size_t size, int scope, shmipc_arena **out);
/** The CPU package (socket) of the caller, which #SHMIPC_SCOPE_SOCKET keys on: the package
 * of every CPU in its affinity mask.
 * @return 0, or SHMIPC_EINVAL (the mask spans packages: bind the process to one first),
 *         SHMIPC_ENOTSUP (no topology in /sys), SHMIPC_ESYS. */
SHMIPC_API int shmipc_cpu_package(int *out);
/** Make a new shared arena in a writable pool (erasing its contents). On success the arena
 * owns the pool: shmipc_arena_close() closes it.
 * @return 0, or SHMIPC_EINVAL (read-only or too small). */
SHMIPC_API int shmipc_arena_create(shmipc_pool *pool, shmipc_arena **out);
/** Attach to the arena that a pool already holds, such as a pool received from a peer. On
 * success the arena owns the pool.
 * @return 0, or SHMIPC_ECORRUPT, SHMIPC_EPROTO, SHMIPC_EINVAL (read-only pool). */
SHMIPC_API int shmipc_arena_attach(shmipc_pool *pool, shmipc_arena **out);
/** The arena's pool (to pass its fd to a peer); owned by the arena. For a lend arena, the
 * pool of its refcount table. */
SHMIPC_API shmipc_pool *shmipc_arena_pool(const shmipc_arena *a);
/** #SHMIPC_PROVIDER_SHARED or #SHMIPC_PROVIDER_LEND: which allocator serves a. */
SHMIPC_API int shmipc_arena_provider(const shmipc_arena *a);
/** 1 if this process may allocate in a: 0 for a peer's lend arena seen read-only (the
 * client's app arena of a lend session). */
SHMIPC_API int shmipc_arena_writable(const shmipc_arena *a);
/** Close the handle (and its pool); NULL is a no-op. Allocations stay in the pool. */
SHMIPC_API void shmipc_arena_close(shmipc_arena *a);
/** Remove a named arena's name in every scope; memory goes when the last process closes it.
 * @return 0, or SHMIPC_ENOENT, SHMIPC_EINVAL. */
SHMIPC_API int shmipc_arena_unlink(const char *name);
/** Full consistency check of the allocator state.
 * @return 0, or SHMIPC_ECORRUPT with the detail. */
SHMIPC_API int shmipc_arena_check(shmipc_arena *a);
/** Allocate `size` bytes, 16-byte aligned. Contents are unspecified.
 * @return the bytes, or NULL when full, when size is 0 or too large, when the arena is
 * corrupt or inherited across fork (see shmipc_error_detail()). */
SHMIPC_API void *shmipc_alloc(shmipc_arena *a, size_t size);
/** Free what shmipc_alloc() returned; NULL is a no-op. A pointer not from this arena, an
 * interior pointer or a double free is refused (counted in `stats.bad_frees`), never acted
 * on. */
SHMIPC_API void shmipc_free(shmipc_arena *a, void *ptr);
/** Bytes usable at ptr (>= the size asked for); 0 for a pointer the arena did not hand out. */
SHMIPC_API size_t shmipc_alloc_size(shmipc_arena *a, const void *ptr);
/** Find-or-create the allocation `name` of `size` bytes, atomically across processes;
 * either way its reference count goes up by one. Contents of a new one are unspecified:
 * initialise them.
 * @return 1 if this call created it, 0 if it existed, or SHMIPC_EEXIST (exists with another
 * size), SHMIPC_ENOMEM, SHMIPC_EINVAL (bad name, size 0). */
SHMIPC_API int shmipc_named_alloc(shmipc_arena *a, const char *name, size_t size, void **out);
/** Look a named allocation up without taking a reference. size may be NULL.
 * @return 0, or SHMIPC_ENOENT. */
SHMIPC_API int shmipc_named_find(shmipc_arena *a, const char *name, void **out, size_t *size);
/** Drop one reference; the memory is freed when the count reaches 0.
 * @return 0, or SHMIPC_ENOENT. */
SHMIPC_API int shmipc_named_free(shmipc_arena *a, const char *name);
/** Capacity, used, free, largest free block, live and named allocations.
 * @return 0, or SHMIPC_EINVAL, SHMIPC_ENOTSUP (a peer's lend arena: its figures are its
 * owner's), SHMIPC_ECORRUPT. */
SHMIPC_API int shmipc_arena_stats(shmipc_arena *a, struct shmipc_arena_stats *out);

/** @} */

/* ---- pool-relative pointers -------------------------------------------------------- */
/** @addtogroup offptr
 * @{ */

/** Make a pool-relative pointer to ptr, which must lie in one of the arena's pools.
 * @return 0, or SHMIPC_EINVAL (ptr outside the arena). */
SHMIPC_API int shmipc_arena_to_poolrel(shmipc_arena *a, const void *ptr, shmipc_poolrel *out);
/** Resolve a pool-relative pointer.
 * @return the address, or NULL for a pointer of an unknown pool or an offset outside it. */
SHMIPC_API void *shmipc_arena_from_poolrel(shmipc_arena *a, shmipc_poolrel r);

/** @} */

/* ---- objects ---------------------------------------------------------------------- */
/** @defgroup objects Objects
 * Lendable allocations with a cross-process reference count.
 * @{ */

/** A lendable allocation in a shared arena, seen through a process-local handle with its
 * own reference count. Every handle holds one count in the arena's refcount table,
 * attributed to the session side that made it; the memory is freed when the last count
 * anywhere goes. A handle keeps its arena mapped, so it stays valid after its session
 * closes. Per process: in a forked child an inherited handle cannot be lent or sent
 * (SHMIPC_EINVAL), shmipc_obj_ptr() gives NULL, and its last unref frees only the child's
 * copy (the parent's count stays). */
typedef struct shmipc_obj shmipc_obj;

/** Allocate an object of `size` bytes (16-byte aligned, contents unspecified) in a shared
 * arena or in this side's own lend arena.
 * @return 0, or SHMIPC_EINVAL, SHMIPC_ENOMEM, SHMIPC_ENOTSUP (a peer's lend arena,
 * read-only here: with the lend provider, app-scope objects are the server's). */
SHMIPC_API int shmipc_obj_new(shmipc_arena *a, size_t size, shmipc_obj **out);
/** The object's bytes; NULL for a handle inherited across fork (the detail says so). */
SHMIPC_API void *shmipc_obj_ptr(const shmipc_obj *o);
/** The object's size, as asked for when it was made. */
SHMIPC_API size_t shmipc_obj_size(const shmipc_obj *o);
/** 1 if this process may write the object's bytes: always for the shared provider and for
 * the owner of a lend-provider object; 0 for an object borrowed from a lend-provider peer
 * (mapped read-only: a write faults). */
SHMIPC_API int shmipc_obj_writable(const shmipc_obj *o);
/** Take another local reference; returns o. Thread-safe. */
SHMIPC_API shmipc_obj *shmipc_obj_ref(shmipc_obj *o);
/** Drop a local reference; the last one releases the handle's count. NULL is a no-op. */
SHMIPC_API void shmipc_obj_unref(shmipc_obj *o);

/** @} */

/* ---- sessions ---------------------------------------------------------------------- */
/** @defgroup sessions Sessions
 * Servers, clients and the session between them.
 * @{ */

/** A server: it listens on a Unix socket named after it, in `$SHMIPC_SOCKET_DIR`, else
 * `$XDG_RUNTIME_DIR/shmipc`, else `/tmp/shmipc-<uid>` (a 0700 directory of the user's; one
 * that is not, made first by another user, is refused by servers and clients). A given
 * directory may be another user's but not a symbolic link of or to another user; a socket
 * or lock file another user planted there is refused (docs/security.md).
 * A client connects with its app name; the server checks the peer's credentials
 * (`SO_PEERCRED`) against its allow-list. A server handle is for one thread at a time
 * (accept from one thread), except shmipc_server_shutdown(), which any thread may call.
 * The protocol is described in docs/protocol.md. Per process: in a forked child an
 * inherited server refuses accept (SHMIPC_EINVAL), its shutdown does nothing, and its close
 * leaves the parent's socket, name and pending handshakes alone. */
typedef struct shmipc_server shmipc_server;
/** One side of a session between a server and a client. Each session has a session-scope
 * arena (freed when the session ends) and the client app's app-scope arena (created at the
 * app's first session, freed when the server closes; at most `max_apps` of them), both
 * passed as sealed memfds.
 *
 * Providers (chosen by the server, learnt by the client in the handshake):
 * - #SHMIPC_PROVIDER_SHARED: both sides map both arenas read-write and may allocate, write
 *   and free in them (the shared arena: TLSF in the pool).
 * - #SHMIPC_PROVIDER_LEND: each side allocates only in its own session arena (jemalloc over
 *   memfd pools only it maps writable; the app arena is the server's); the peer maps them
 *   read-only, so a borrower cannot write what it borrowed, and cannot re-lend it. Pools
 *   grow as needed (data pools up to #SHMIPC_LEND_POOLS_MAX; the refcount table, which
 *   records handles and loans, as memory allows) and are sent to the peer before the first
 *   blob that names them. Objects of at least the arena's pool size get a pool of their
 *   own, returned to the OS when they die. A borrower's release is reported to the owner, who frees on its own threads: in
 *   shmipc_recv() (also while it waits), shmipc_lend() and shmipc_send() with an object,
 *   shmipc_session_poll(), shmipc_session_close(), shmipc_obj_new() and
 *   shmipc_arena_stats(). Reports that find the ring full wait in the borrower and follow
 *   as the owner takes reports, also while the borrower sleeps in shmipc_recv(), and when
 *   it closes the session. Needs jemalloc: without it, SHMIPC_ENOTSUP.
 *
 * Threads: one session may be used from several threads at once. shmipc_send(),
 * shmipc_recv(), shmipc_lend(), shmipc_borrow() and the `shmipc_obj_*` calls may run
 * concurrently (sends are serialised among themselves, and so are receives: two threads
 * receiving each get whole, distinct messages). shmipc_session_shutdown() may be called at
 * any time from any thread. shmipc_session_close() must not overlap any other call on the
 * session.
 *
 * Per process: in a forked child, send, recv, lend, borrow and poll on an inherited session
 * return SHMIPC_EINVAL ("inherited across fork"), and so does every call on its arenas;
 * shmipc_session_shutdown() does nothing there; shmipc_session_close() frees the child's
 * copy without a goodbye, so the parent's session goes on. */
typedef struct shmipc_session shmipc_session;

#define SHMIPC_ANY_ID (-1) /**< any uid or gid, in a shmipc_app_rule */
/** One allow-list entry: a client app and the uid and gid it must run as. */
typedef struct shmipc_app_rule {
    const char *app; /**< app name, or "*" for any */
    long uid;        /**< uid the client must run as, or #SHMIPC_ANY_ID */
    long gid;        /**< gid the client must run as, or #SHMIPC_ANY_ID */
} shmipc_app_rule;

/* Providers (shmipc_server_opts.provider). */
#define SHMIPC_PROVIDER_SHARED 0 /**< provider: both sides allocate in shared arenas */
#define SHMIPC_PROVIDER_LEND                                                                   \
    1 /**< provider: each side lends from its own arena, read-only
                                      to the peer (jemalloc) */
/** Lend provider: the regular data pools (each of the arena's pool size, e.g.
 * `session_arena_size`) a lend arena grows to, and the pools of one peer's lend arena
 * (regular and dedicated) a borrower maps at once. Past it, an object that needs one more
 * pool fails with SHMIPC_ENOMEM, the detail naming this cap, and an object in a pool
 * announced past it cannot be borrowed (SHMIPC_ENOMEM). Set when the library is built
 * (CPPFLAGS=-DSHMIPC_LEND_POOLS_MAX=N); a larger pool size reaches further with as many
 * pools. A lend arena's refcount table has no such cap: it grows with its loans. */
#ifndef SHMIPC_LEND_POOLS_MAX
#define SHMIPC_LEND_POOLS_MAX 4096
#endif

/** A server's options: shmipc_server_opts_init() fills in the defaults. Fields may be
 * added at the end in later versions: always start with shmipc_server_opts_init(). */
typedef struct shmipc_server_opts {
    size_t size;                  /**< sizeof the struct as the caller was built with; set
                                       by shmipc_server_opts_init(). Fields past it take
                                       their defaults; 0 or a size that is no layout of
                                       this struct is SHMIPC_EINVAL */
    const shmipc_app_rule *allow; /**< NULL: any app run by the server's own uid */
    size_t n_allow;               /**< entries in allow */
    const char *socket_dir;       /**< NULL: the default directory (see shmipc_server) */
    unsigned socket_mode;         /**< 0: 0600 */
    size_t session_arena_size;    /**< 0: 16 MiB (lend provider: the size of a data pool) */
    size_t app_arena_size;        /**< 0: 64 MiB (lend provider: the size of a data pool) */
    int provider;                 /**< #SHMIPC_PROVIDER_SHARED (0) or #SHMIPC_PROVIDER_LEND */
    int handshake_timeout_ms;     /**< a client's whole handshake, from its connection;
                                       0: 5000, -1: none */
    int max_pending;              /**< handshakes in flight; 0: 64. Past it new connections
                                       wait in the listening socket's backlog (SOMAXCONN)
                                       until one ends or its time is up */
    int max_apps;                 /**< app arenas (distinct client apps) the server makes;
                                       0: 64. A client of one more app is refused with
                                       SHMIPC_EPERM ("... its limit (max_apps) ...") */
    int max_sessions;             /**< open sessions per app (handshakes past HELLO
                                       included); 0: #SHMIPC_MAX_SESSIONS_DEFAULT, at most
                                       #SHMIPC_MAX_SESSIONS. A client past it is refused
                                       with SHMIPC_EPERM ("... N sessions of app 'a', its
                                       limit (max_sessions) ...") */
} shmipc_server_opts;

/** Sessions per app a server serves at once by default (shmipc_server_opts.max_sessions). */
#define SHMIPC_MAX_SESSIONS_DEFAULT 4096
/** Endpoints of one arena's refcount table: each side of a session that holds or borrows
 * objects of an arena has one there (an app arena has two per session of its app with the
 * shared provider, one with the lend provider). The table grows in the arena as needed;
 * past this, or with no room left in the arena for more, a new session is refused with
 * SHMIPC_ENOMEM ("... no free endpoint ..." or "... no room for more endpoints ..."). */
#define SHMIPC_ENDPOINTS_MAX 131071
/** The most max_sessions may be: every session of the app fits in its app arena's table. */
#define SHMIPC_MAX_SESSIONS (SHMIPC_ENDPOINTS_MAX / 2)

/** A client's options: shmipc_client_opts_init() fills in the defaults. Fields may be
 * added at the end in later versions: always start with shmipc_client_opts_init(). */
typedef struct shmipc_client_opts {
    size_t size;            /**< sizeof the struct as the caller was built with; set by
                                 shmipc_client_opts_init() (see shmipc_server_opts.size) */
    const char *socket_dir; /**< NULL: the default directory */
    int timeout_ms;         /**< connect + handshake; 0: 5000, -1: forever */
    int wait;               /**< nonzero: a server that is not running yet is waited for, within
                   timeout_ms (woken by inotify on the socket directory); 0: SHMIPC_ENOENT */
} shmipc_client_opts;

/** Fill opts with the defaults (size = sizeof *opts, every other field zero, which means
 * the defaults above). */
SHMIPC_API void shmipc_server_opts_init(shmipc_server_opts *opts);
/** Fill opts with the defaults (size = sizeof *opts, every other field zero, which means
 * the defaults above). */
SHMIPC_API void shmipc_client_opts_init(shmipc_client_opts *opts);

/** Start serving `name` (a shmipc name). A stale socket of a dead server is replaced; a
 * live server's is never taken (SHMIPC_EEXIST).
 * @return 0, or SHMIPC_EINVAL, SHMIPC_EEXIST, SHMIPC_EPERM, SHMIPC_ESYS, SHMIPC_ENOTSUP
 * (lend provider without jemalloc). */
SHMIPC_API int shmipc_server_open(const char *name, const shmipc_server_opts *opts,
                                  shmipc_server **out);
/** Return the next client whose handshake is complete, waiting up to timeout_ms (-1:
 * forever) for one. Accept never waits on one client: it steps every pending handshake
 * (up to `max_pending`, each bounded by `handshake_timeout_ms` from its connection) as its
 * messages come, so a silent or slow client delays nobody. Clients that are refused
 * (allow-list, protocol version, `max_apps`) or fail their handshake are told why and
 * skipped (shmipc_server_rejected() counts them); a handshake whose time is up is dropped
 * at the next call.
 * @return 0, or SHMIPC_ETIMEDOUT, SHMIPC_ECLOSED (shmipc_server_shutdown() was called),
 * SHMIPC_ESYS. */
SHMIPC_API int shmipc_server_accept(shmipc_server *s, int timeout_ms, shmipc_session **out);
/** Stop accepting, from any thread: every shmipc_server_accept() waiting returns
 * SHMIPC_ECLOSED at once, and so does every later one. The server still owns its socket
 * and must be freed with shmipc_server_close() (not concurrently with this call).
 * NULL is a no-op. */
SHMIPC_API void shmipc_server_shutdown(shmipc_server *s);
/** An epoll fd, readable when accept has something to do: a new connection, a pending
 * handshake's next message or hang-up, or a shutdown (for poll/epoll). */
SHMIPC_API int shmipc_server_fd(const shmipc_server *s);
/** Clients refused so far (allow-list, version or failed handshakes). */
SHMIPC_API unsigned long shmipc_server_rejected(const shmipc_server *s);
/** Stop serving: the socket goes; app arenas are freed once the last session and object
 * that uses them is gone. Sessions stay open until closed. NULL is a no-op. */
SHMIPC_API void shmipc_server_close(shmipc_server *s);

/** Connect to server `server` as app `app`. opts may be NULL. With opts->wait, a server
 * that is not running yet is waited for (its socket to appear and listen) within
 * opts->timeout_ms, which then covers waiting, connecting and the handshake.
 * @return 0, or SHMIPC_ENOENT (no such server, and no wait), SHMIPC_EPERM (refused:
 * shmipc_error_detail() says why: the allow-list, max_apps, max_sessions), SHMIPC_ENOMEM
 * (the server has no room for the session: its arenas, or #SHMIPC_ENDPOINTS_MAX),
 * SHMIPC_EPROTO (version), SHMIPC_ETIMEDOUT,
 * SHMIPC_ENOTSUP (the server uses the lend provider and this build has no jemalloc). */
SHMIPC_API int shmipc_connect(const char *server, const char *app,
                              const shmipc_client_opts *opts, shmipc_session **out);
/** Close the session: the peer sees SHMIPC_ECLOSED. Objects keep working until
 * unreferenced. Loans to this side in messages not yet received are released. */
SHMIPC_API void shmipc_session_close(shmipc_session *s);
/** Interrupt the session, from any thread (it only stores a flag and writes an eventfd, so
 * a signal handler may call it too): every call waiting on it returns SHMIPC_ECLOSED at
 * once — shmipc_recv(), shmipc_send() and shmipc_send_timeout() waiting for room, and a
 * borrow waiting for a pool's announcement — and so do later calls of shmipc_recv(),
 * shmipc_send(), shmipc_send_timeout(), shmipc_lend(), shmipc_borrow() and
 * shmipc_session_poll(); the session fd stays readable. Nothing is said to the peer, and
 * loans are kept: shmipc_session_close() still ends the session and frees the handle (it
 * must not overlap other calls, so shut down, let the calls return, then close). */
SHMIPC_API void shmipc_session_shutdown(shmipc_session *s);
/** Readable when a message waits, control traffic waits or can leave (pool announcements
 * to read or to send: call shmipc_session_poll() or shmipc_recv() with timeout 0), the peer
 * is gone or the session was shut down. For poll/epoll/asyncio/mio. */
SHMIPC_API int shmipc_session_fd(const shmipc_session *s);
/** Do the session's housekeeping without waiting: read control messages, take the releases
 * the peer reported (lend provider: the owner frees here, among other places), and (shared
 * provider, at most every 100 ms) drop what dead processes left in the session's arenas —
 * such as the objects of a peer that said goodbye, kept them, and died. */
SHMIPC_API int shmipc_session_poll(shmipc_session *s);
/** This side's session arena (lend provider: its own lend arena). */
SHMIPC_API shmipc_arena *shmipc_session_arena(shmipc_session *s);
/** The client app's app arena (lend provider, client side: the server's, read-only here). */
SHMIPC_API shmipc_arena *shmipc_app_arena(shmipc_session *s);
/** The session's provider, #SHMIPC_PROVIDER_SHARED or #SHMIPC_PROVIDER_LEND. */
SHMIPC_API int shmipc_session_provider(const shmipc_session *s);
/** Process id of the peer in this process's pid namespace (from the kernel, not from the
 * peer's word); #SHMIPC_ENOENT if the peer is in a pid namespace this one cannot see (e.g.
 * outside this container), #SHMIPC_EINVAL if s is NULL. */
SHMIPC_API long shmipc_session_peer_pid(const shmipc_session *s);
/** 1 once the peer has closed the session or died. */
SHMIPC_API int shmipc_session_closed(const shmipc_session *s);
#define SHMIPC_PEER_GOODBYE 1 /**< shmipc_session_peer_gone(): the peer closed in order */
#define SHMIPC_PEER_DIED 2    /**< shmipc_session_peer_gone(): it died or hung up */
/** How the peer left, to tell an orderly end from a crash after SHMIPC_ECLOSED (whose detail
 * says it too): 0 while it is there, #SHMIPC_PEER_GOODBYE once it closed the session
 * (shmipc_session_close() says goodbye), #SHMIPC_PEER_DIED once its process died, was killed
 * or hung up without a goodbye (or this side closed the session on it for misbehaving);
 * #SHMIPC_EINVAL if s is NULL. */
SHMIPC_API int shmipc_session_peer_gone(const shmipc_session *s);
/** Spin this many microseconds on an empty channel before sleeping in recv (default 0:
 * block at once; ~50 gives sub-microsecond hand-offs between busy processes). */
SHMIPC_API void shmipc_session_set_spin(shmipc_session *s, unsigned spin_us);

/** @} */

/* ---- lending ----------------------------------------------------------------------- */
/** @defgroup lending Lending
 * Lend blobs: lending an object to a session's peer and borrowing it.
 * @{ */

#define SHMIPC_BLOB_SIZE 64 /**< bytes of a lend blob (layout: docs/protocol.md) */
/** A fixed-size, self-validating reference to an object lent to one session's peer. */
typedef struct shmipc_blob {
    unsigned char bytes[SHMIPC_BLOB_SIZE]; /**< opaque: copy them as they are */
} shmipc_blob;

/** Lend o to the session's peer: the loan is recorded (one count, attributed to the peer)
 * before the blob is returned, so the object cannot go while the blob is in flight. o must
 * live in the session's arena or its app arena.
 * @return 0, or SHMIPC_EINVAL, SHMIPC_ECLOSED, SHMIPC_ENOMEM. */
SHMIPC_API int shmipc_lend(shmipc_session *s, shmipc_obj *o, shmipc_blob *out);
/** Borrow what the peer lent with `b`: a new handle holding the loan's count. Each blob is
 * borrowed once.
 * @return 0, or SHMIPC_EBADBLOB (malformed, forged, of another session, or already
 * borrowed), SHMIPC_ESTALE (the loan is gone: released or its session ended). */
SHMIPC_API int shmipc_borrow(shmipc_session *s, const shmipc_blob *b, shmipc_obj **out);

/** @} */

/* ---- messages ---------------------------------------------------------------------- */
/** @defgroup messages Messages
 * Messages through the session's channel, with or without a lent object.
 * @{ */

#define SHMIPC_MSG_MAX 65536 /**< longest message, in bytes */
/** Send a message of len bytes (<= #SHMIPC_MSG_MAX), lending o with it if o is not NULL.
 * Blocks while the channel is full: shmipc_send_timeout() with timeout -1.
 * @return 0, or SHMIPC_EMSGSIZE, SHMIPC_ECLOSED, SHMIPC_EINVAL, SHMIPC_ENOMEM. */
SHMIPC_API int shmipc_send(shmipc_session *s, const void *msg, size_t len, shmipc_obj *o);
/** shmipc_send(), waiting at most timeout_ms (-1: forever, 0: not at all) for room in the
 * channel. The object is lent only once there is room: after SHMIPC_ETIMEDOUT nothing was
 * sent and nothing lent, and the same call may be made again.
 * @return 0, or SHMIPC_ETIMEDOUT (the peer read no messages meanwhile), and the errors of
 * shmipc_send(). */
SHMIPC_API int shmipc_send_timeout(shmipc_session *s, const void *msg, size_t len,
                                   shmipc_obj *o, int timeout_ms);
/** Receive the next message into buf; `*len` gets its size. If the message carries an
 * object, `*o` gets a borrowed handle (o NULL: the loan is released at once); else `*o` is
 * NULL. A message larger than cap stays queued: SHMIPC_EMSGSIZE with `*len` set.
 * timeout_ms -1 waits forever, 0 polls. Once recv has said SHMIPC_ECLOSED, loans made to
 * this side that it has not borrowed are dropped (a blob passed by other means must be
 * borrowed before then).
 * @return 0, or SHMIPC_ETIMEDOUT, SHMIPC_ECLOSED (peer gone and nothing queued),
 * SHMIPC_EMSGSIZE, SHMIPC_EBADBLOB or SHMIPC_ESTALE (the message came but its object could
 * not be borrowed: `*len` is set). */
SHMIPC_API int shmipc_recv(shmipc_session *s, void *buf, size_t cap, size_t *len,
                           shmipc_obj **o, int timeout_ms);

/** @} */

/* ---- shared containers --------------------------------------------------------------- */
/** @defgroup containers Shared containers and the robust mutex
 * A growable vector, a byte string, a hash map and a robust mutex that live entirely in a
 * shared arena (#SHMIPC_PROVIDER_SHARED): every link is an offset from the container's
 * header, so a container reads the same in every process that maps the arena, wherever.
 * A header is placed anywhere in the arena (typically a named allocation of its size) and,
 * because its offsets are relative to itself, must not be moved or copied with memcpy once
 * in use. Growth allocates from the same arena. Layouts: docs/containers.md.
 *
 * Bounds: each header records its extent (where the arena's memory starts and ends,
 * relative to the header). Reads (which need no arena handle, so a read-only borrower can
 * use them) check every offset, length and size they follow against that extent: bytes
 * a peer corrupted make a read fail (SHMIPC_ECORRUPT) or see wrong data, never go outside
 * the arena. Writes (which take the arena) also check the extent itself against the arena.
 *
 * Concurrency: one writer at a time (hold a shmipc_mutex). Readers that do not hold the
 * mutex stay inside the arena but may see a value a writer is replacing, or memory it just
 * freed; readers that need a coherent view hold the mutex too.
 *
 * Crash consistency: each update becomes visible by a single 8-byte store made last (a
 * vector's length, a string's or map slot's offset), so a writer killed mid-update leaves
 * the container consistent, with the update either done or not done (at worst a block
 * leaked in the arena); a map's cached counts (shmipc_map_len) may be off by one after
 * such a kill until shmipc_map_repair() recounts them.
 * @{ */

/** A growable array of fixed-size elements. 64 bytes; an all-zero one is not valid: init it. */
typedef struct shmipc_vec {
    uint64_t magic;     /**< #SHMIPC_VEC_MAGIC once initialised */
    uint64_t elem_size; /**< bytes per element */
    uint64_t len;       /**< elements in use (stored last: it publishes a push) */
    uint64_t cap;       /**< elements the data block holds */
    int64_t data;       /**< offset of the elements from this header; 0: none yet */
    int64_t lo;         /**< extent: bytes from the arena's start up to this header */
    int64_t hi;         /**< extent: bytes from this header to the arena's end */
    uint64_t reserved;  /**< 0 */
} shmipc_vec;
#define SHMIPC_VEC_MAGIC UINT64_C(0x3163657643505300) /**< shmipc_vec::magic */

/** Make v (memory of the arena a, at least sizeof(shmipc_vec)) an empty vector of elements
 * of elem_size bytes, with room for capacity of them (0: none yet).
 * @return 0, or SHMIPC_EINVAL (elem_size 0, v outside a), SHMIPC_ENOTSUP (not a shared
 * arena), SHMIPC_ENOMEM. */
SHMIPC_API int shmipc_vec_init(shmipc_arena *a, shmipc_vec *v, size_t elem_size,
                               size_t capacity);
/** Append one element (elem_size bytes copied from elem), growing by doubling.
 * @return 0, or SHMIPC_ENOMEM, SHMIPC_EINVAL, SHMIPC_ECORRUPT. */
SHMIPC_API int shmipc_vec_push(shmipc_arena *a, shmipc_vec *v, const void *elem);
/** The address of element i, in place; NULL if i >= len or v is corrupt. */
SHMIPC_API void *shmipc_vec_at(const shmipc_vec *v, size_t i);
/** Elements in use (0 for a corrupt header). */
SHMIPC_API size_t shmipc_vec_len(const shmipc_vec *v);
/** Make room for at least capacity elements (elements may move: pointers from
 * shmipc_vec_at() are then stale).
 * @return 0, or SHMIPC_ENOMEM, SHMIPC_EINVAL, SHMIPC_ECORRUPT. */
SHMIPC_API int shmipc_vec_reserve(shmipc_arena *a, shmipc_vec *v, size_t capacity);
/** Remove the last element (one store of the length).
 * @return 0, or SHMIPC_ENOENT (empty), SHMIPC_EINVAL. */
SHMIPC_API int shmipc_vec_pop(shmipc_vec *v);
/** Set the length to 0, keeping the memory. */
SHMIPC_API void shmipc_vec_clear(shmipc_vec *v);
/** Free the elements' memory; v stays a valid empty vector. */
SHMIPC_API void shmipc_vec_free(shmipc_arena *a, shmipc_vec *v);

/** A byte string. 32 bytes; all zero is the empty string (no init needed). */
typedef struct shmipc_str {
    int64_t data;      /**< offset from this header of {uint64_t len; bytes; NUL}; 0: "" */
    int64_t lo;        /**< extent, as in shmipc_vec */
    int64_t hi;        /**< extent, as in shmipc_vec */
    uint64_t reserved; /**< 0 */
} shmipc_str;

/** Replace s's bytes with a copy of len bytes at bytes (a new block, switched to by one
 * store: a concurrent reader sees the old or the new string, whole).
 * @return 0, or SHMIPC_ENOMEM, SHMIPC_EINVAL, SHMIPC_ENOTSUP, SHMIPC_ECORRUPT. */
SHMIPC_API int shmipc_str_set(shmipc_arena *a, shmipc_str *s, const void *bytes, size_t len);
/** The bytes, NUL-terminated, in place ("" when empty or corrupt). */
SHMIPC_API const char *shmipc_str_ptr(const shmipc_str *s);
/** The length in bytes (0 when empty or corrupt). */
SHMIPC_API size_t shmipc_str_len(const shmipc_str *s);
/** The bytes and their length (`*len`) read from one block: a concurrent shmipc_str_set()
 * gives the old or the new string, whole (shmipc_str_ptr() then shmipc_str_len() might mix
 * them). */
SHMIPC_API const char *shmipc_str_data(const shmipc_str *s, size_t *len);
/** Free the bytes; s is the empty string again. */
SHMIPC_API void shmipc_str_free(shmipc_arena *a, shmipc_str *s);

/** A hash map from byte-string keys to values of a fixed size (open addressing, linear
 * probing, growing by rehash). 64 bytes; init it. */
typedef struct shmipc_map {
    uint64_t magic;      /**< #SHMIPC_MAP_MAGIC once initialised */
    uint64_t value_size; /**< bytes per value */
    uint64_t len;        /**< live entries */
    uint64_t used;       /**< live entries + deleted slots */
    int64_t table;       /**< offset from this header of `{uint64_t cap; 0; slots[cap]}` */
    int64_t lo;          /**< extent, as in shmipc_vec */
    int64_t hi;          /**< extent, as in shmipc_vec */
    uint64_t reserved;   /**< 0 */
} shmipc_map;
#define SHMIPC_MAP_MAGIC UINT64_C(0x3170614d43505300) /**< shmipc_map::magic */

/** Make m (memory of the arena a) an empty map of values of value_size bytes with room for
 * about capacity entries before it rehashes.
 * @return 0, or SHMIPC_EINVAL, SHMIPC_ENOTSUP, SHMIPC_ENOMEM. */
SHMIPC_API int shmipc_map_init(shmipc_arena *a, shmipc_map *m, size_t value_size,
                               size_t capacity);
/** Set key (klen bytes, 0 allowed) to a copy of value_size bytes at value. Replacing a
 * value makes a new entry, switched to by one store: readers see the old or the new value.
 * @return 0, or SHMIPC_ENOMEM, SHMIPC_EINVAL, SHMIPC_ECORRUPT. */
SHMIPC_API int shmipc_map_put(shmipc_arena *a, shmipc_map *m, const void *key, size_t klen,
                              const void *value);
/** Look key up: `*value` gets the address of its value, in place. Needs no arena handle.
 * @return 0, or SHMIPC_ENOENT, SHMIPC_ECORRUPT. */
SHMIPC_API int shmipc_map_get(const shmipc_map *m, const void *key, size_t klen, void **value);
/** Remove key. @return 0, or SHMIPC_ENOENT, SHMIPC_ECORRUPT. */
SHMIPC_API int shmipc_map_del(shmipc_arena *a, shmipc_map *m, const void *key, size_t klen);
/** Live entries (0 for a corrupt header). */
SHMIPC_API size_t shmipc_map_len(const shmipc_map *m);
/** Iterate: start with `*pos` = 0; each call gives the next entry's key, key length and
 * value (in place) and advances `*pos`. Any of key, klen, value may be NULL.
 * @return 0, or SHMIPC_ENOENT at the end, SHMIPC_ECORRUPT. */
SHMIPC_API int shmipc_map_next(const shmipc_map *m, size_t *pos, const void **key, size_t *klen,
                               void **value);
/** Recount the cached counts (after a writer died mid-update: SHMIPC_EOWNERDEAD).
 * @return 0, or SHMIPC_ECORRUPT, SHMIPC_EINVAL. */
SHMIPC_API int shmipc_map_repair(shmipc_arena *a, shmipc_map *m);
/** Free every entry and the table; m stays a valid empty map. */
SHMIPC_API void shmipc_map_free(shmipc_arena *a, shmipc_map *m);

/** A robust process-shared mutex (PTHREAD_PROCESS_SHARED, PTHREAD_MUTEX_ROBUST) placed in
 * shared memory. 80 bytes; init it once. */
typedef struct shmipc_mutex {
    uint64_t magic;   /**< #SHMIPC_MUTEX_MAGIC once initialised */
    uint64_t probe;   /**< written by lock to check the memory is writable */
    uint64_t lock[8]; /**< the pthread_mutex_t */
} shmipc_mutex;
#define SHMIPC_MUTEX_MAGIC UINT64_C(0x3178744d43505300) /**< shmipc_mutex::magic */

/** Initialise m (nobody may be using it).
 * @return 0, or SHMIPC_EINVAL, SHMIPC_EPERM (m is mapped read-only), SHMIPC_ESYS. */
SHMIPC_API int shmipc_mutex_init(shmipc_mutex *m);
/** Take the lock, waiting as long as it takes.
 * @return 0; SHMIPC_EOWNERDEAD: the lock is now the caller's, but its last holder died
 * holding it, so what it protects may be mid-update (repair it, e.g. shmipc_map_repair());
 * the lock is consistent again and usable as before; SHMIPC_EPERM: m is in memory this
 * process maps read-only; SHMIPC_EINVAL (not initialised); SHMIPC_ECORRUPT (unrecoverable). */
SHMIPC_API int shmipc_mutex_lock(shmipc_mutex *m);
/** shmipc_mutex_lock(), waiting at most timeout_ms (0: not at all).
 * @return as shmipc_mutex_lock(), and SHMIPC_ETIMEDOUT. */
SHMIPC_API int shmipc_mutex_timedlock(shmipc_mutex *m, int timeout_ms);
/** Release the lock. @return 0, or SHMIPC_EPERM (not held by this thread), SHMIPC_EINVAL. */
SHMIPC_API int shmipc_mutex_unlock(shmipc_mutex *m);

/** @} */

#ifdef __cplusplus
}
#endif
#endif /* SHMIPC_H */

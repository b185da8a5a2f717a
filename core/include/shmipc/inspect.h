/* shmipc/inspect.h — PRIVATE: the core's inspect API for the `shmipc` tool (tools/). Not
 * installed and not part of the library's ABI: its symbols are hidden, so only programs
 * linked with the convenience library (core/libshmipc-core.la) of the same tree may use
 * them, and they may change with any commit. It answers what the tool shows about pools
 * and arenas it does not attach to (mapped read-only, never locked, figures computed here
 * as the core computes them), and the names and directories the library uses; the tool
 * includes only shmipc.h and this header, never the core's layouts. */
#ifndef SHMIPC_INSPECT_H
#define SHMIPC_INSPECT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "shmipc.h"

#ifndef SHMIPC_HIDDEN
#define SHMIPC_HIDDEN __attribute__((visibility("hidden")))
#endif

/* ---- names, directories, files (names.c, handshake.c) ------------------------------ */
/* 0 if name is a valid shmipc name, else EINVAL with a detail naming `what`. */
SHMIPC_HIDDEN int shmipc__check_name(const char *name, const char *what);
/* Directory that holds named pools: $SHMIPC_SHM_DIR or /dev/shm. */
SHMIPC_HIDDEN const char *shmipc__shm_dir(void);
/* fstat fd (opened at path) into *st; EPERM, with a detail naming the file, its owner and
 * mode, if it is not owned by this process's euid: a file another user may have planted
 * under one of our names (a named pool, a server's lock) is never used. */
struct stat;
SHMIPC_HIDDEN int shmipc__check_owned(int fd, const char *path, struct stat *st);
/* The socket directory's path into buf: opt, else $SHMIPC_SOCKET_DIR, else
 * $XDG_RUNTIME_DIR/shmipc, else /tmp/shmipc-<uid> (handshake.c). Returns 1 if it came from opt
 * or the environment (used as it is), 0 for a default one (made 0700 when a server or
 * client needs it). */
SHMIPC_HIDDEN int shmipc__socket_dir_name(const char *opt, char *buf, size_t cap);
/* Whether socket directory dir (given: as shmipc__socket_dir_name said) may be used: EPERM
 * with the reason if not (handshake.c); *owner gets its owner. */
SHMIPC_HIDDEN int shmipc__socket_dir_check(const char *dir, int given, uid_t *owner);
/* A random 64-bit value, never 0 (pool ids, session ids and keys), into *out: 0, or
 * SHMIPC_ESYS with the detail when getrandom fails (no weaker fallback: session keys must
 * not be guessable). */
SHMIPC_HIDDEN int shmipc__random_u64(uint64_t *out);

/* ---- processes (inspect.c, by the rule of proc.c) ---------------------------------- */
/* 1 if process pid (as this process sees it) lives (not a zombie) and, when start is not
 * 0, is the one that started at `start` (a reused pid is another process); else 0. Judged
 * by the core's one rule (proc.c's shmipc__proc_gone), which every reaper uses. */
SHMIPC_HIDDEN int shmipc__inspect_alive(long pid, uint64_t start);

/* ---- a pool (inspect.c) ------------------------------------------------------------- */
/* Who made a pool and when, from its header. pid is as this process sees it: 0 when it
 * was recorded in another pid namespace (nobody here can judge it; alive is then -1). */
struct shmipc_inspect_pool {
    uint64_t id;
    size_t size;    /* usable bytes */
    long pid;       /* its creator */
    uint64_t start; /* the creator's start time */
    int alive;      /* 1, 0, or -1: unknown here */
    unsigned uid;
    uint64_t created_ns; /* CLOCK_REALTIME */
    /* A named pool's name; for a memfd pool holding a server's app arena, the app's name
     * (the one its allow-list is about); else "". */
    char label[SHMIPC_NAME_MAX + 1];
};
SHMIPC_HIDDEN void shmipc__inspect_pool(const shmipc_pool *p, struct shmipc_inspect_pool *out);

/* ---- an arena, read without attaching (inspect.c) ----------------------------------- */
/* One endpoint in use of an arena's refcount table: one side of one session (endpoint 0
 * is "no session": objects made outside sessions). */
struct shmipc_inspect_ep {
    uint32_t ep;
    int open;       /* its session is open (else closed, with holds left) */
    long pid;       /* its process as this process sees it; 0 for endpoint 0, or when it
                     * was recorded in another pid namespace */
    uint64_t start; /* its start time */
    int alive;      /* 1, 0, or -1: its pid means nothing here */
    uint64_t held, held_bytes; /* object handles it holds, the objects' bytes */
    uint64_t lent, lent_bytes; /* loans made to it (not yet released), their bytes */
};
/* One named allocation (shmipc_named_alloc). */
struct shmipc_inspect_name {
    char name[SHMIPC_NAME_MAX + 1];
    uint64_t size; /* asked for at creation */
    uint64_t refs; /* shmipc_named_alloc/find calls not yet matched by shmipc_named_free */
};
/* An arena's figures as shmipc_arena_stats gives them, read without its lock: a snapshot,
 * exact when the arena is idle, approximate (never unsafe: every offset is bounds-checked)
 * while its owner works. A lend arena's allocator lives in its owner: has_heap is 0 and
 * only the table (endpoints) is known. */
struct shmipc_inspect_arena {
    int provider; /* SHMIPC_PROVIDER_* */
    int has_heap;
    uint64_t capacity, used, free, largest_free;
    uint64_t allocations; /* live allocations, objects and named ones included */
    uint64_t named;       /* named allocations */
    uint64_t lock_recoveries, bad_frees;
    int corrupt; /* a recovery found it inconsistent: the core refuses to use it */
    size_t neps;
    struct shmipc_inspect_ep *eps;
    size_t nnames;                     /* the entries of the name directory read (<= named) */
    struct shmipc_inspect_name *names; /* by name */
    /* The directory's shape: its buckets (both tables' during a resize), and the entries
     * compared by looking each name read up once, summed (dir_probes / nnames is the mean
     * cost of a lookup: about 1.5 in a directory that grows with its names). */
    uint64_t dir_buckets, dir_probes;
};
/* Descriptors where a grown lend table's further pools may be (those of the process that
 * holds its first pool): fd(ctx, i) opens the i-th, read-only, for the caller to close; -1
 * if it cannot, -2 past the last. */
struct shmipc_inspect_fds {
    int (*fd)(void *ctx, size_t i);
    void *ctx;
};
/* Read the arena that pool holds, taking the pool whatever happens (lend: the pool is a
 * lend arena's refcount table, whose further pools are looked for in fds, if not NULL:
 * without them the records in those pools are not counted). ECORRUPT if it holds none,
 * ENOMEM. */
SHMIPC_HIDDEN int shmipc__inspect_arena(shmipc_pool *pool, int lend,
                                        const struct shmipc_inspect_fds *fds,
                                        struct shmipc_inspect_arena **out);
SHMIPC_HIDDEN void shmipc__inspect_arena_free(struct shmipc_inspect_arena *a);

#endif /* SHMIPC_INSPECT_H */

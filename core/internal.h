/* internal.h — what the core's files share and users never see: error reporting, name
 * checking, the pool's internal view and the robust critical section. Not installed. */
#ifndef SHMIPC_INTERNAL_H
#define SHMIPC_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "shmipc.h"

#define SHMIPC_HIDDEN __attribute__((visibility("hidden")))
/* The functions the tool uses too (names, directories, inspecting pools and arenas). */
#include "shmipc/inspect.h"
#define SHMIPC_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define SHMIPC_LIKELY(x) __builtin_expect(!!(x), 1)
#define SHMIPC_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* A pause inside a spin-wait loop. */
static inline void shmipc__cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* ---- errors (error.c) ------------------------------------------------------------- */
/* Record a detail for shmipc_error_detail() and return code. */
SHMIPC_HIDDEN int shmipc__fail(int code, const char *fmt, ...) SHMIPC_PRINTF(2, 3);
/* Map the current errno to a SHMIPC_E* code, record "<what>: <strerror>" and return it. */
SHMIPC_HIDDEN int shmipc__fail_errno(const char *fmt, ...) SHMIPC_PRINTF(1, 2);

/* ---- fork (fork.c) ------------------------------------------------------------------ */
/* The process's fork generation: bumped in a forked child (pthread_atfork). A handle
 * records shmipc__fork_gen_now() when it is made; in a child, shmipc__inherited() tells
 * the parent's handles, which the child may only close (freeing its own copies). */
SHMIPC_HIDDEN extern atomic_uint shmipc__fork_gen;
SHMIPC_HIDDEN unsigned shmipc__fork_gen_now(void);
static inline int shmipc__inherited(unsigned gen)
{
    return SHMIPC_UNLIKELY(gen !=
                           atomic_load_explicit(&shmipc__fork_gen, memory_order_relaxed));
}
/* EINVAL with the detail "<what> inherited across fork ...". */
SHMIPC_HIDDEN int shmipc__fail_inherited(const char *what);

/* ---- names and paths (names.c; the rest in shmipc/inspect.h) ------------------------ */
/* Path of the named pool `name` of the calling user into buf (PATH_MAX bytes). */
SHMIPC_HIDDEN int shmipc__pool_path(const char *name, char *buf, size_t cap);
/* CLOCK_MONOTONIC in nanoseconds (inline: the channel's spin loop reads it). */
static inline uint64_t shmipc__now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* ---- the process's look at its session sockets (sockwatch.c) ------------------------- */
/* How often a sending process looks at its sessions' sockets: the time a sender may take
 * to notice that its peer died. */
#define SHMIPC_LIVENESS_NS 1000000u
/* Watch a session socket: whenever it has data or hangs up, a later look sets *news to 1
 * (*news must live until shmipc__sockwatch_del). 0 or a negative code. */
SHMIPC_HIDDEN int shmipc__sockwatch_add(int sock, atomic_int *news);
/* Stop watching sock (before it is closed); nothing for a socket a forked parent watches. */
SHMIPC_HIDDEN void shmipc__sockwatch_del(int sock);
/* Every SHMIPC_LIVENESS_NS at most (now: shmipc__now_ns()), by one thread: one epoll_wait(0)
 * over every watched socket of the process, setting the flags of those that spoke. */
SHMIPC_HIDDEN void shmipc__sockwatch_look(uint64_t now);

/* ---- processes (proc.c: the rule for who may judge a process gone is there) --------- */
/* Start time of a process (clock ticks since boot), 0 if it does not exist or is a zombie:
 * with the pid it identifies a living process across pid reuse. */
SHMIPC_HIDDEN uint64_t shmipc__proc_starttime(pid_t pid);
/* A process as recorded in shared memory: pid and start time in pid frame `frame`. */
struct shmipc_proc_id {
    uint64_t pid, start, frame;
};
/* This process's pid frame: its pid namespace if its /proc shows that namespace, else 0
 * (it cannot check pids by /proc). */
SHMIPC_HIDDEN uint64_t shmipc__pid_frame(void);
/* The record of pid (as this process sees it; 0: not visible here, recorded as unknown).
 * If /proc cannot be read now (no descriptor left) it has no frame: nobody judges it. */
SHMIPC_HIDDEN struct shmipc_proc_id shmipc__proc_id(pid_t pid);
/* The same, for a record others will judge the process by: SHMIPC_ESYS if /proc cannot be
 * read now (a start time of 0 would make the process gone at the first check). */
SHMIPC_HIDDEN int shmipc__proc_record(pid_t pid, struct shmipc_proc_id *id);
/* 1 only if the process is verifiably gone: its pidfd (if >= 0) says it exited, or its
 * record is of this process's frame and the pid is gone or reused. Else 0 (alive, or not
 * ours to judge). */
SHMIPC_HIDDEN int shmipc__proc_gone(const struct shmipc_proc_id *id, int pidfd);
/* A pidfd of a connected socket's peer (SO_PEERPIDFD), -1 where the kernel has none. */
SHMIPC_HIDDEN int shmipc__sock_peer_pidfd(int sock);

/* ---- pools (pool.c) ---------------------------------------------------------------- */
struct shmipc_pool {
    void *map;       /* start of the mapping: the header page */
    size_t map_size; /* header page + usable size */
    char *base;      /* usable bytes */
    size_t size;
    uint64_t id;
    int fd;
    int writable;
    char *tmp_path;    /* set while a named pool is created but not yet published */
    char *path;        /* final path of a named pool being created */
    unsigned fork_gen; /* shmipc__fork_gen_now() when made */
};

/* Create a pool that nobody else can open yet (named: under a temporary name), so that its
 * creator can initialise it first; shmipc__pool_publish then gives it its name atomically
 * (EEXIST if the name is taken, the pool then stays unpublished and is only closed). */
SHMIPC_HIDDEN int shmipc__pool_create_unpublished(const char *name, size_t size, unsigned mode,
                                                  shmipc_pool **out);
SHMIPC_HIDDEN int shmipc__pool_publish(shmipc_pool *p);
/* shmipc_pool_open and shmipc_pool_unlink for names the caller has checked (arenas add a
 * scope suffix that user names may not hold). */
SHMIPC_HIDDEN int shmipc__pool_open(const char *name, int flags, shmipc_pool **out);
SHMIPC_HIDDEN int shmipc__pool_unlink(const char *name);
/* An anonymous pool whose usable bytes start at an address aligned to `align` (a power
 * of two, at least the page size). */
SHMIPC_HIDDEN int shmipc__pool_create_aligned(size_t size, size_t align, shmipc_pool **out);
/* shmipc_pool_from_fd for a descriptor a session's peer sent: it must be a memfd sealed
 * against shrinking (a named file is refused: its sender could truncate it). */
SHMIPC_HIDDEN int shmipc__pool_from_peer_fd(int fd, int flags, shmipc_pool **out);
/* Who made a pool and when, from its header (for tools: liveness of a creator is its pid
 * with this start time, judged only in its pid frame: see proc.c). */
struct shmipc_pool_origin {
    long pid;
    uint64_t start;
    uint64_t frame;
    unsigned uid;
    uint64_t created_ns;
    char name[SHMIPC_NAME_MAX + 1];
};
SHMIPC_HIDDEN void shmipc__pool_origin(const shmipc_pool *p, struct shmipc_pool_origin *out);
/* Write label in the header of memfd pool p, which this process made (a named pool's
 * header holds its name): what a server's app arena is for tools (the app's name). */
SHMIPC_HIDDEN void shmipc__pool_label(shmipc_pool *p, const char *label);
/* Seal a memfd pool so that no new writable mapping of it can ever be made, by anyone
 * (F_SEAL_FUTURE_WRITE), while the owner's own mapping stays writable; no seal can be
 * added or removed after that (F_SEAL_SEAL). For pools whose peers may only read. */
SHMIPC_HIDDEN int shmipc__pool_seal_owner(shmipc_pool *p);

/* ---- robust critical sections (robust.c) ------------------------------------------- */
/* A process-shared robust mutex with an undo log, both inside a pool. Every store made
 * while holding it goes through shmipc__robust_store, which logs the old value first; the
 * log is cleared when the operation completes. If the holder dies, the next locker rolls
 * the log back, so the state is exactly as before the interrupted operation. */
#define SHMIPC_UNDO_MAX 256

struct shmipc_undo_entry {
    uint64_t off; /* offset of the word from the pool base */
    uint64_t old;
};

struct shmipc_robust {
    pthread_mutex_t mutex;
    uint64_t log_count;
    /* Two words of the lock's user (arena.h), on the cache line of the mutex and the log
     * count (x86-64's mutex is 40 bytes: 64 in all, when the struct is 64-byte aligned):
     * words that every operation writes anyway add no line to the operation. */
    uint64_t user[2];
    struct shmipc_undo_entry log[SHMIPC_UNDO_MAX];
    uint64_t log_overflow; /* an operation needed more than SHMIPC_UNDO_MAX stores (a bug) */
};

/* Context of one locked section: the robust state and the pool it lives in. */
struct shmipc_crit {
    struct shmipc_robust *r;
    char *base;
    size_t size;
};

SHMIPC_HIDDEN int shmipc__robust_init(struct shmipc_robust *r);
/* pthread_mutex_init (default attributes) of the n mutexes m[]: 0, or the failure with a
 * detail naming `what` (those already made are destroyed). For process-local locks. */
SHMIPC_HIDDEN int shmipc__mutexes_init(pthread_mutex_t *const m[], size_t n, const char *what);
/* shmipc__robust_lock past its first try (rc: what pthread_mutex_trylock said): wait for a
 * busy lock, roll back what a dead holder left. */
SHMIPC_HIDDEN int shmipc__robust_lock_slow(struct shmipc_crit *c, int rc, int *recovered);
/* Lock. If the previous holder died, roll its operation back and set *recovered = 1 (the
 * caller validates its state and then calls shmipc__robust_consistent). Inline: the lock
 * free at the first try and nothing to roll back is every message's case. */
static inline int shmipc__robust_lock(struct shmipc_crit *c, int *recovered)
{
    int rc = pthread_mutex_trylock(&c->r->mutex);

    if (SHMIPC_LIKELY(rc == 0 && c->r->log_count == 0)) {
        *recovered = 0;
        return 0;
    }
    return shmipc__robust_lock_slow(c, rc, recovered);
}
SHMIPC_HIDDEN void shmipc__robust_consistent(struct shmipc_crit *c);
/* Commit the operation (clear the log) and unlock. */
SHMIPC_HIDDEN void shmipc__robust_unlock(struct shmipc_crit *c);

/* Crash injection for tests: when > 0, counts down at every step of every logged store (and
 * on both sides of a shared borrow's compare-and-swap, reftable.c) and kills the process
 * with SIGKILL when it reaches 0. */
SHMIPC_HIDDEN extern long shmipc__crash_countdown;
SHMIPC_HIDDEN void shmipc__crash_point(void);

/* A logged store made with memory order mo (__ATOMIC_RELAXED, or __ATOMIC_RELEASE to
 * publish what was written before it to a reader that loads it with acquire). */
static inline void shmipc__robust_store(struct shmipc_crit *c, uint64_t *addr, uint64_t val,
                                        int mo)
{
    struct shmipc_robust *r = c->r;
    uint64_t n = r->log_count, old;

    if (SHMIPC_UNLIKELY(shmipc__crash_countdown > 0))
        shmipc__crash_point();
    /* atomic (a plain load on every target): a shared borrow's compare-and-swap of a
     * record's tag (reftable.c) writes it without the lock */
    old = __atomic_load_n(addr, __ATOMIC_RELAXED);
    if (old == val)
        return;
    if (SHMIPC_UNLIKELY(n >= SHMIPC_UNDO_MAX)) {
        r->log_overflow = 1;
    } else {
        r->log[n].off = (uint64_t)((char *)addr - c->base);
        r->log[n].old = old;
        atomic_signal_fence(memory_order_seq_cst);
        r->log_count = n + 1;
        atomic_signal_fence(memory_order_seq_cst);
    }
    if (SHMIPC_UNLIKELY(shmipc__crash_countdown > 0))
        shmipc__crash_point();
    /* atomic (a plain store on every target): peers read some words without the lock */
    __atomic_store_n(addr, val, mo);
    atomic_signal_fence(memory_order_seq_cst);
}

#endif /* SHMIPC_INTERNAL_H */

/* tool.h — what the files of the `shmipc` command-line tool share: the facts it gathers
 * about processes (proc.c), named pools and servers (scan.c), the pools a process maps
 * (held.c), what ls and stat show (gather.c), printed as JSON (json.c) or tables (text.c),
 * and its output helpers (out.c). gc.c is `shmipc gc`, shmipc.c the command line. The tool
 * sees the core only through the public API and the private inspect API
 * (shmipc/inspect.h): the core reads its own layouts and computes the figures shown.
 *
 * The tool never writes to a pool and never takes an arena's lock: it maps pools
 * read-only and reads what other processes may be changing with relaxed atomic loads, so
 * its figures are a snapshot (possibly approximate while their owners work), never a risk
 * to them. Only `shmipc gc` changes anything, and only names of what dead owners left. */
#ifndef SHMIPC_TOOL_H
#define SHMIPC_TOOL_H

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <shmipc.h>
#include <shmipc/inspect.h>

/* ---- processes (proc.c) ---------------------------------------------------------------- */
struct pids {
    long *v;
    size_t n, cap;
};
/* Add pid unless it is there already. 0, or -1 when out of memory. */
int pids_add(struct pids *p, long pid);
void pids_free(struct pids *p);

/* The process's name (/proc/PID/comm) into buf; "?" if it cannot be read. */
void proc_comm(long pid, char *buf, size_t cap);

/* A file and the live processes (this one excepted) that map it or hold it open. */
struct file_use {
    dev_t dev;
    ino_t ino;
    const char *path;
    struct pids users;
};
/* Look through every process's mappings and descriptors once for the files *uses[i].
 * Returns the number of processes that could not be looked at (another user's, or gone
 * half-way), or -1 when out of memory. */
int scan_users(struct file_use *const *uses, size_t n);
/* The pid holding an flock on the file (dev, ino) by /proc/locks, 0 if none, -1 if its
 * holder is in a pid namespace this /proc does not show: a lock is looked at without being
 * touched. */
long flock_holder(dev_t dev, ino_t ino);
/* 1 if a Unix socket is listening at path (by /proc/net/unix). */
int socket_listening(const char *path);

/* ---- the pools a process maps (held.c) ------------------------------------------------ */
/* What a pool is. */
enum {
    POOL_ARENA,
    POOL_DATA,
    POOL_CONTROL,
    POOL_PLAIN
};

/* A pool mapped read-only and what it holds. */
struct pool_info {
    struct shmipc_inspect_pool pool;    /* id, size, creator (pid 0: another pid namespace) */
    int kind;                           /* POOL_* */
    struct shmipc_inspect_arena *arena; /* POOL_ARENA; owned */
};

/* Map the pool in fd (not taken) read-only and read it; memfd pools sealed against
 * writable mappings are lend pools (arena: a lend arena's table; else a data pool), other
 * memfd pools without an arena are control segments; a lend table's further pools are
 * looked for in fds (NULL: none). Errors as shmipc_pool_from_fd, with the detail in
 * shmipc_error_detail(). */
int pool_info_read(int fd, int is_memfd, const struct shmipc_inspect_fds *fds,
                   struct pool_info *out);
void pool_info_free(struct pool_info *p);

/* The pools a process maps through its descriptors (memfds named "shmipc-pool"), each
 * once. */
struct held_pools {
    struct pool_info *v;
    size_t n, cap;
    int unreadable; /* descriptors that could not be opened */
};
/* 0, or -1 (errno set) if the process's descriptors cannot be listed. */
int held_pools_read(long pid, struct held_pools *out);
void held_pools_free(struct held_pools *h);

/* ---- named pools and servers (scan.c) --------------------------------------------------- */
enum {
    STATE_ALIVE,    /* its owner lives */
    STATE_ORPHANED, /* its owner is dead, live processes still use it: kept */
    STATE_UNKNOWN,  /* it cannot be told whether it is used (or what it is): kept */
    STATE_STALE,    /* its owner is dead and nobody uses it: `shmipc gc` removes it */
    STATE_FOREIGN   /* another user's file (or a link) under this user's name: never
                       opened nor removed */
};
const char *state_name(int state);

/* A file of the shm directory: a named pool "shmipc.<uid>.<name>", or the temporary file
 * ".shmipc.<uid>.tmp.<pid>.<random>" of a pool being created by process pid. */
struct named_pool {
    char path[PATH_MAX];
    char name[NAME_MAX + 1]; /* the pool name, or the temporary file's name */
    int temp;
    long temp_pid;
    int foreign; /* STATE_FOREIGN; error says why */
    struct stat st;
    int rc; /* 0 if info is valid, else why the pool could not be read */
    char error[256];
    struct pool_info info;
    struct file_use use;
    int state;
};
struct named_list {
    struct named_pool *v;
    size_t n, cap;
    int unreadable_procs; /* processes scan_users could not look at */
};
/* Read the shm directory: every named pool of this user (those named `only` or
 * "<only>@s<N>" if only is not NULL), and the temporary files if with_temps; then who uses
 * them and their state. 0, or -1 with errno if the directory cannot be read. */
int named_list_read(struct named_list *out, const char *only, int with_temps);
void named_list_free(struct named_list *l);
/* The state of one entry, from its owner and its users. */
int named_state(const struct named_pool *p, int unreadable_procs);

/* A session server: "<name>.sock" and "<name>.lock" in the socket directory. */
struct server {
    char name[NAME_MAX + 1];
    char sock[PATH_MAX], lock[PATH_MAX];
    int has_sock, has_lock;
    mode_t mode;
    long pid;  /* while it runs, its flock's holder (0 if in a pid namespace this /proc does
                * not show); else what its lock file says; 0 if none */
    int alive; /* its lock is held (or, with no lock file, its socket listens) */
    char foreign[160]; /* not "": its socket or lock is another user's (or a link): why */
    int foreign_lock;  /* it is the lock */
};
struct server_list {
    struct server *v;
    size_t n, cap;
    char refused[512]; /* not "": the socket directory is not followed, and why */
};
/* STATE_ALIVE, STATE_STALE or STATE_FOREIGN. */
int server_state(const struct server *s);
/* The socket directory, as the library finds it. */
const char *socket_dir(char *buf, size_t cap);
/* Read the socket directory (the server `only`, if not NULL). A missing directory is an
 * empty list, and so is one the library would refuse (refused says why). 0, or -1 with
 * errno. */
int server_list_read(struct server_list *out, const char *only);
void server_list_free(struct server_list *l);

/* ---- output (out.c) ------------------------------------------------------------------- */
/* A streaming JSON writer, indented. key is NULL inside arrays. */
struct json {
    FILE *f;
    int depth;
    int first[32];
};
void json_open(struct json *j, const char *key, char bracket);
void json_close(struct json *j, char bracket);
void json_str(struct json *j, const char *key, const char *val); /* val NULL: null */
void json_u64(struct json *j, const char *key, uint64_t val);
void json_i64(struct json *j, const char *key, long long val);
void json_bool(struct json *j, const char *key, int val);
void json_null(struct json *j, const char *key);

/* n bytes for people: "512", "1.5K", "64M" (powers of 1024, as ls -h). */
const char *human(uint64_t n, char *buf, size_t cap);
/* A file mode's permission bits: "0600". */
const char *mode_str(mode_t mode, char *buf, size_t cap);

/* Report a failure on stderr: "shmipc: " then the message. */
void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- what ls and stat show (gather.c) --------------------------------------------------- */
#define NO_VALUE UINT64_MAX /* a figure the tool cannot know */

struct facts {
    struct named_list named;
    struct server_list servers;
    struct held_pools *held; /* per server: the pools it maps (none for a dead one) */
    int denied;              /* live servers whose pools could not be read */
};

/* A process other than the server with endpoints in the arenas a server maps, and what it
 * holds there (summed over those arenas). */
struct peer {
    long pid;
    uint64_t start;
    int open; /* one of its sessions is open */
    uint64_t held, held_bytes, lent, lent_bytes;
    char app[2 * SHMIPC_NAME_MAX]; /* the app(s) of its sessions ("a, b"), "" if unknown */
};
/* The peers of the server `pid` that maps h, in *out (to free). -1 when out of memory. */
long collect_peers(const struct held_pools *h, long server_pid, struct peer **out);

/* A server's totals: its pools' bytes; used and free of its arenas that have a heap
 * (NO_VALUE if none has). */
struct server_sums {
    uint64_t size, used, free;
};
struct server_sums server_sums(const struct held_pools *h);

const char *pool_kind(const struct named_pool *p); /* "arena", "pool", "unreadable" */
const char *pool_kind_name(int kind);              /* of POOL_* */
const struct shmipc_inspect_arena *heap_of(
    const struct named_pool *p); /* NULL: no heap figures */
/* "@s<N>" in a socket-scope arena's pool name, or NULL. */
const char *scope_suffix(const char *name);
/* A pool's creation time, ISO 8601 in UTC; NULL if unknown. */
const char *created_str(uint64_t ns, char *buf, size_t cap);

/* Gather what ls (only NULL) or stat NAME shows; 0, or -1 after a message. */
int gather(struct facts *f, const char *only);
void facts_free(struct facts *f);

/* ---- printing it: JSON (json.c), tables (text.c) ----------------------------------------- */
void json_facts(const struct facts *f, int detail);
void text_ls(const struct facts *f);
void text_stat(const struct facts *f);

/* ---- commands ------------------------------------------------------------------------- */
int cmd_gc(int dry_run);

#endif

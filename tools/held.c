/* held.c — the pools a process maps through its descriptors (a server's arenas, data pools
 * and control segments), each mapped read-only and read by the core's inspect API: its
 * header (who made it, when, for what app) and the arena it may hold. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tool.h"

#define MEMFD_POOL_LINK "/memfd:shmipc-pool (deleted)"

/* 1 if the memfd is sealed against new writable mappings: a lend pool. */
static int sealed_for_readers(int fd)
{
    int seals = fcntl(fd, F_GET_SEALS);
    return seals > 0 && (seals & F_SEAL_FUTURE_WRITE);
}

int pool_info_read(int fd, int is_memfd, const struct shmipc_inspect_fds *fds,
                   struct pool_info *out)
{
    shmipc_pool *pool;
    int rc, lend;

    memset(out, 0, sizeof *out);
    if ((rc = shmipc_pool_from_fd(fd, SHMIPC_RDONLY, &pool)) != 0)
        return rc;
    shmipc__inspect_pool(pool, &out->pool);
    lend = is_memfd && sealed_for_readers(fd);
    if (shmipc__inspect_arena(pool, lend, fds, &out->arena) == 0)
        out->kind = POOL_ARENA;
    else
        out->kind = !is_memfd ? POOL_PLAIN : lend ? POOL_DATA : POOL_CONTROL;
    return 0;
}

void pool_info_free(struct pool_info *p)
{
    shmipc__inspect_arena_free(p->arena);
    p->arena = NULL;
}

/* ---- the pools of a process ------------------------------------------------------------- */

static int held_has(const struct held_pools *h, uint64_t id)
{
    for (size_t i = 0; i < h->n; i++)
        if (h->v[i].pool.id == id)
            return 1;
    return 0;
}

static int held_add(struct held_pools *h, struct pool_info *p)
{
    if (held_has(h, p->pool.id)) { /* a second descriptor of a pool already seen */
        pool_info_free(p);
        return 0;
    }
    if (h->n == h->cap) {
        size_t cap = h->cap ? 2 * h->cap : 16;
        struct pool_info *grown = realloc(h->v, cap * sizeof *grown);
        if (!grown) {
            pool_info_free(p);
            return -1;
        }
        h->v = grown;
        h->cap = cap;
    }
    h->v[h->n++] = *p;
    return 0;
}

/* 1 if descriptor `name` of the directory dfd is a shmipc memfd pool. */
static int is_pool_fd(int dfd, const char *name)
{
    char link[sizeof MEMFD_POOL_LINK + 1];
    ssize_t len = readlinkat(dfd, name, link, sizeof link);

    return len == (ssize_t)sizeof MEMFD_POOL_LINK - 1 &&
           memcmp(link, MEMFD_POOL_LINK, (size_t)len) == 0;
}

/* A process's pool descriptors: the names of their entries in its /proc/PID/fd (dfd). */
struct pool_fds {
    int dfd;
    char (*names)[32];
    size_t n, cap;
};

static int pool_fds_add(struct pool_fds *f, const char *name)
{
    if (strlen(name) >= sizeof *f->names)
        return 0;
    if (f->n == f->cap) {
        size_t cap = f->cap ? 2 * f->cap : 16;
        char(*grown)[32] = realloc(f->names, cap * sizeof *grown);
        if (!grown)
            return -1;
        f->names = grown;
        f->cap = cap;
    }
    strcpy(f->names[f->n++], name);
    return 0;
}

/* shmipc_inspect_fds's: the i-th pool descriptor opened read-only (its own file). */
static int pool_fd_open(void *ctx, size_t i)
{
    const struct pool_fds *f = ctx;

    return i < f->n ? openat(f->dfd, f->names[i], O_RDONLY | O_CLOEXEC) : -2;
}

/* Open pool descriptor i and read it, a lend table's further pools looked for among all. */
static int read_held(struct pool_fds *f, size_t i, struct held_pools *out)
{
    struct shmipc_inspect_fds fds = {pool_fd_open, f};
    struct pool_info p;
    int fd = pool_fd_open(f, i), rc;

    if (fd < 0) {
        out->unreadable++;
        return 0;
    }
    rc = pool_info_read(fd, 1, &fds, &p);
    close(fd);
    if (rc != 0) {
        out->unreadable++;
        return 0;
    }
    return held_add(out, &p);
}

int held_pools_read(long pid, struct held_pools *out)
{
    char path[64];
    struct dirent *e;
    struct pool_fds f = {0};
    DIR *d;
    int rc = 0;

    memset(out, 0, sizeof *out);
    snprintf(path, sizeof path, "/proc/%ld/fd", pid);
    if (!(d = opendir(path)))
        return -1;
    f.dfd = dirfd(d);
    while (rc == 0 && (e = readdir(d)) != NULL)
        if (e->d_name[0] != '.' && is_pool_fd(f.dfd, e->d_name))
            rc = pool_fds_add(&f, e->d_name);
    for (size_t i = 0; rc == 0 && i < f.n; i++)
        rc = read_held(&f, i, out);
    free(f.names);
    closedir(d);
    if (rc != 0)
        errno = ENOMEM;
    return rc;
}

void held_pools_free(struct held_pools *h)
{
    for (size_t i = 0; i < h->n; i++)
        pool_info_free(&h->v[i]);
    free(h->v);
    memset(h, 0, sizeof *h);
}

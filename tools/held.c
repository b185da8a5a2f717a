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

int pool_info_read(int fd, int is_memfd, struct pool_info *out)
{
    shmipc_pool *pool;
    int rc, lend;

    memset(out, 0, sizeof *out);
    if ((rc = shmipc_pool_from_fd(fd, SHMIPC_RDONLY, &pool)) != 0)
        return rc;
    shmipc__inspect_pool(pool, &out->pool);
    lend = is_memfd && sealed_for_readers(fd);
    if (shmipc__inspect_arena(pool, lend, &out->arena) == 0)
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

/* Open descriptor `name` of the directory dfd (its own file, read-only) and read it. */
static int read_held(int dfd, const char *name, struct held_pools *out)
{
    struct pool_info p;
    int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC), rc;

    if (fd < 0) {
        out->unreadable++;
        return 0;
    }
    rc = pool_info_read(fd, 1, &p);
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
    DIR *d;
    int rc = 0;

    memset(out, 0, sizeof *out);
    snprintf(path, sizeof path, "/proc/%ld/fd", pid);
    if (!(d = opendir(path)))
        return -1;
    while (rc == 0 && (e = readdir(d)) != NULL)
        if (e->d_name[0] != '.' && is_pool_fd(dirfd(d), e->d_name))
            rc = read_held(dirfd(d), e->d_name, out);
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

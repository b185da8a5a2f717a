/* gather.c — what `shmipc ls` and `shmipc stat` show, gathered once: the named pools and
 * servers (scan.c), the pools each live server maps (held.c), and the figures derived from
 * them (a server's totals, its peers by process, with their apps). json.c and text.c print
 * it; neither calls the other. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tool.h"

/* ---- what a named pool is ------------------------------------------------------------- */

const char *pool_kind(const struct named_pool *p)
{
    if (p->rc != 0)
        return "unreadable";
    return p->info.kind == POOL_ARENA ? "arena" : "pool";
}

const char *scope_suffix(const char *name)
{
    return strstr(name, "@s");
}

const char *created_str(uint64_t ns, char *buf, size_t cap)
{
    time_t t = (time_t)(ns / 1000000000u);
    struct tm tm;

    if (!ns || !gmtime_r(&t, &tm) || !strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm))
        return NULL;
    return buf;
}

const struct shmipc_inspect_arena *heap_of(const struct named_pool *p)
{
    return p->rc == 0 && p->info.arena && p->info.arena->has_heap ? p->info.arena : NULL;
}

struct server_sums server_sums(const struct held_pools *h)
{
    struct server_sums s = {0, NO_VALUE, NO_VALUE};

    for (size_t i = 0; h && i < h->n; i++) {
        const struct shmipc_inspect_arena *a = h->v[i].arena;
        s.size += h->v[i].pool.size;
        if (!a || !a->has_heap)
            continue;
        s.used = (s.used == NO_VALUE ? 0 : s.used) + a->used;
        s.free = (s.free == NO_VALUE ? 0 : s.free) + a->free;
    }
    return s;
}

const char *pool_kind_name(int kind)
{
    static const char *const names[] = {"arena", "data", "control", "pool"};
    return names[kind];
}

/* ---- peers of a server: its arenas' endpoints, by process ------------------------------- */

static struct peer *peer_of(struct peer *v, long *n, const struct shmipc_inspect_ep *e)
{
    for (long i = 0; i < *n; i++)
        if (v[i].pid == e->pid && v[i].start == e->start)
            return &v[i];
    memset(&v[*n], 0, sizeof v[0]);
    v[*n].pid = e->pid;
    v[*n].start = e->start;
    return &v[(*n)++];
}

/* 1 if app is one of the list "a, b, c" (names hold no ','). */
static int app_listed(const char *list, const char *app)
{
    size_t n = strlen(app);

    for (const char *at = list; *at;) {
        const char *end = strchr(at, ',');
        size_t len = end ? (size_t)(end - at) : strlen(at);
        if (len == n && memcmp(at, app, n) == 0)
            return 1;
        if (!end)
            break;
        for (at = end + 1; *at == ' '; at++)
            continue;
    }
    return 0;
}

/* Add app (a server's app arena: the app of the sessions whose endpoints it holds) to the
 * peer's apps, once. */
static void peer_app(struct peer *p, const char *app)
{
    size_t len = strlen(p->app);

    if (app[0] && !app_listed(p->app, app))
        snprintf(p->app + len, sizeof p->app - len, "%s%s", len ? ", " : "", app);
}

static size_t endpoint_count(const struct held_pools *h)
{
    size_t n = 0;

    for (size_t i = 0; i < h->n; i++)
        n += h->v[i].arena ? h->v[i].arena->neps : 0;
    return n;
}

long collect_peers(const struct held_pools *h, long server_pid, struct peer **out)
{
    struct peer *v = calloc(endpoint_count(h) + 1, sizeof *v);
    long n = 0;

    if (!(*out = v))
        return -1;
    for (size_t i = 0; i < h->n; i++) {
        const struct shmipc_inspect_arena *a = h->v[i].arena;
        for (size_t k = 0; a && k < a->neps; k++) {
            const struct shmipc_inspect_ep *e = &a->eps[k];
            struct peer *p;
            if (e->pid <= 0 || e->pid == server_pid)
                continue; /* peers in other pid namespaces are listed by stat only */
            p = peer_of(v, &n, e);
            p->open |= e->open;
            p->held += e->held;
            p->held_bytes += e->held_bytes;
            p->lent += e->lent;
            p->lent_bytes += e->lent_bytes;
            peer_app(p, h->v[i].pool.label);
        }
    }
    return n;
}

/* ---- the facts both commands gather ----------------------------------------------------- */

int gather(struct facts *f, const char *only)
{
    char dir[PATH_MAX];

    memset(f, 0, sizeof *f);
    if (named_list_read(&f->named, only, 0) != 0) {
        warn("cannot read %s: %s", shmipc__shm_dir(), strerror(errno));
        return -1;
    }
    if (server_list_read(&f->servers, only) != 0) {
        warn("cannot read %s: %s", socket_dir(dir, sizeof dir), strerror(errno));
        return -1;
    }
    if (f->servers.refused[0])
        warn("skipped the socket directory: %s", f->servers.refused);
    f->held = calloc(f->servers.n + 1, sizeof *f->held);
    if (!f->held) {
        warn("out of memory");
        return -1;
    }
    for (size_t i = 0; i < f->servers.n; i++) {
        const struct server *s = &f->servers.v[i];
        if (s->alive && s->pid > 0 && held_pools_read(s->pid, &f->held[i]) != 0) {
            warn("cannot read the pools of server '%s' (pid %ld): %s", s->name, s->pid,
                 strerror(errno));
            f->denied++;
        }
    }
    return 0;
}

void facts_free(struct facts *f)
{
    for (size_t i = 0; f->held && i < f->servers.n; i++)
        held_pools_free(&f->held[i]);
    free(f->held);
    named_list_free(&f->named);
    server_list_free(&f->servers);
}

/* report.c — `shmipc ls` and `shmipc stat`: what scan.c and inspect.c found, as a table
 * for people or as JSON for scripts (the shape is documented in docs/tool.md; stat's
 * objects are ls's with more fields, never fewer). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

const struct arena_info *heap_of(const struct named_pool *p)
{
    return p->rc == 0 && p->info.arena && p->info.arena->has_heap ? p->info.arena : NULL;
}

/* ---- JSON ------------------------------------------------------------------------------ */

static void json_size(struct json *j, const char *key, uint64_t v)
{
    if (v == NO_VALUE)
        json_null(j, key);
    else
        json_u64(j, key, v);
}

static void json_pid(struct json *j, const char *key, long pid)
{
    if (pid > 0)
        json_i64(j, key, pid);
    else
        json_null(j, key);
}

/* 1, 0, or -1: not known (a process in another pid namespace) */
static void json_alive(struct json *j, const char *key, int alive)
{
    if (alive < 0)
        json_null(j, key);
    else
        json_bool(j, key, alive);
}

static void json_process(struct json *j, long pid)
{
    char comm[64];

    proc_comm(pid, comm, sizeof comm);
    json_open(j, NULL, '{');
    json_i64(j, "pid", pid);
    json_str(j, "comm", comm);
    json_close(j, '}');
}

static void json_endpoint(struct json *j, const struct shmipc_ep_info *e)
{
    long pid = ep_pid(e);
    char comm[64];

    proc_comm(pid, comm, sizeof comm);
    json_open(j, NULL, '{');
    json_u64(j, "endpoint", e->ep);
    json_pid(j, "pid", pid);
    json_str(j, "comm", pid > 0 ? comm : NULL);
    json_alive(j, "alive", pid > 0 || e->ep == 0 ? proc_alive(pid, e->start) : -1);
    json_bool(j, "session_open", e->ep != 0 && e->open);
    json_u64(j, "held", e->held);
    json_u64(j, "held_bytes", e->held_bytes);
    json_u64(j, "lent", e->lent);
    json_u64(j, "lent_bytes", e->lent_bytes);
    json_close(j, '}');
}

static void json_arena(struct json *j, const char *key, const struct arena_info *a)
{
    uint64_t none = NO_VALUE;

    if (!a) {
        json_null(j, key);
        return;
    }
    json_open(j, key, '{');
    json_str(j, "provider", a->provider == SHMIPC_PROVIDER_LEND ? "lend" : "shared");
    json_size(j, "capacity", a->has_heap ? a->capacity : none);
    json_size(j, "used", a->has_heap ? a->used : none);
    json_size(j, "free", a->has_heap ? a->free : none);
    json_size(j, "largest_free", a->has_heap ? a->largest_free : none);
    json_size(j, "allocations", a->has_heap ? a->allocations : none);
    json_size(j, "named", a->has_heap ? a->named : none);
    json_u64(j, "lock_recoveries", a->lock_recoveries);
    json_u64(j, "bad_frees", a->bad_frees);
    json_bool(j, "corrupt", a->corrupt);
    json_open(j, "endpoints", '[');
    for (size_t i = 0; i < a->neps; i++)
        json_endpoint(j, &a->eps[i]);
    json_close(j, ']');
    json_close(j, '}');
}

static void json_named(struct json *j, const struct named_pool *p, int detail)
{
    const struct arena_info *h = heap_of(p);
    const char *suffix = scope_suffix(p->name);
    char buf[64];

    json_open(j, NULL, '{');
    json_str(j, "name", p->name);
    json_str(j, "kind", pool_kind(p));
    json_str(j, "scope", suffix ? "socket" : "node");
    if (suffix)
        json_i64(j, "package", strtol(suffix + 2, NULL, 10));
    else
        json_null(j, "package");
    json_str(j, "path", p->path);
    json_str(j, "mode", mode_str(p->st.st_mode, buf, sizeof buf));
    json_pid(j, "owner_pid", p->rc == 0 ? p->info.origin.pid : 0);
    json_alive(j, "owner_alive", p->rc == 0 ? p->info.creator_alive : 0);
    json_str(j, "created", p->rc == 0 ? created_str(p->info.origin.created_ns, buf, sizeof buf)
                                      : NULL);
    json_str(j, "state", state_name(p->state));
    json_open(j, "mapped_by", '[');
    for (size_t i = 0; i < p->use.users.n; i++)
        json_process(j, p->use.users.v[i]);
    json_close(j, ']');
    json_size(j, "size", p->rc == 0 ? p->info.size : NO_VALUE);
    json_size(j, "used", h ? h->used : NO_VALUE);
    json_size(j, "free", h ? h->free : NO_VALUE);
    json_str(j, "error", p->rc ? p->error : NULL);
    if (detail)
        json_arena(j, "arena", p->rc == 0 ? p->info.arena : NULL);
    json_close(j, '}');
}

struct server_sums server_sums(const struct held_pools *h)
{
    struct server_sums s = {0, NO_VALUE, NO_VALUE};

    for (size_t i = 0; h && i < h->n; i++) {
        const struct arena_info *a = h->v[i].arena;
        s.size += h->v[i].size;
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

static void json_server_pool(struct json *j, const struct pool_info *p)
{
    char id[20];

    snprintf(id, sizeof id, "%016llx", (unsigned long long)p->id);
    json_open(j, NULL, '{');
    json_str(j, "pool_id", id);
    json_str(j, "kind", pool_kind_name(p->kind));
    json_pid(j, "owner_pid", p->origin.pid);
    json_alive(j, "owner_alive", p->creator_alive);
    json_u64(j, "size", p->size);
    json_arena(j, "arena", p->arena);
    json_close(j, '}');
}

/* ---- peers of a server: its arenas' endpoints, by process ------------------------------- */

static struct peer *peer_of(struct peer *v, long *n, const struct shmipc_ep_info *e)
{
    for (long i = 0; i < *n; i++)
        if (v[i].pid == ep_pid(e) && v[i].start == e->start)
            return &v[i];
    memset(&v[*n], 0, sizeof v[0]);
    v[*n].pid = ep_pid(e);
    v[*n].start = e->start;
    return &v[(*n)++];
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
        const struct arena_info *a = h->v[i].arena;
        for (size_t k = 0; a && k < a->neps; k++) {
            const struct shmipc_ep_info *e = &a->eps[k];
            struct peer *p;
            if (ep_pid(e) <= 0 || ep_pid(e) == server_pid)
                continue; /* peers in other pid namespaces are listed by stat only */
            p = peer_of(v, &n, e);
            p->open |= e->open;
            p->held += e->held;
            p->held_bytes += e->held_bytes;
            p->lent += e->lent;
            p->lent_bytes += e->lent_bytes;
        }
    }
    return n;
}

static void json_peer(struct json *j, const struct peer *p)
{
    char comm[64];

    proc_comm(p->pid, comm, sizeof comm);
    json_open(j, NULL, '{');
    json_i64(j, "pid", p->pid);
    json_str(j, "comm", comm);
    json_bool(j, "alive", proc_alive(p->pid, p->start));
    json_bool(j, "session_open", p->open);
    json_u64(j, "held", p->held);
    json_u64(j, "held_bytes", p->held_bytes);
    json_u64(j, "lent", p->lent);
    json_u64(j, "lent_bytes", p->lent_bytes);
    json_close(j, '}');
}

static void json_server_detail(struct json *j, const struct held_pools *h,
                               const struct peer *peers, long npeers)
{
    json_u64(j, "unreadable_pools", (uint64_t)h->unreadable);
    json_open(j, "pools", '[');
    for (size_t i = 0; i < h->n; i++)
        json_server_pool(j, &h->v[i]);
    json_close(j, ']');
    json_open(j, "peers", '[');
    for (long i = 0; i < npeers; i++)
        json_peer(j, &peers[i]);
    json_close(j, ']');
}

/* h: the pools of a live server, NULL for a dead one. */
static void json_server(struct json *j, const struct server *s, const struct held_pools *h,
                        int detail)
{
    static const struct held_pools none;
    struct server_sums sums = server_sums(h);
    struct peer *peers = NULL;
    long npeers = collect_peers(h ? h : &none, s->pid, &peers);
    char buf[64], comm[64];

    proc_comm(s->pid, comm, sizeof comm);
    json_open(j, NULL, '{');
    json_str(j, "name", s->name);
    json_str(j, "socket", s->has_sock ? s->sock : NULL);
    json_str(j, "lock", s->has_lock ? s->lock : NULL);
    json_str(j, "mode", s->has_sock ? mode_str(s->mode, buf, sizeof buf) : NULL);
    json_pid(j, "pid", s->pid);
    json_str(j, "comm", h && s->pid > 0 ? comm : NULL);
    json_bool(j, "alive", s->alive);
    json_str(j, "state", state_name(server_state(s)));
    json_size(j, "size", h ? sums.size : NO_VALUE);
    json_size(j, "used", sums.used);
    json_size(j, "free", sums.free);
    json_size(j, "peer_count", h && npeers >= 0 ? (uint64_t)npeers : NO_VALUE);
    if (detail)
        json_server_detail(j, h ? h : &none, peers, npeers);
    json_close(j, '}');
    free(peers);
}

/* ---- the facts both commands gather ----------------------------------------------------- */

static int gather(struct facts *f, const char *only)
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

static void facts_free(struct facts *f)
{
    for (size_t i = 0; f->held && i < f->servers.n; i++)
        held_pools_free(&f->held[i]);
    free(f->held);
    named_list_free(&f->named);
    server_list_free(&f->servers);
}

static void json_facts(const struct facts *f, int detail)
{
    struct json j = {.f = stdout};
    char dir[PATH_MAX];

    json_open(&j, NULL, '{');
    json_str(&j, "version", shmipc_version());
    json_u64(&j, "uid", (uint64_t)getuid());
    json_str(&j, "shm_dir", shmipc__shm_dir());
    json_str(&j, "socket_dir", socket_dir(dir, sizeof dir));
    json_open(&j, "pools", '[');
    for (size_t i = 0; i < f->named.n; i++)
        json_named(&j, &f->named.v[i], detail);
    json_close(&j, ']');
    json_open(&j, "servers", '[');
    for (size_t i = 0; i < f->servers.n; i++)
        json_server(&j, &f->servers.v[i], f->servers.v[i].alive ? &f->held[i] : NULL, detail);
    json_close(&j, ']');
    json_close(&j, '}');
}

/* Print what was gathered (if rc is 0) and free it; the exit status. */
static int report(struct facts *f, int rc, int json, int detail)
{
    if (rc == 0 && json)
        json_facts(f, detail);
    else if (rc == 0 && detail)
        text_stat(f);
    else if (rc == 0)
        text_ls(f);
    rc = rc == 0 && f->denied == 0 ? 0 : 1;
    facts_free(f);
    return rc;
}

int cmd_ls(int json)
{
    struct facts f;

    return report(&f, gather(&f, NULL), json, 0);
}

int cmd_stat(const char *name, int json)
{
    struct facts f;
    int rc = gather(&f, name);

    if (rc == 0 && f.named.n == 0 && f.servers.n == 0) {
        warn("no arena, pool or server named '%s'", name);
        rc = -1;
    }
    return report(&f, rc, json, 1);
}

/* json.c — `shmipc ls --json` and `shmipc stat NAME --json`: what gather.c found, as one
 * JSON object (the shape is documented in docs/tool.md; stat's objects are ls's with more
 * fields, never fewer). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tool.h"

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

/* app: the app of the arena's sessions (a server's app arena), else NULL. */
static void json_endpoint(struct json *j, const struct shmipc_inspect_ep *e, const char *app)
{
    char comm[64];

    proc_comm(e->pid, comm, sizeof comm);
    json_open(j, NULL, '{');
    json_u64(j, "endpoint", e->ep);
    json_pid(j, "pid", e->pid);
    json_str(j, "comm", e->pid > 0 ? comm : NULL);
    json_str(j, "app", e->ep != 0 ? app : NULL);
    json_alive(j, "alive", e->alive);
    json_bool(j, "session_open", e->ep != 0 && e->open);
    json_u64(j, "held", e->held);
    json_u64(j, "held_bytes", e->held_bytes);
    json_u64(j, "lent", e->lent);
    json_u64(j, "lent_bytes", e->lent_bytes);
    json_close(j, '}');
}

static void json_names(struct json *j, const struct shmipc_inspect_arena *a)
{
    if (!a->has_heap) {
        json_null(j, "names");
        return;
    }
    json_open(j, "names", '[');
    for (size_t i = 0; i < a->nnames; i++) {
        json_open(j, NULL, '{');
        json_str(j, "name", a->names[i].name);
        json_u64(j, "size", a->names[i].size);
        json_u64(j, "refs", a->names[i].refs);
        json_close(j, '}');
    }
    json_close(j, ']');
}

static void json_arena(struct json *j, const char *key, const struct shmipc_inspect_arena *a,
                       const char *app)
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
    json_names(j, a);
    json_open(j, "endpoints", '[');
    for (size_t i = 0; i < a->neps; i++)
        json_endpoint(j, &a->eps[i], app);
    json_close(j, ']');
    json_close(j, '}');
}

static void json_named(struct json *j, const struct named_pool *p, int detail)
{
    const struct shmipc_inspect_arena *h = heap_of(p);
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
    json_pid(j, "owner_pid", p->rc == 0 ? p->info.pool.pid : 0);
    json_alive(j, "owner_alive", p->rc == 0 ? p->info.pool.alive : 0);
    json_str(j, "created",
             p->rc == 0 ? created_str(p->info.pool.created_ns, buf, sizeof buf) : NULL);
    json_str(j, "state", state_name(p->state));
    json_open(j, "mapped_by", '[');
    for (size_t i = 0; i < p->use.users.n; i++)
        json_process(j, p->use.users.v[i]);
    json_close(j, ']');
    json_size(j, "size", p->rc == 0 ? p->info.pool.size : NO_VALUE);
    json_size(j, "used", h ? h->used : NO_VALUE);
    json_size(j, "free", h ? h->free : NO_VALUE);
    json_str(j, "error", p->rc ? p->error : NULL);
    if (detail)
        json_arena(j, "arena", p->rc == 0 ? p->info.arena : NULL, NULL);
    json_close(j, '}');
}

static void json_server_pool(struct json *j, const struct pool_info *p)
{
    char id[20];

    snprintf(id, sizeof id, "%016llx", (unsigned long long)p->pool.id);
    json_open(j, NULL, '{');
    json_str(j, "pool_id", id);
    json_str(j, "kind", pool_kind_name(p->kind));
    json_str(j, "app", p->pool.label[0] ? p->pool.label : NULL);
    json_pid(j, "owner_pid", p->pool.pid);
    json_alive(j, "owner_alive", p->pool.alive);
    json_u64(j, "size", p->pool.size);
    json_arena(j, "arena", p->arena, p->pool.label[0] ? p->pool.label : NULL);
    json_close(j, '}');
}

static void json_peer(struct json *j, const struct peer *p)
{
    char comm[64];

    proc_comm(p->pid, comm, sizeof comm);
    json_open(j, NULL, '{');
    json_i64(j, "pid", p->pid);
    json_str(j, "comm", comm);
    json_str(j, "app", p->app[0] ? p->app : NULL);
    json_bool(j, "alive", shmipc__inspect_alive(p->pid, p->start));
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

void json_facts(const struct facts *f, int detail)
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

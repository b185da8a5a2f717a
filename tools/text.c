/* text.c — `shmipc ls` and `shmipc stat` for people: one table row per pool or server,
 * and stat's details as labelled lines and small tables. Sizes are in powers of 1024. */
#include <stdlib.h>
#include <string.h>

#include "tool.h"

static const char *size_or_dash(uint64_t v, char *buf, size_t cap)
{
    return v == NO_VALUE ? "-" : human(v, buf, cap);
}

static const char *pid_or_dash(long pid, char *buf, size_t cap)
{
    snprintf(buf, cap, pid > 0 ? "%ld" : "-", pid);
    return buf;
}

/* "4567 (helper_tool), alive" */
static void print_process(long pid, int alive)
{
    char comm[64];

    proc_comm(pid, comm, sizeof comm);
    if (alive < 0)
        printf("? (in a pid namespace this one does not show)\n");
    else if (alive)
        printf("%ld (%s), alive\n", pid, comm);
    else
        printf("%ld, dead\n", pid);
}

/* ---- ls ------------------------------------------------------------------------------------ */

struct row {
    const char *kind, *name, *state, *mode;
    long pid;
    uint64_t size, used, free;
    long users;
};

static int name_width(const struct facts *f)
{
    size_t w = 4;

    for (size_t i = 0; i < f->named.n; i++)
        if (strlen(f->named.v[i].name) > w)
            w = strlen(f->named.v[i].name);
    for (size_t i = 0; i < f->servers.n; i++)
        if (strlen(f->servers.v[i].name) > w)
            w = strlen(f->servers.v[i].name);
    return (int)w;
}

#define LS_FORMAT "%-7s %-*s %8s %-9s %6s %6s %6s %5s %5s\n"

static void print_row(int w, const struct row *r)
{
    char pid[24], size[16], used[16], free_[16], users[24];

    snprintf(users, sizeof users, r->users >= 0 ? "%ld" : "-", r->users);
    printf(LS_FORMAT, r->kind, w, r->name, pid_or_dash(r->pid, pid, sizeof pid), r->state,
           size_or_dash(r->size, size, sizeof size), size_or_dash(r->used, used, sizeof used),
           size_or_dash(r->free, free_, sizeof free_), r->mode, users);
}

static struct row named_row(const struct named_pool *p, char *mode, size_t cap)
{
    const struct shmipc_inspect_arena *h = heap_of(p);
    struct row r = {pool_kind(p),
                    p->name,
                    state_name(p->state),
                    mode_str(p->st.st_mode, mode, cap),
                    p->rc == 0 ? p->info.pool.pid : 0,
                    p->rc == 0 ? p->info.pool.size : NO_VALUE,
                    h ? h->used : NO_VALUE,
                    h ? h->free : NO_VALUE,
                    (long)p->use.users.n};
    return r;
}

static struct row server_row(const struct server *s, const struct held_pools *h, char *mode,
                             size_t cap)
{
    struct server_sums sums = server_sums(h);
    struct peer *peers;
    long n = s->alive ? collect_peers(h, s->pid, &peers) : -1;
    struct row r = {"server",
                    s->name,
                    state_name(server_state(s)),
                    s->has_sock ? mode_str(s->mode, mode, cap) : "-",
                    s->pid,
                    s->alive ? sums.size : NO_VALUE,
                    sums.used,
                    sums.free,
                    n};

    if (n >= 0)
        free(peers);
    return r;
}

void text_ls(const struct facts *f)
{
    int w = name_width(f);
    char mode[16];

    printf(LS_FORMAT, "KIND", w, "NAME", "PID", "STATE", "SIZE", "USED", "FREE", "MODE",
           "USERS");
    for (size_t i = 0; i < f->named.n; i++) {
        struct row r = named_row(&f->named.v[i], mode, sizeof mode);
        print_row(w, &r);
    }
    for (size_t i = 0; i < f->servers.n; i++) {
        struct row r = server_row(&f->servers.v[i], &f->held[i], mode, sizeof mode);
        print_row(w, &r);
    }
}

/* ---- stat: an arena's figures and endpoints ------------------------------------------------ */

/* A table of who holds what: one row per endpoint (lead: its number) or per peer. */
#define HOLDING_FORMAT "%8s %-16s %-16s %-7s %8s %8s %8s %10s\n"

static void print_holding_header(const char *lead)
{
    printf("    ");
    if (lead)
        printf("%-8s ", lead);
    printf(HOLDING_FORMAT, "PID", "NAME", "APP", "SESSION", "OBJECTS", "BYTES", "LOANS",
           "LOAN BYTES");
}

static void print_holding(const char *lead, const struct peer *p, const char *session)
{
    char pid[24], comm[64] = "-", held[24], hb[16], lent[24], lb[16];

    if (shmipc__inspect_alive(p->pid, p->start))
        proc_comm(p->pid, comm, sizeof comm);
    pid_or_dash(p->pid, pid, sizeof pid);
    if (p->pid <= 0 && strcmp(session, "-") != 0) { /* a session's side, pid unknown here */
        snprintf(pid, sizeof pid, "?");
        snprintf(comm, sizeof comm, "(other pid ns)");
    }
    snprintf(held, sizeof held, "%llu", (unsigned long long)p->held);
    snprintf(lent, sizeof lent, "%llu", (unsigned long long)p->lent);
    printf("    ");
    if (lead)
        printf("%-8s ", lead);
    printf(HOLDING_FORMAT, pid, comm, p->app[0] ? p->app : "-", session, held,
           human(p->held_bytes, hb, sizeof hb), lent, human(p->lent_bytes, lb, sizeof lb));
}

/* "(none)" in place of a table without rows. */
static int print_none(const char *title, size_t rows)
{
    if (rows == 0)
        printf("  %-16s (none)\n", title);
    return rows == 0;
}

static void print_endpoints(const struct shmipc_inspect_arena *a)
{
    if (print_none("endpoints", a->neps))
        return;
    printf("  endpoints (who holds what):\n");
    print_holding_header("ENDPOINT");
    for (size_t i = 0; i < a->neps; i++) {
        const struct shmipc_inspect_ep *e = &a->eps[i];
        struct peer p = {.pid = e->pid,
                         .start = e->start,
                         .open = e->open,
                         .held = e->held,
                         .held_bytes = e->held_bytes,
                         .lent = e->lent,
                         .lent_bytes = e->lent_bytes};
        char ep[16];
        snprintf(ep, sizeof ep, "%u", e->ep);
        print_holding(ep, &p, e->ep == 0 ? "-" : e->open ? "open" : "closed");
    }
}

static void print_heap(const struct shmipc_inspect_arena *a)
{
    char b[16];

    printf("  capacity         %s\n", human(a->capacity, b, sizeof b));
    printf("  used             %s\n", human(a->used, b, sizeof b));
    printf("  free             %s\n", human(a->free, b, sizeof b));
    printf("  largest free     %s (read without the arena's lock: approximate while it "
           "changes)\n",
           human(a->largest_free, b, sizeof b));
    printf("  allocations      %llu (%llu named)\n", (unsigned long long)a->allocations,
           (unsigned long long)a->named);
}

#define NAMES_FORMAT "    %-32s %10s %8s\n"

static void print_names(const struct shmipc_inspect_arena *a)
{
    if (print_none("named", a->nnames))
        return;
    printf("  named allocations:\n");
    printf(NAMES_FORMAT, "NAME", "SIZE", "REFS");
    for (size_t i = 0; i < a->nnames; i++) {
        char size[16], refs[24];
        snprintf(refs, sizeof refs, "%llu", (unsigned long long)a->names[i].refs);
        printf(NAMES_FORMAT, a->names[i].name, human(a->names[i].size, size, sizeof size),
               refs);
    }
}

static void print_arena(const struct shmipc_inspect_arena *a)
{
    if (a->has_heap) {
        print_heap(a);
        print_names(a);
    }
    printf("  lock recoveries  %llu\n", (unsigned long long)a->lock_recoveries);
    printf("  bad frees        %llu\n", (unsigned long long)a->bad_frees);
    if (a->corrupt)
        printf("  CORRUPT          a recovery found it inconsistent: the library refuses it\n");
    print_endpoints(a);
}

/* ---- stat: a named pool ---------------------------------------------------------------------- */

static void print_users(const struct pids *users)
{
    printf("  mapped by        ");
    for (size_t i = 0; i < users->n; i++) {
        char comm[64];
        proc_comm(users->v[i], comm, sizeof comm);
        printf("%s%ld (%s)", i ? ", " : "", users->v[i], comm);
    }
    printf("%s\n", users->n ? "" : "no live process");
}

static void print_named(const struct named_pool *p)
{
    const char *suffix = scope_suffix(p->name);
    char b[64];

    printf("%s '%s'", pool_kind(p), p->name);
    if (suffix)
        printf(" (socket scope: CPU package %s)\n", suffix + 2);
    else
        printf(" (node scope)\n");
    printf("  path             %s\n", p->path);
    printf("  mode             %s\n", mode_str(p->st.st_mode, b, sizeof b));
    printf("  state            %s\n", state_name(p->state));
    if (p->rc != 0) {
        printf("  error            %s\n", p->error);
        return;
    }
    printf("  created          %s by pid ",
           created_str(p->info.pool.created_ns, b, sizeof b) ? b : "?");
    print_process(p->info.pool.pid, p->info.pool.alive);
    printf("  size             %s (%zu bytes)\n", human(p->info.pool.size, b, sizeof b),
           p->info.pool.size);
    print_users(&p->use.users);
    if (p->info.arena)
        print_arena(p->info.arena);
}

/* ---- stat: a server -------------------------------------------------------------------------- */

#define ARENA_FORMAT "    %-16s %8s %-8s %-16s %6s %6s %6s %7s %7s\n"

static void print_server_arenas(const struct held_pools *h)
{
    size_t n = 0;

    for (size_t i = 0; i < h->n; i++)
        n += h->v[i].arena != NULL;
    if (print_none("arenas", n))
        return;
    printf("  arenas:\n");
    printf(ARENA_FORMAT, "POOL", "OWNER", "PROVIDER", "APP", "SIZE", "USED", "FREE", "LARGEST",
           "OBJECTS");
    for (size_t i = 0; i < h->n; i++) {
        const struct shmipc_inspect_arena *a = h->v[i].arena;
        char id[20], owner[24], size[16], used[16], free_[16], big[16], objs[24];
        if (!a)
            continue;
        snprintf(id, sizeof id, "%016llx", (unsigned long long)h->v[i].pool.id);
        snprintf(objs, sizeof objs, a->has_heap ? "%llu" : "-",
                 (unsigned long long)a->allocations);
        printf(ARENA_FORMAT, id, pid_or_dash(h->v[i].pool.pid, owner, sizeof owner),
               a->provider == SHMIPC_PROVIDER_LEND ? "lend" : "shared",
               h->v[i].pool.label[0] ? h->v[i].pool.label : "-",
               human(h->v[i].pool.size, size, sizeof size),
               size_or_dash(a->has_heap ? a->used : NO_VALUE, used, sizeof used),
               size_or_dash(a->has_heap ? a->free : NO_VALUE, free_, sizeof free_),
               size_or_dash(a->has_heap ? a->largest_free : NO_VALUE, big, sizeof big), objs);
    }
}

static void print_peers(const struct held_pools *h, long server_pid)
{
    struct peer *peers;
    long n = collect_peers(h, server_pid, &peers);

    if (n >= 0 && print_none("peers", (size_t)n)) {
        free(peers);
        return;
    }
    printf("  peers:\n");
    print_holding_header(NULL);
    for (long i = 0; i < n; i++)
        print_holding(NULL, &peers[i], peers[i].open ? "open" : "closed");
    if (n >= 0)
        free(peers);
}

/* "6 pools, 277M: 3 arenas, 2 data pools, 1 control segment" */
static void print_pool_summary(const struct held_pools *h)
{
    size_t count[4] = {0};
    uint64_t bytes = 0;
    char b[16];

    for (size_t i = 0; i < h->n; i++) {
        count[h->v[i].kind]++;
        bytes += h->v[i].pool.size;
    }
    printf("  pools            %zu, %s: %zu arena%s, %zu data pool%s, %zu control segment%s\n",
           h->n, human(bytes, b, sizeof b), count[POOL_ARENA],
           count[POOL_ARENA] == 1 ? "" : "s", count[POOL_DATA],
           count[POOL_DATA] == 1 ? "" : "s", count[POOL_CONTROL],
           count[POOL_CONTROL] == 1 ? "" : "s");
    if (h->unreadable)
        printf("  unreadable       %d descriptors could not be read\n", h->unreadable);
}

/* The lend provider's data pools, by owner: "2 of pid 15619 (128M)". */
static void print_data_pools(const struct held_pools *h)
{
    struct pids owners = {0};

    for (size_t i = 0; i < h->n; i++)
        if (h->v[i].kind == POOL_DATA && pids_add(&owners, h->v[i].pool.pid) != 0)
            break;
    for (size_t k = 0; k < owners.n; k++) {
        uint64_t bytes = 0;
        size_t n = 0;
        char b[16], pid[24];
        for (size_t i = 0; i < h->n; i++) {
            if (h->v[i].kind == POOL_DATA && h->v[i].pool.pid == owners.v[k]) {
                n++;
                bytes += h->v[i].pool.size;
            }
        }
        snprintf(pid, sizeof pid, owners.v[k] > 0 ? "%ld" : "?", owners.v[k]);
        printf("  data pools       %zu of pid %s (%s)\n", n, pid, human(bytes, b, sizeof b));
    }
    pids_free(&owners);
}

static void print_server(const struct server *s, const struct held_pools *h)
{
    char b[16];

    printf("server '%s'\n", s->name);
    if (s->has_sock)
        printf("  socket           %s (%s)\n", s->sock, mode_str(s->mode, b, sizeof b));
    else
        printf("  socket           (none)\n");
    printf("  lock             %s\n", s->has_lock ? s->lock : "(none)");
    printf("  state            %s\n", state_name(server_state(s)));
    if (!s->alive || s->pid <= 0)
        return;
    printf("  pid              ");
    print_process(s->pid, shmipc__inspect_alive(s->pid, 0));
    print_pool_summary(h);
    print_data_pools(h);
    print_server_arenas(h);
    print_peers(h, s->pid);
}

void text_stat(const struct facts *f)
{
    for (size_t i = 0; i < f->named.n; i++) {
        if (i)
            putchar('\n');
        print_named(&f->named.v[i]);
    }
    for (size_t i = 0; i < f->servers.n; i++) {
        if (i || f->named.n)
            putchar('\n');
        print_server(&f->servers.v[i], &f->held[i]);
    }
}

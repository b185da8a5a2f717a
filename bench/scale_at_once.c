/* bench/scale, clients at once: N client processes (forked first, then released together
 * by closing the pipe they wait on) connect to one server process with the 30 s
 * timeout and stay connected until every one has its answer; the server accepts in a loop
 * and keeps the sessions. Reported: how many connected, the slowest and the median connect
 * (each client times its own shmipc_connect), and the failures counted by error. The server
 * has its defaults (max_pending among them) but the sizes of the arenas. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scale.h"

#define ERR_LEN 160

struct once_client {
    int done, rc;
    double ms;
    char err[ERR_LEN];
};

struct once_res {
    int accepted;
    unsigned long rejected;
    char server_err[SCALE_ERR];
    struct once_client clients[]; /* n of them */
};

struct once_ctx {
    int provider, n, me;
    char name[96];
    int ready[2], stop[2];         /* server -> bench: listening; bench -> server: EOF = stop */
    int start[2], done[2], end[2]; /* EOF = go; a byte per client; EOF = close and exit */
    struct once_res *res;
};

static int client(void *arg)
{
    struct once_ctx *c = arg;
    struct once_client *me = &c->res->clients[c->me];
    shmipc_client_opts co;
    shmipc_session *s = NULL;
    char byte;
    double t0;

    close(c->stop[1]);
    close(c->start[1]);
    close(c->end[1]);
    close(c->done[0]);
    shmipc_client_opts_init(&co);
    co.timeout_ms = SCALE_TIMEOUT_MS;
    (void)!read(c->start[0], &byte, 1); /* EOF: go */
    t0 = scale_now_ns();
    me->rc = shmipc_connect(c->name, SCALE_APP, &co, &s);
    me->ms = (scale_now_ns() - t0) / 1e6;
    if (me->rc != 0)
        scale_error(me->rc, me->err, sizeof me->err);
    me->done = 1;
    scale_write(c->done[1], "x", 1);
    (void)!read(c->end[0], &byte, 1); /* EOF: every client is through */
    shmipc_session_close(s);
    return 0;
}

static int server(void *arg)
{
    struct once_ctx *c = arg;
    shmipc_session **ss = calloc((size_t)c->n, sizeof *ss);
    shmipc_server_opts so;
    shmipc_server *srv;
    int rc;

    close(c->ready[0]);
    close(c->stop[1]);
    shmipc_server_opts_init(&so);
    so.provider = c->provider;
    if (!ss || (rc = shmipc_server_open(c->name, &so, &srv)) != 0) {
        scale_error(ss ? rc : SHMIPC_ENOMEM, c->res->server_err, sizeof c->res->server_err);
        return 1;
    }
    scale_write(c->ready[1], "x", 1);
    while (!scale_readable(c->stop[0], 0)) {
        shmipc_session *s;
        if ((rc = shmipc_server_accept(srv, 100, &s)) == 0 && c->res->accepted < c->n)
            ss[c->res->accepted++] = s;
        else if (rc == 0)
            shmipc_session_close(s);
    }
    c->res->rejected = shmipc_server_rejected(srv);
    for (int i = 0; i < c->res->accepted; i++)
        shmipc_session_close(ss[i]);
    shmipc_server_close(srv);
    free(ss);
    return 0;
}

/* "k × <error>" for each distinct error, into buf. */
static void count_errors(const struct once_res *r, int n, char *buf, size_t cap)
{
    size_t used = 0;
    int died = 0;

    buf[0] = '\0';
    for (int i = 0; i < n; i++)
        died += !r->clients[i].done;
    if (died)
        used += (size_t)snprintf(buf, cap, "%d × died before its connect returned", died);
    for (int i = 0; i < n; i++) {
        int k = 0, first = 1;
        if (r->clients[i].rc == 0 || !r->clients[i].done)
            continue;
        for (int j = 0; j < n && first; j++)
            first = !(j < i && r->clients[j].done && r->clients[j].rc == r->clients[i].rc);
        if (!first)
            continue;
        for (int j = i; j < n; j++)
            k += r->clients[j].done && r->clients[j].rc == r->clients[i].rc;
        used += (size_t)snprintf(buf + used, used < cap ? cap - used : 0, "%s%d × %s",
                                 used ? "; " : "", k, r->clients[i].err);
    }
}

static void report(const struct once_ctx *c)
{
    const struct once_res *r = c->res;
    double *ms = malloc((size_t)c->n * sizeof *ms), slowest = 0;
    int ok = 0;
    struct scale_row row = {.part = "at-once",
                            .provider = scale_provider_name(c->provider),
                            .n = c->n,
                            .ratio = -1};

    for (int i = 0; i < c->n; i++)
        if (r->clients[i].rc == 0 && r->clients[i].done) {
            ms[ok++] = r->clients[i].ms;
            slowest = fmax(slowest, r->clients[i].ms);
        }
    row.metric = "clients connected";
    row.value = ok;
    row.ratio = (double)ok / c->n;
    row.base = "of n";
    row.goal = ">= 1";
    count_errors(r, c->n, row.note, sizeof row.note);
    if (r->server_err[0])
        snprintf(row.note, sizeof row.note, "server: %s", r->server_err);
    scale_add(&row);
    row = (struct scale_row){.part = "at-once",
                             .provider = row.provider,
                             .n = c->n,
                             .ratio = -1,
                             .metric = "slowest connect ms",
                             .value = ok ? slowest : NAN,
                             .goal = "<= 30000"};
    scale_add(&row);
    row.metric = "median connect ms";
    row.value = ok ? scale_median(ms, ok) : NAN;
    row.goal = NULL;
    scale_add(&row);
    free(ms);
}

static void release_clients(struct once_ctx *c)
{
    char byte;
    int got = 0;

    close(c->start[1]);
    close(c->done[1]);
    while (got < c->n && scale_read(c->done[0], &byte, 1) == 0)
        got++;
    close(c->end[1]);
}

void scale_at_once(const struct scale_cfg *cfg, int provider)
{
    size_t size = sizeof(struct once_res) + (size_t)cfg->at_once * sizeof(struct once_client);
    struct once_ctx c = {.provider = provider, .n = cfg->at_once, .res = scale_shared(size)};
    pid_t srv, *cli = calloc((size_t)c.n, sizeof *cli);
    char byte;

    printf("%d clients at once, %s provider ...\n", c.n, scale_provider_name(provider));
    scale_name(c.name, sizeof c.name, "once", provider, c.n);
    scale_pipe(c.ready);
    scale_pipe(c.stop);
    srv = scale_spawn(server, &c);
    close(c.ready[1]);
    close(c.stop[0]);
    if (cli && scale_read(c.ready[0], &byte, 1) == 0) {
        scale_pipe(c.start);
        scale_pipe(c.done);
        scale_pipe(c.end);
        for (c.me = 0; c.me < c.n; c.me++)
            cli[c.me] = scale_spawn(client, &c);
        release_clients(&c);
        for (int i = 0; i < c.n; i++)
            scale_wait(cli[i]);
        close(c.start[0]);
        close(c.done[0]);
        close(c.end[0]);
    }
    close(c.ready[0]);
    close(c.stop[1]);
    scale_wait(srv);
    report(&c);
    free(cli);
    scale_unshare(c.res, size);
}

/* bench/scale, sessions of one app: one client process connects N times as the same app
 * (one after another, each connect timed) to a fresh server process, which reads its own
 * memory (/proc/self/smaps_rollup) before the first session, after it and after the Nth;
 * then messages go through all the sessions at once: the server lends a 64-byte object
 * with each message, the client borrows it, reads it, releases it and answers. The same
 * count of messages is in flight whatever N (WINDOW in total, at least one per session),
 * so N sessions are compared with one at the same batching: their total throughput
 * (messages per second of wall time) relative to one session's. The messages go twice: a
 * first pass through sessions just made (their rings' and tables' pages touched for the
 * first time: 10-12 us per fresh page on this VM), reported as the cold figure, then the
 * same count again, the figure the goal is about (a server's sessions live on). Connects
 * that fail are counted, with the first error; the messages then go through the sessions
 * that exist. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scale.h"

#define WINDOW 64 /* messages in flight over all sessions */
#define OBJ_SIZE 64

struct sess_res {
    /* the client's */
    int ok, failed;
    double connect_ms; /* mean over the sessions that connected */
    char err[SCALE_ERR];
    /* the server's */
    int accepted;
    long rss[3], pss[3];   /* before the first session, after it, after the last */
    double cold_ops_per_s; /* the first pass */
    double ops_per_s;      /* the second */
    double cpu_ns[2];      /* the server's and the client's CPU time in the second pass */
    long msgs;
    char server_err[SCALE_ERR];
};

struct sess_ctx {
    const struct scale_cfg *cfg;
    int provider, n;
    char name[96];
    int listening[2]; /* server -> client: a byte once it listens (EOF: it failed) */
    int ready[2];     /* client -> server: how many sessions it made */
    struct sess_res *res;
};

/* Messages per session per round, and rounds, for n sessions. */
static void shape(const struct sess_ctx *c, int n, long *window, long *rounds)
{
    *window = n < WINDOW ? WINDOW / n : 1;
    *rounds = c->cfg->session_ops / (n * *window);
    if (*rounds < 1)
        *rounds = 1;
}

static void connect_all(struct sess_ctx *c, shmipc_session **ss)
{
    shmipc_client_opts co;
    double total = 0;

    shmipc_client_opts_init(&co);
    co.timeout_ms = SCALE_TIMEOUT_MS;
    for (int i = 0; i < c->n; i++) {
        double t0 = scale_now_ns();
        int rc = shmipc_connect(c->name, SCALE_APP, &co, &ss[c->res->ok]);
        if (rc == 0) {
            total += scale_now_ns() - t0;
            c->res->ok++;
        } else if (c->res->failed++ == 0) {
            char e[SCALE_ERR - 32];
            snprintf(c->res->err, sizeof c->res->err, "connect %d: %s", i + 1,
                     scale_error(rc, e, sizeof e));
        }
    }
    c->res->connect_ms = c->res->ok ? total / c->res->ok / 1e6 : NAN;
}

/* The client's side of one message: receive it, borrow and read its object, release it,
 * answer. */
static int answer(shmipc_session *s)
{
    shmipc_obj *o = NULL;
    volatile unsigned char sink;
    char buf[16];
    size_t len;
    int bad = shmipc_recv(s, buf, sizeof buf, &len, &o, SCALE_TIMEOUT_MS) != 0 || !o;

    if (o) {
        sink = *(const unsigned char *)shmipc_obj_ptr(o);
        (void)sink;
        shmipc_obj_unref(o);
    }
    return bad || shmipc_send(s, NULL, 0, NULL) != 0;
}

static int client(void *arg)
{
    struct sess_ctx *c = arg;
    shmipc_session **ss = calloc((size_t)c->n, sizeof *ss);
    long window, rounds;
    int bad = 0;
    char byte;

    close(c->listening[1]);
    if (!ss || scale_read(c->listening[0], &byte, 1) != 0)
        return 1;
    connect_all(c, ss);
    scale_write(c->ready[1], &c->res->ok, sizeof c->res->ok);
    shape(c, c->res->ok ? c->res->ok : 1, &window, &rounds);
    for (int pass = 0; pass < 2 && !bad; pass++) {
        c->res->cpu_ns[1] = scale_cpu_ns();
        for (long r = 0; c->res->ok && r < rounds && !bad; r++)
            for (int i = 0; i < c->res->ok && !bad; i++)
                for (long w = 0; w < window && !bad; w++)
                    bad = answer(ss[i]) != 0;
        c->res->cpu_ns[1] = scale_cpu_ns() - c->res->cpu_ns[1];
    }
    for (int i = 0; i < c->res->ok; i++)
        shmipc_session_close(ss[i]);
    free(ss);
    return bad;
}

/* Accept until the client says how many it made and that many are here. */
static int accept_all(struct sess_ctx *c, shmipc_server *srv, shmipc_session **ss)
{
    int expected = -1, idle = 0;

    while (expected < 0 || c->res->accepted < expected) {
        int rc = shmipc_server_accept(srv, 200, &ss[c->res->accepted]);
        if (rc == 0) {
            if (++c->res->accepted == 1)
                scale_memory(&c->res->rss[1], &c->res->pss[1]);
            continue;
        }
        if (expected < 0 && scale_readable(c->ready[0], 0) &&
            scale_read(c->ready[0], &expected, sizeof expected) != 0)
            return -1;
        if (rc != SHMIPC_ETIMEDOUT || (expected >= 0 && ++idle > 25))
            return -1; /* the client counted a session the server never saw */
    }
    return 0;
}

static int send_round(shmipc_session **ss, int n, long window)
{
    for (int i = 0; i < n; i++)
        for (long w = 0; w < window; w++) {
            shmipc_obj *o;
            int rc = shmipc_obj_new(shmipc_session_arena(ss[i]), OBJ_SIZE, &o);
            if (rc != 0)
                return rc;
            *(unsigned char *)shmipc_obj_ptr(o) = 1;
            rc = shmipc_send(ss[i], "x", 1, o);
            shmipc_obj_unref(o);
            if (rc != 0)
                return rc;
        }
    return 0;
}

static int answers(shmipc_session **ss, int n, long window)
{
    char buf[16];
    size_t len;

    for (int i = 0; i < n; i++)
        for (long w = 0; w < window; w++) {
            int rc = shmipc_recv(ss[i], buf, sizeof buf, &len, NULL, SCALE_TIMEOUT_MS);
            if (rc != 0)
                return rc;
        }
    return 0;
}

/* One pass of the messages through all n sessions: 0, or the first error. */
static int pass(struct sess_ctx *c, shmipc_session **ss, double *ops_per_s)
{
    int n = c->res->accepted, rc = 0;
    long window, rounds;
    double t0 = scale_now_ns(), cpu0 = scale_cpu_ns();

    shape(c, n, &window, &rounds);
    for (long r = 0; r < rounds && rc == 0; r++)
        if ((rc = send_round(ss, n, window)) == 0)
            rc = answers(ss, n, window);
    if (rc != 0)
        return rc;
    *ops_per_s = (double)(rounds * n * window) / ((scale_now_ns() - t0) / 1e9);
    c->res->cpu_ns[0] = scale_cpu_ns() - cpu0;
    c->res->msgs = rounds * n * window;
    return 0;
}

static void throughput(struct sess_ctx *c, shmipc_session **ss)
{
    int rc = pass(c, ss, &c->res->cold_ops_per_s);

    if (rc == 0)
        rc = pass(c, ss, &c->res->ops_per_s);
    if (rc != 0) {
        c->res->ops_per_s = c->res->cold_ops_per_s = 0;
        c->res->msgs = 0;
        scale_error(rc, c->res->server_err, sizeof c->res->server_err);
    }
}

static int server(void *arg)
{
    struct sess_ctx *c = arg;
    shmipc_session **ss = calloc((size_t)c->n, sizeof *ss);
    shmipc_server_opts so;
    shmipc_server *srv;
    int rc;

    close(c->listening[0]);
    if (!ss)
        return 1;
    shmipc_server_opts_init(&so);
    so.provider = c->provider;
    if ((rc = shmipc_server_open(c->name, &so, &srv)) != 0) {
        scale_error(rc, c->res->server_err, sizeof c->res->server_err);
        return 1;
    }
    scale_memory(&c->res->rss[0], &c->res->pss[0]);
    scale_write(c->listening[1], "x", 1);
    if (accept_all(c, srv, ss) == 0) {
        scale_memory(&c->res->rss[2], &c->res->pss[2]);
        if (c->res->accepted > 0)
            throughput(c, ss);
    } else {
        snprintf(c->res->server_err, sizeof c->res->server_err,
                 "accepted %d sessions, not what the client made", c->res->accepted);
    }
    for (int i = 0; i < c->res->accepted; i++)
        shmipc_session_close(ss[i]);
    shmipc_server_close(srv);
    free(ss);
    return 0;
}

/* KiB of server memory per session: the first session's cost alone for n = 1 (it makes
 * the app's arena), else what each session after the first added. */
static double per_session(const long *mem, int accepted)
{
    if (accepted < 1 || mem[1] < 0 || mem[2] < 0)
        return NAN;
    return accepted == 1 ? (double)(mem[1] - mem[0])
                         : (double)(mem[2] - mem[1]) / (accepted - 1);
}

/* Total messages per second of wall time (the second pass, the first beside it) and, less
 * moved by the machine's other load, the CPU both processes spent per message in the
 * second; each ÷ one session's. */
static void throughput_rows(const struct sess_ctx *c, int idx)
{
    static double one[2][3];
    const struct sess_res *r = c->res;
    int lend = c->provider == SHMIPC_PROVIDER_LEND;
    double v[3] = {r->ops_per_s > 0 ? r->ops_per_s : NAN,
                   r->cold_ops_per_s > 0 ? r->cold_ops_per_s : NAN,
                   r->msgs ? (r->cpu_ns[0] + r->cpu_ns[1]) / (double)r->msgs / 1e3 : NAN};
    static const char *metric[3] = {"total messages per s",
                                    "total messages per s, first pass (cold)",
                                    "CPU us per message, server + client"};
    static const char *goal[3] = {">= 0.8", NULL, "<= 1.25"};

    for (int k = 0; k < 3; k++) {
        struct scale_row row = {.part = "sessions",
                                .provider = scale_provider_name(c->provider),
                                .n = c->n,
                                .ratio = -1,
                                .metric = metric[k],
                                .value = v[k]};
        if (idx == 0)
            one[lend][k] = v[k];
        else if (one[lend][k] > 0 && !isnan(v[k])) {
            row.ratio = v[k] / one[lend][k];
            row.base = "1 session";
            row.goal = goal[k];
        }
        scale_add(&row);
    }
}

static void report(const struct sess_ctx *c, int idx)
{
    static double connect_shared[3];
    const struct sess_res *r = c->res;
    const char *prov = scale_provider_name(c->provider);
    int lend = c->provider == SHMIPC_PROVIDER_LEND;
    struct scale_row row = {.part = "sessions", .provider = prov, .n = c->n, .ratio = -1};

    row.metric = "sessions connected";
    row.value = r->ok;
    row.ratio = (double)r->ok / c->n;
    row.base = "of n";
    row.goal = ">= 1";
    snprintf(row.note, sizeof row.note, "%s%s%s", r->failed ? r->err : "",
             r->failed && r->server_err[0] ? "; server: " : "", r->server_err);
    scale_add(&row);

    row = (struct scale_row){.part = "sessions",
                             .provider = prov,
                             .n = c->n,
                             .ratio = -1,
                             .metric = "connect ms per session",
                             .value = r->connect_ms};
    if (!lend)
        connect_shared[idx] = r->connect_ms;
    else if (connect_shared[idx] > 0) {
        row.ratio = r->connect_ms / connect_shared[idx];
        row.base = "shared";
        row.goal = "<= 2";
    }
    scale_add(&row);

    row = (struct scale_row){.part = "sessions",
                             .provider = prov,
                             .n = c->n,
                             .ratio = -1,
                             .metric = "server RSS KiB per session",
                             .value = per_session(r->rss, r->accepted),
                             .goal = lend && c->n > 1 ? "<= 256" : NULL};
    scale_add(&row);
    if (c->n > 1) { /* one session's Pss mostly moves as the client shares pages */
        row.metric = "server PSS KiB per session";
        row.value = per_session(r->pss, r->accepted);
        row.goal = NULL;
        scale_add(&row);
    }

    throughput_rows(c, idx);
}

void scale_sessions(const struct scale_cfg *cfg, int provider)
{
    for (int idx = 0; idx < 3 && cfg->sessions[idx]; idx++) {
        struct sess_res *res = scale_shared(sizeof *res);
        struct sess_ctx c = {.cfg = cfg,
                             .provider = provider,
                             .n = cfg->sessions[idx],
                             .res = res};
        pid_t srv, cli;

        printf("sessions, %s provider, %d ...\n", scale_provider_name(provider), c.n);
        scale_name(c.name, sizeof c.name, "sessions", provider, c.n);
        scale_pipe(c.listening);
        scale_pipe(c.ready);
        srv = scale_spawn(server, &c);
        cli = scale_spawn(client, &c);
        close(c.listening[0]);
        close(c.listening[1]);
        close(c.ready[0]);
        close(c.ready[1]);
        scale_wait(srv);
        scale_wait(cli);
        report(&c, idx);
        scale_unshare(res, sizeof *res);
    }
}

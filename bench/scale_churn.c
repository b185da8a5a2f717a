/* bench/scale, churn: a lend-provider server process lives through many client
 * lifetimes. Each client (a process) connects, receives a 4 KiB object the server lends it
 * with a message, borrows it, releases it, and lends the server a 4 KiB object of its own
 * arena with its answer (the server borrows it, so it maps the client's pool), then closes
 * the session. Every tenth client is SIGKILLed instead, in turn right after connecting,
 * while it holds the server's loan, or right after lending its own object. INFLIGHT
 * clients are alive at once. At each mark (2k, 10k, 20k lifetimes) the bench lets every
 * client end, the server closes their sessions and reads its own RSS
 * (/proc/self/smaps_rollup): what it keeps after that many lifetimes. The goal: less than
 * 1 MiB of growth after the first mark. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "scale.h"

#define OBJ_SIZE 4096
#define IDLE_MS 60000 /* the server gives up after this long without an event */

struct churn_res {
    long rss[3], pss[3];
    int failed_clients;
    char client_err[SCALE_ERR], server_err[SCALE_ERR];
};

struct churn_ctx {
    const struct scale_cfg *cfg;
    long me;
    char name[96];
    int ctl[2]; /* bench -> server: sessions to expect by the next mark; EOF: stop */
    int ack[2]; /* server -> bench: measured */
    struct churn_res *res;
};

/* Where client `me` is killed: -1 (never), 0 right after connecting, 1 holding the
 * server's loan, 2 right after lending its own object. */
static int kill_point(long me)
{
    return me % 10 == 9 ? (int)(me / 10 % 3) : -1;
}

static int client_fail(struct churn_ctx *c, int rc)
{
    char e[SCALE_ERR];

    if (!c->res->client_err[0])
        snprintf(c->res->client_err, sizeof c->res->client_err, "client %ld: %s", c->me,
                 scale_error(rc, e, sizeof e));
    return 2;
}

/* Release what the server lent, lend it an object of this side's with the answer. */
static int answer(shmipc_session *s, shmipc_obj *theirs)
{
    shmipc_obj *mine;
    int rc;

    shmipc_obj_unref(theirs);
    if ((rc = shmipc_obj_new(shmipc_session_arena(s), OBJ_SIZE, &mine)) != 0)
        return rc;
    memset(shmipc_obj_ptr(mine), 2, OBJ_SIZE);
    rc = shmipc_send(s, "y", 1, mine);
    shmipc_obj_unref(mine);
    return rc;
}

static int client(void *arg)
{
    struct churn_ctx *c = arg;
    shmipc_client_opts co;
    shmipc_session *s;
    shmipc_obj *o = NULL;
    char buf[16];
    size_t len;
    int rc;

    shmipc_client_opts_init(&co);
    co.wait = 1;
    co.timeout_ms = SCALE_TIMEOUT_MS;
    if ((rc = shmipc_connect(c->name, SCALE_APP, &co, &s)) != 0)
        return client_fail(c, rc);
    if (kill_point(c->me) == 0)
        raise(SIGKILL);
    if ((rc = shmipc_recv(s, buf, sizeof buf, &len, &o, SCALE_TIMEOUT_MS)) != 0 || !o)
        return client_fail(c, rc ? rc : SHMIPC_EINVAL);
    if (kill_point(c->me) == 1)
        raise(SIGKILL); /* with the loan held, no goodbye */
    if ((rc = answer(s, o)) != 0)
        return client_fail(c, rc);
    if (kill_point(c->me) == 2)
        raise(SIGKILL);
    shmipc_session_close(s);
    return 0;
}

/* Lend the new client an object with a message; 0, or the session is to be dropped. */
static int greet(shmipc_session *s)
{
    shmipc_obj *o;
    int rc = shmipc_obj_new(shmipc_session_arena(s), OBJ_SIZE, &o);

    if (rc != 0)
        return rc;
    memset(shmipc_obj_ptr(o), 1, OBJ_SIZE);
    rc = shmipc_send_timeout(s, "x", 1, o, 0);
    shmipc_obj_unref(o);
    return rc;
}

static void drop(int ep, shmipc_session *s, long *closed)
{
    epoll_ctl(ep, EPOLL_CTL_DEL, shmipc_session_fd(s), NULL);
    shmipc_session_close(s);
    (*closed)++;
}

static void accept_ready(int ep, shmipc_server *srv, long *closed)
{
    shmipc_session *s;

    while (shmipc_server_accept(srv, 0, &s) == 0) {
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = s};
        if (greet(s) != 0 || epoll_ctl(ep, EPOLL_CTL_ADD, shmipc_session_fd(s), &ev) != 0)
            drop(ep, s, closed);
    }
}

/* Read what the session has (borrowing, reading and releasing the client's object); drop
 * the session once its client is gone. */
static void serve(int ep, shmipc_session *s, long *closed)
{
    char buf[16];
    size_t len;
    shmipc_obj *o = NULL;
    int rc;

    while ((rc = shmipc_recv(s, buf, sizeof buf, &len, &o, 0)) == 0) {
        if (o && *(const volatile unsigned char *)shmipc_obj_ptr(o) != 2)
            break; /* not what the client wrote: drop the session */
        shmipc_obj_unref(o);
        o = NULL;
    }
    shmipc_obj_unref(o);
    if (rc != SHMIPC_ETIMEDOUT)
        drop(ep, s, closed);
}

static int loop(struct churn_ctx *c, shmipc_server *srv, int ep)
{
    long closed = 0, expect = -1;
    int mark = 0;

    while (mark < 3) {
        struct epoll_event evs[64];
        int n = epoll_wait(ep, evs, 64, IDLE_MS);
        if (n == 0 || (n < 0 && errno != EINTR))
            return -1;
        for (int i = 0; i < n; i++) {
            if (evs[i].data.ptr == srv)
                accept_ready(ep, srv, &closed);
            else if (evs[i].data.ptr == c)
                expect = scale_read(c->ctl[0], &expect, sizeof expect) == 0 ? expect : -2;
            else
                serve(ep, evs[i].data.ptr, &closed);
        }
        if (expect == -2)
            return -1;
        if (expect >= 0 && closed >= expect) {
            scale_memory(&c->res->rss[mark], &c->res->pss[mark]);
            scale_write(c->ack[1], "x", 1);
            expect = -1;
            mark++;
        }
    }
    return 0;
}

static int server(void *arg)
{
    struct churn_ctx *c = arg;
    shmipc_server_opts so;
    shmipc_server *srv;
    struct epoll_event ev = {.events = EPOLLIN};
    int ep = epoll_create1(EPOLL_CLOEXEC), rc;

    close(c->ctl[1]);
    close(c->ack[0]);
    shmipc_server_opts_init(&so);
    so.provider = SHMIPC_PROVIDER_LEND;
    if ((rc = shmipc_server_open(c->name, &so, &srv)) != 0) {
        scale_error(rc, c->res->server_err, sizeof c->res->server_err);
        return 1;
    }
    ev.data.ptr = srv;
    epoll_ctl(ep, EPOLL_CTL_ADD, shmipc_server_fd(srv), &ev);
    ev.data.ptr = c;
    epoll_ctl(ep, EPOLL_CTL_ADD, c->ctl[0], &ev);
    if (loop(c, srv, ep) != 0)
        snprintf(c->res->server_err, sizeof c->res->server_err,
                 "the server stopped waiting (no event for %d s)", IDLE_MS / 1000);
    shmipc_server_close(srv); /* the sessions still open go with the process */
    close(ep);
    return 0;
}

/* Wait for one child; 1 if it was a client that lived its life (ended or was killed as
 * planned), 0 if it failed, -1 if it was the server. */
static int reap(pid_t server_pid)
{
    int st;
    pid_t pid;

    while ((pid = wait(&st)) < 0 && errno == EINTR)
        ;
    if (pid == server_pid || pid < 0)
        return -1;
    return (WIFEXITED(st) && WEXITSTATUS(st) == 0) ||
           (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
}

/* Run client lifetimes up to the mark, then let the server measure; 0, or -1. */
static int phase(struct churn_ctx *c, pid_t srv, long mark, long *lived, long *alive)
{
    char byte;
    int r;

    for (; c->me < mark || *alive > 0;) {
        if (c->me < mark && *alive < c->cfg->churn_inflight) {
            scale_spawn(client, c);
            c->me++;
            (*alive)++;
            continue;
        }
        if ((r = reap(srv)) < 0)
            return -1;
        (*alive)--;
        *lived += r;
        c->res->failed_clients += !r;
    }
    if (scale_write(c->ctl[1], lived, sizeof *lived) != 0 ||
        !scale_readable(c->ack[0], IDLE_MS))
        return -1;
    return scale_read(c->ack[0], &byte, 1);
}

static void report(const struct scale_cfg *cfg, const struct churn_res *r, int marks)
{
    for (int k = 0; k < 3; k++) {
        struct scale_row row = {.part = "churn",
                                .provider = "lend",
                                .n = cfg->churn[k],
                                .metric = "server RSS MiB",
                                .ratio = -1,
                                .value = k < marks ? r->rss[k] / 1024.0 : NAN};
        if (k == 0)
            snprintf(row.note, sizeof row.note, "%s", r->server_err);
        scale_add(&row);
    }
    struct scale_row growth = {.part = "churn",
                               .provider = "lend",
                               .n = cfg->churn[2],
                               .metric = "RSS growth MiB after the first mark",
                               .ratio = -1,
                               .value = marks == 3 ? (r->rss[2] - r->rss[0]) / 1024.0 : NAN,
                               .goal = "< 1"};
    scale_add(&growth);
    struct scale_row failed = {.part = "churn",
                               .provider = "lend",
                               .n = cfg->churn[2],
                               .metric = "client lifetimes that failed",
                               .ratio = -1,
                               .value = r->failed_clients,
                               .goal = "<= 0"};
    snprintf(failed.note, sizeof failed.note, "%s", r->client_err);
    scale_add(&failed);
}

void scale_churn(const struct scale_cfg *cfg)
{
    struct churn_ctx c = {.cfg = cfg, .res = scale_shared(sizeof *c.res)};
    long lived = 0, alive = 0;
    int marks = 0;
    pid_t srv;

    printf("churn: %ld lend client lifetimes ...\n", cfg->churn[2]);
    scale_name(c.name, sizeof c.name, "churn", SHMIPC_PROVIDER_LEND, cfg->churn[2]);
    scale_pipe(c.ctl);
    scale_pipe(c.ack);
    srv = scale_spawn(server, &c);
    close(c.ctl[0]);
    close(c.ack[1]);
    while (marks < 3 && phase(&c, srv, cfg->churn[marks], &lived, &alive) == 0) {
        printf("  %ld lifetimes: server RSS %.2f MiB\n", cfg->churn[marks],
               c.res->rss[marks] / 1024.0);
        fflush(stdout);
        marks++;
    }
    close(c.ctl[1]);
    close(c.ack[0]);
    if (marks < 3)
        kill(srv, SIGKILL);
    while (alive > 0 && reap(-1) >= 0)
        alive--;
    scale_wait(srv);
    report(cfg, c.res, marks);
    scale_unshare(c.res, sizeof *c.res);
}

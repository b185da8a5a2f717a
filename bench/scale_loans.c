/* bench/scale, live loans: the owner (a server process) holds 1k ... 1M live loans to its
 * client (another process) and, at each size, times lend/release ops on top of them: make
 * a 64-byte object, lend it (the loan is recorded in the owner's refcount table), drop the
 * owner's handle; batches of blobs go to the client in one message, which borrows and
 * releases each and answers; the owner frees when it takes the releases. What is timed is
 * the owner's CPU (CLOCK_PROCESS_CPUTIME_ID) per op, median of REPS, so the client's work
 * and the machine's other load count as little as possible. The held loans are lent and
 * never borrowed: they stay in the table until the session ends. A size that cannot be
 * reached is reported with the exact error, and the larger ones are skipped. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "scale.h"

#define REPS 5
#define BATCH 256 /* blobs per message: 16 KiB */
#define OBJ_SIZE 64
#define MiB ((size_t)1 << 20)

struct loans_res {
    int level_ok[SCALE_MAX_LEVELS]; /* 1: timed, -1: failed */
    double ns_op[SCALE_MAX_LEVELS];
    char err[SCALE_ERR];
};

struct loans_ctx {
    const struct scale_cfg *cfg;
    int provider;
    char name[96];
    struct loans_res *res;
};

static int client(void *arg)
{
    struct loans_ctx *c = arg;
    static unsigned char buf[BATCH * SHMIPC_BLOB_SIZE];
    shmipc_client_opts co;
    shmipc_session *s;
    size_t len;
    int rc;

    shmipc_client_opts_init(&co);
    co.wait = 1;
    co.timeout_ms = SCALE_TIMEOUT_MS;
    if (shmipc_connect(c->name, SCALE_APP, &co, &s) != 0)
        return 1;
    while ((rc = shmipc_recv(s, buf, sizeof buf, &len, NULL, -1)) == 0 && len != 3) {
        for (size_t off = 0; off + SHMIPC_BLOB_SIZE <= len; off += SHMIPC_BLOB_SIZE) {
            shmipc_obj *o;
            if (shmipc_borrow(s, (const shmipc_blob *)(buf + off), &o) == 0)
                shmipc_obj_unref(o);
        }
        if ((rc = shmipc_send(s, NULL, 0, NULL)) != 0)
            break;
    }
    shmipc_session_close(s);
    return rc != 0;
}

/* One new object, lent (its blob to *b, or discarded), the owner's handle dropped. */
static int lend_one(shmipc_session *s, const char **what, shmipc_blob *b)
{
    shmipc_blob scratch;
    shmipc_obj *o;
    int rc = shmipc_obj_new(shmipc_session_arena(s), OBJ_SIZE, &o);

    *what = "shmipc_obj_new";
    if (rc != 0)
        return rc;
    *what = "shmipc_lend";
    rc = shmipc_lend(s, o, b ? b : &scratch);
    shmipc_obj_unref(o);
    return rc;
}

static int fail(struct loans_res *res, int rc, const char *what, long live)
{
    char e[SCALE_ERR - 64];

    snprintf(res->err, sizeof res->err, "%s failed at %ld live loans: %s", what, live,
             scale_error(rc, e, sizeof e));
    return rc;
}

static int fill(shmipc_session *s, long target, long *live, struct loans_res *res)
{
    const char *what;
    int rc;

    for (; *live < target; (*live)++)
        if ((rc = lend_one(s, &what, NULL)) != 0)
            return fail(res, rc, what, *live);
    return 0;
}

/* Owner CPU ns per lend/release op over n ops, in batches the client borrows and releases. */
static int time_ops(shmipc_session *s, long n, long live, struct loans_res *res, double *ns)
{
    static shmipc_blob blobs[BATCH];
    const char *what;
    char reply[16];
    size_t len;
    double t0 = scale_cpu_ns();
    int rc;

    for (long done = 0; done < n; done += BATCH) {
        for (int i = 0; i < BATCH; i++)
            if ((rc = lend_one(s, &what, &blobs[i])) != 0)
                return fail(res, rc, what, live + i);
        if ((rc = shmipc_send(s, blobs, sizeof blobs, NULL)) != 0)
            return fail(res, rc, "shmipc_send", live);
        if ((rc = shmipc_recv(s, reply, sizeof reply, &len, NULL, SCALE_TIMEOUT_MS)) != 0)
            return fail(res, rc, "shmipc_recv", live);
    }
    shmipc_session_poll(s); /* the last releases */
    *ns = (scale_cpu_ns() - t0) / (double)((n + BATCH - 1) / BATCH * BATCH);
    return 0;
}

static void run_levels(const struct scale_cfg *cfg, shmipc_session *s, struct loans_res *res)
{
    long live = 0;
    double t[REPS];

    for (int l = 0; l < SCALE_MAX_LEVELS && cfg->loans[l]; l++) {
        int rc = fill(s, cfg->loans[l], &live, res);
        for (int r = 0; rc == 0 && r < REPS; r++)
            rc = time_ops(s, cfg->loan_ops / REPS, live, res, &t[r]);
        if (rc != 0) {
            res->level_ok[l] = -1;
            return;
        }
        res->level_ok[l] = 1;
        res->ns_op[l] = scale_median(t, REPS);
    }
}

static int server(void *arg)
{
    struct loans_ctx *c = arg;
    shmipc_server_opts so;
    shmipc_server *srv;
    shmipc_session *s;
    int rc;

    shmipc_server_opts_init(&so);
    so.provider = c->provider;
    if (c->provider == SHMIPC_PROVIDER_SHARED)
        so.session_arena_size = 1024 * MiB; /* room for 1M objects and their counts */
    if ((rc = shmipc_server_open(c->name, &so, &srv)) != 0) {
        fail(c->res, rc, "shmipc_server_open", 0);
        return 1;
    }
    if ((rc = shmipc_server_accept(srv, SCALE_TIMEOUT_MS, &s)) != 0) {
        fail(c->res, rc, "shmipc_server_accept", 0);
        shmipc_server_close(srv);
        return 1;
    }
    run_levels(c->cfg, s, c->res);
    shmipc_send_timeout(s, "end", 3, NULL, SCALE_TIMEOUT_MS);
    shmipc_session_close(s);
    shmipc_server_close(srv);
    return 0;
}

static void report(const struct scale_cfg *cfg, int provider, const struct loans_res *res)
{
    for (int l = 0; l < SCALE_MAX_LEVELS && cfg->loans[l]; l++) {
        struct scale_row row = {.part = "loans",
                                .provider = scale_provider_name(provider),
                                .n = cfg->loans[l],
                                .metric = "owner CPU ns per lend/release op",
                                .value = NAN,
                                .ratio = -1,
                                .base = "1k",
                                .goal = l == 0 ? NULL : "<= 1.3"};
        if (res->level_ok[l] == 1) {
            row.value = res->ns_op[l];
            if (res->level_ok[0] == 1)
                row.ratio = res->ns_op[l] / res->ns_op[0];
        } else if (res->level_ok[l] == -1 || (l == 0 && res->err[0])) {
            snprintf(row.note, sizeof row.note, "%s", res->err);
        } else {
            snprintf(row.note, sizeof row.note, "not run (a smaller size failed)");
        }
        scale_add(&row);
    }
}

void scale_loans(const struct scale_cfg *cfg, int provider)
{
    struct loans_res *res = scale_shared(sizeof *res);
    struct loans_ctx c = {.cfg = cfg, .provider = provider, .res = res};
    pid_t srv, cli;

    printf("loans, %s provider ...\n", scale_provider_name(provider));
    scale_name(c.name, sizeof c.name, "loans", provider, 0);
    srv = scale_spawn(server, &c);
    cli = scale_spawn(client, &c);
    if (scale_wait(srv) != 0)
        kill(cli, SIGKILL); /* it would wait for the server */
    scale_wait(cli);
    report(cfg, provider, res);
    scale_unshare(res, sizeof *res);
}

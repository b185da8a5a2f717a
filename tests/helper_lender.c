/* helper_lender — a C owner that lends objects to peers in other languages and reports
 * whether their loans all came back, however the peers ended (tests/python kill theirs).
 *
 *   helper_lender SERVER shared|lend CLIENTS COUNT SIZE
 *
 * Serves CLIENTS clients one after the other. To each it lends COUNT objects of SIZE bytes
 * (alternately in the session and the app arena, object i filled with the byte i & 0xff),
 * each with the message "gift <i>", then sends "done", and waits until the client is gone
 * (closed or killed). Prints "listening SERVER" once clients may connect and, per client,
 * "client <k>: session <used> -> <used>, app <used> -> <used>: ok|FAILED" (arena `used`
 * before the client came and after it went). Exit status: 0 all arenas back to baseline,
 * 1 otherwise, 3 could not start or serve.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <shmipc.h>

static int fail(const char *what, int rc)
{
    fprintf(stderr, "helper_lender: %s: %s (%s)\n", what, shmipc_strerror(rc),
            shmipc_error_detail());
    return 3;
}

static size_t used(shmipc_arena *a)
{
    struct shmipc_arena_stats st;
    return shmipc_arena_stats(a, &st) == 0 ? st.used : 0;
}

static int lend_all(shmipc_session *s, unsigned count, size_t size)
{
    char msg[32];
    int rc;

    for (unsigned i = 0; i < count; i++) {
        shmipc_arena *a = i % 2 ? shmipc_app_arena(s) : shmipc_session_arena(s);
        shmipc_obj *o;
        if ((rc = shmipc_obj_new(a, size, &o)) != 0)
            return fail("allocating", rc);
        memset(shmipc_obj_ptr(o), (int)(i & 0xff), size);
        rc = shmipc_send(s, msg, (size_t)snprintf(msg, sizeof msg, "gift %u", i), o);
        shmipc_obj_unref(o); /* the loan holds it now */
        if (rc != 0)
            return fail("sending", rc);
    }
    rc = shmipc_send(s, "done", 4, NULL);
    return rc ? fail("sending done", rc) : 0;
}

/* Wait until the peer has gone, releasing whatever it sends meanwhile. */
static int wait_gone(shmipc_session *s)
{
    char msg[64];
    size_t len;
    int rc;

    while ((rc = shmipc_recv(s, msg, sizeof msg, &len, NULL, 10000)) == 0)
        ;
    return rc == SHMIPC_ECLOSED ? 0 : fail("waiting for the client to go", rc);
}

static int serve_one(shmipc_server *srv, int k, unsigned count, size_t size)
{
    shmipc_session *s;
    size_t base_s, base_a, after_s, after_a;
    int rc = shmipc_server_accept(srv, 10000, &s);

    if (rc != 0)
        return fail("accept", rc);
    base_s = used(shmipc_session_arena(s));
    base_a = used(shmipc_app_arena(s));
    rc = lend_all(s, count, size);
    if (rc == 0)
        rc = wait_gone(s);
    after_s = used(shmipc_session_arena(s));
    after_a = used(shmipc_app_arena(s));
    if (rc == 0 && (after_s != base_s || after_a != base_a))
        rc = 1;
    printf("client %d: session %zu -> %zu, app %zu -> %zu: %s\n", k, base_s, after_s, base_a,
           after_a, rc == 0 ? "ok" : "FAILED");
    fflush(stdout);
    shmipc_session_close(s);
    return rc;
}

int main(int argc, char **argv)
{
    shmipc_server_opts so;
    shmipc_server *srv;
    int clients, rc, worst = 0;

    if (argc != 6 || (strcmp(argv[2], "shared") != 0 && strcmp(argv[2], "lend") != 0) ||
        (clients = atoi(argv[3])) <= 0) {
        fprintf(stderr, "usage: helper_lender SERVER shared|lend CLIENTS COUNT SIZE\n");
        return 3;
    }
    shmipc_server_opts_init(&so);
    so.provider = strcmp(argv[2], "lend") == 0 ? SHMIPC_PROVIDER_LEND : SHMIPC_PROVIDER_SHARED;
    if ((rc = shmipc_server_open(argv[1], &so, &srv)) != 0)
        return fail("server_open", rc);
    printf("listening %s\n", argv[1]);
    fflush(stdout);
    for (int k = 0; k < clients; k++) {
        rc = serve_one(srv, k, (unsigned)strtoul(argv[4], NULL, 10),
                       (size_t)strtoull(argv[5], NULL, 10));
        if (rc > worst)
            worst = rc;
    }
    shmipc_server_close(srv);
    return worst;
}

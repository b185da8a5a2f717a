/* echo_client — the client of the echo roles (examples/README.md), in C.
 *
 * Connects to an echo server (written in any language), checks every object it borrows,
 * answers each with an object of its own — the bytes reversed, or the catalogue rebuilt in
 * reverse order — and exits 0 when the server says "bye".
 *
 *   echo_client [-n SERVER] [-a APP] [-t TIMEOUT_MS]
 *
 * Exit status: 0 all checks passed, 2 a borrowed object did not match its message,
 * 3 could not connect, 4 a protocol or session error.
 *
 * Build: cc -Iexamples/include echo_client.c $(pkg-config --cflags --libs shmipc)
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <shmipc.h>

#include "shmipc_echo.h"

static int fail(const char *what, int rc, int status)
{
    fprintf(stderr, "echo_client: %s: %s (%s)\n", what, shmipc_strerror(rc),
            shmipc_error_detail());
    return status;
}

/* Answer "sum": the same bytes, reversed, in an object of ours. */
static int answer_bytes(shmipc_session *s, shmipc_obj *got, uint64_t n, uint64_t hash)
{
    char msg[ECHO_MSG_MAX];
    shmipc_obj *mine;
    int rc;

    if (shmipc_obj_size(got) != n || echo_checksum(shmipc_obj_ptr(got), n) != hash)
        return 2;
    if ((rc = shmipc_obj_new(shmipc_session_arena(s), n, &mine)) != 0)
        return fail("allocating the answer", rc, 4);
    echo_reverse(shmipc_obj_ptr(mine), shmipc_obj_ptr(got), n);
    rc = shmipc_send(s, msg, echo_format(msg, "sum", n, echo_checksum(shmipc_obj_ptr(mine), n)),
                     mine);
    shmipc_obj_unref(mine);
    return rc ? fail("sending the answer", rc, 4) : 0;
}

/* Answer "catalog": walk the server's catalogue, send the same records in reverse order. */
static int answer_catalog(shmipc_session *s, shmipc_obj *got, uint64_t n, uint64_t hash)
{
    char msg[ECHO_MSG_MAX];
    uint64_t digest, count;
    shmipc_obj *mine;
    int rc;

    if (catalog_digest(shmipc_obj_ptr(got), shmipc_obj_size(got), &digest, &count) != 0 ||
        count != n || digest != hash || n > UINT32_MAX)
        return 2;
    if ((rc = shmipc_obj_new(shmipc_session_arena(s), catalog_size((uint32_t)n), &mine)) != 0)
        return fail("allocating the catalogue", rc, 4);
    catalog_build(shmipc_obj_ptr(mine), shmipc_obj_size(mine), (uint32_t)n, 1);
    catalog_digest(shmipc_obj_ptr(mine), shmipc_obj_size(mine), &digest, &count);
    rc = shmipc_send(s, msg, echo_format(msg, "catalog", count, digest), mine);
    shmipc_obj_unref(mine);
    return rc ? fail("sending the catalogue", rc, 4) : 0;
}

static int serve(shmipc_session *s, int timeout_ms)
{
    for (;;) {
        char msg[ECHO_MSG_MAX];
        shmipc_obj *got = NULL;
        uint64_t n, hash;
        size_t len;
        int rc = shmipc_recv(s, msg, sizeof msg, &len, &got, timeout_ms), status;

        if (rc != 0)
            return fail("receiving", rc, 4);
        if (len == 3 && memcmp(msg, "bye", 3) == 0 && !got)
            return 0;
        if (got && echo_parse(msg, len, "sum", &n, &hash))
            status = answer_bytes(s, got, n, hash);
        else if (got && echo_parse(msg, len, "catalog", &n, &hash))
            status = answer_catalog(s, got, n, hash);
        else
            status = 4;
        shmipc_obj_unref(got);
        if (status != 0) {
            fprintf(stderr, "echo_client: message '%.*s' failed its check (%d)\n", (int)len,
                    msg, status);
            return status;
        }
    }
}

int main(int argc, char **argv)
{
    const char *server = ECHO_DEFAULT_SERVER, *app = ECHO_DEFAULT_APP;
    shmipc_client_opts co;
    shmipc_session *s;
    int c, rc, timeout_ms = 10000;

    while ((c = getopt(argc, argv, "n:a:t:")) != -1) {
        switch (c) {
        case 'n': server = optarg; break;
        case 'a': app = optarg; break;
        case 't': timeout_ms = atoi(optarg); break;
        default:
            fprintf(stderr, "usage: echo_client [-n SERVER] [-a APP] [-t TIMEOUT_MS]\n");
            return 3;
        }
    }
    shmipc_client_opts_init(&co);
    co.timeout_ms = timeout_ms;
    if ((rc = shmipc_connect(server, app, &co, &s)) != 0)
        return fail("connect", rc, 3);
    rc = serve(s, timeout_ms);
    shmipc_session_close(s);
    return rc;
}

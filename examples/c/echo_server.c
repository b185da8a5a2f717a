/* echo_server — the server of the echo roles (examples/README.md), in C.
 *
 * Serves CLIENTS clients one after the other. To each it lends objects of the given sizes
 * and a catalogue, checks every answer (the bytes reversed; the catalogue rebuilt in
 * reverse order), says "bye", waits for the client to go, and checks that both arenas are
 * back at their baseline: nothing the client held was leaked, whatever language it is in.
 *
 *   echo_server [-n NAME] [-p shared|lend] [-c CLIENTS] [-s SIZE,SIZE,...] [-r RECORDS]
 *               [-t TIMEOUT_MS]
 *
 * Prints "listening NAME" once clients may connect, one line per client, and exits 0 if
 * every check passed (1 otherwise, 3 if it could not start).
 *
 * Build: cc -Iexamples/include echo_server.c $(pkg-config --cflags --libs shmipc)
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <shmipc.h>

#include "shmipc_echo.h"

struct options {
    const char *name;
    int provider;
    int clients;
    size_t sizes[16];
    int nsizes;
    uint32_t records;
    int timeout_ms;
};

static int fail(const char *what, int rc)
{
    fprintf(stderr, "echo_server: %s: %s (%s)\n", what, shmipc_strerror(rc),
            shmipc_error_detail());
    return 0;
}

/* Wait for the client's answer: "<word> <n> <hex>" with an object. */
static int recv_answer(shmipc_session *s, const struct options *o, const char *word,
                       uint64_t *n, uint64_t *hash, shmipc_obj **obj)
{
    char msg[ECHO_MSG_MAX];
    size_t len;
    int rc = shmipc_recv(s, msg, sizeof msg, &len, obj, o->timeout_ms);

    if (rc != 0)
        return fail("waiting for the answer", rc);
    if (!*obj || !echo_parse(msg, len, word, n, hash)) {
        fprintf(stderr, "echo_server: unexpected answer '%.*s'\n", (int)len, msg);
        shmipc_obj_unref(*obj);
        return 0;
    }
    return 1;
}

/* Lend n pattern bytes; the answer must hold them reversed. 1 if it does. */
static int check_bytes(shmipc_session *s, const struct options *o, size_t n)
{
    unsigned char *want = malloc(n);
    char msg[ECHO_MSG_MAX];
    shmipc_obj *obj, *answer;
    uint64_t got_n, hash;
    int rc, good = 0;

    if (!want)
        return 0;
    if ((rc = shmipc_obj_new(shmipc_session_arena(s), n, &obj)) != 0) {
        free(want);
        return fail("allocating an object", rc);
    }
    echo_fill(shmipc_obj_ptr(obj), n);
    echo_reverse(want, shmipc_obj_ptr(obj), n);
    rc = shmipc_send(s, msg, echo_format(msg, "sum", n, echo_checksum(shmipc_obj_ptr(obj), n)),
                     obj);
    shmipc_obj_unref(obj); /* the loan keeps it alive until the client lets go */
    if (rc != 0)
        fail("sending", rc);
    else if (recv_answer(s, o, "sum", &got_n, &hash, &answer)) {
        good = got_n == n && shmipc_obj_size(answer) == n &&
               echo_checksum(shmipc_obj_ptr(answer), n) == hash &&
               memcmp(shmipc_obj_ptr(answer), want, n) == 0;
        shmipc_obj_unref(answer);
    }
    free(want);
    return good;
}

/* Lend a catalogue; the answer must be the same records in reverse order. */
static int check_catalog(shmipc_session *s, const struct options *o)
{
    size_t size = catalog_size(o->records);
    char msg[ECHO_MSG_MAX];
    unsigned char *expect = malloc(size);
    shmipc_obj *obj, *answer;
    uint64_t digest, want, count, got_n, hash;
    int rc, good = 0;

    if (!expect || catalog_build(expect, size, o->records, 1) != 0 ||
        catalog_digest(expect, size, &want, &count) != 0) {
        free(expect);
        return 0;
    }
    free(expect);
    if ((rc = shmipc_obj_new(shmipc_session_arena(s), size, &obj)) != 0)
        return fail("allocating the catalogue", rc);
    catalog_build(shmipc_obj_ptr(obj), size, o->records, 0);
    catalog_digest(shmipc_obj_ptr(obj), size, &digest, &count);
    rc = shmipc_send(s, msg, echo_format(msg, "catalog", count, digest), obj);
    shmipc_obj_unref(obj);
    if (rc != 0)
        return fail("sending the catalogue", rc);
    if (!recv_answer(s, o, "catalog", &got_n, &hash, &answer))
        return 0;
    good = catalog_digest(shmipc_obj_ptr(answer), shmipc_obj_size(answer), &digest, &count) ==
               0 &&
           count == o->records && got_n == count && digest == hash && digest == want;
    shmipc_obj_unref(answer);
    return good;
}

static size_t used(shmipc_arena *a)
{
    struct shmipc_arena_stats st;
    return shmipc_arena_stats(a, &st) == 0 ? st.used : 0;
}

/* Say bye and wait until the client has gone. */
static int see_off(shmipc_session *s, const struct options *o)
{
    char msg[ECHO_MSG_MAX];
    size_t len;
    int rc = shmipc_send(s, "bye", 3, NULL);

    if (rc != 0)
        return fail("saying bye", rc);
    while ((rc = shmipc_recv(s, msg, sizeof msg, &len, NULL, o->timeout_ms)) == 0)
        ;
    return rc == SHMIPC_ECLOSED ? 1 : fail("waiting for the client to close", rc);
}

static int serve_one(shmipc_server *srv, const struct options *o, int index)
{
    shmipc_session *s;
    size_t base_s, base_a;
    int rc, good = 1, nbytes = 0;

    if ((rc = shmipc_server_accept(srv, o->timeout_ms, &s)) != 0)
        return fail("accept", rc);
    base_s = used(shmipc_session_arena(s));
    base_a = used(shmipc_app_arena(s));
    for (int i = 0; i < o->nsizes; i++)
        nbytes += check_bytes(s, o, o->sizes[i]);
    good = nbytes == o->nsizes;
    good &= check_catalog(s, o);
    good &= see_off(s, o);
    good &= used(shmipc_session_arena(s)) == base_s && used(shmipc_app_arena(s)) == base_a;
    printf("client %d (pid %ld): %d/%d buffers, catalogue of %u records, arenas back to "
           "baseline: %s\n",
           index, shmipc_session_peer_pid(s), nbytes, o->nsizes, (unsigned)o->records,
           good ? "ok" : "FAILED");
    fflush(stdout);
    shmipc_session_close(s);
    return good;
}

static int parse(int argc, char **argv, struct options *o)
{
    int c;

    *o = (struct options){.name = ECHO_DEFAULT_SERVER,
                          .clients = 1,
                          .records = 100,
                          .timeout_ms = 10000,
                          .nsizes = 3,
                          .sizes = {64, 65536, (size_t)1 << 20}};
    while ((c = getopt(argc, argv, "n:p:c:s:r:t:")) != -1) {
        switch (c) {
        case 'n': o->name = optarg; break;
        case 'p':
            if (strcmp(optarg, "lend") == 0)
                o->provider = SHMIPC_PROVIDER_LEND;
            else if (strcmp(optarg, "shared") != 0)
                return -1;
            break;
        case 'c': o->clients = atoi(optarg); break;
        case 'r': o->records = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 't': o->timeout_ms = atoi(optarg); break;
        case 's':
            o->nsizes = 0;
            for (char *tok = strtok(optarg, ","); tok && o->nsizes < 16;
                 tok = strtok(NULL, ","))
                o->sizes[o->nsizes++] = strtoull(tok, NULL, 0);
            break;
        default: return -1;
        }
    }
    for (int i = 0; i < o->nsizes; i++)
        if (o->sizes[i] == 0)
            return -1;
    return optind == argc && o->clients > 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    struct options o;
    shmipc_server_opts so;
    shmipc_server *srv;
    int rc, good = 0;

    if (parse(argc, argv, &o) != 0) {
        fprintf(stderr, "usage: echo_server [-n NAME] [-p shared|lend] [-c CLIENTS] "
                        "[-s SIZE,...] [-r RECORDS] [-t TIMEOUT_MS]\n");
        return 3;
    }
    shmipc_server_opts_init(&so);
    so.provider = o.provider;
    for (int i = 0; i < o.nsizes; i++) /* room for the largest object, with slack */
        if (o.sizes[i] * 2 + ((size_t)1 << 20) > so.session_arena_size)
            so.session_arena_size = o.sizes[i] * 2 + ((size_t)1 << 20);
    if ((rc = shmipc_server_open(o.name, &so, &srv)) != 0) {
        fail("server_open", rc);
        return 3;
    }
    printf("listening %s\n", o.name);
    fflush(stdout);
    for (int i = 0; i < o.clients; i++)
        good += serve_one(srv, &o, i);
    shmipc_server_close(srv);
    return good == o.clients ? 0 : 1;
}

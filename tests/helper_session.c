/* helper_session — a session peer the tests exec, so that peers are separate programs.
 *
 *   helper_session echo SERVER APP
 *       connect; for each message with an object: check the object against the checksum in
 *       the message ("sum <n> <hex>"), answer with an object of its own holding the same
 *       bytes reversed; release; on "bye", close and exit 0. Exit 2 on a bad checksum.
 *   helper_session hold SERVER APP
 *       connect; borrow every object that comes and keep it; after each, write one line
 *       "held <count>" to stdout. Runs until killed, or the server goes (exit 0); exit 4
 *       if receiving fails otherwise.
 *   helper_session chaos SERVER APP SEED
 *       connect; wait for a message "go"; then forever: at random lend/send objects of its own, receive and borrow,
 *       release, lend borrowed objects back. Runs until killed or the server goes.
 *   helper_session serve SERVER shared|lend
 *       serve one client (so that a test can kill a server): lend it objects of 1000 bytes
 *       of 0x5a, one a millisecond, until killed.
 */
#include <inttypes.h>
#include <stdint.h>

#include "helper_session.h"
#include "tap.h"

static shmipc_session *connect_or_die(const char *server, const char *app)
{
    shmipc_session *s;
    int rc = shmipc_connect(server, app, NULL, &s);

    if (rc != 0) {
        fprintf(stderr, "helper_session: connect: %s (%s)\n", shmipc_strerror(rc),
                shmipc_error_detail());
        exit(3);
    }
    return s;
}

static int echo(const char *server, const char *app)
{
    shmipc_session *s = connect_or_die(server, app);
    char msg[256];
    size_t len;

    for (;;) {
        shmipc_obj *o = NULL, *answer;
        unsigned long n;
        uint64_t sum;
        int rc = shmipc_recv(s, msg, sizeof msg - 1, &len, &o, 10000);
        if (rc != 0)
            return rc == SHMIPC_ECLOSED ? 0 : 4;
        msg[len] = '\0';
        if (strcmp(msg, "bye") == 0)
            break;
        if (!o || sscanf(msg, "sum %lu %" SCNx64, &n, &sum) != 2 || n != shmipc_obj_size(o) ||
            helper_checksum(shmipc_obj_ptr(o), n) != sum)
            return 2;
        if (shmipc_obj_new(shmipc_session_arena(s), n, &answer) != 0)
            return 5;
        helper_reverse(shmipc_obj_ptr(answer), shmipc_obj_ptr(o), n);
        shmipc_obj_unref(o);
        snprintf(msg, sizeof msg, "sum %lu %" PRIx64, n,
                 helper_checksum(shmipc_obj_ptr(answer), n));
        rc = shmipc_send(s, msg, strlen(msg), answer);
        shmipc_obj_unref(answer);
        if (rc != 0)
            return 6;
    }
    shmipc_session_close(s);
    return 0;
}

static int hold(const char *server, const char *app)
{
    shmipc_session *s = connect_or_die(server, app);
    char msg[256];
    size_t len;
    int count = 0;

    for (;;) {
        shmipc_obj *o = NULL;
        int rc = shmipc_recv(s, msg, sizeof msg, &len, &o, -1);
        if (rc == SHMIPC_ECLOSED)
            return 0;
        if (rc != 0) {
            fprintf(stderr, "helper_session: hold: %s (%s)\n", shmipc_strerror(rc),
                    shmipc_error_detail());
            return 4;
        }
        if (o) /* kept on purpose: we are killed holding them */
            printf("held %d\n", ++count);
        fflush(stdout);
    }
}

static int chaos(const char *server, const char *app, unsigned seed)
{
    shmipc_session *s = connect_or_die(server, app);
    shmipc_obj *kept[16] = {0};
    char msg[64];
    size_t len;

    rnd_seed(seed);
    if (shmipc_recv(s, msg, sizeof msg, &len, NULL, 10000) != 0 || len != 2 ||
        memcmp(msg, "go", 2) != 0)
        return 3;
    for (;;) {
        unsigned i = (unsigned)(rnd() % 16);
        shmipc_obj *o = NULL;
        shmipc_blob blob;
        switch (rnd() % 5) {
        case 0: /* lend an object of our own with a message */
            if (shmipc_obj_new(rnd() % 2 ? shmipc_session_arena(s) : shmipc_app_arena(s),
                               1 + rnd() % 4096, &o) == 0) {
                if (shmipc_send(s, "own", 3, o) == SHMIPC_ECLOSED)
                    return 0;
                shmipc_obj_unref(o);
            }
            break;
        case 1: /* receive, maybe keep what came */
        case 2:
            if (shmipc_recv(s, msg, sizeof msg, &len, &o, 1) == SHMIPC_ECLOSED)
                return 0;
            if (o) {
                shmipc_obj_unref(kept[i]);
                kept[i] = o;
            }
            break;
        case 3: /* hand something borrowed back */
            if (kept[i] && shmipc_send(s, "back", 4, kept[i]) == SHMIPC_ECLOSED)
                return 0;
            break;
        case 4: /* release, or lend a blob that is never borrowed */
            if (kept[i] && rnd() % 2) {
                shmipc_obj_unref(kept[i]);
                kept[i] = NULL;
            } else if (kept[i]) {
                shmipc_lend(s, kept[i], &blob);
            }
            break;
        }
    }
}

static int serve(const char *name, const char *provider)
{
    shmipc_server_opts opts;
    shmipc_server *srv;
    shmipc_session *s;
    shmipc_obj *o;

    shmipc_server_opts_init(&opts);
    opts.provider = strcmp(provider, "lend") == 0 ? SHMIPC_PROVIDER_LEND : SHMIPC_PROVIDER_SHARED;
    if (shmipc_server_open(name, &opts, &srv) != 0 || shmipc_server_accept(srv, 10000, &s) != 0)
        return 3;
    printf("accepted\n");
    fflush(stdout);
    for (;;) {
        if (shmipc_obj_new(shmipc_session_arena(s), 1000, &o) == 0) {
            memset(shmipc_obj_ptr(o), 0x5a, 1000);
            if (shmipc_send(s, "gift", 4, o) == SHMIPC_ECLOSED)
                return 0;
            shmipc_obj_unref(o);
        }
        usleep(1000);
    }
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "echo") == 0)
        return echo(argv[2], argv[3]);
    if (argc == 4 && strcmp(argv[1], "hold") == 0)
        return hold(argv[2], argv[3]);
    if (argc == 5 && strcmp(argv[1], "chaos") == 0)
        return chaos(argv[2], argv[3], (unsigned)atoi(argv[4]));
    if (argc == 4 && strcmp(argv[1], "serve") == 0)
        return serve(argv[2], argv[3]);
    fprintf(stderr, "usage: helper_session echo|hold|chaos|serve ...\n");
    return 64;
}

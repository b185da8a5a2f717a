/* helper_session — a session peer the tests exec, so that peers are separate programs.
 *
 *   helper_session echo SERVER APP
 *       connect; for each message with an object: check the object against the checksum in
 *       the message ("sum <n> <hex>"), answer with an object of its own holding the same
 *       bytes reversed; release; on "bye", close and exit 0. Exit 2 on a bad checksum.
 *   helper_session hold SERVER APP
 *       connect; borrow every object that comes and keep it; after each, write one line
 *       "held <count>" to stdout. Runs until killed, or the server goes (it lets go of
 *       them, closes and exits 0); exit 4 if receiving fails otherwise, 5 out of memory.
 *   helper_session chaos SERVER APP SEED
 *       connect; wait for a message "go"; then forever: at random lend/send objects of its own, receive and borrow,
 *       release, lend borrowed objects back. Runs until killed or the server goes.
 *   helper_session serve SERVER shared|lend
 *       serve one client (so that a test can kill a server): lend it objects of 1000 bytes
 *       of 0x5a, one a millisecond, until killed. *   helper_session lendpoll SERVER shared|lend
 *       serve one client for the pid namespace test (tests/test_pidns.c): print
 *       "peer <shmipc_session_peer_pid>"; keep an object of its own (app arena, 0x3c);
 *       lend two of 1000 bytes of 0x5a (session arena, app arena); on "got", poll and churn
 *       (objects allocated and freed, 0xa5) for 500 ms, then print "during <session
 *       arena's used - base> <app arena's used - base> <own object intact>" and send
 *       "check"; release its own object and wait, polling, until the arenas are back to
 *       their base (at most 5 s, after the session ended): "after <session> <app>".
 *   helper_session keep SERVER APP open|goodbye
 *       the client of lendpoll: print "peer <pid>"; borrow the two gifts, make an object
 *       of its own (session arena, 0x3c), say "got"; then (open) poll, churn and receive until "check",
 *       or (goodbye) close the session keeping them and wait 800 ms; print "intact 0|1"
 *       for all three; then go on polling (open) or sleep (goodbye) until killed.
 */
#include <inttypes.h>
#include <stdint.h>
#include <time.h>

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
    shmipc_obj **held = NULL, **grown;
    char msg[256];
    size_t len, count = 0;
    int rc;

    for (;;) {
        shmipc_obj *o = NULL;
        rc = shmipc_recv(s, msg, sizeof msg, &len, &o, -1);
        if (rc == SHMIPC_ECLOSED) {
            rc = 0;
            break;
        }
        if (rc != 0) {
            fprintf(stderr, "helper_session: hold: %s (%s)\n", shmipc_strerror(rc),
                    shmipc_error_detail());
            rc = 4;
            break;
        }
        if (o) { /* kept on purpose: we may be killed holding them */
            if (!(grown = realloc(held, (count + 1) * sizeof *held))) {
                shmipc_obj_unref(o);
                rc = 5;
                break;
            }
            held = grown;
            held[count++] = o;
            printf("held %zu\n", count);
        }
        fflush(stdout);
    }
    /* the server went: let go of everything (a sanitizer build checks for leaks) */
    for (size_t i = 0; i < count; i++)
        shmipc_obj_unref(held[i]);
    free(held);
    shmipc_session_close(s);
    return rc;
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
    opts.provider = strcmp(provider, "lend") == 0 ? SHMIPC_PROVIDER_LEND
                                                  : SHMIPC_PROVIDER_SHARED;
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

/* ---- lendpoll and keep: the pid namespace test's pair ---------------------------------- */

static uint64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

static size_t used(shmipc_arena *a)
{
    struct shmipc_arena_stats st;
    shmipc_arena_stats(a, &st);
    return st.used;
}

static shmipc_obj *filled(shmipc_arena *a, int byte)
{
    shmipc_obj *o = NULL;

    if (shmipc_obj_new(a, 1000, &o) == 0)
        memset(shmipc_obj_ptr(o), byte, 1000);
    return o;
}

static int intact(shmipc_obj *o, int byte)
{
    const unsigned char *p = o ? shmipc_obj_ptr(o) : NULL;

    for (size_t i = 0; p && i < 1000; i++)
        if (p[i] != byte)
            return 0;
    return p != NULL;
}

/* What a freed block would be overwritten with: objects made and released at once. */
static void churn(shmipc_arena *a)
{
    shmipc_obj_unref(filled(a, 0xa5));
}

/* Poll, churn (if `churns`) and receive for up to ms; 1 when a message starting with `want`
 * came (its object, if any, into *o). */
static int tend_as(shmipc_session *s, unsigned ms, const char *want, shmipc_obj **o, int churns)
{
    uint64_t end = now_ms() + ms;
    char msg[64];
    size_t len;

    do {
        shmipc_obj *got = NULL;
        int rc;
        shmipc_session_poll(s);
        if (churns)
            churn(shmipc_session_arena(s));
        if ((rc = shmipc_recv(s, msg, sizeof msg, &len, &got, 10)) == SHMIPC_ECLOSED)
            usleep(10000); /* no messages any more: only polling */
        if (rc == 0 && want && len >= strlen(want) && memcmp(msg, want, strlen(want)) == 0) {
            if (o)
                *o = got;
            else
                shmipc_obj_unref(got);
            return 1;
        }
        shmipc_obj_unref(got);
    } while (now_ms() < end);
    return 0;
}

static int tend(shmipc_session *s, unsigned ms, const char *want, shmipc_obj **o)
{
    return tend_as(s, ms, want, o, 1);
}

static int lendpoll(const char *name, const char *provider)
{
    shmipc_server_opts opts;
    shmipc_server *srv;
    shmipc_session *s;
    shmipc_obj *own, *gift;
    size_t base_s, base_a;
    uint64_t end;

    shmipc_server_opts_init(&opts);
    opts.provider = strcmp(provider, "lend") == 0 ? SHMIPC_PROVIDER_LEND
                                                  : SHMIPC_PROVIDER_SHARED;
    if (shmipc_server_open(name, &opts, &srv) != 0)
        return 3;
    printf("listening\n");
    fflush(stdout);
    if (shmipc_server_accept(srv, 10000, &s) != 0)
        return 3;
    printf("peer %ld\n", shmipc_session_peer_pid(s));
    fflush(stdout);
    base_s = used(shmipc_session_arena(s));
    base_a = used(shmipc_app_arena(s));
    own = filled(shmipc_app_arena(s), 0x3c);
    for (int k = 0; k < 2; k++) {
        gift = filled(k ? shmipc_app_arena(s) : shmipc_session_arena(s), 0x5a);
        if (!gift || shmipc_send(s, "gift", 4, gift) != 0)
            return 5;
        shmipc_obj_unref(gift);
    }
    if (!tend(s, 10000, "got", NULL))
        return 6;
    churn(shmipc_app_arena(s));
    tend(s, 500, NULL, NULL);
    churn(shmipc_app_arena(s));
    printf("during %zd %zd %d\n", (ssize_t)(used(shmipc_session_arena(s)) - base_s),
           (ssize_t)(used(shmipc_app_arena(s)) - base_a), intact(own, 0x3c));
    fflush(stdout);
    shmipc_send(s, "check", 5, NULL);
    shmipc_obj_unref(own);
    while (!shmipc_session_closed(s))
        tend(s, 10, NULL, NULL);
    end = now_ms() + 5000;
    while ((used(shmipc_session_arena(s)) > base_s || used(shmipc_app_arena(s)) > base_a) &&
           now_ms() < end) {
        shmipc_session_poll(s);
        usleep(1000);
    }
    printf("after %zd %zd\n", (ssize_t)(used(shmipc_session_arena(s)) - base_s),
           (ssize_t)(used(shmipc_app_arena(s)) - base_a));
    fflush(stdout);
    shmipc_session_close(s);
    shmipc_server_close(srv);
    return 0;
}

static int keep(const char *server, const char *app, const char *mode)
{
    shmipc_session *s = NULL;
    shmipc_obj *own, *gifts[2] = {NULL, NULL};
    uint64_t end = now_ms() + 30000; /* never outlive a test that forgot us */
    int rc = SHMIPC_ENOENT;

    for (int i = 0; i < 500 && rc == SHMIPC_ENOENT; i++)
        if ((rc = shmipc_connect(server, app, NULL, &s)) == SHMIPC_ENOENT)
            usleep(10000);
    if (rc != 0)
        return 3;
    printf("peer %ld\n", shmipc_session_peer_pid(s));
    fflush(stdout);
    /* no churn before the gifts: an object of ours alive while the server takes its base
     * (the shared provider's session arena is one pool for both) would count in it */
    for (int k = 0; k < 2; k++)
        if (!tend_as(s, 10000, "gift", &gifts[k], 0))
            return 6;
    own = filled(shmipc_session_arena(s), 0x3c); /* after the server took its base */
    shmipc_send(s, "got", 3, NULL);
    if (strcmp(mode, "goodbye") == 0) {
        shmipc_session_close(s);
        s = NULL;
        usleep(800000);
    } else if (!tend(s, 10000, "check", NULL)) {
        return 6;
    }
    printf("intact %d\n",
           intact(gifts[0], 0x5a) && intact(gifts[1], 0x5a) && intact(own, 0x3c));
    fflush(stdout);
    while (now_ms() < end && (!s || !shmipc_session_closed(s)))
        if (s)
            tend(s, 10, NULL, NULL);
        else
            usleep(10000);
    return 0;
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
    if (argc == 4 && strcmp(argv[1], "lendpoll") == 0)
        return lendpoll(argv[2], argv[3]);
    if (argc == 5 && strcmp(argv[1], "keep") == 0)
        return keep(argv[2], argv[3], argv[4]);
    fprintf(stderr, "usage: helper_session echo|hold|chaos|serve|lendpoll|keep ...\n");
    return 64;
}

/* poll_server — many sessions in one poll(2) loop, in C: a checksum service.
 *
 * The server's descriptor (shmipc_server_fd) is readable when accept has something to do
 * (a new connection, a handshake's next message): accept with timeout 0 does it without
 * waiting, and returns a session once a handshake is complete; each session's (shmipc_session_fd) when a message or control traffic waits or
 * the peer is gone. One thread, one poll loop, any number of clients at once: the same
 * pattern serves epoll, libuv or any event loop.
 *
 * The server says "ready" to a new client; the client then lends objects with any
 * message, and for each the server reads the object in place
 * and answers "sum <n> <hex>" (its size and FNV-1a, as in shmipc_echo.h), with no object,
 * then lets it go. When a client has gone, the server checks that its session arena is
 * back at its baseline, and the app arena when no client is left.
 *
 *   poll_server [-n NAME] [-p shared|lend] [-c CLIENTS] [-t TIMEOUT_MS]
 *
 * Serves until CLIENTS clients have come and gone (default 3), or no event came for
 * TIMEOUT_MS (default 10 s: a failure). Exit status 0 when every answer went and every
 * client left the arenas as they were, 1 otherwise, 3 when it could not start.
 */
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <shmipc.h>

#include "shmipc_echo.h"

#define MAX_SESSIONS 64

struct client {
    shmipc_session *s;
    size_t base; /* its session arena's use when it came */
    unsigned long answered;
};

struct loop {
    shmipc_server *srv;
    struct client clients[MAX_SESSIONS];
    int n;
    int done, good;  /* clients gone, and gone with their session arena as it was */
    size_t app_base; /* the app arena's use when a client came to an empty server */
    int app_good;    /* 1 while it was back there whenever the server emptied */
};

static void fail(const char *what, int rc)
{
    fprintf(stderr, "poll_server: %s: %s (%s)\n", what, shmipc_strerror(rc),
            shmipc_error_detail());
}

static size_t used(shmipc_arena *a)
{
    struct shmipc_arena_stats st;
    return shmipc_arena_stats(a, &st) == 0 ? st.used : 0;
}

/* The server's descriptor is readable: step the handshakes in flight, without waiting;
 * when one is complete, watch its session. */
static void add_client(struct loop *l)
{
    shmipc_session *s;
    int rc = shmipc_server_accept(l->srv, 0, &s);

    if (rc == SHMIPC_ETIMEDOUT) /* a handshake went a step further, none is complete yet */
        return;
    if (rc != 0) {
        fail("accept", rc);
        return;
    }
    if (l->n == MAX_SESSIONS) {
        fprintf(stderr, "poll_server: more than %d clients at once\n", MAX_SESSIONS);
        shmipc_session_close(s);
        return;
    }
    if (l->n == 0) /* alone: other sessions of the app do not count in its arena now */
        l->app_base = used(shmipc_app_arena(s));
    l->clients[l->n++] = (struct client){.s = s, .base = used(shmipc_session_arena(s))};
    /* the baselines are taken: the client may start */
    if ((rc = shmipc_send(s, "ready", 5, NULL)) != 0)
        fail("saying ready", rc);
}

/* The client has gone: check what it left, forget it. Clients of one app share its app
 * arena, so that is checked when the last one has gone. */
static void drop_client(struct loop *l, int i)
{
    struct client *c = &l->clients[i];
    int clean = used(shmipc_session_arena(c->s)) == c->base;

    if (l->n == 1)
        l->app_good &= used(shmipc_app_arena(c->s)) == l->app_base;
    printf("client pid %ld: %lu objects answered, session arena back to baseline: %s\n",
           shmipc_session_peer_pid(c->s), c->answered, clean ? "ok" : "FAILED");
    fflush(stdout);
    shmipc_session_close(c->s);
    l->clients[i] = l->clients[--l->n];
    l->done++;
    l->good += clean;
}

/* Answer one borrowed object: its size and checksum, read in place. */
static int answer(struct client *c, shmipc_obj *o)
{
    char msg[ECHO_MSG_MAX];
    size_t len = echo_format(msg, "sum", shmipc_obj_size(o),
                             echo_checksum(shmipc_obj_ptr(o), shmipc_obj_size(o)));
    int rc;

    shmipc_obj_unref(o); /* read: let go at once, the owner gets it back */
    if ((rc = shmipc_send(c->s, msg, len, NULL)) != 0)
        return rc;
    c->answered++;
    return 0;
}

/* Everything that waits on one session, without blocking. 0, or ECLOSED when the peer
 * has gone. */
static int serve(struct client *c)
{
    char msg[SHMIPC_MSG_MAX];
    shmipc_obj *o;
    size_t len;
    int rc;

    while ((rc = shmipc_recv(c->s, msg, sizeof msg, &len, &o, 0)) == 0)
        if (o && (rc = answer(c, o)) != 0)
            break;
    if (rc == SHMIPC_ETIMEDOUT)
        return 0; /* nothing more for now */
    if (rc != SHMIPC_ECLOSED)
        fail("serving a client", rc);
    return SHMIPC_ECLOSED;
}

/* One turn of the loop; 0 when no event came in time. */
static int turn(struct loop *l, int timeout_ms)
{
    struct pollfd fds[MAX_SESSIONS + 1];
    int n = l->n, ready;

    fds[0] = (struct pollfd){.fd = shmipc_server_fd(l->srv), .events = POLLIN};
    for (int i = 0; i < n; i++)
        fds[i + 1] = (struct pollfd){.fd = shmipc_session_fd(l->clients[i].s),
                                     .events = POLLIN};
    if ((ready = poll(fds, (nfds_t)n + 1, timeout_ms)) <= 0)
        return 0;
    for (int i = n - 1; i >= 0; i--) /* from the end: drop_client moves the last one */
        if (fds[i + 1].revents && serve(&l->clients[i]) == SHMIPC_ECLOSED)
            drop_client(l, i);
    if (fds[0].revents & POLLIN)
        add_client(l);
    return 1;
}

static int parse(int argc, char **argv, const char **name, int *provider, int *clients,
                 int *timeout_ms)
{
    int c;

    while ((c = getopt(argc, argv, "n:p:c:t:")) != -1) {
        switch (c) {
        case 'n': *name = optarg; break;
        case 'p':
            if (strcmp(optarg, "lend") == 0)
                *provider = SHMIPC_PROVIDER_LEND;
            else if (strcmp(optarg, "shared") != 0)
                return -1;
            break;
        case 'c': *clients = atoi(optarg); break;
        case 't': *timeout_ms = atoi(optarg); break;
        default: return -1;
        }
    }
    return optind == argc && *clients > 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    struct loop l = {.app_good = 1};
    shmipc_server_opts so;
    int rc, clients = 3, timeout_ms = 10000;
    const char *name = "checksums";

    shmipc_server_opts_init(&so);
    if (parse(argc, argv, &name, &so.provider, &clients, &timeout_ms) != 0) {
        fprintf(stderr, "usage: poll_server [-n NAME] [-p shared|lend] [-c CLIENTS] "
                        "[-t TIMEOUT_MS]\n");
        return 3;
    }
    if ((rc = shmipc_server_open(name, &so, &l.srv)) != 0) {
        fail("server_open", rc);
        return 3;
    }
    printf("listening %s\n", name);
    fflush(stdout);
    while (l.done < clients && turn(&l, timeout_ms))
        ;
    if (l.done < clients)
        fprintf(stderr, "poll_server: no event for %d ms, %d of %d clients served\n",
                timeout_ms, l.done, clients);
    while (l.n > 0) /* when it gave up waiting */
        shmipc_session_close(l.clients[--l.n].s);
    shmipc_server_close(l.srv);
    printf("app arena back to baseline whenever the last client had gone: %s\n",
           l.app_good ? "ok" : "FAILED");
    return l.done == clients && l.good == clients && l.app_good ? 0 : 1;
}

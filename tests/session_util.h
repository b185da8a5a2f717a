/* session_util.h — what the session tests share: a private socket directory per test
 * process, starting helper programs, and a server+client pair inside one process (the
 * client connects from a thread, as the handshake needs both sides to run). */
#ifndef SHMIPC_SESSION_UTIL_H
#define SHMIPC_SESSION_UTIL_H

#include "tap.h" /* first: it defines _GNU_SOURCE */

#include <pthread.h>
#include <time.h>

static char sock_dir[64];

static __attribute__((unused)) void use_private_socket_dir(void)
{
    snprintf(sock_dir, sizeof sock_dir, "/tmp/shmipc-test-XXXXXX");
    if (!mkdtemp(sock_dir))
        exit(99);
    setenv("SHMIPC_SOCKET_DIR", sock_dir, 1);
}

/* 0 if the socket directory is empty, then remove it. */
static __attribute__((unused)) int socket_dir_leftovers(void)
{
    DIR *d = opendir(sock_dir);
    struct dirent *e;
    int n = 0;

    while (d && (e = readdir(d)) != NULL)
        if (e->d_name[0] != '.') {
            diag("left in the socket directory: %s", e->d_name);
            n++;
        }
    if (d)
        closedir(d);
    rmdir(sock_dir);
    return n;
}

struct connector {
    const char *server, *app;
    const shmipc_client_opts *opts; /* NULL: the defaults */
    shmipc_session *s;
    int rc;
    char detail[512]; /* the error detail is per thread: keep the connecting thread's */
};

static void *connect_thread(void *arg)
{
    struct connector *c = arg;
    c->rc = shmipc_connect(c->server, c->app, c->opts, &c->s);
    snprintf(c->detail, sizeof c->detail, "%s", shmipc_error_detail());
    return NULL;
}

/* A session pair in this process: *srv_side from accept, *cli_side from connect with the
 * client options opts (NULL: the defaults). */
static __attribute__((unused)) int open_pair_opts(shmipc_server *srv, const char *name,
                                                  const shmipc_client_opts *opts,
                                                  shmipc_session **srv_side,
                                                  shmipc_session **cli_side)
{
    struct connector c = {.server = name, .app = "viewer", .opts = opts};
    pthread_t t;
    int rc;

    pthread_create(&t, NULL, connect_thread, &c);
    rc = shmipc_server_accept(srv, 5000, srv_side);
    pthread_join(t, NULL);
    *cli_side = c.s;
    return rc ? rc : c.rc;
}

static __attribute__((unused)) int open_pair(shmipc_server *srv, const char *name,
                                             shmipc_session **srv_side,
                                             shmipc_session **cli_side)
{
    return open_pair_opts(srv, name, NULL, srv_side, cli_side);
}

/* Milliseconds since t0 (CLOCK_MONOTONIC). */
static __attribute__((unused)) double ms_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

static __attribute__((unused)) size_t used_of(shmipc_arena *a)
{
    struct shmipc_arena_stats st;
    shmipc_arena_stats(a, &st);
    return st.used;
}

#endif

/* demo_server — the server of the cross-language demo (examples/README.md, "The demo").
 *
 * Builds a large buffer of float32 frames and a catalogue linked with offset pointers in
 * the app arena, once, and lends both to each client in turn (a Python and a Rust one in
 * `make demo`; any language's client speaks shmipc_demo.h). Each client borrows them,
 * checks and reads them in place, answers with objects of its own that the server checks,
 * and then receives the same frames through a plain Unix socket, for comparison. At the
 * end the server frees everything, shows that the arenas are back at their baseline, and
 * prints the table of what each client measured.
 *
 *   demo_server [-n NAME] [-p lend|shared] [-c CLIENTS] [-m MIB] [-r RECORDS] [-t TIMEOUT_MS]
 *
 * Defaults: name "demo", the lend provider (clients map the frames read-only), 2 clients,
 * 256 MiB of frames, 1000 records, 30 s timeout. Exit status 0 when every check passed,
 * 1 when one failed, 3 when it could not start.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <shmipc.h>

#include "shmipc_catalog.h"
#include "shmipc_demo.h"

#define MAX_CLIENTS 16

struct options {
    const char *name;
    int provider;
    int clients;
    uint32_t mib;
    uint32_t records;
    int timeout_ms;
};

/* What one client did and measured. */
struct client {
    char language[32];
    long pid;
    int catalog_ok, sums_ok, copy_ok, session_ok;
    uint64_t recv_ns[2], read_ns[2], copy_ns; /* frames: first borrow, then again */
};

/* What the server lends to every client, and the plain socket of the comparison. */
struct shared_data {
    shmipc_obj *frames, *catalog;
    double *sums; /* each frame's sum */
    uint32_t nframes;
    uint64_t digest, reversed_digest;
    size_t app_base, app_full, app_after;
    int listen_fd;
    char dir[64], path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

static int fail(const char *what, int rc)
{
    fprintf(stderr, "demo_server: %s: %s (%s)\n", what, shmipc_strerror(rc),
            shmipc_error_detail());
    return 0;
}

static size_t used(shmipc_arena *a)
{
    struct shmipc_arena_stats st;
    return shmipc_arena_stats(a, &st) == 0 ? st.used : 0;
}

static int send_text(shmipc_session *s, const char *what, shmipc_obj *o, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Send a formatted message, lending o with it if not NULL. 1 if it went. */
static int send_text(shmipc_session *s, const char *what, shmipc_obj *o, const char *fmt, ...)
{
    char msg[DEMO_MSG_MAX];
    va_list ap;
    int len, rc;

    va_start(ap, fmt);
    len = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (len < 0 || (size_t)len >= sizeof msg)
        return 0;
    rc = shmipc_send(s, msg, (size_t)len, o);
    return rc == 0 ? 1 : fail(what, rc);
}

/* Receive the next message as a NUL-terminated string into msg (DEMO_MSG_MAX + 1 bytes). */
static int recv_text(shmipc_session *s, const struct options *o, const char *what, char *msg,
                     shmipc_obj **obj)
{
    size_t len;
    int rc = shmipc_recv(s, msg, DEMO_MSG_MAX, &len, obj, o->timeout_ms);

    if (rc != 0)
        return fail(what, rc);
    msg[len] = '\0';
    return 1;
}

/* ---- the data, made once ------------------------------------------------------------ */

/* One line, redrawn in place on a terminal; on a log, only the last state. */
static void progress(uint32_t done, uint32_t total, uint64_t start_ns)
{
    static const int width = 40;
    int bar = (int)((uint64_t)done * width / total);
    int tty = isatty(STDOUT_FILENO);

    if (!tty && done != total)
        return;
    printf("%s  filling the frames [%.*s%*s] %3u/%u MiB, %.2f s%s", tty ? "\r" : "", bar,
           "########################################", width - bar, "", (unsigned)done,
           (unsigned)total, (double)(demo_now_ns() - start_ns) / 1e9,
           done == total ? "\n" : "");
    fflush(stdout);
}

static int make_frames(shmipc_arena *app, struct shared_data *d)
{
    uint64_t start = demo_now_ns();
    float *p;
    int rc;

    d->sums = calloc(d->nframes, sizeof *d->sums);
    if (!d->sums)
        return 0;
    if ((rc = shmipc_obj_new(app, (size_t)d->nframes * DEMO_FRAME_FLOATS * sizeof(float),
                             &d->frames)) != 0)
        return fail("allocating the frames", rc);
    p = shmipc_obj_ptr(d->frames);
    for (uint32_t f = 0; f < d->nframes; f++) {
        d->sums[f] = demo_fill_frame(p + (size_t)f * DEMO_FRAME_FLOATS, f);
        if (f % 8 == 7 || f + 1 == d->nframes)
            progress(f + 1, d->nframes, start);
    }
    return 1;
}

static int make_catalog(shmipc_arena *app, const struct options *o, struct shared_data *d)
{
    size_t size = catalog_size(o->records);
    unsigned char *reversed = malloc(size);
    uint64_t count;
    int rc, good;

    good = reversed && catalog_build(reversed, size, o->records, 1) == 0 &&
           catalog_digest(reversed, size, &d->reversed_digest, &count) == 0;
    free(reversed);
    if (!good)
        return 0;
    if ((rc = shmipc_obj_new(app, size, &d->catalog)) != 0)
        return fail("allocating the catalogue", rc);
    return catalog_build(shmipc_obj_ptr(d->catalog), size, o->records, 0) == 0 &&
           catalog_digest(shmipc_obj_ptr(d->catalog), size, &d->digest, &count) == 0;
}

/* The plain Unix stream socket the clients copy the frames through, in a private dir. */
static int open_copy_socket(struct shared_data *d)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};

    strcpy(d->dir, "/tmp/shmipc-demo-XXXXXX");
    if (!mkdtemp(d->dir))
        return 0;
    snprintf(d->path, sizeof d->path, "%s/copy.sock", d->dir);
    memcpy(sa.sun_path, d->path, sizeof d->path);
    d->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (d->listen_fd < 0 || bind(d->listen_fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        listen(d->listen_fd, 4) != 0) {
        perror("demo_server: the copy socket");
        return 0;
    }
    return 1;
}

static void close_copy_socket(struct shared_data *d)
{
    if (d->listen_fd >= 0)
        close(d->listen_fd);
    unlink(d->path);
    rmdir(d->dir);
}

/* ---- one client ----------------------------------------------------------------------- */

static int exchange_catalog(shmipc_session *s, const struct options *o, struct shared_data *d)
{
    char msg[DEMO_MSG_MAX + 1];
    shmipc_obj *answer;
    uint64_t n, hash, digest, count;
    int good;

    if (!send_text(s, "sending the catalogue", d->catalog, "catalog %u %016" PRIx64,
                   (unsigned)o->records, d->digest) ||
        !recv_text(s, o, "waiting for the catalogue", msg, &answer))
        return 0;
    good = answer && sscanf(msg, "catalog %" SCNu64 " %" SCNx64, &n, &hash) == 2 &&
           catalog_digest(shmipc_obj_ptr(answer), shmipc_obj_size(answer), &digest, &count) ==
               0 &&
           count == o->records && n == count && hash == digest && digest == d->reversed_digest;
    shmipc_obj_unref(answer);
    return good;
}

/* Lend the frames; the answer must hold every frame's sum. The second pass finds the pool
 * mapped already: the warm path of a stream of frames. */
static int exchange_frames(shmipc_session *s, const struct options *o, struct shared_data *d,
                           struct client *c, int pass)
{
    char msg[DEMO_MSG_MAX + 1];
    shmipc_obj *answer;
    uint64_t n;
    int good;

    if (!send_text(s, "sending the frames", d->frames, "frames %u %" PRIu64,
                   (unsigned)d->nframes, demo_now_ns()) ||
        !recv_text(s, o, "waiting for the frame sums", msg, &answer))
        return 0;
    good = answer &&
           sscanf(msg, "sums %" SCNu64 " %" SCNu64 " %" SCNu64, &n, &c->recv_ns[pass],
                  &c->read_ns[pass]) == 3 &&
           n == d->nframes && shmipc_obj_size(answer) >= n * sizeof(double) &&
           memcmp(shmipc_obj_ptr(answer), d->sums, n * sizeof(double)) == 0;
    shmipc_obj_unref(answer);
    return good;
}

/* Write all n bytes to fd. 1 if they went. */
static int write_all(int fd, const void *p, size_t n)
{
    const char *b = p;
    while (n > 0) {
        ssize_t k = send(fd, b, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return 0;
        b += k;
        n -= (size_t)k;
    }
    return 1;
}

/* Wait for the client on the copy socket, or for its session to end: its connection, or
 * -1 (after timeout_ms, or when the client has gone). */
static int accept_copy(shmipc_session *s, const struct options *o, struct shared_data *d)
{
    struct pollfd pfd[2] = {{.fd = d->listen_fd, .events = POLLIN},
                            {.fd = shmipc_session_fd(s), .events = POLLIN}};
    uint64_t deadline = demo_now_ns() + (uint64_t)o->timeout_ms * 1000000u;

    while (!shmipc_session_closed(s) && demo_now_ns() < deadline) {
        if (poll(pfd, 2, (int)((deadline - demo_now_ns()) / 1000000u) + 1) < 0)
            break;
        if (pfd[0].revents & POLLIN)
            return accept(d->listen_fd, NULL, NULL);
        if (pfd[1].revents)
            shmipc_session_poll(s); /* control traffic, or the end of the session */
    }
    fprintf(stderr, "demo_server: the client did not connect to the copy socket\n");
    return -1;
}

/* The comparison: the same bytes through a plain socket, as a copy. */
static int exchange_copy(shmipc_session *s, const struct options *o, struct shared_data *d,
                         struct client *c)
{
    char msg[DEMO_MSG_MAX + 1];
    size_t size = shmipc_obj_size(d->frames);
    uint64_t nbytes, stamp;
    double total = 0, got;
    int fd, good;

    if (!send_text(s, "sending the copy request", NULL, "copy %s", d->path) ||
        (fd = accept_copy(s, o, d)) < 0)
        return 0;
    stamp = demo_now_ns();
    good = write_all(fd, &stamp, sizeof stamp) &&
           write_all(fd, shmipc_obj_ptr(d->frames), size);
    close(fd);
    if (!good || !recv_text(s, o, "waiting for the copy's result", msg, NULL))
        return 0;
    for (uint32_t f = 0; f < d->nframes; f++)
        total += d->sums[f];
    return sscanf(msg, "copied %" SCNu64 " %lf %" SCNu64, &nbytes, &got, &c->copy_ns) == 3 &&
           nbytes == size && got == total;
}

/* Say bye and wait until the client has gone. */
static int see_off(shmipc_session *s, const struct options *o)
{
    char msg[DEMO_MSG_MAX + 1];
    size_t len;
    int rc;

    if (!send_text(s, "saying bye", NULL, "bye"))
        return 0;
    while ((rc = shmipc_recv(s, msg, DEMO_MSG_MAX, &len, NULL, o->timeout_ms)) == 0)
        ;
    return rc == SHMIPC_ECLOSED ? 1 : fail("waiting for the client to close", rc);
}

/* Free what every client was lent: the app arena must come back where it was before, as
 * soon as the last client has let go of its loans (it may keep them after its session:
 * they are dropped when it releases them or dies). */
static void free_shared(shmipc_session *s, const struct options *o, struct shared_data *d)
{
    uint64_t deadline = demo_now_ns() + (uint64_t)o->timeout_ms * 1000000u;

    shmipc_obj_unref(d->frames);
    shmipc_obj_unref(d->catalog);
    d->frames = d->catalog = NULL;
    while ((d->app_after = used(shmipc_app_arena(s))) != d->app_base &&
           demo_now_ns() < deadline) {
        shmipc_session_poll(s); /* take the client's release reports */
        usleep(10000);
    }
}

static int hello(shmipc_session *s, const struct options *o, struct client *c)
{
    char msg[DEMO_MSG_MAX + 1];

    if (!recv_text(s, o, "waiting for the client's hello", msg, NULL))
        return 0;
    c->pid = shmipc_session_peer_pid(s);
    return sscanf(msg, "client %31s", c->language) == 1;
}

static int serve(shmipc_session *s, const struct options *o, struct shared_data *d,
                 struct client *c, int last)
{
    shmipc_arena *app = shmipc_app_arena(s);
    size_t base = used(shmipc_session_arena(s));

    if (!hello(s, o, c))
        return 0;
    if (!d->frames) {
        d->app_base = used(app);
        if (!make_catalog(app, o, d) || !make_frames(app, d))
            return 0;
        d->app_full = used(app);
    }
    c->catalog_ok = exchange_catalog(s, o, d);
    c->sums_ok = exchange_frames(s, o, d, c, 0) && exchange_frames(s, o, d, c, 1);
    c->copy_ok = exchange_copy(s, o, d, c);
    c->session_ok = see_off(s, o) && used(shmipc_session_arena(s)) == base;
    if (last)
        free_shared(s, o, d);
    return c->catalog_ok && c->sums_ok && c->copy_ok && c->session_ok;
}

/* ---- the report ----------------------------------------------------------------------- */

static double ms(uint64_t ns)
{
    return (double)ns / 1e6;
}

static void report(const struct options *o, const struct shared_data *d, const struct client *c,
                   int n)
{
    printf("\n%-20s %-40s %-12s %s\n", "", "----------- shmipc, zero-copy -----------",
           "Unix socket", "");
    printf("%-20s %10s %14s %14s %12s %13s  %s\n", "client", "borrow", "borrow+read",
           "again, mapped", "copy+read", "faster", "checks");
    for (int i = 0; i < n; i++) {
        char who[64], faster[32];
        snprintf(who, sizeof who, "%.31s (pid %ld)", c[i].language, c[i].pid);
        snprintf(faster, sizeof faster, "%.1fx / %.1fx",
                 c[i].read_ns[0] ? (double)c[i].copy_ns / (double)c[i].read_ns[0] : 0.0,
                 c[i].read_ns[1] ? (double)c[i].copy_ns / (double)c[i].read_ns[1] : 0.0);
        printf("%-20s %7.3f ms %11.1f ms %11.1f ms %9.1f ms %13s  catalogue %s, frames %s, "
               "copy %s, session %s\n",
               who, ms(c[i].recv_ns[0]), ms(c[i].read_ns[0]), ms(c[i].read_ns[1]),
               ms(c[i].copy_ns), faster, c[i].catalog_ok ? "ok" : "FAILED",
               c[i].sums_ok ? "ok" : "FAILED", c[i].copy_ok ? "ok" : "FAILED",
               c[i].session_ok ? "ok" : "FAILED");
    }
    printf(
        "\n(borrow: from the server's send until the client holds the frames; +read: until "
        "it has summed\nthem in place, page faults of its first mapping included; again: "
        "the same with the pool\nmapped, as in a stream of frames; copy+read: the same bytes "
        "through a Unix socket)\n");
    printf("\napp arena in use: %zu bytes before, %zu with the frames and the catalogue, "
           "%zu after: %s\n",
           d->app_base, d->app_full, d->app_after,
           d->app_after == d->app_base ? "back to baseline, nothing leaked" : "LEAKED");
    printf("%u MiB of frames and %u records were lent %d times and copied 0 times by shmipc\n",
           (unsigned)o->mib, (unsigned)o->records, 2 * n);
}

/* ---- main ----------------------------------------------------------------------------- */

static int parse(int argc, char **argv, struct options *o)
{
    int c;

    *o = (struct options){.name = DEMO_DEFAULT_SERVER,
                          .provider = SHMIPC_PROVIDER_LEND,
                          .clients = 2,
                          .mib = 256,
                          .records = 1000,
                          .timeout_ms = 30000};
    while ((c = getopt(argc, argv, "n:p:c:m:r:t:")) != -1) {
        switch (c) {
        case 'n': o->name = optarg; break;
        case 'p':
            if (strcmp(optarg, "shared") == 0)
                o->provider = SHMIPC_PROVIDER_SHARED;
            else if (strcmp(optarg, "lend") != 0)
                return -1;
            break;
        case 'c': o->clients = atoi(optarg); break;
        case 'm': o->mib = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 'r': o->records = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 't': o->timeout_ms = atoi(optarg); break;
        default: return -1;
        }
    }
    return optind == argc && o->clients > 0 && o->clients <= MAX_CLIENTS && o->mib > 0 &&
                   o->mib <= 65536 && o->records > 0
               ? 0
               : -1;
}

static int open_server(const struct options *o, shmipc_server **srv)
{
    shmipc_server_opts so;
    int rc;

    shmipc_server_opts_init(&so);
    so.provider = o->provider;
    /* the shared provider's app arena is one pool: room for the frames and the catalogue */
    if (o->provider == SHMIPC_PROVIDER_SHARED)
        so.app_arena_size = ((size_t)o->mib + 16) << 20;
    if ((rc = shmipc_server_open(o->name, &so, srv)) != 0)
        return fail("server_open", rc);
    return 1;
}

int main(int argc, char **argv)
{
    struct options o;
    struct shared_data d = {.listen_fd = -1};
    static struct client clients[MAX_CLIENTS];
    shmipc_server *srv;
    int good = 0, served = 0;

    if (parse(argc, argv, &o) != 0) {
        fprintf(stderr, "usage: demo_server [-n NAME] [-p lend|shared] [-c CLIENTS] [-m MIB] "
                        "[-r RECORDS] [-t TIMEOUT_MS]\n");
        return 3;
    }
    d.nframes = o.mib;
    if (!open_copy_socket(&d) || !open_server(&o, &srv)) {
        close_copy_socket(&d);
        return 3;
    }
    printf("shmipc demo: a C server lends %u MiB of float32 frames and a catalogue of %u "
           "records\n(%s provider%s) to %d clients; listening as '%s'\n",
           (unsigned)o.mib, (unsigned)o.records,
           o.provider == SHMIPC_PROVIDER_LEND ? "lend" : "shared",
           o.provider == SHMIPC_PROVIDER_LEND ? ": clients map them read-only" : "", o.clients,
           o.name);
    fflush(stdout);
    for (; served < o.clients; served++) {
        shmipc_session *s;
        int rc = shmipc_server_accept(srv, o.timeout_ms, &s);
        if (rc != 0) {
            fail("accept", rc);
            break;
        }
        good += serve(s, &o, &d, &clients[served], served + 1 == o.clients);
        shmipc_session_close(s);
    }
    shmipc_obj_unref(d.frames); /* when a client failed early */
    shmipc_obj_unref(d.catalog);
    report(&o, &d, clients, served);
    free(d.sums);
    shmipc_server_close(srv);
    close_copy_socket(&d);
    good = good == o.clients && d.app_after == d.app_base;
    printf("%s\n", good ? "all checks passed" : "SOME CHECKS FAILED");
    return good ? 0 : 1;
}

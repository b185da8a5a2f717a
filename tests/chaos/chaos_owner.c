/* chaos_owner — an owner for the chaos driver (tests/chaos/run), in C. Its twins
 * chaos_owner.py and chaos_owner.rs behave exactly alike.
 *
 *   chaos_owner NAME shared|lend SEED
 *
 * Serves any number of clients at once. To each it lends objects as the echo roles' first
 * step does (examples/README.md: "sum <n> <hex>", byte i of n is (i * 13 + n) & 0xff), at
 * most 8 unanswered at a time, from the session or the app arena; checks every answer (the
 * same bytes reversed, in an object of the client's), keeps some answers a while, and after
 * a random number of answers says "bye". So any echo client (C, Python, Rust) is a client,
 * and so is any holder (which never answers and keeps what it got). Clients may be killed
 * at any moment, and so may the owner.
 *
 * Lines on stdout:
 *   listening NAME
 *   accepted PID
 *   tick PASSES ANSWERS                        at least every 250 ms while it works
 *   gone PID session USED/BASE check ok|FAILED  a client went, closed or killed: once what
 *                                              it held is dropped, the session arena must
 *                                              be back at its use at accept and both arenas
 *                                              must pass shmipc_arena_check
 *   idle app USED/BASE check ok|FAILED         the last client went: the app arena back at
 *                                              its use before the first client
 *   bad WHAT                                   an answer or a call failed (then exit 1)
 *   stopped SESSIONS ANSWERS                   stdin was closed: every client got "bye"
 *                                              and went
 * Exit status: 0 every check passed, 1 one failed, 3 could not start, 77 the provider is
 * not supported by this build.
 */
#include <poll.h>
#include <stdarg.h>
#include <time.h>

#include "tap.h" /* rnd(): first, it defines _GNU_SOURCE */

#include "shmipc_echo.h"

enum {
    MAX_CLIENTS = 64,
    MAX_UNANSWERED = 8,
    KEEP = 4,
    TICK_MS = 250,
    STOP_MS = 30000
};

struct client {
    shmipc_session *s;
    long pid;
    size_t base;
    unsigned unanswered, answers, quota;
    int bye;
    shmipc_obj *kept[KEEP];
};

struct owner {
    shmipc_server *srv;
    struct client c[MAX_CLIENTS];
    int n, failed, stopping;
    size_t app_base;
    int have_app_base;
    unsigned long passes, answers, sessions;
};

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

static __attribute__((noreturn)) void bad(const char *what, int rc)
{
    say("bad %s: %s (%s)", what, shmipc_strerror(rc), shmipc_error_detail());
    exit(1);
}

static long now_ms(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static size_t used(shmipc_arena *a)
{
    struct shmipc_arena_stats st;
    return shmipc_arena_stats(a, &st) == 0 ? st.used : 0;
}

/* Mostly small objects, some of hundreds of KiB, now and then 2 MiB. */
static size_t random_size(void)
{
    unsigned r = (unsigned)(rnd() % 100);

    if (r < 70)
        return 1 + rnd() % 4096;
    return r < 98 ? 4096 + rnd() % (256 << 10) : (size_t)2 << 20;
}

/* Lend one "sum" object (a full arena skips). A client found gone is sent nothing more:
 * what it sent before it went is still to be received, and only recv says ECLOSED once
 * nothing is queued. */
static void lend_one(struct client *c)
{
    shmipc_arena *a = rnd() % 2 ? shmipc_app_arena(c->s) : shmipc_session_arena(c->s);
    size_t n = random_size();
    char msg[ECHO_MSG_MAX];
    shmipc_obj *o;
    int rc = shmipc_obj_new(a, n, &o);

    if (rc == SHMIPC_ENOMEM)
        return;
    if (rc != 0)
        bad("allocating", rc);
    echo_fill(shmipc_obj_ptr(o), n);
    rc = shmipc_send(c->s, msg, echo_format(msg, "sum", n, echo_checksum(shmipc_obj_ptr(o), n)),
                     o);
    shmipc_obj_unref(o); /* the loan holds it now */
    if (rc == SHMIPC_ECLOSED)
        c->bye = 1;
    else if (rc != 0)
        bad("sending", rc);
    else
        c->unanswered++;
}

/* An answer must hold the bytes we lent for that size, reversed. */
static int answer_ok(const char *msg, size_t len, shmipc_obj *o)
{
    const unsigned char *p = o ? shmipc_obj_ptr(o) : NULL;
    uint64_t n, hash;

    if (!o || !echo_parse(msg, len, "sum", &n, &hash) || shmipc_obj_size(o) != n ||
        echo_checksum(p, n) != hash)
        return 0;
    for (uint64_t i = 0; i < n; i++)
        if (p[i] != (unsigned char)((n - 1 - i) * 13 + n))
            return 0;
    return 1;
}

static void keep_or_drop(struct client *c, shmipc_obj *o)
{
    unsigned slot = (unsigned)(rnd() % KEEP);

    if (rnd() % 3) {
        shmipc_obj_unref(o);
        return;
    }
    shmipc_obj_unref(c->kept[slot]);
    c->kept[slot] = o;
}

/* Take every answer that waits; ECLOSED when the client is gone, else 0. */
static int take_answers(struct owner *w, struct client *c)
{
    char msg[ECHO_MSG_MAX];
    size_t len;

    for (;;) {
        shmipc_obj *o = NULL;
        int rc = shmipc_recv(c->s, msg, sizeof msg, &len, &o, 0);
        if (rc == SHMIPC_ETIMEDOUT)
            return 0;
        if (rc == SHMIPC_ECLOSED)
            return rc;
        if (rc != 0)
            bad("receiving", rc);
        if (!answer_ok(msg, len, o)) {
            say("bad answer from pid %ld: '%.*s'", c->pid, (int)len, msg);
            exit(1);
        }
        c->unanswered--;
        c->answers++;
        w->answers++;
        keep_or_drop(c, o);
    }
}

/* One step with one client: lend, take answers, say bye. ECLOSED when it is gone. */
static int serve(struct owner *w, struct client *c)
{
    int rc;

    if (!c->bye && c->unanswered < MAX_UNANSWERED)
        lend_one(c);
    rc = take_answers(w, c);
    if (rc == 0 && !c->bye && (c->answers >= c->quota || w->stopping)) {
        c->bye = 1;
        rc = shmipc_send(c->s, "bye", 3, NULL);
        if (rc != 0 && rc != SHMIPC_ECLOSED)
            bad("saying bye", rc);
    }
    if (rc == 0 && rnd() % 8 == 0) { /* let go of a kept answer now and then */
        unsigned slot = (unsigned)(rnd() % KEEP);
        shmipc_obj_unref(c->kept[slot]);
        c->kept[slot] = NULL;
    }
    return rc;
}

/* The client went: drop what we kept of it, check the arenas, close the session. */
static void finish(struct owner *w, int i)
{
    struct client *c = &w->c[i];
    shmipc_arena *sa = shmipc_session_arena(c->s), *aa = shmipc_app_arena(c->s);
    size_t now;
    int good;

    for (int k = 0; k < KEEP; k++)
        shmipc_obj_unref(c->kept[k]);
    now = used(sa);
    good = now == c->base && shmipc_arena_check(sa) == 0 && shmipc_arena_check(aa) == 0;
    say("gone %ld session %zu/%zu check %s", c->pid, now, c->base, good ? "ok" : "FAILED");
    w->failed |= !good;
    if (w->n == 1) { /* the last one: the app arena must be back too */
        now = used(aa);
        good = now == w->app_base;
        say("idle app %zu/%zu check %s", now, w->app_base, good ? "ok" : "FAILED");
        w->failed |= !good;
    }
    shmipc_session_close(c->s);
    w->c[i] = w->c[--w->n];
}

static int accept_new(struct owner *w)
{
    shmipc_session *s;
    struct client *c;

    if (w->n == MAX_CLIENTS || w->stopping || shmipc_server_accept(w->srv, 0, &s) != 0)
        return 0;
    c = &w->c[w->n++];
    *c = (struct client){.s = s,
                         .pid = shmipc_session_peer_pid(s),
                         .quota = 10 + (unsigned)(rnd() % 100)};
    c->base = used(shmipc_session_arena(s));
    if (!w->have_app_base) {
        w->app_base = used(shmipc_app_arena(s));
        w->have_app_base = 1;
    }
    w->sessions++;
    say("accepted %ld", c->pid);
    return 1;
}

/* One pass over everything; how much happened. */
static int pass(struct owner *w)
{
    int busy = accept_new(w);

    for (int i = 0; i < w->n;) {
        unsigned before = w->c[i].answers;
        if (serve(w, &w->c[i]) == SHMIPC_ECLOSED) {
            finish(w, i);
            busy = 1;
            continue;
        }
        busy |= w->c[i].answers != before;
        i++;
    }
    w->passes++;
    return busy;
}

/* Sleep up to ms on stdin; 1 once it is closed (the driver's "stop"). */
static int stdin_closed(int ms)
{
    struct pollfd p = {.fd = 0, .events = POLLIN};
    char buf[64];

    if (poll(&p, 1, ms) <= 0)
        return 0;
    return read(0, buf, sizeof buf) <= 0;
}

static int run(struct owner *w)
{
    long tick = now_ms(), stop_by = 0;

    for (;;) {
        int busy = pass(w);
        if (now_ms() - tick >= TICK_MS) {
            say("tick %lu %lu", w->passes, w->answers);
            tick = now_ms();
        }
        if (!w->stopping && stdin_closed(busy ? 0 : 2)) {
            w->stopping = 1;
            stop_by = now_ms() + STOP_MS;
        } else if (w->stopping && !busy) {
            usleep(2000);
        }
        if (w->stopping && w->n == 0)
            break;
        if (w->stopping && now_ms() > stop_by) {
            say("bad stop: %d clients did not go within %d ms", w->n, STOP_MS);
            return 1;
        }
    }
    say("stopped %lu %lu", w->sessions, w->answers);
    return w->failed;
}

int main(int argc, char **argv)
{
    static struct owner w;
    shmipc_server_opts so;
    int rc;

    if (argc != 4 || (strcmp(argv[2], "shared") != 0 && strcmp(argv[2], "lend") != 0)) {
        fprintf(stderr, "usage: chaos_owner NAME shared|lend SEED\n");
        return 3;
    }
    rnd_seed(strtoull(argv[3], NULL, 10));
    shmipc_server_opts_init(&so);
    so.provider = strcmp(argv[2], "lend") == 0 ? SHMIPC_PROVIDER_LEND : SHMIPC_PROVIDER_SHARED;
    so.session_arena_size = (size_t)32 << 20;
    so.app_arena_size = (size_t)64 << 20;
    if ((rc = shmipc_server_open(argv[1], &so, &w.srv)) != 0) {
        fprintf(stderr, "chaos_owner: server_open: %s (%s)\n", shmipc_strerror(rc),
                shmipc_error_detail());
        return rc == SHMIPC_ENOTSUP ? 77 : 3;
    }
    signal(SIGPIPE, SIG_IGN);
    say("listening %s", argv[1]);
    rc = run(&w);
    shmipc_server_close(w.srv);
    return rc;
}

/* session_ops — the cost of the session calls in C, the baseline of the Python binding's
 * overhead (bench/python_transfer.py runs it and prints the ratios).
 *
 *   session_ops [ITERATIONS]
 *
 * Both ends of one session live in this process (a thread accepts while main connects),
 * so what is timed is the calls themselves, with no scheduler in between:
 *   send_recv       send a 16-byte message, receive it
 *   send_recv_obj   send a message lending an object, receive it (borrow), drop the borrow
 *   lend_borrow     lend an object, borrow the blob, drop the borrow
 * Prints one line per pair of calls: "<name> <ns per pair>".
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <shmipc.h>

static double now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

struct accepting {
    shmipc_server *srv;
    shmipc_session *sess;
    int rc;
};

static void *accept_one(void *arg)
{
    struct accepting *a = arg;
    a->rc = shmipc_server_accept(a->srv, 10000, &a->sess);
    return NULL;
}

static int die(const char *what, int rc)
{
    fprintf(stderr, "session_ops: %s: %s (%s)\n", what, shmipc_strerror(rc),
            shmipc_error_detail());
    exit(1);
}

static int check(int rc, const char *what)
{
    return rc ? die(what, rc) : 0;
}

static double time_send_recv(shmipc_session *a, shmipc_session *b, long n)
{
    char buf[64];
    size_t len;
    double t0 = now_ns();

    for (long i = 0; i < n; i++) {
        check(shmipc_send(a, "0123456789abcdef", 16, NULL), "send");
        check(shmipc_recv(b, buf, sizeof buf, &len, NULL, 0), "recv");
    }
    return (now_ns() - t0) / n;
}

static double time_send_recv_obj(shmipc_session *a, shmipc_session *b, shmipc_obj *o, long n)
{
    char buf[64];
    size_t len;
    shmipc_obj *got;
    double t0 = now_ns();

    for (long i = 0; i < n; i++) {
        check(shmipc_send(a, "0123456789abcdef", 16, o), "send");
        check(shmipc_recv(b, buf, sizeof buf, &len, &got, 0), "recv");
        shmipc_obj_unref(got);
    }
    return (now_ns() - t0) / n;
}

static double time_lend_borrow(shmipc_session *a, shmipc_session *b, shmipc_obj *o, long n)
{
    shmipc_blob blob;
    shmipc_obj *got;
    double t0 = now_ns();

    for (long i = 0; i < n; i++) {
        check(shmipc_lend(a, o, &blob), "lend");
        check(shmipc_borrow(b, &blob, &got), "borrow");
        shmipc_obj_unref(got);
    }
    return (now_ns() - t0) / n;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 200000;
    char name[64];
    struct accepting acc = {0};
    shmipc_session *client;
    shmipc_obj *o;
    pthread_t t;

    snprintf(name, sizeof name, "bench-ops-%ld", (long)getpid());
    check(shmipc_server_open(name, NULL, &acc.srv), "server_open");
    pthread_create(&t, NULL, accept_one, &acc);
    check(shmipc_connect(name, "bench", NULL, &client), "connect");
    pthread_join(t, NULL);
    check(acc.rc, "accept");
    check(shmipc_obj_new(shmipc_session_arena(acc.sess), 4096, &o), "obj_new");
    for (int round = 0; round < 2; round++) {
        long k = round ? n : n / 10; /* the first round warms up */
        double sr = time_send_recv(acc.sess, client, k);
        double sro = time_send_recv_obj(acc.sess, client, o, k);
        double lb = time_lend_borrow(acc.sess, client, o, k);
        if (round)
            printf("send_recv %.1f\nsend_recv_obj %.1f\nlend_borrow %.1f\n", sr, sro, lb);
    }
    shmipc_obj_unref(o);
    shmipc_session_close(client);
    shmipc_session_close(acc.sess);
    shmipc_server_close(acc.srv);
    return 0;
}

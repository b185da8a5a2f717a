/* bench/instructions — the user-space work of one warm round trip, in instructions.
 *
 * Both ends of one session live in this one process (a thread connects while the main
 * thread accepts, then one thread does everything), so that valgrind's callgrind counts
 * every instruction of a round trip and none of a wait or a spin: each side lends its own
 * object of SIZE bytes (made once, warm), the other receives and borrows it, reads both
 * ends, releases it and answers with its own, as bench/peers does; `--one-way` answers
 * with an empty message instead, as bench/roundtrip does. `make bench-instructions` runs
 * it under callgrind for two counts of round trips and prints the difference per round
 * trip for both providers (bench/instructions.sh). Not a timing: the machine's load does
 * not change it, which is what makes it the figure to compare two builds with.
 *
 *   instructions PROVIDER ROUNDS [--one-way]      (PROVIDER: lend or shared) */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shmipc.h"

#define SIZE 4096

struct end {
    shmipc_session *s;
    shmipc_obj *o; /* our object, lent with every message */
};

static char server_name[64];

static void die(const char *what, int rc)
{
    fprintf(stderr, "instructions: %s: %s (%s)\n", what, shmipc_strerror(rc),
            shmipc_error_detail());
    exit(1);
}

static void *connect_thread(void *arg)
{
    int rc = shmipc_connect(server_name, "instructions", NULL, arg);

    if (rc != 0)
        die("connect", rc);
    return NULL;
}

static void make_object(struct end *e)
{
    int rc = shmipc_obj_new(shmipc_session_arena(e->s), SIZE, &e->o);

    if (rc != 0)
        die("shmipc_obj_new", rc);
    memset(shmipc_obj_ptr(e->o), 1, SIZE);
}

static void send_one(struct end *e, int with_object)
{
    int rc = shmipc_send(e->s, "x", 1, with_object ? e->o : NULL);

    if (rc != 0)
        die("shmipc_send", rc);
}

/* Receive what waits (it is there: no wait), read both ends of its object, release it. */
static unsigned recv_one(struct end *e)
{
    char buf[16];
    size_t len;
    shmipc_obj *o = NULL;
    unsigned sum = 0;
    int rc = shmipc_recv(e->s, buf, sizeof buf, &len, &o, 0);

    if (rc != 0)
        die("shmipc_recv", rc);
    if (o) {
        const unsigned char *p = shmipc_obj_ptr(o);
        sum = p[0] + p[shmipc_obj_size(o) - 1];
        shmipc_obj_unref(o);
    }
    return sum;
}

int main(int argc, char **argv)
{
    shmipc_server_opts so;
    shmipc_server *srv;
    struct end a = {0}, b = {0};
    pthread_t t;
    long rounds;
    int one_way, rc;
    unsigned sum = 0;

    if (argc < 3 || (strcmp(argv[1], "lend") != 0 && strcmp(argv[1], "shared") != 0)) {
        fprintf(stderr, "usage: %s lend|shared ROUNDS [--one-way]\n", argv[0]);
        return 2;
    }
    rounds = atol(argv[2]);
    one_way = argc > 3 && strcmp(argv[3], "--one-way") == 0;
    snprintf(server_name, sizeof server_name, "instructions-%d", (int)getpid());
    shmipc_server_opts_init(&so);
    so.provider = strcmp(argv[1], "lend") == 0 ? SHMIPC_PROVIDER_LEND : SHMIPC_PROVIDER_SHARED;
    if ((rc = shmipc_server_open(server_name, &so, &srv)) != 0)
        die("shmipc_server_open", rc);
    pthread_create(&t, NULL, connect_thread, &b.s);
    if ((rc = shmipc_server_accept(srv, 30000, &a.s)) != 0)
        die("shmipc_server_accept", rc);
    pthread_join(t, NULL);
    make_object(&a);
    if (!one_way)
        make_object(&b);
    for (long i = 0; i < rounds; i++) {
        send_one(&a, 1);
        sum += recv_one(&b);
        send_one(&b, !one_way);
        sum += recv_one(&a);
    }
    shmipc_obj_unref(a.o);
    if (b.o)
        shmipc_obj_unref(b.o);
    shmipc_session_close(b.s);
    shmipc_session_close(a.s);
    shmipc_server_close(srv);
    return sum == (unsigned)rounds * (one_way ? 2u : 4u) ? 0 : 1;
}

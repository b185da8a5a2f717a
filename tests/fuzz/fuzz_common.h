/* fuzz_common.h — what the libFuzzer harnesses share: a private socket directory, session
 * pairs made in-process (the client connects from a thread), the rule that a refused
 * input must fail with one of the expected codes (anything else aborts: libFuzzer records
 * the input), and writing seed inputs (SHMIPC_FUZZ_SEEDS=DIR: write, then exit). */
#ifndef SHMIPC_FUZZ_COMMON_H
#define SHMIPC_FUZZ_COMMON_H

#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shmipc.h"

struct fuzz_pair {
    shmipc_server *srv;
    shmipc_session *s, *c; /* server side, client side */
    char name[64];
    int rc;
};

static void *fuzz_connect(void *arg)
{
    struct fuzz_pair *p = arg;
    p->rc = shmipc_connect(p->name, "fuzz", NULL, &p->c);
    return NULL;
}

static __attribute__((noreturn)) void fuzz_die(const char *what, int rc)
{
    fprintf(stderr, "fuzz set-up: %s: %s (%s)\n", what, shmipc_strerror(rc),
            shmipc_error_detail());
    abort();
}

static char fuzz_dir[64];

/* At exit (libFuzzer ends with exit()): the harness's servers are never closed, so their
 * sockets are removed here. */
static void fuzz_socket_dir_remove(void)
{
    char cmd[128];

    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fuzz_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", fuzz_dir);
}

static __attribute__((unused)) void fuzz_socket_dir(void)
{
    snprintf(fuzz_dir, sizeof fuzz_dir, "/tmp/shmipc-fuzz-XXXXXX");
    if (!mkdtemp(fuzz_dir))
        abort();
    setenv("SHMIPC_SOCKET_DIR", fuzz_dir, 1);
    atexit(fuzz_socket_dir_remove);
}

/* A session pair of `provider` (a server named after the harness and the pid). */
static __attribute__((unused)) void fuzz_pair_open(struct fuzz_pair *p, const char *what,
                                                   int provider)
{
    shmipc_server_opts o;
    pthread_t t;
    int rc;

    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "fuzz-%s-%d-%d", what, provider, (int)getpid());
    shmipc_server_opts_init(&o);
    o.provider = provider;
    o.session_arena_size = 4 << 20;
    o.app_arena_size = 4 << 20;
    if ((rc = shmipc_server_open(p->name, &o, &p->srv)) != 0)
        fuzz_die("server_open", rc);
    pthread_create(&t, NULL, fuzz_connect, p);
    rc = shmipc_server_accept(p->srv, 10000, &p->s);
    pthread_join(t, NULL);
    if (rc != 0 || p->rc != 0)
        fuzz_die("accept/connect", rc ? rc : p->rc);
}

/* rc must be 0 or one of the codes the input may cause; anything else is a finding. */
static __attribute__((unused)) void fuzz_expect(int rc, int a, int b, int c, const char *what)
{
    if (rc == 0 || rc == a || rc == b || rc == c)
        return;
    fprintf(stderr, "%s: unexpected %d (%s): %s\n", what, rc, shmipc_strerror(rc),
            shmipc_error_detail());
    abort();
}

/* Seeds: write one named input into $SHMIPC_FUZZ_SEEDS (if set). */
static __attribute__((unused)) void fuzz_seed(const char *name, const void *data, size_t n)
{
    const char *dir = getenv("SHMIPC_FUZZ_SEEDS");
    char path[4096];
    FILE *f;

    if (!dir)
        return;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (!(f = fopen(path, "wb")) || fwrite(data, 1, n, f) != n)
        abort();
    fclose(f);
}

static __attribute__((unused)) int fuzz_seeding(void)
{
    return getenv("SHMIPC_FUZZ_SEEDS") != NULL;
}

#endif

/* helper_tool — the processes tests/test_tool.sh inspects and kills: each makes something
 * the `shmipc` tool must see, prints "ready" and waits to be killed (at most 120 s, so a
 * test that dies leaves no process behind).
 *
 *   helper_tool arena NAME node|socket
 *       find-or-create the named arena NAME (4 MiB) in that scope; allocate 3 blocks of
 *       1000 bytes, the named allocations "table" of 4096 bytes (taken twice: 2
 *       references) and "config" of 100 bytes, and 2 objects of 500 bytes.
 *   helper_tool map NAME
 *       open the arena NAME (node scope; made empty if there is none) and keep it mapped.
 *   helper_tool pool NAME
 *       create the named pool NAME (64 KiB), not an arena.
 *   helper_tool creating NAME
 *       start creating the named pool NAME and stop before publishing it: its temporary
 *       file is what a process killed while creating a pool leaves.
 *   helper_tool serve NAME shared|lend|lend-grown COUNT SIZE
 *       serve one client and lend it COUNT objects of SIZE bytes; then keep the session
 *       (and its housekeeping) going. Prints "ready" once listening, "lent" after the
 *       loans; exit 4 if the server cannot start because the provider is not built.
 *       lend-grown: the lend provider with refcount tables whose first pool is 1 MiB, so
 *       that a few thousand loans grow them by further pools.
 *   helper_tool hold NAME COUNT
 *       connect to server NAME, borrow COUNT objects and keep them (prints "held COUNT"),
 *       until the server goes; then release them, close and exit 0.
 */
#include <time.h>

#include "internal.h"
#include "lend.h"
#include "tap.h"

static void ready(const char *what)
{
    printf("%s\n", what);
    fflush(stdout);
}

static int fail(const char *what, int rc)
{
    fprintf(stderr, "helper_tool: %s: %s (%s)\n", what, shmipc_strerror(rc),
            shmipc_error_detail());
    return rc == SHMIPC_ENOTSUP ? 4 : 3;
}

static __attribute__((noreturn)) int wait_to_be_killed(void)
{
    for (;;)
        pause();
}

static int make_arena(const char *name, const char *scope)
{
    shmipc_arena *a;
    shmipc_obj *o;
    void *p;
    int rc = shmipc_arena_open(name, (size_t)4 << 20,
                               strcmp(scope, "socket") == 0 ? SHMIPC_SCOPE_SOCKET
                                                            : SHMIPC_SCOPE_NODE,
                               &a);

    if (rc != 0)
        return fail("arena_open", rc);
    for (int i = 0; i < 3; i++)
        if (!shmipc_alloc(a, 1000))
            return fail("alloc", SHMIPC_ENOMEM);
    for (int i = 0; i < 2; i++)
        if ((rc = shmipc_named_alloc(a, "table", 4096, &p)) < 0)
            return fail("named_alloc", rc);
    if ((rc = shmipc_named_alloc(a, "config", 100, &p)) < 0)
        return fail("named_alloc", rc);
    for (int i = 0; i < 2; i++)
        if ((rc = shmipc_obj_new(a, 500, &o)) != 0)
            return fail("obj_new", rc);
    ready("ready");
    return wait_to_be_killed();
}

static int map_arena(const char *name)
{
    shmipc_arena *a;
    int rc = shmipc_arena_open(name, (size_t)4 << 20, SHMIPC_SCOPE_NODE, &a);

    if (rc != 0)
        return fail("arena_open", rc);
    ready("ready");
    return wait_to_be_killed();
}

static int make_pool(const char *name, int publish)
{
    shmipc_pool *p;
    int rc = publish ? shmipc_pool_create(name, (size_t)64 << 10, 0, &p)
                     : shmipc__pool_create_unpublished(name, (size_t)64 << 10, 0600, &p);

    if (rc != 0)
        return fail("pool_create", rc);
    ready("ready");
    return wait_to_be_killed();
}

static int serve(const char *name, const char *provider, int count, size_t size)
{
    shmipc_server_opts opts;
    shmipc_server *srv;
    shmipc_session *s;
    int rc;

    shmipc_server_opts_init(&opts);
    opts.provider = strncmp(provider, "lend", 4) == 0 ? SHMIPC_PROVIDER_LEND
                                                      : SHMIPC_PROVIDER_SHARED;
    if (strcmp(provider, "lend-grown") == 0)
        shmipc__lend_table_size = (size_t)1 << 20;
    if ((rc = shmipc_server_open(name, &opts, &srv)) != 0)
        return fail("server_open", rc);
    ready("ready");
    if ((rc = shmipc_server_accept(srv, 60000, &s)) != 0)
        return fail("accept", rc);
    for (int i = 0; i < count; i++) {
        shmipc_obj *o;
        if ((rc = shmipc_obj_new(shmipc_session_arena(s), size, &o)) != 0)
            return fail("obj_new", rc);
        memset(shmipc_obj_ptr(o), 0x5a, size);
        if ((rc = shmipc_send(s, "gift", 4, o)) != 0)
            return fail("send", rc);
        shmipc_obj_unref(o);
    }
    ready("lent");
    for (;;) {
        char msg[64];
        size_t len;
        if (shmipc_recv(s, msg, sizeof msg, &len, NULL, 1000) == SHMIPC_ECLOSED)
            return wait_to_be_killed();
    }
}

static int hold(const char *name, int count)
{
    shmipc_obj **held = calloc(count > 0 ? (size_t)count : 1, sizeof *held);
    shmipc_session *s;
    char msg[64];
    size_t len;
    int rc, n = 0;

    if (!held)
        return fail("calloc", SHMIPC_ENOMEM);
    if ((rc = shmipc_connect(name, "holder", NULL, &s)) != 0)
        return fail("connect", rc);
    while (n < count) {
        if ((rc = shmipc_recv(s, msg, sizeof msg, &len, &held[n], 30000)) != 0)
            return fail("recv", rc);
        n += held[n] != NULL;
    }
    printf("held %d\n", n);
    fflush(stdout);
    while ((rc = shmipc_recv(s, msg, sizeof msg, &len, NULL, -1)) != SHMIPC_ECLOSED)
        if (rc != 0)
            return fail("recv", rc);
    while (n > 0)
        shmipc_obj_unref(held[--n]);
    free(held);
    shmipc_session_close(s);
    return 0;
}

int main(int argc, char **argv)
{
    alarm(120);
    if (argc == 4 && strcmp(argv[1], "arena") == 0)
        return make_arena(argv[2], argv[3]);
    if (argc == 3 && strcmp(argv[1], "map") == 0)
        return map_arena(argv[2]);
    if (argc == 3 && strcmp(argv[1], "pool") == 0)
        return make_pool(argv[2], 1);
    if (argc == 3 && strcmp(argv[1], "creating") == 0)
        return make_pool(argv[2], 0);
    if (argc == 6 && strcmp(argv[1], "serve") == 0)
        return serve(argv[2], argv[3], atoi(argv[4]), (size_t)atol(argv[5]));
    if (argc == 4 && strcmp(argv[1], "hold") == 0)
        return hold(argv[2], atoi(argv[3]));
    fprintf(stderr, "usage: helper_tool arena|map|pool|creating|serve|hold ...\n");
    return 64;
}

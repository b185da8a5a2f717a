/* Named allocations (Umpire's SHARED resource): find-or-create, reference counts, size
 * mismatch, name rules, many names, a full arena, and two processes sharing one name. */
#include <stdint.h>

#include "tap.h"

#define MiB ((size_t)1 << 20)

static void test_find_or_create(shmipc_arena *a)
{
    struct shmipc_arena_stats base = stats_of(a);
    void *p, *q, *f;
    size_t size = 0;

    is_rc(shmipc_named_alloc(a, "table", 4096, &p), 1, "first call creates");
    memset(p, 0x5a, 4096);
    is_rc(shmipc_named_alloc(a, "table", 4096, &q), 0, "second call finds");
    ok(p == q, "the same memory");
    is_rc(shmipc_named_find(a, "table", &f, &size), 0, "find");
    ok(f == p && size == 4096, "find gives pointer and size");
    ok(stats_of(a).named == base.named + 1, "one named allocation");
    is_rc(shmipc_named_alloc(a, "table", 8192, &q), SHMIPC_EEXIST, "another size: EEXIST");
    ok(strstr(shmipc_error_detail(), "4096") != NULL, "detail names both sizes: %s",
       shmipc_error_detail());
    is_rc(shmipc_named_free(a, "table"), 0, "drop one of two references");
    is_rc(shmipc_named_find(a, "table", &f, NULL), 0, "still there");
    ok(((unsigned char *)f)[4095] == 0x5a, "contents kept");
    is_rc(shmipc_named_free(a, "table"), 0, "drop the last reference");
    is_rc(shmipc_named_find(a, "table", &f, NULL), SHMIPC_ENOENT, "gone");
    is_rc(shmipc_named_free(a, "table"), SHMIPC_ENOENT, "free again: ENOENT");
    ok(stats_of(a).used == base.used && stats_of(a).named == base.named,
       "memory back to baseline");
}

static void test_bad_names(shmipc_arena *a)
{
    char longest[SHMIPC_NAME_MAX + 2];
    void *p;

    memset(longest, 'n', sizeof longest);
    longest[SHMIPC_NAME_MAX] = '\0';
    is_rc(shmipc_named_alloc(a, longest, 8, &p), 1, "a name of SHMIPC_NAME_MAX bytes");
    is_rc(shmipc_named_find(a, longest, &p, NULL), 0, "found by its full name");
    is_rc(shmipc_named_free(a, longest), 0, "freed");
    longest[SHMIPC_NAME_MAX] = 'n';
    longest[SHMIPC_NAME_MAX + 1] = '\0';
    is_rc(shmipc_named_alloc(a, longest, 8, &p), SHMIPC_EINVAL, "one byte longer: EINVAL");
    ok(strstr(shmipc_error_detail(), "longer") != NULL, "detail: %s", shmipc_error_detail());
    is_rc(shmipc_named_alloc(a, "", 8, &p), SHMIPC_EINVAL, "empty name");
    is_rc(shmipc_named_alloc(a, NULL, 8, &p), SHMIPC_EINVAL, "NULL name");
    is_rc(shmipc_named_alloc(a, "a/b", 8, &p), SHMIPC_EINVAL, "slash");
    is_rc(shmipc_named_alloc(a, "x", 0, &p), SHMIPC_EINVAL, "size 0");
    is_rc(shmipc_named_alloc(a, "x", 8, NULL), SHMIPC_EINVAL, "NULL out");
    is_rc(shmipc_named_alloc(NULL, "x", 8, &p), SHMIPC_EINVAL, "NULL arena");
    is_rc(shmipc_named_find(a, "x", NULL, NULL), SHMIPC_EINVAL, "find with NULL out");
    is_rc(shmipc_arena_check(a), 0, "arena consistent");
}

static void test_many(shmipc_arena *a)
{
    enum {
        N = 5000
    };
    static void *ptrs[N];
    char name[32];
    int created = 0, found = 0, distinct = 1, freed = 0;

    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof name, "item-%d", i);
        created += shmipc_named_alloc(a, name, 16 + (size_t)i % 100, &ptrs[i]) == 1;
        *(int *)ptrs[i] = i;
    }
    ok(created == N && stats_of(a).named == N, "%d names created", created);
    for (int i = 0; i < N; i++) {
        void *p;
        snprintf(name, sizeof name, "item-%d", i);
        found += shmipc_named_find(a, name, &p, NULL) == 0 && p == ptrs[i] && *(int *)p == i;
        if (i > 0)
            distinct &= ptrs[i] != ptrs[i - 1];
    }
    ok(found == N && distinct, "each found at its own address with its own contents");
    is_rc(shmipc_arena_check(a), 0, "arena (and its name directory) consistent");
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof name, "item-%d", i);
        freed += shmipc_named_free(a, name) == 0;
    }
    ok(freed == N && stats_of(a).named == 0, "all freed");
}

static void test_full(void)
{
    shmipc_pool *p;
    shmipc_arena *a;
    struct shmipc_arena_stats before;
    void *x;

    shmipc_pool_create(NULL, 256 << 10, 0, &p);
    shmipc_arena_create(p, &a);
    before = stats_of(a);
    is_rc(shmipc_named_alloc(a, "huge", 1 * MiB, &x), SHMIPC_ENOMEM, "no room: ENOMEM");
    ok(stats_of(a).named == before.named && stats_of(a).used == before.used,
       "a failed create leaves nothing behind");
    is_rc(shmipc_named_alloc(a, "fits", before.largest_free - 200, &x), 1,
          "a name almost as large as the arena");
    is_rc(shmipc_named_alloc(a, "small", 64, &x), SHMIPC_ENOMEM, "then the entry has no room");
    is_rc(shmipc_arena_check(a), 0, "consistent after failures");
    shmipc_arena_close(a);
}

/* A child process finds by name what the parent made, and writes into it. */
static int child_finds(void *arg)
{
    const char *arena_name = arg;
    shmipc_arena *a;
    int *p;

    if (shmipc_arena_open(arena_name, MiB, SHMIPC_SCOPE_NODE, &a) != 0)
        return 10;
    if (shmipc_named_alloc(a, "shared", 64, (void **)&p) != 0)
        return 11; /* must find, not create */
    if (p[0] != 42)
        return 12;
    p[1] = 43;
    shmipc_named_free(a, "shared");
    shmipc_arena_close(a);
    return 0;
}

static void test_two_processes(void)
{
    const char *name = uname_("named");
    shmipc_arena *a;
    int *p, status;

    is_rc(shmipc_arena_open(name, MiB, SHMIPC_SCOPE_NODE, &a), 0, "named arena");
    is_rc(shmipc_named_alloc(a, "shared", 64, (void **)&p), 1, "parent creates 'shared'");
    p[0] = 42;
    status = run_child(child_finds, (void *)name);
    ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child found it (status %d)", status);
    ok(p[1] == 43, "and the parent sees what the child wrote");
    is_rc(shmipc_named_free(a, "shared"), 0, "the parent drops its own reference");
    is_rc(shmipc_named_find(a, "shared", (void **)&p, NULL), SHMIPC_ENOENT, "gone");
    shmipc_arena_close(a);
    shmipc_arena_unlink(name);
}

int main(void)
{
    shmipc_pool *p;
    shmipc_arena *a;

    shmipc_pool_create(NULL, 16 * MiB, 0, &p);
    shmipc_arena_create(p, &a);
    test_find_or_create(a);
    test_bad_names(a);
    test_many(a);
    shmipc_arena_close(a);
    test_full();
    test_two_processes();
    ok(shm_leftovers() == 0, "nothing left in the shm directory");
    return done_testing();
}

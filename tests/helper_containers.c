/* helper_containers ARENA make|check — the C side of the cross-language container tests.
 * make: in the named arena ARENA, create the map "c-map" (8-byte values, "k<i>" -> i for
 * i < 100), the vector "c-vec" (int64 0..99) and the string "c-str" ("made by C").
 * check: read what the other language made under the names "x-map", "x-vec", "x-str" (the
 * same contents), then add "from-c" -> 7 to "x-map" and push 100 to "x-vec".
 * Exit status 0 when everything was as expected; what differed goes to stderr. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "shmipc.h"

static int fail(const char *what)
{
    fprintf(stderr, "helper_containers: %s (%s)\n", what, shmipc_error_detail());
    return 1;
}

static int make(shmipc_arena *a)
{
    shmipc_map *m;
    shmipc_vec *v;
    shmipc_str *s;
    char key[16];

    if (shmipc_named_alloc(a, "c-map", sizeof *m, (void **)&m) != 1 ||
        shmipc_named_alloc(a, "c-vec", sizeof *v, (void **)&v) != 1 ||
        shmipc_named_alloc(a, "c-str", sizeof *s, (void **)&s) != 1)
        return fail("named_alloc");
    if (shmipc_map_init(a, m, 8, 0) || shmipc_vec_init(a, v, 8, 0))
        return fail("init");
    memset(s, 0, sizeof *s);
    for (int64_t i = 0; i < 100; i++) {
        int n = snprintf(key, sizeof key, "k%d", (int)i);
        if (shmipc_map_put(a, m, key, (size_t)n, &i) || shmipc_vec_push(a, v, &i))
            return fail("put/push");
    }
    return shmipc_str_set(a, s, "made by C", 9) ? fail("str_set") : 0;
}

static int check(shmipc_arena *a)
{
    shmipc_map *m;
    shmipc_vec *v;
    shmipc_str *s;
    int64_t *got, seven = 7, hundred = 100;
    char key[16];

    if (shmipc_named_find(a, "x-map", (void **)&m, NULL) ||
        shmipc_named_find(a, "x-vec", (void **)&v, NULL) ||
        shmipc_named_find(a, "x-str", (void **)&s, NULL))
        return fail("named_find");
    if (shmipc_map_len(m) != 100 || shmipc_vec_len(v) != 100)
        return fail("lengths");
    for (int64_t i = 0; i < 100; i++) {
        int n = snprintf(key, sizeof key, "k%d", (int)i);
        if (shmipc_map_get(m, key, (size_t)n, (void **)&got) || *got != i)
            return fail("map value");
        if (*(int64_t *)shmipc_vec_at(v, (size_t)i) != i)
            return fail("vec element");
    }
    if (shmipc_str_len(s) != 14 || strcmp(shmipc_str_ptr(s), "made by Python") != 0)
        return fail("str");
    if (shmipc_map_put(a, m, "from-c", 6, &seven) || shmipc_vec_push(a, v, &hundred))
        return fail("write");
    return 0;
}

int main(int argc, char **argv)
{
    shmipc_arena *a;
    if (argc != 3 || shmipc_arena_open(argv[1], 8 << 20, SHMIPC_SCOPE_NODE, &a))
        return fail("usage: helper_containers ARENA make|check");
    int rc = strcmp(argv[2], "make") == 0 ? make(a) : check(a);
    shmipc_arena_close(a);
    return rc;
}

/* lookup ARENA COUNT — look COUNT keys up in place in the index a Python process built
 * (build_index.py): shmipc_map_get on the map found by name, reading each value where it
 * lies. The map is not written meanwhile (appenders write the log, under the mutex), so
 * the reads take no lock. Prints "found N of COUNT" and exits 0 if each value matched. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shmipc.h"

int main(int argc, char **argv)
{
    shmipc_arena *a;
    shmipc_map *index;
    size_t count = argc > 2 ? strtoul(argv[2], NULL, 10) : 1000, found = 0;

    if (argc < 2 || shmipc_arena_open(argv[1], 1 << 20, SHMIPC_SCOPE_NODE, &a) != 0 ||
        shmipc_named_find(a, "index", (void **)&index, NULL) != 0) {
        fprintf(stderr, "lookup: no index in arena %s: %s\n", argc > 1 ? argv[1] : "?",
                shmipc_error_detail());
        return 1;
    }
    size_t n = shmipc_map_len(index);
    for (size_t i = 0; i < count && n; i++) {
        char key[32];
        uint64_t want = (i * 7919) % n;
        void *value;
        int len = snprintf(key, sizeof key, "key-%llu", (unsigned long long)want);
        if (shmipc_map_get(index, key, (size_t)len, &value) == 0 &&
            memcmp(value, &want, 8) == 0) /* little-endian, as Python wrote it */
            found++;
    }
    printf("found %zu of %zu\n", found, count);
    shmipc_arena_close(a);
    return found == count ? 0 : 1;
}

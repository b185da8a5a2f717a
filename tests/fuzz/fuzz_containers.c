/* fuzz_containers — reads of shared containers whose bytes a peer corrupted.
 *
 * A map (20 entries), a vector (20 elements) and a string are built once in an arena, and
 * the arena's bytes saved. Each input is XORed onto those containers' memory (their
 * headers, the map's table and entries, the vector's elements, the string's block: the
 * span from the first header on), after which the extent words of the headers are put
 * back (a reader without the arena trusts them: docs/containers.md). Then every read a
 * borrower makes runs: get of each key and of keys not there, iteration, the vector's
 * elements, the string. None may fault, loop without end, or return memory outside the
 * arena (checked: abort). The saved bytes are restored before the next input. */
#include "fuzz_common.h"

#define POOL_SIZE ((size_t)256 << 10)

static shmipc_arena *arena;
static char *base, *end, *saved;
static size_t span_off, span_len;
static shmipc_map *map;
static shmipc_vec *vec;
static shmipc_str *str;
static volatile unsigned char sink;

static void touch(const void *p, size_t len)
{
    const char *c = p;
    if (len && (c < base || len > (size_t)(end - c))) {
        fprintf(stderr, "a read outside the arena: %p + %zu\n", p, len);
        abort();
    }
    for (size_t i = 0; i < len; i++)
        sink ^= (unsigned char)c[i];
}

static void *need(void *p)
{
    if (!p)
        fuzz_die("setup", SHMIPC_ENOMEM);
    return p;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    shmipc_pool *pool;
    (void)argc;
    (void)argv;
    if (shmipc_pool_create(NULL, POOL_SIZE, 0, &pool) || shmipc_arena_create(pool, &arena))
        fuzz_die("arena", SHMIPC_ENOMEM);
    base = shmipc_pool_base(pool);
    end = base + shmipc_pool_size(pool);
    map = need(shmipc_alloc(arena, sizeof *map));
    vec = need(shmipc_alloc(arena, sizeof *vec));
    str = need(shmipc_alloc(arena, sizeof *str));
    memset(str, 0, sizeof *str);
    if (shmipc_map_init(arena, map, 8, 0) || shmipc_vec_init(arena, vec, 8, 0) ||
        shmipc_str_set(arena, str, "a string", 8))
        fuzz_die("init", SHMIPC_ENOMEM);
    for (uint64_t i = 0; i < 20; i++)
        if (shmipc_map_put(arena, map, &i, sizeof i, &i) || shmipc_vec_push(arena, vec, &i))
            fuzz_die("fill", SHMIPC_ENOMEM);
    span_off = (size_t)((char *)map - base);
    span_len = 8192;
    saved = need(malloc(POOL_SIZE));
    memcpy(saved, base, shmipc_pool_size(pool));
    if (fuzz_seeding()) {
        unsigned char seed[64] = {0};
        fuzz_seed("genuine", seed, sizeof seed);
        seed[32] = 0x40; /* the map's table offset, moved */
        fuzz_seed("table-moved", seed, sizeof seed);
        exit(0);
    }
    return 0;
}

static void restore_extent(int64_t *lo, int64_t *hi, const void *hdr)
{
    const int64_t *old = (const int64_t *)(saved + ((const char *)hdr - base));
    *lo = old[(lo - (const int64_t *)hdr)];
    *hi = old[(hi - (const int64_t *)hdr)];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n = size < span_len ? size : span_len;
    for (size_t i = 0; i < n; i++)
        base[span_off + i] ^= (char)data[i];
    restore_extent(&map->lo, &map->hi, map);
    restore_extent(&vec->lo, &vec->hi, vec);
    restore_extent(&str->lo, &str->hi, str);

    void *v;
    const void *k;
    size_t klen, pos = 0, len;
    for (uint64_t i = 0; i < 24; i++)
        if (shmipc_map_get(map, &i, sizeof i, &v) == 0)
            touch(v, map->value_size);
    for (int i = 0; i < 64 && shmipc_map_next(map, &pos, &k, &klen, &v) == 0; i++) {
        touch(k, klen);
        touch(v, map->value_size);
    }
    (void)shmipc_map_len(map);
    len = shmipc_vec_len(vec);
    for (size_t i = 0; i < len && i < 64; i++)
        touch(shmipc_vec_at(vec, i), vec->elem_size);
    const char *s = shmipc_str_data(str, &len);
    touch(s, len ? len + 1 : 0);

    memcpy(base + span_off, saved + span_off, span_len);
    return 0;
}

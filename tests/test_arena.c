/* The shared arena in one process: allocation against a model, exhaustion and
 * coalescing, refused frees, attaching a second handle, corruption detection, pool-relative
 * pointers, and named arenas (find-or-create, scopes, unlink). */
#define _GNU_SOURCE /* sched_getcpu */
#include <sched.h>
#include <stdint.h>

#include "arena.h"

#include "tap.h"

#define MiB ((size_t)1 << 20)

static shmipc_arena *new_arena(size_t size)
{
    shmipc_pool *p;
    shmipc_arena *a;

    if (shmipc_pool_create(NULL, size, 0, &p) != 0)
        return NULL;
    if (shmipc_arena_create(p, &a) != 0) {
        shmipc_pool_close(p);
        return NULL;
    }
    return a;
}

static void fill(unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(seed + i * 7);
}

static int intact(const unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != (unsigned char)(seed + i * 7))
            return 0;
    return 1;
}

/* Random allocs and frees of mixed sizes against a model of what must be there. */
static void test_model(void)
{
    enum {
        SLOTS = 400,
        OPS = 40000
    };
    static unsigned char *ptr[SLOTS];
    static size_t len[SLOTS];
    shmipc_arena *a = new_arena(64 * MiB);
    struct shmipc_arena_stats base = stats_of(a), s;
    int bad_align = 0, bad_data = 0, bad_size = 0, checks = 0, failed_allocs = 0;

    for (int op = 0; op < OPS; op++) {
        unsigned i = (unsigned)(rnd() % SLOTS);
        if (op % 5000 == 0)
            checks += shmipc_arena_check(a) == 0;
        if (ptr[i]) {
            bad_data += !intact(ptr[i], len[i], i);
            shmipc_free(a, ptr[i]);
            ptr[i] = NULL;
            continue;
        }
        len[i] = (rnd() % 8 == 0) ? 1 + rnd() % (256 << 10) : 1 + rnd() % 4112;
        ptr[i] = shmipc_alloc(a, len[i]);
        if (!ptr[i]) {
            failed_allocs++;
            continue;
        }
        bad_align += ((uintptr_t)ptr[i] % 16) != 0;
        bad_size += shmipc_alloc_size(a, ptr[i]) < len[i];
        fill(ptr[i], len[i], i);
    }
    ok(failed_allocs == 0, "no allocation failed in a roomy arena (%d did)", failed_allocs);
    ok(bad_align == 0, "every pointer is 16-byte aligned");
    ok(bad_size == 0, "shmipc_alloc_size covers the size asked for");
    ok(bad_data == 0, "no block was overwritten by another (%d were)", bad_data);
    ok(checks == OPS / 5000, "arena check passes throughout");
    s = stats_of(a);
    ok(s.allocations > 0 && s.used > base.used, "stats count live blocks (%zu, %zu bytes)",
       s.allocations, s.used);
    for (unsigned i = 0; i < SLOTS; i++) {
        shmipc_free(a, ptr[i]);
        ptr[i] = NULL;
    }
    s = stats_of(a);
    ok(s.used == base.used && s.allocations == base.allocations,
       "used back to baseline after freeing everything (%zu vs %zu)", s.used, base.used);
    ok(s.largest_free == base.largest_free, "free space coalesced back into one block");
    is_rc(shmipc_arena_check(a), 0, "arena check at the end");
    shmipc_arena_close(a);
}

static void test_exhaustion(void)
{
    shmipc_arena *a = new_arena(MiB);
    struct shmipc_arena_stats base = stats_of(a), s;
    void **blocks = calloc(2048, sizeof *blocks);
    int n = 0;
    void *big;

    ok(base.capacity > 1000 * 1000 && base.capacity < MiB, "capacity %zu of a 1 MiB pool",
       base.capacity);
    ok(base.free == base.capacity - base.used, "free = capacity - used");
    while (n < 2048 && (blocks[n] = shmipc_alloc(a, 1000)) != NULL)
        n++;
    ok(n > 900 && n < 1100, "about 1000 blocks of 1000 bytes fit (%d)", n);
    ok(strstr(shmipc_error_detail(), "no free block") != NULL, "full arena says so: %s",
       shmipc_error_detail());
    s = stats_of(a);
    ok(s.largest_free < 1000, "largest free block %zu < 1000 when full", s.largest_free);
    if (s.largest_free > 0)
        ok(shmipc_alloc(a, s.largest_free) != NULL, "the largest free block can be had whole");
    else
        ok(1, "no free block left");
    for (int i = 0; i < n; i += 2)
        shmipc_free(a, blocks[i]);
    ok(shmipc_alloc(a, 5000) == NULL, "fragmented: no 5000-byte block between 1000-byte holes");
    for (int i = 1; i < n; i += 2)
        shmipc_free(a, blocks[i]);
    s = stats_of(a);
    ok(s.largest_free + 2000 > base.largest_free, "holes coalesce when neighbours go");
    big = shmipc_alloc(a, base.largest_free - 4096);
    ok(big != NULL, "a near-capacity block fits again");
    shmipc_free(a, big);
    ok(shmipc_alloc(a, 0) == NULL, "size 0 gives NULL");
    ok(shmipc_alloc(a, SIZE_MAX) == NULL, "SIZE_MAX gives NULL");
    ok(shmipc_alloc(a, MiB) == NULL, "more than the pool gives NULL");
    ok(shmipc_alloc(NULL, 16) == NULL, "NULL arena gives NULL");
    is_rc(shmipc_arena_check(a), 0, "arena consistent after exhaustion");
    free(blocks);
    shmipc_arena_close(a);
}

static void test_bad_frees(void)
{
    shmipc_arena *a = new_arena(MiB), *other = new_arena(MiB);
    unsigned char *keep = shmipc_alloc(a, 300), *p = shmipc_alloc(a, 64);
    void *foreign = malloc(64), *theirs = shmipc_alloc(other, 64);
    struct shmipc_arena_stats before, after;

    fill(keep, 300, 3);
    before = stats_of(a);
    shmipc_free(a, foreign);
    shmipc_free(a, theirs);
    shmipc_free(a, keep + 16);
    shmipc_free(a, keep + 1);
    shmipc_free(a, (char *)shmipc_pool_base(shmipc_arena_pool(a)) + 8);
    shmipc_free(a, NULL);
    after = stats_of(a);
    ok(after.bad_frees == before.bad_frees + 5, "5 bad frees refused and counted (%llu)",
       (unsigned long long)(after.bad_frees - before.bad_frees));
    ok(after.allocations == before.allocations && after.used == before.used,
       "refused frees change nothing");
    shmipc_free(a, p);
    shmipc_free(a, p);
    ok(stats_of(a).bad_frees == after.bad_frees + 1, "double free refused");
    ok(shmipc_alloc_size(a, p) == 0 && shmipc_alloc_size(a, foreign) == 0,
       "alloc_size is 0 for what the arena did not hand out");
    ok(intact(keep, 300, 3), "the neighbouring block is untouched");
    is_rc(shmipc_arena_check(a), 0, "arena consistent after bad frees");
    is_rc(shmipc_arena_check(other), 0, "the other arena too");
    free(foreign);
    shmipc_arena_close(a);
    shmipc_arena_close(other);
}

/* A second handle on the same pool (as a peer would have) shares the allocator. */
static void test_attach(void)
{
    shmipc_arena *a = new_arena(MiB), *b;
    shmipc_pool *p2, *ro, *plain;
    void *x;

    is_rc(shmipc_pool_from_fd(shmipc_pool_fd(shmipc_arena_pool(a)), 0, &p2), 0, "second map");
    is_rc(shmipc_arena_attach(p2, &b), 0, "attach to the arena in it");
    x = shmipc_alloc(b, 100);
    ok(stats_of(a).allocations == stats_of(b).allocations, "both handles see one state");
    shmipc_free(a, (char *)shmipc_pool_base(shmipc_arena_pool(a)) +
                       ((char *)x - (char *)shmipc_pool_base(p2)));
    ok(stats_of(b).bad_frees == 0 && stats_of(b).allocations == stats_of(a).allocations,
       "a block allocated through one handle is freed through the other");
    shmipc_arena_close(b);

    is_rc(shmipc_pool_from_fd(shmipc_pool_fd(shmipc_arena_pool(a)), SHMIPC_RDONLY, &ro), 0,
          "read-only map");
    is_rc(shmipc_arena_attach(ro, &b), SHMIPC_EINVAL, "no shared arena over a read-only map");
    shmipc_pool_close(ro);
    is_rc(shmipc_pool_create(NULL, MiB, 0, &plain), 0, "plain pool");
    is_rc(shmipc_arena_attach(plain, &b), SHMIPC_ECORRUPT, "a pool without an arena");
    shmipc_pool_close(plain);
    is_rc(shmipc_pool_create(NULL, 16384, 0, &plain), 0, "small pool");
    is_rc(shmipc_arena_create(plain, &b), SHMIPC_EINVAL, "too small for an arena");
    ok(strstr(shmipc_error_detail(), "too small") != NULL, "and says so: %s",
       shmipc_error_detail());
    shmipc_pool_close(plain);
    is_rc(shmipc_arena_create(NULL, &b), SHMIPC_EINVAL, "NULL pool");
    shmipc_arena_close(a);
}

/* Damage the allocator state the way a wild write would; the check finds it, no crash. */
static void test_corruption_detected(void)
{
    shmipc_arena *a = new_arena(MiB);
    unsigned char *x = shmipc_alloc(a, 100), *y = shmipc_alloc(a, 100);
    uint64_t *hdr = (uint64_t *)(x - 16), saved = hdr[1];
    struct arena_hdr *h = shmipc_pool_base(shmipc_arena_pool(a));
    uint64_t saved_used = h->used;

    hdr[1] = 12345;
    is_rc(shmipc_arena_check(a), SHMIPC_ECORRUPT, "a smashed block header is found");
    diag("detail: %s", shmipc_error_detail());
    shmipc_free(a, x);
    ok(stats_of(a).bad_frees == 1, "freeing the smashed block is refused");
    hdr[1] = saved;
    is_rc(shmipc_arena_check(a), 0, "restored: consistent again");
    h->used = saved_used + 16;
    is_rc(shmipc_arena_check(a), SHMIPC_ECORRUPT, "a wrong counter is found");
    h->used = saved_used;
    ((uint64_t *)(y - 16))[2] = 0; /* harmless: y is live, its link words are payload */
    is_rc(shmipc_arena_check(a), 0, "live payload bytes are not allocator state");
    h->magic ^= 1;
    is_rc(shmipc_arena_check(a), SHMIPC_ECORRUPT, "a bad magic is found");
    h->magic ^= 1;
    shmipc_arena_close(a);
}

static void test_poolrel(void)
{
    shmipc_arena *a = new_arena(MiB);
    char *x = shmipc_alloc(a, 64);
    shmipc_poolrel r, bad;
    int local;

    is_rc(shmipc_arena_to_poolrel(a, x + 5, &r), 0, "pool-relative pointer");
    ok(r.pool_id == shmipc_pool_id(shmipc_arena_pool(a)), "carries the pool id");
    ok(shmipc_arena_from_poolrel(a, r) == x + 5, "resolves back");
    is_rc(shmipc_arena_to_poolrel(a, &local, &r), SHMIPC_EINVAL, "stack address refused");
    bad = r;
    bad.pool_id ^= 1;
    ok(shmipc_arena_from_poolrel(a, bad) == NULL, "unknown pool id resolves to NULL");
    bad = r;
    bad.offset = (uint64_t)1 << 40;
    ok(shmipc_arena_from_poolrel(a, bad) == NULL, "offset outside the pool resolves to NULL");
    bad.pool_id = 0;
    ok(shmipc_arena_from_poolrel(a, bad) == NULL, "NULL poolrel resolves to NULL");
    shmipc_arena_close(a);
}

static void test_named_arenas(void)
{
    const char *name = uname_("arena");
    shmipc_arena *a, *b, *s;
    shmipc_pool *p;

    is_rc(shmipc_arena_open(name, 4 * MiB, SHMIPC_SCOPE_NODE, &a), 0, "create named arena");
    is_rc(shmipc_arena_open(name, 8 * MiB, SHMIPC_SCOPE_NODE, &b), 0, "open it again");
    ok(shmipc_pool_id(shmipc_arena_pool(a)) == shmipc_pool_id(shmipc_arena_pool(b)),
       "same arena (size only matters on creation)");
    ok(shmipc_pool_size(shmipc_arena_pool(b)) == 4 * MiB, "its size is the creator's");
    is_rc(shmipc_pool_open(name, 0, &p), 0, "the arena is a pool of that name");
    shmipc_pool_close(p);
    is_rc(shmipc_arena_open(name, 4 * MiB, SHMIPC_SCOPE_SOCKET, &s), 0, "socket scope");
    {
        char path[128];
        int pkg = -1, want = -2;
        FILE *f;
        is_rc(shmipc_cpu_package(&pkg), 0, "shmipc_cpu_package: package %d", pkg);
        snprintf(path, sizeof path,
                 "/sys/devices/system/cpu/cpu%d/topology/physical_package_id", sched_getcpu());
        if ((f = fopen(path, "r")) != NULL) {
            if (fscanf(f, "%d", &want) != 1)
                want = -2;
            fclose(f);
        }
        ok(pkg == want, "it is the package of the CPU this runs on (%d)", want);
        is_rc(shmipc_cpu_package(NULL), SHMIPC_EINVAL, "shmipc_cpu_package(NULL): EINVAL");
    }
    ok(shmipc_pool_id(shmipc_arena_pool(s)) != shmipc_pool_id(shmipc_arena_pool(a)),
       "socket scope is another arena than node scope");
    is_rc(shmipc_arena_unlink(name), 0, "unlink removes every scope");
    is_rc(shmipc_pool_open(name, 0, &p), SHMIPC_ENOENT, "node-scope name gone");
    is_rc(shmipc_arena_unlink(name), SHMIPC_ENOENT, "unlink again: ENOENT");
    ok(shmipc_alloc(a, 100) != NULL, "handles stay usable after unlink");
    shmipc_arena_close(s);
    shmipc_arena_close(b);
    shmipc_arena_close(a);

    is_rc(shmipc_arena_open(name, 1024, SHMIPC_SCOPE_NODE, &a), SHMIPC_EINVAL, "too small");
    is_rc(shmipc_arena_open(name, MiB, 7, &a), SHMIPC_EINVAL, "unknown scope");
    is_rc(shmipc_arena_open("bad name", MiB, 0, &a), SHMIPC_EINVAL, "bad name");
    is_rc(shmipc_arena_open(name, MiB, 0, NULL), SHMIPC_EINVAL, "NULL out");
    is_rc(shmipc_pool_create(name, MiB, 0, &p), 0, "a plain pool under an arena's name");
    is_rc(shmipc_arena_open(name, MiB, 0, &a), SHMIPC_ECORRUPT, "is not taken for an arena");
    shmipc_pool_close(p);
    shmipc_pool_unlink(name);
}

int main(void)
{
    test_model();
    test_exhaustion();
    test_bad_frees();
    test_attach();
    test_corruption_detected();
    test_poolrel();
    test_named_arenas();
    ok(shm_leftovers() == 0, "nothing left in the shm directory");
    return done_testing();
}

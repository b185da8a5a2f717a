/* tlsf.c — the shared provider's allocator: TLSF (two-level segregated fit, O(1)
 * alloc and free) whose whole state lives in the pool, every store of it undo-logged under
 * the arena's robust lock. Owns the block format, the free lists, the bad-free checks and
 * the allocator's consistency check. After a lock holder died the lock runs the arena
 * layer's recovery policy (a->recover, arena.c): this file knows nothing above the lock. */
#include <string.h>

#include "arena.h"

#define MAX_BLOCK (UINT64_C(1) << 47)

static inline struct block *blk(shmipc_arena *a, uint64_t off)
{
    return (struct block *)arena_at(a, off);
}

static inline uint64_t bsize(const struct block *b)
{
    return b->size_tag & SIZE_MASK;
}

static inline uint64_t btag(const struct block *b)
{
    return b->size_tag >> TAG_SHIFT;
}

static inline uint64_t size_tag(uint64_t size, uint64_t tag)
{
    return size | (tag << TAG_SHIFT);
}

static inline unsigned fls64(uint64_t x)
{
    return 63u - (unsigned)__builtin_clzll(x);
}

static inline uint64_t align_up(uint64_t x, uint64_t a)
{
    return (x + a - 1) & ~(a - 1);
}

/* The list (fl, sl) that holds free blocks of `size` bytes. */
static void mapping(uint64_t size, unsigned *fl, unsigned *sl)
{
    if (size < TLSF_SMALL) {
        *fl = 0;
        *sl = (unsigned)(size >> TLSF_ALIGN_LOG2);
    } else {
        unsigned f = fls64(size);
        *sl = (unsigned)(size >> (f - TLSF_SL_LOG2)) ^ TLSF_SL_COUNT;
        *fl = f - (TLSF_FL_SHIFT - 1);
    }
}

/* ---- free lists -------------------------------------------------------------------- */

/* The free lists (heads, bitmaps and the links of blocks that were already free) are
 * derived state: they are not undo-logged, and a recovery rebuilds them from the block
 * chain (shmipc__tlsf_rebuild). Only the words that were someone's data before
 * the operation are logged: the block header and the links written into a block that was
 * live until now.
 *
 * The links are stored atomically (relaxed: a plain store on every target, the lock orders
 * them for the allocator itself) because the words of a freed block are read without the
 * lock: a shared borrow (reftable.c, shmipc__hold_borrow) that lost the race for a loan may
 * still be reading that loan's record or object header when the block is freed and linked.
 * What it reads there is never trusted (the compare-and-swap of the record's tag fails, its
 * generation being unique), but the read and this store must not be a data race. */
static inline void derived_store(uint64_t *addr, uint64_t val)
{
    if (SHMIPC_UNLIKELY(shmipc__crash_countdown > 0))
        shmipc__crash_point();
    __atomic_store_n(addr, val, __ATOMIC_RELAXED);
}

static void link_free(shmipc_arena *a, uint64_t off, uint64_t size, int was_live)
{
    struct arena_hdr *h = a->hdr;
    struct block *b = blk(a, off);
    unsigned fl, sl;
    uint64_t head;

    mapping(size, &fl, &sl);
    head = h->heads[fl][sl];
    if (was_live) {
        arena_store(a, &b->next_free, head);
        arena_store(a, &b->prev_free, 0);
    } else {
        derived_store(&b->next_free, head);
        derived_store(&b->prev_free, 0);
    }
    if (head)
        derived_store(&blk(a, head)->prev_free, off);
    derived_store(&h->heads[fl][sl], off);
    derived_store(&h->sl_bitmap[fl], h->sl_bitmap[fl] | (UINT64_C(1) << sl));
    derived_store(&h->fl_bitmap, h->fl_bitmap | (UINT64_C(1) << fl));
}

static void insert_free(shmipc_arena *a, uint64_t off, uint64_t size, int was_live)
{
    arena_store(a, &blk(a, off)->size_tag, size_tag(size, TAG_FREE));
    link_free(a, off, size, was_live);
}

static void remove_free(shmipc_arena *a, uint64_t off)
{
    struct arena_hdr *h = a->hdr;
    struct block *b = blk(a, off);
    uint64_t next = b->next_free, prev = b->prev_free;
    unsigned fl, sl;

    mapping(bsize(b), &fl, &sl);
    if (next)
        derived_store(&blk(a, next)->prev_free, prev);
    if (prev) {
        derived_store(&blk(a, prev)->next_free, next);
        return;
    }
    derived_store(&h->heads[fl][sl], next);
    if (next)
        return;
    derived_store(&h->sl_bitmap[fl], h->sl_bitmap[fl] & ~(UINT64_C(1) << sl));
    if (!h->sl_bitmap[fl])
        derived_store(&h->fl_bitmap, h->fl_bitmap & ~(UINT64_C(1) << fl));
}

/* First block of the first non-empty list at or above (fl, sl); 0 if none. */
static uint64_t find_suitable(shmipc_arena *a, unsigned fl, unsigned sl)
{
    struct arena_hdr *h = a->hdr;
    uint64_t slmap = h->sl_bitmap[fl] & (~UINT64_C(0) << sl);

    if (!slmap) {
        uint64_t flmap = fl + 1 < TLSF_FL_COUNT ? h->fl_bitmap & (~UINT64_C(0) << (fl + 1)) : 0;
        if (!flmap)
            return 0;
        fl = (unsigned)__builtin_ctzll(flmap);
        slmap = h->sl_bitmap[fl];
    }
    sl = (unsigned)__builtin_ctzll(slmap);
    return h->heads[fl][sl];
}

/* Last resort when nearly full: a block of the exact list that holds `need` bytes (the
 * O(1) search rounds up to the next list and so skips blocks that would just fit). */
static uint64_t find_exact(shmipc_arena *a, uint64_t need)
{
    unsigned fl, sl;
    uint64_t off;

    mapping(need, &fl, &sl);
    for (off = a->hdr->heads[fl][sl]; off; off = blk(a, off)->next_free)
        if (bsize(blk(a, off)) >= need)
            return off;
    return 0;
}

/* ---- alloc and free ---------------------------------------------------------------- */

static uint64_t block_size_for(size_t size)
{
    uint64_t need = align_up((uint64_t)size + BLOCK_HDR, TLSF_ALIGN);
    return need < BLOCK_MIN ? BLOCK_MIN : need;
}

uint64_t shmipc__tlsf_alloc(shmipc_arena *a, size_t size)
{
    struct arena_hdr *h = a->hdr;
    uint64_t need, search, off, have;
    unsigned fl, sl;

    if (size == 0 || size > MAX_BLOCK)
        return 0;
    need = block_size_for(size);
    search = need >= TLSF_SMALL ? need + (UINT64_C(1) << (fls64(need) - TLSF_SL_LOG2)) - 1
                                : need;
    mapping(search, &fl, &sl);
    off = fl < TLSF_FL_COUNT ? find_suitable(a, fl, sl) : 0;
    if (!off && !(off = find_exact(a, need)))
        return 0;
    remove_free(a, off);
    have = bsize(blk(a, off));
    if (have - need >= BLOCK_MIN) {
        uint64_t rest = off + need;
        arena_store(a, &blk(a, rest)->prev_phys, off);
        arena_store(a, &blk(a, off + have)->prev_phys, rest);
        insert_free(a, rest, have - need, 0);
        have = need;
    }
    arena_store(a, &blk(a, off)->size_tag, size_tag(have, TAG_USED));
    arena_store(a, &h->used, h->used + have);
    arena_store(a, &h->allocations, h->allocations + 1);
    return off + BLOCK_HDR;
}

int shmipc__tlsf_is_live(shmipc_arena *a, uint64_t payload)
{
    struct arena_hdr *h = a->hdr;
    uint64_t off = payload - BLOCK_HDR, size, prev;
    struct block *b;

    if (payload < h->heap_start + BLOCK_HDR || payload >= h->heap_end || payload % TLSF_ALIGN)
        return 0;
    b = blk(a, off);
    size = bsize(b);
    if (btag(b) != TAG_USED || size < BLOCK_MIN || size % TLSF_ALIGN ||
        size > h->heap_end - off || blk(a, off + size)->prev_phys != off)
        return 0;
    prev = b->prev_phys;
    if (prev == 0)
        return off == h->heap_start;
    return prev >= h->heap_start && prev < off && bsize(blk(a, prev)) == off - prev;
}

uint64_t shmipc__tlsf_payload_size(shmipc_arena *a, uint64_t payload)
{
    return bsize(blk(a, payload - BLOCK_HDR)) - BLOCK_HDR;
}

void shmipc__tlsf_free(shmipc_arena *a, uint64_t payload)
{
    struct arena_hdr *h = a->hdr;
    uint64_t freed = payload - BLOCK_HDR, off = freed;
    struct block *b = blk(a, off);
    uint64_t size = bsize(b), next;

    arena_store(a, &h->used, h->used - size);
    arena_store(a, &h->allocations, h->allocations - 1);
    if (b->prev_phys && btag(blk(a, b->prev_phys)) == TAG_FREE) {
        uint64_t prev = b->prev_phys;
        remove_free(a, prev);
        arena_store(a, &b->size_tag, 0); /* an absorbed header never looks live again */
        size += bsize(blk(a, prev));
        off = prev;
    }
    next = off + size;
    if (btag(blk(a, next)) == TAG_FREE) {
        uint64_t next_size = bsize(blk(a, next));
        remove_free(a, next);
        arena_store(a, &blk(a, next)->size_tag, 0);
        size += next_size;
    }
    arena_store(a, &blk(a, off + size)->prev_phys, off);
    insert_free(a, off, size, off == freed);
}

uint64_t shmipc__tlsf_largest_free(shmipc_arena *a)
{
    struct arena_hdr *h = a->hdr;
    uint64_t best = 0, off;
    unsigned fl, sl;

    if (!h->fl_bitmap)
        return 0;
    fl = fls64(h->fl_bitmap);
    sl = fls64(h->sl_bitmap[fl]);
    for (off = h->heads[fl][sl]; off; off = blk(a, off)->next_free)
        if (bsize(blk(a, off)) > best)
            best = bsize(blk(a, off));
    return best - BLOCK_HDR;
}

/* ---- set-up, locking and checking -------------------------------------------------- */

int shmipc__tlsf_init(shmipc_arena *a)
{
    struct arena_hdr *h = a->hdr;
    uint64_t start = align_up(sizeof *h, TLSF_ALIGN);
    uint64_t end = (a->crit.size - BLOCK_HDR) & ~(TLSF_ALIGN - 1);
    int rc;

    memset(h, 0, sizeof *h);
    if ((rc = shmipc__robust_init(&h->robust)) != 0)
        return rc;
    h->layout = ARENA_LAYOUT;
    h->hdr_size = sizeof *h;
    h->heap_start = start;
    h->heap_end = end;
    /* One free block spans the heap; a zero-size END block closes it. */
    blk(a, end)->prev_phys = start;
    blk(a, end)->size_tag = size_tag(0, TAG_END);
    blk(a, start)->prev_phys = 0;
    if (shmipc__arena_lock(a) != 0)
        return SHMIPC_ESYS;
    insert_free(a, start, end - start, 1);
    shmipc__arena_unlock(a);
    return 0;
}

/* Make the free lists again from the block chain (after a holder died: they are not
 * logged). Stops at the first block that does not make sense; the check then says so. */
static void rebuild_free_lists(shmipc_arena *a)
{
    struct arena_hdr *h = a->hdr;
    uint64_t off = h->heap_start;

    memset(h->heads, 0, sizeof h->heads);
    memset(h->sl_bitmap, 0, sizeof h->sl_bitmap);
    h->fl_bitmap = 0;
    while (off < h->heap_end) {
        struct block *b = blk(a, off);
        uint64_t size = bsize(b);
        if (size < BLOCK_MIN || size % TLSF_ALIGN || size > h->heap_end - off)
            return;
        if (btag(b) == TAG_FREE)
            link_free(a, off, size, 0);
        off += size;
    }
}

int shmipc__tlsf_validate_header(shmipc_arena *a)
{
    struct arena_hdr *h = a->hdr;

    if (a->crit.size < ARENA_MIN_SIZE || h->magic != ARENA_MAGIC)
        return shmipc__fail(SHMIPC_ECORRUPT, "pool holds no shmipc arena (bad magic)");
    if (h->layout != ARENA_LAYOUT)
        return shmipc__fail(SHMIPC_EPROTO, "arena layout %llu, this library reads %d",
                            (unsigned long long)h->layout, ARENA_LAYOUT);
    if (h->hdr_size != sizeof *h || h->heap_start != align_up(sizeof *h, TLSF_ALIGN) ||
        h->heap_end <= h->heap_start || h->heap_end % TLSF_ALIGN ||
        h->heap_end > a->crit.size - BLOCK_HDR)
        return shmipc__fail(SHMIPC_ECORRUPT, "arena header is corrupt (heap bounds)");
    return 0;
}

void shmipc__tlsf_rebuild(shmipc_arena *a)
{
    if (shmipc__tlsf_validate_header(a) == 0)
        rebuild_free_lists(a);
}

int shmipc__arena_lock(shmipc_arena *a)
{
    struct arena_hdr *h = a->hdr;
    int recovered, rc;

    if (SHMIPC_UNLIKELY(h->corrupt))
        return shmipc__fail(SHMIPC_ECORRUPT, "arena is marked corrupt");
    if (a->owner_only) {
        shmipc__plock_lock(&a->owner_lock);
        return 0;
    }
    if ((rc = shmipc__robust_lock(&a->crit, &recovered)) != 0)
        return rc;
    if (SHMIPC_LIKELY(!recovered))
        return 0;
    /* A holder died: its operation is rolled back; the arena layer's policy decides
     * whether the rest holds. */
    rc = a->recover(a);
    if (rc != 0)
        h->corrupt = 1;
    else
        h->lock_recoveries++;
    shmipc__robust_consistent(&a->crit);
    if (rc != 0) {
        shmipc__robust_unlock(&a->crit);
        return rc;
    }
    return 0;
}

void shmipc__arena_unlock(shmipc_arena *a)
{
    if (a->owner_only)
        shmipc__plock_unlock(&a->owner_lock);
    else
        shmipc__robust_unlock(&a->crit);
}

static int corrupt(uint64_t off, const char *what)
{
    return shmipc__fail(SHMIPC_ECORRUPT, "arena check: block at offset %llu: %s",
                        (unsigned long long)off, what);
}

/* Walk every block in address order. Counts free blocks into *nfree. */
static int check_physical(shmipc_arena *a, uint64_t *nfree)
{
    struct arena_hdr *h = a->hdr;
    uint64_t off = h->heap_start, prev = 0, used = 0, live = 0, prev_free = 0;

    *nfree = 0;
    while (off < h->heap_end) {
        struct block *b = blk(a, off);
        uint64_t size = bsize(b), tag = btag(b);
        if (b->prev_phys != prev)
            return corrupt(off, "wrong link to the previous block");
        if (size < BLOCK_MIN || size % TLSF_ALIGN || size > h->heap_end - off)
            return corrupt(off, "bad size");
        if (tag == TAG_FREE) {
            if (prev_free)
                return corrupt(off, "two adjacent free blocks");
            ++*nfree;
        } else if (tag == TAG_USED) {
            used += size;
            live++;
        } else {
            return corrupt(off, "bad tag");
        }
        prev_free = tag == TAG_FREE;
        prev = off;
        off += size;
    }
    if (off != h->heap_end || btag(blk(a, off)) != TAG_END || blk(a, off)->prev_phys != prev)
        return corrupt(off, "heap does not end with the END block");
    if (used != h->used || live != h->allocations)
        return shmipc__fail(SHMIPC_ECORRUPT,
                            "arena check: counters say %llu bytes in %llu "
                            "blocks, the heap holds %llu in %llu",
                            (unsigned long long)h->used, (unsigned long long)h->allocations,
                            (unsigned long long)used, (unsigned long long)live);
    return 0;
}

static int check_list(shmipc_arena *a, unsigned fl, unsigned sl, uint64_t *budget)
{
    struct arena_hdr *h = a->hdr;
    uint64_t off = h->heads[fl][sl], prev = 0;
    unsigned f, s;

    if (!off != !(h->sl_bitmap[fl] & (UINT64_C(1) << sl)))
        return corrupt(off, "free-list bitmap disagrees with its list");
    for (; off; prev = off, off = blk(a, off)->next_free) {
        struct block *b;
        if (off < h->heap_start || off >= h->heap_end || off % TLSF_ALIGN || (*budget)-- == 0)
            return corrupt(off, "free-list link out of the heap, or a cycle");
        b = blk(a, off);
        if (btag(b) != TAG_FREE || b->prev_free != prev)
            return corrupt(off, "free-list entry not free, or bad back link");
        mapping(bsize(b), &f, &s);
        if (f != fl || s != sl)
            return corrupt(off, "free block in the wrong list");
    }
    return 0;
}

int shmipc__tlsf_check(shmipc_arena *a)
{
    struct arena_hdr *h = a->hdr;
    uint64_t nfree, budget;
    int rc;

    if ((rc = shmipc__tlsf_validate_header(a)) != 0)
        return rc;
    if (h->robust.log_overflow)
        return shmipc__fail(SHMIPC_ECORRUPT, "arena check: undo log overflowed");
    if ((rc = check_physical(a, &nfree)) != 0)
        return rc;
    budget = nfree;
    for (unsigned fl = 0; fl < TLSF_FL_COUNT; fl++) {
        if (!(h->fl_bitmap & (UINT64_C(1) << fl)) != !h->sl_bitmap[fl])
            return corrupt(0, "first-level bitmap disagrees with second level");
        for (unsigned sl = 0; sl < TLSF_SL_COUNT; sl++)
            if ((rc = check_list(a, fl, sl, &budget)) != 0)
                return rc;
    }
    if (budget != 0)
        return corrupt(0, "free blocks missing from the free lists");
    return 0;
}

/* fuzz_pool — pool and arena headers opened from a file a peer controls.
 *
 * The input is the start of a file (the pool header page, then the arena header and the
 * first blocks of its heap; the rest of the file is zero), given as a sealed memfd, as a
 * pool announced by a peer would be. It is opened read-only (shmipc_pool_from_fd) and,
 * when that validates, read as a peer's arena the way a borrower and the tools do —
 * without its lock: the refcount table's snapshot and loan checks at offsets from the
 * input (a record in a table pool this view has not mapped is SHMIPC_ENOENT, which a
 * borrower answers by waiting for the pool's announcement). The full consistency checks
 * (allocator, names, refcount table) run on it too, since `shmipc_arena_check` and a
 * recovery run them on whatever a dead or malicious writer left. None may fault, read
 * outside the mapping or loop without end.
 * (The arena's lock is never taken: a corrupt mutex word could block any locker; shared
 * arenas trust the processes that may write them, see docs/security.md.) */
#include "fuzz_common.h"

#include <fcntl.h>
#include <sys/mman.h>

#include "arena.h"
#include "lend.h"

#define FILE_SIZE ((size_t)256 << 10)

static int memfd_of(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz-pool", MFD_CLOEXEC | MFD_ALLOW_SEALING);

    if (fd < 0 || ftruncate(fd, (off_t)FILE_SIZE) != 0 ||
        pwrite(fd, data, size < FILE_SIZE ? size : FILE_SIZE, 0) < 0 ||
        fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) != 0)
        abort();
    return fd;
}

static uint64_t word_at(const uint8_t *data, size_t size, size_t at)
{
    uint64_t v = 0;
    if (at + 8 <= size)
        memcpy(&v, data + at, 8);
    return v;
}

/* What a borrower and a tool do with a peer's arena, read-only. */
static void read_arena(shmipc_arena *a, const uint8_t *data, size_t size)
{
    static struct shmipc_ep_info eps[4 * SHMIPC_EP_CHUNK];
    struct shmipc_payload pl;
    size_t n;

    fuzz_expect(shmipc__reftable_snapshot(a, eps, 4 * SHMIPC_EP_CHUNK, &n), SHMIPC_ECORRUPT,
                SHMIPC_ECORRUPT, SHMIPC_ECORRUPT, "snapshot");
    for (size_t at = 0; at + 24 <= size && at < 24 * 8; at += 24)
        fuzz_expect(shmipc__loan_peek(a, word_at(data, size, at), word_at(data, size, at + 8),
                                      (uint32_t)word_at(data, size, at + 16), 4096, &pl),
                    SHMIPC_ESTALE, SHMIPC_EBADBLOB, SHMIPC_ENOENT, "loan_peek");
}

/* The consistency checks, on a writable mapping of the same file. */
static void check_arena(int fd)
{
    shmipc_pool *pool;
    shmipc_arena *a;

    if (shmipc_pool_from_fd(fd, 0, &pool) != 0)
        return;
    if (shmipc_arena_attach(pool, &a) != 0) {
        shmipc_pool_close(pool);
        return;
    }
    if (shmipc__tlsf_check(a) == 0 && shmipc__named_check(a) == 0)
        shmipc__reftable_check(a);
    shmipc_arena_close(a);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (fuzz_seeding()) {
        /* a real arena with a named allocation and an object, its first 64 KiB */
        shmipc_pool *p;
        shmipc_arena *a;
        shmipc_obj *o;
        void *named;
        if (shmipc_pool_create(NULL, FILE_SIZE - 4096, 0, &p) != 0 ||
            shmipc_arena_create(p, &a) != 0 || shmipc_named_alloc(a, "n", 64, &named) != 1 ||
            shmipc_obj_new(a, 128, &o) != 0)
            abort();
        fuzz_seed("arena", (char *)shmipc_pool_base(p) - 4096, 64 << 10);
        fuzz_seed("pool-header", (char *)shmipc_pool_base(p) - 4096, 4096);
        exit(0);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_of(data, size);
    shmipc_pool *pool;
    shmipc_arena *view;
    int rc = shmipc_pool_from_fd(fd, SHMIPC_RDONLY, &pool);

    fuzz_expect(rc, SHMIPC_ECORRUPT, SHMIPC_EPROTO, SHMIPC_EPERM, "pool_from_fd");
    if (rc == 0) {
        rc = shmipc__view_create(pool, &view);
        fuzz_expect(rc, SHMIPC_ECORRUPT, SHMIPC_EPROTO, SHMIPC_ECORRUPT, "view_create");
        if (rc == 0) {
            read_arena(view, data + 4096 < data + size ? data + 4096 : data,
                       size > 4096 ? size - 4096 : 0);
            shmipc_arena_close(view);
        } else {
            shmipc_pool_close(pool);
        }
        check_arena(fd);
    }
    close(fd);
    return 0;
}

/* fuzz_blob — the lend blob's decoder and validator, both providers, both directions.
 *
 * Each input mutates a genuine blob: before every run the harness lends a fresh object
 * and the input (after a mode byte) is XORed onto that blob's 64 bytes, so the fuzzer
 * explores fields around a real loan instead of random bytes the check value throws out at
 * once. Mode bits: provider (lend or shared), who lends (server or client side), whether
 * the mutated blob is resealed with the session key (what a peer that knows the key can
 * do: validation must not rest on the check value). The borrow must succeed (then every
 * byte of the object is read: a bad bound faults; and it must be the genuine loan, every
 * field as lent but the check value) or fail with EBADBLOB/ESTALE. Then the
 * genuine loan is borrowed and dropped, so nothing accumulates. */
#include "fuzz_common.h"

#include "object.h"

enum {
    M_LEND = 1,
    M_CLIENT_LENDS = 2,
    M_RESEAL = 4
};

static struct fuzz_pair pairs[2];

static volatile unsigned char sink;

static void touch(shmipc_obj *o)
{
    const unsigned char *p = shmipc_obj_ptr(o);

    for (size_t i = 0; i < shmipc_obj_size(o); i++)
        sink ^= p[i];
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_socket_dir();
    fuzz_pair_open(&pairs[0], "blob", SHMIPC_PROVIDER_SHARED);
    fuzz_pair_open(&pairs[1], "blob", SHMIPC_PROVIDER_LEND);
    if (fuzz_seeding()) {
        unsigned char seed[1 + SHMIPC_BLOB_SIZE] = {0};
        for (int mode = 0; mode < 8; mode++) {
            char name[32];
            seed[0] = (unsigned char)mode;
            snprintf(name, sizeof name, "genuine-mode%d", mode);
            fuzz_seed(name, seed, sizeof seed); /* all-zero mask: the genuine blob */
        }
        seed[0] = M_RESEAL;
        seed[1 + 40] = 0x10; /* the loan's offset, moved */
        fuzz_seed("loan-moved", seed, sizeof seed);
        exit(0);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_pair *p;
    shmipc_session *lender, *borrower;
    shmipc_obj *o, *got;
    shmipc_blob genuine, blob;
    int mode, rc;

    if (size < 1)
        return 0;
    mode = data[0];
    p = &pairs[mode & M_LEND ? 1 : 0];
    lender = mode & M_CLIENT_LENDS ? p->c : p->s;
    borrower = mode & M_CLIENT_LENDS ? p->s : p->c;
    if ((rc = shmipc_obj_new(shmipc_session_arena(lender), 1 + data[0] % 200, &o)) != 0)
        fuzz_die("obj_new", rc);
    memset(shmipc_obj_ptr(o), 0x5a, shmipc_obj_size(o));
    if ((rc = shmipc_lend(lender, o, &genuine)) != 0)
        fuzz_die("lend", rc);
    blob = genuine;
    for (size_t i = 1; i < size && i <= SHMIPC_BLOB_SIZE; i++)
        blob.bytes[i - 1] ^= data[i];
    if (mode & M_RESEAL)
        shmipc__blob_reseal(shmipc__session_lend_ctx(lender), &blob);

    rc = shmipc_borrow(borrower, &blob, &got);
    fuzz_expect(rc, SHMIPC_EBADBLOB, SHMIPC_ESTALE, SHMIPC_EBADBLOB, "borrow");
    if (rc == 0) {
        /* only the genuine loan may be borrowed: every field but the check value as lent */
        if (memcmp(blob.bytes, genuine.bytes, SHMIPC_BLOB_SIZE - 8) != 0) {
            fprintf(stderr, "a blob that is not the one lent was accepted\n");
            abort();
        }
        touch(got);
        shmipc_obj_unref(got);
    }
    /* consume the genuine loan (unless the input was it), then let the object go */
    if (shmipc_borrow(borrower, &genuine, &got) == 0)
        shmipc_obj_unref(got);
    shmipc_obj_unref(o);
    shmipc_session_poll(lender); /* lend provider: the owner takes the releases */
    return 0;
}

/* fuzz_ring — what a peer writes into the shared control segment:
 *   - the message ring it produces: records (headers, loans, messages, wrap records) and
 *     its tail position (which the consumer no longer reads: the headers publish), all
 *     from the input, read by the receiving side's shmipc_recv path
 *     (shmipc__chan_get), which must return a message, ETIMEDOUT, EMSGSIZE or ECLOSED (a
 *     corrupt ring closes the session) and never read outside the ring;
 *   - the release reports it makes: (loan, generation) entries from the input, one of them
 *     a mutation of a genuine loan's, taken by the owner (shmipc__loan_release) against a
 *     real refcount table, which must stay consistent, refuse what is not the peer's, and
 *     come back to its baseline once the peer's endpoint is gone.
 * Input: 8 bytes of tail, 16 bytes XORed onto the genuine release entry, then the ring's
 * bytes (also read as further release entries). */
#include "fuzz_common.h"

#include <sys/eventfd.h>
#include <sys/socket.h>

#include "arena.h"
#include "channel.h"

static struct shmipc_chan ch;
static struct shmipc_ctrl *server_ctrl, *client_ctrl;
static shmipc_arena *table;
static size_t base_used;

static void setup_channel(void)
{
    shmipc_pool *pool, *peer;
    int sv[2], rc;

    if ((rc = shmipc_pool_create(NULL, shmipc__ctrl_size(), 0, &pool)) != 0)
        fuzz_die("ctrl pool", rc);
    shmipc__ctrl_init(shmipc_pool_base(pool), 1);
    if ((rc = shmipc_pool_from_fd(shmipc_pool_fd(pool), 0, &peer)) != 0 ||
        (rc = shmipc__ctrl_wrap(pool, 1, &server_ctrl)) != 0 ||
        (rc = shmipc__ctrl_wrap(peer, 0, &client_ctrl)) != 0)
        fuzz_die("ctrl wrap", rc);
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
        abort();
    ch.sock = sv[0];
    ch.epfd = -1;
    ch.my_data_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    ch.my_space_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    ch.peer_data_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    ch.peer_space_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    pthread_mutex_init(&ch.gone_lock, NULL);
    pthread_mutex_init(&ch.sock_lock, NULL);
    pthread_mutex_init(&ch.ctl_lock, NULL);
    if ((rc = shmipc__chan_init(&ch, server_ctrl, 1)) != 0)
        fuzz_die("chan_init", rc);
}

static void setup_table(void)
{
    shmipc_pool *pool;
    struct shmipc_arena_stats st;
    int rc;

    if ((rc = shmipc_pool_create(NULL, 1 << 20, 0, &pool)) != 0 ||
        (rc = shmipc_arena_create(pool, &table)) != 0)
        fuzz_die("table", rc);
    shmipc_arena_stats(table, &st);
    base_used = st.used;
}

static uint64_t word(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* The ring as the peer left it: its bytes and its tail; our position at 0. */
static void fill_ring(const uint8_t *bytes, size_t n, uint64_t tail)
{
    size_t len = n < ch.cap ? n : ch.cap;

    memset(ch.rx_data, 0, len + 64 < ch.cap ? len + 64 : ch.cap);
    memcpy(ch.rx_data, bytes, len);
    ch.rx_head = 0;
    atomic_store(&ch.rx->head, 0);
    atomic_store(&ch.rx->tail, tail);
    atomic_store(&ch.closed, 0);
}

static void read_ring(void)
{
    static char buf[SHMIPC_MSG_MAX];
    struct shmipc_loan_ref loan;

    for (int i = 0; i < 64; i++) {
        size_t len;
        int has_loan, rc = shmipc__chan_get(&ch, buf, sizeof buf, &len, &loan, &has_loan, 0);
        fuzz_expect(rc, SHMIPC_ETIMEDOUT, SHMIPC_ECLOSED, SHMIPC_EMSGSIZE, "chan_get");
        if (rc != 0)
            break;
    }
}

struct owner {
    uint32_t peer_ep;
};

static void take(void *ctx, uint64_t loan, uint64_t gen)
{
    struct owner *o = ctx;
    int rc = shmipc__loan_release(table, loan, gen, o->peer_ep);

    fuzz_expect(rc, SHMIPC_EBADBLOB, SHMIPC_EBADBLOB, SHMIPC_EBADBLOB, "loan_release");
}

/* A genuine loan to a peer endpoint, reports from the input, then the peer goes. */
static void releases(const uint8_t *mask, const uint8_t *more, size_t n)
{
    struct owner o;
    struct shmipc_arena_stats st;
    struct shmipc_proc_id peer;
    uint64_t hold, loan, gen;
    int rc;

    /* an object and a loan of it to the peer's endpoint, as a session makes them */
    if ((rc = shmipc__ep_open(table, getpid(), &o.peer_ep)) != 0)
        fuzz_die("loan set-up", rc);
    peer = shmipc__ep_id(table, o.peer_ep); /* whom the endpoint belongs to */
    if ((rc = shmipc__obj_alloc(table, 100, &hold)) != 0 ||
        (rc = shmipc__hold_lend(table, hold, o.peer_ep, &peer, &loan, &gen)) != 0)
        fuzz_die("loan set-up", rc);
    shmipc__release_push(client_ctrl, 0, loan ^ word(mask), gen ^ word(mask + 8));
    for (size_t i = 0; i + 16 <= n && i < 64 * 16; i += 16)
        shmipc__release_push(client_ctrl, 0, word(more + i), word(more + i + 8));
    shmipc__release_drain(server_ctrl, 0, take, &o);
    shmipc__ep_close(table, o.peer_ep, 1);
    shmipc__hold_release(table, hold);
    if ((rc = shmipc_arena_check(table)) != 0)
        fuzz_die("the table after the reports", rc);
    shmipc_arena_stats(table, &st);
    if (st.used != base_used)
        fuzz_die("the table did not come back to its baseline", SHMIPC_ECORRUPT);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    setup_channel();
    setup_table();
    if (fuzz_seeding()) {
        uint8_t seed[24 + 8 + 64 + 8 + 16] = {0};
        uint32_t rec[2] = {5, 4}; /* 4: LIVE, as every record written has */
        uint64_t tail = 8 + 8;    /* one record: 8-byte header, 5 bytes padded to 8 */
        memcpy(seed, &tail, 8);
        memcpy(seed + 24, rec, 8);
        memcpy(seed + 32, "hello", 5);
        fuzz_seed("one-message", seed, 24 + 16);
        rec[1] = 4 | 1; /* with a blob */
        memcpy(seed + 24, rec, 8);
        tail = 8 + 64 + 8;
        memcpy(seed, &tail, 8);
        fuzz_seed("message-with-blob", seed, sizeof seed - 16);
        memset(seed, 0, sizeof seed);
        fuzz_seed("genuine-release", seed, 24);
        exit(0);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 24)
        return 0;
    fill_ring(data + 24, size - 24, word(data));
    read_ring();
    releases(data + 8, data + 24, size - 24);
    return 0;
}

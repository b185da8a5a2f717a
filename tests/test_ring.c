/* test_ring.c — a session's message ring between two processes over a real control
 * segment: while the consumer keeps up, the producer wraps early (SHMIPC_RING_WARM), so the
 * ring's pages past the warm window are never touched (mincore on the segment); when the
 * consumer lags, the ring holds SHMIPC_RING_CAP bytes as before; and across every wrap,
 * early or not, each message arrives once, in order, with its bytes and its blob. */
#include "tap.h"

#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "channel.h"

#define BATCH 8         /* messages the producer sends before it waits for an ack */
#define BATCHES 3000    /* ~5 MB through the window: hundreds of early wraps */
#define LAG_MORE 20000  /* messages sent while the lagging consumer drains the ring */
#define END UINT64_MAX  /* the sequence number of the last message */
#define PAUSE (END - 1) /* the consumer stops acking and waits for the pipe */

/* The eventfds of both directions: [direction][0 data, 1 space]; direction 0 is server ->
 * client. */
static int efd[2][2];

static int open_side(shmipc_pool *pool, int sock, int is_server, struct shmipc_chan *ch)
{
    struct shmipc_ctrl *ctrl;
    int tx = is_server ? 0 : 1, rx = 1 - tx;

    memset(ch, 0, sizeof *ch);
    ch->sock = sock;
    ch->my_data_efd = efd[rx][0];
    ch->my_space_efd = efd[tx][1];
    ch->peer_data_efd = efd[tx][0];
    ch->peer_space_efd = efd[rx][1];
    pthread_mutex_init(&ch->gone_lock, NULL);
    pthread_mutex_init(&ch->sock_lock, NULL);
    pthread_mutex_init(&ch->ctl_lock, NULL);
    atomic_store(&ch->spin_us, 20);
    return shmipc__ctrl_wrap(pool, is_server, &ctrl) != 0 ||
           shmipc__chan_init(ch, ctrl, is_server) != 0;
}

/* Message seq: 8 to ~300 bytes (its number, then bytes made from it), a loan every third
 * (of either arena). */
static size_t msg_of(uint64_t seq, unsigned char *buf, struct shmipc_loan_ref *loan)
{
    size_t len = seq >= PAUSE ? 8 : 8 + (size_t)(seq * 37 % 293);

    memcpy(buf, &seq, 8);
    for (size_t i = 8; i < len; i++)
        buf[i] = (unsigned char)(seq + i);
    *loan = (struct shmipc_loan_ref){16 * seq, seq + 1, ~seq, seq << 20,
                                     (uint32_t)(seq / 3 % 2)};
    return len;
}

static int has_loan_of(uint64_t seq)
{
    return seq % 3 == 0;
}

static void send_one(struct shmipc_chan *ch, uint64_t seq)
{
    unsigned char buf[512];
    struct shmipc_loan_ref loan;
    size_t len = msg_of(seq, buf, &loan);

    if (shmipc__chan_room(ch, len, has_loan_of(seq), -1) != 0)
        abort();
    shmipc__chan_put(ch, has_loan_of(seq) ? &loan : NULL, buf, len);
}

/* The consumer: 1 if every message came, in order, intact. */
static int receive(struct shmipc_chan *ch, int go)
{
    unsigned char buf[512], want[512];
    struct shmipc_loan_ref loan, want_loan;
    uint64_t next = 0, seq;
    size_t len;
    int has_loan, acks = 1;
    char c;

    for (;;) {
        if (shmipc__chan_get(ch, buf, sizeof buf, &len, &loan, &has_loan, 10000) != 0 ||
            len < 8)
            return 0;
        memcpy(&seq, buf, 8);
        if (seq == END)
            return 1;
        if (seq == PAUSE) { /* lag until told */
            acks = 0;
            if (read(go, &c, 1) != 1)
                return 0;
            continue;
        }
        if (seq != next++ || len != msg_of(seq, want, &want_loan) ||
            memcmp(buf, want, len) != 0 || has_loan != has_loan_of(seq) ||
            (has_loan && (loan.obj != want_loan.obj || loan.size != want_loan.size ||
                          loan.loan != want_loan.loan || loan.gen != want_loan.gen ||
                          loan.kind != want_loan.kind)))
            return 0;
        if (acks && next % BATCH == 0) {
            shmipc__chan_room(ch, 0, 0, -1);
            shmipc__chan_put(ch, NULL, NULL, 0);
        }
    }
}

/* Pages of the ring at data (cap bytes) resident from byte `from` on. */
static size_t resident_from(const char *data, uint64_t from)
{
    unsigned char vec[SHMIPC_RING_CAP / 4096];
    size_t n = 0;

    if (mincore((void *)(data + from), SHMIPC_RING_CAP - from, vec) != 0)
        return (size_t)-1;
    for (size_t i = 0; i < (SHMIPC_RING_CAP - from) / 4096; i++)
        n += vec[i] & 1;
    return n;
}

int main(void)
{
    shmipc_pool *pool, *peer_pool;
    struct shmipc_chan ch;
    int sv[2], go[2], status;
    uint64_t seq = 0, held = 0;
    pid_t pid;

    for (int d = 0; d < 2; d++)
        for (int k = 0; k < 2; k++)
            efd[d][k] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (!SETUP(shmipc_pool_create(NULL, shmipc__ctrl_size(), 0, &pool) == 0 &&
                   socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0 &&
                   pipe(go) == 0,
               "a control segment, a socket pair, a pipe"))
        return done_testing();
    shmipc__ctrl_init(shmipc_pool_base(pool), 1);
    ok(SHMIPC_RING_WARM % 4096 == 0 && SHMIPC_RING_WARM < SHMIPC_RING_CAP,
       "the warm window (%llu bytes) is a whole number of pages within the ring",
       (unsigned long long)SHMIPC_RING_WARM);
    pid = fork();
    if (pid == 0) {
        close(sv[0]);
        close(go[1]);
        if (shmipc_pool_from_fd(shmipc_pool_fd(pool), 0, &peer_pool) != 0 ||
            open_side(peer_pool, sv[1], 0, &ch) != 0)
            _exit(2);
        _exit(receive(&ch, go[0]) ? 0 : 1);
    }
    close(sv[1]);
    close(go[0]);
    if (!SETUP(pid > 0 && open_side(pool, sv[0], 1, &ch) == 0, "the server's side"))
        return done_testing();

    /* The consumer keeps up: a batch, then its ack; until the ring's position is near its
     * start (just after a wrap), where the lagging part below begins. */
    for (int b = 0; b < BATCHES || ch.tx_tail % SHMIPC_RING_CAP > 4096; b++) {
        unsigned char ack[8];
        struct shmipc_loan_ref loan;
        size_t len;
        int has_loan;
        for (int i = 0; i < BATCH; i++)
            send_one(&ch, seq++);
        if (shmipc__chan_get(&ch, ack, sizeof ack, &len, &loan, &has_loan, 10000) != 0)
            break;
    }
    ok(ch.tx_tail > 16 * SHMIPC_RING_CAP, "%llu bytes went through the ring (%llu laps)",
       (unsigned long long)ch.tx_tail, (unsigned long long)(ch.tx_tail / SHMIPC_RING_CAP));
    ok(resident_from(ch.tx_data, SHMIPC_RING_WARM) == 0,
       "a consumer that keeps up: no page of the ring past the warm window was touched "
       "(%zu of %llu resident)",
       resident_from(ch.tx_data, SHMIPC_RING_WARM),
       (unsigned long long)((SHMIPC_RING_CAP - SHMIPC_RING_WARM) / 4096));
    ok(resident_from(ch.rx_data, SHMIPC_RING_WARM) == 0,
       "nor of the ring of the acks (%zu resident)",
       resident_from(ch.rx_data, SHMIPC_RING_WARM));

    /* The consumer lags (it waits for the pipe): the ring fills up to its capacity. */
    send_one(&ch, PAUSE);
    for (;;) {
        unsigned char buf[512];
        struct shmipc_loan_ref loan;
        size_t len = msg_of(seq, buf, &loan);
        if (shmipc__chan_room(&ch, len, has_loan_of(seq), 0) != 0)
            break;
        shmipc__chan_put(&ch, has_loan_of(seq) ? &loan : NULL, buf, len);
        seq++;
        held++;
    }
    ok(ch.tx_tail - ch.tx_head_seen > SHMIPC_RING_CAP - 1024,
       "a consumer that lags: the ring holds %llu bytes (%llu messages) of %llu",
       (unsigned long long)(ch.tx_tail - ch.tx_head_seen), (unsigned long long)held,
       (unsigned long long)SHMIPC_RING_CAP);
    ok(resident_from(ch.tx_data, 0) == SHMIPC_RING_CAP / 4096,
       "... in every page of it (%zu resident)", resident_from(ch.tx_data, 0));
    if (write(go[1], "g", 1) != 1)
        abort();
    for (int i = 0; i < LAG_MORE; i++)
        send_one(&ch, seq++);
    send_one(&ch, END);
    waitpid(pid, &status, 0);
    ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
       "the consumer got all %llu messages once, in order, with their bytes and loans "
       "(status %d)",
       (unsigned long long)seq, status);
    shmipc__chan_close(&ch);
    return done_testing();
}

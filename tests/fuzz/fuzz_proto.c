/* fuzz_proto — every message a peer sends outside the rings:
 *   - the handshake's HELLO (server side), WELCOME (client side) and READY (server side),
 *     through the checks the handshake runs on them (proto.c);
 *   - the control messages of a live lend-provider session (pool announcements,
 *     retirements, goodbye, anything else), sent on the session's socket as the peer would
 *     send them — an announcement carries a memfd whose bytes come from the input too — and
 *     read by the session, which must survive it: no fault, no leak; at worst the peer's
 *     nonsense breaks what the peer itself lends (a bogus retirement of one of its pools,
 *     a zero-length datagram that reads as a hang-up), and then the pair is made again.
 * Input: a selector byte, then the message bytes (zero-padded to the message's size). */
#include "fuzz_common.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "channel.h"
#include "proto.h"
#include "session.h"

enum {
    SEL_HELLO,
    SEL_WELCOME,
    SEL_READY,
    SEL_CONTROL,
    SEL_COUNT
};

static struct fuzz_pair pair;

static void copy_in(void *msg, size_t msg_size, const uint8_t *data, size_t size)
{
    memset(msg, 0, msg_size);
    memcpy(msg, data, size < msg_size ? size : msg_size);
}

/* A memfd holding the input's bytes, sealed as pools are (the fd of an announcement). */
static int input_memfd(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    size_t len = size < 8192 ? 8192 : size;

    if (fd < 0 || ftruncate(fd, (off_t)len) != 0 || pwrite(fd, data, size, 0) < 0 ||
        fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) != 0)
        abort();
    return fd;
}

/* A lend from the server, borrowed by the client: 0, or what went wrong. */
static int lend_borrow(void)
{
    shmipc_obj *o, *b = NULL;
    shmipc_blob blob;
    int rc;

    if ((rc = shmipc_obj_new(shmipc_session_arena(pair.s), 64, &o)) != 0)
        return rc;
    if ((rc = shmipc_lend(pair.s, o, &blob)) == 0 &&
        (rc = shmipc_borrow(pair.c, &blob, &b)) == 0)
        shmipc_obj_unref(b);
    shmipc_obj_unref(o);
    shmipc_session_poll(pair.s);
    return rc;
}

static void pair_again(void)
{
    shmipc_session_close(pair.c);
    shmipc_session_close(pair.s);
    shmipc_server_close(pair.srv);
    fuzz_pair_open(&pair, "proto", SHMIPC_PROVIDER_LEND);
}

static void control(const uint8_t *data, size_t size)
{
    struct shmipc_ctl_msg m;
    int fd = -1;

    int rc;

    if (size == 0)
        return;
    copy_in(&m, sizeof m, data, size);
    if (m.type == CTL_POOL) /* carry an fd, as a real announcement does */
        fd = input_memfd(data, size);
    /* from the server's side of the socket, for the client to read */
    shmipc__send_fds(pair.s->ch.sock, data, size < 256 ? size : 256, &fd, fd >= 0, 0);
    if (fd >= 0)
        close(fd);
    shmipc_session_poll(pair.c);
    rc = shmipc_session_closed(pair.c) ? SHMIPC_ECLOSED : lend_borrow();
    fuzz_expect(rc, SHMIPC_EBADBLOB, SHMIPC_ECLOSED, SHMIPC_EBADBLOB, "after control traffic");
    if (rc != 0)
        pair_again();
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_socket_dir();
    fuzz_pair_open(&pair, "proto", SHMIPC_PROVIDER_LEND);
    if (fuzz_seeding()) {
        unsigned char buf[1 + sizeof(struct msg_welcome)];
        struct msg_hello h = {PROTO_MAGIC, PROTO_VERSION, MSG_HELLO, "viewer"};
        struct msg_welcome w = {
            PROTO_MAGIC, PROTO_VERSION, MSG_WELCOME, 0, SHMIPC_PROVIDER_SHARED, 1, 2,
            {1, 1},      {2, 2},        1 << 20,     ""};
        struct msg_ready r = {PROTO_MAGIC, PROTO_VERSION, MSG_READY, 3, 0};
        struct shmipc_ctl_msg c = {0x4c544353u, CTL_RETIRE, 0, 0, 42};
        buf[0] = SEL_HELLO;
        memcpy(buf + 1, &h, sizeof h);
        fuzz_seed("hello", buf, 1 + sizeof h);
        buf[0] = SEL_WELCOME;
        memcpy(buf + 1, &w, sizeof w);
        fuzz_seed("welcome", buf, 1 + sizeof w);
        buf[0] = SEL_READY;
        memcpy(buf + 1, &r, sizeof r);
        fuzz_seed("ready", buf, 1 + sizeof r);
        buf[0] = SEL_CONTROL;
        memcpy(buf + 1, &c, sizeof c);
        fuzz_seed("retire", buf, 1 + sizeof c);
        c.type = CTL_POOL;
        memcpy(buf + 1, &c, sizeof c);
        fuzz_seed("pool", buf, 1 + sizeof c);
        exit(0);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct msg_hello h;
    struct msg_welcome w;
    struct msg_ready r;

    if (size < 1)
        return 0;
    switch (data[0] % SEL_COUNT) {
    case SEL_HELLO:
        copy_in(&h, sizeof h, data + 1, size - 1);
        fuzz_expect(shmipc__hello_check(&h, "fuzz"), SHMIPC_EPROTO, SHMIPC_EINVAL,
                    SHMIPC_EPROTO, "hello");
        break;
    case SEL_WELCOME:
        copy_in(&w, sizeof w, data + 1, size - 1);
        /* a refusal may carry any code the library has */
        {
            int rc = shmipc__welcome_check(&w, size > 1 ? data[1] % 9 : 0, "fuzz");
            if (rc > 0 || rc < SHMIPC_ERRNO_MIN)
                fuzz_die("welcome check returned a code outside the list", rc);
        }
        break;
    case SEL_READY:
        copy_in(&r, sizeof r, data + 1, size - 1);
        fuzz_expect(shmipc__ready_check(&r, size > 1 ? data[1] & 1 : 0,
                                        size > 2 ? data[2] % 3 : 0),
                    SHMIPC_EPROTO, SHMIPC_EPROTO, SHMIPC_EPROTO, "ready");
        break;
    default: control(data + 1, size - 1); break;
    }
    return 0;
}

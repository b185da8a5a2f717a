/* Sessions within one process (the client side runs on a thread where a handshake needs
 * both): server names and sockets, refused clients, messages and their sizes, lending and
 * borrowing both ways, the refcount accounting, every kind of bad blob, threads, and
 * session_fd with poll — for both providers (shared, lend). Separate processes are in
 * test_session_procs. */
#include <poll.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "arena.h"
#include "channel.h"
#include "object.h"
#include "session_util.h"

static const char *const provider_name[] = {"shared", "lend"};

static shmipc_server *server_of(const char *name, int provider, int *rc)
{
    shmipc_server *srv = NULL;
    shmipc_server_opts o;

    shmipc_server_opts_init(&o);
    o.provider = provider;
    *rc = shmipc_server_open(name, &o, &srv);
    if (*rc != 0 && *rc != SHMIPC_ENOTSUP)
        diag("server_open %s: %s (%s)", name, shmipc_strerror(*rc), shmipc_error_detail());
    return srv;
}

static shmipc_server *server(const char *name)
{
    int rc;
    return server_of(name, SHMIPC_PROVIDER_SHARED, &rc);
}

static void test_server_names(void)
{
    shmipc_server *a = server("names"), *b = NULL;
    char path[100];
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd;

    ok(a != NULL, "server opened");
    is_rc(shmipc_server_open("names", NULL, &b), SHMIPC_EEXIST,
          "a live server's name is "
          "never taken");
    ok(shmipc_server_fd(a) >= 0, "server fd");
    shmipc_server_close(a);
    snprintf(path, sizeof path, "%s/names.sock", sock_dir);
    ok(access(path, F_OK) != 0, "close removes the socket file");

    /* a stale socket: bound, then its owner gone without removing it */
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    ok(bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0, "made a stale socket file");
    close(fd);
    a = server("names");
    ok(a != NULL, "a stale socket of a dead server is replaced");
    shmipc_server_close(a);
    is_rc(shmipc_server_open("bad/name", NULL, &b), SHMIPC_EINVAL, "bad server name");
    {
        shmipc_server_opts o;
        shmipc_server_opts_init(&o);
        o.provider = 7;
        is_rc(shmipc_server_open("names", &o, &b), SHMIPC_EINVAL, "unknown provider");
    }
    {
        shmipc_session *s;
        is_rc(shmipc_connect("nobody-here", "viewer", NULL, &s), SHMIPC_ENOENT,
              "connecting to no server: ENOENT");
        is_rc(shmipc_connect("names", "bad app", NULL, &s), SHMIPC_EINVAL, "bad app name");
    }
}

static void test_refused(void)
{
    shmipc_app_rule rules[] = {{"viewer", (long)getuid(), SHMIPC_ANY_ID}};
    shmipc_app_rule wrong_uid[] = {{"*", (long)getuid() + 1, SHMIPC_ANY_ID}};
    shmipc_server_opts o;
    shmipc_server *srv;
    shmipc_session *s, *c;
    struct connector bad = {.server = "guarded", .app = "intruder"};
    pthread_t t;

    shmipc_server_opts_init(&o);
    o.allow = rules;
    o.n_allow = 1;
    is_rc(shmipc_server_open("guarded", &o, &srv), 0, "server with an allow-list");
    pthread_create(&t, NULL, connect_thread, &bad);
    is_rc(shmipc_server_accept(srv, 300, &s), SHMIPC_ETIMEDOUT,
          "accept skips the refused "
          "client and keeps waiting");
    pthread_join(t, NULL);
    is_rc(bad.rc, SHMIPC_EPERM, "an app not on the list is refused");
    ok(strstr(bad.detail, "intruder") != NULL, "with the reason: %s", bad.detail);
    ok(shmipc_server_rejected(srv) == 1, "the server counted the refusal");
    is_rc(open_pair(srv, "guarded", &s, &c), 0, "and then serves an allowed client");
    shmipc_session_close(c);
    shmipc_session_close(s);
    shmipc_server_close(srv);

    o.allow = wrong_uid;
    is_rc(shmipc_server_open("guarded", &o, &srv), 0, "server that allows another uid only");
    bad.app = "viewer";
    pthread_create(&t, NULL, connect_thread, &bad);
    shmipc_server_accept(srv, 300, &s);
    pthread_join(t, NULL);
    is_rc(bad.rc, SHMIPC_EPERM, "a client of the wrong uid is refused");
    shmipc_server_close(srv);
}

/* How many descriptors this process has open. */
static int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;

    while (d && readdir(d))
        n++;
    if (d)
        closedir(d);
    return n;
}

/* A raw client that speaks another protocol version is told so. */
/* A server that accepts no one: once its backlog (SOMAXCONN) is full, connect gives up in
 * time; as it does when the server takes the connection but never answers (this process
 * out of descriptors before the backlog is full). */
static void test_full_backlog(void)
{
    enum {
        MAX = 8192
    };
    shmipc_server *srv = server("backlog");
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct rlimit nofile;
    shmipc_client_opts o;
    shmipc_session *c = NULL;
    struct timespec t0, t1;
    int *fds = calloc(MAX, sizeof *fds), n = 0, rc, why = 0;

    getrlimit(RLIMIT_NOFILE, &nofile);
    nofile.rlim_cur = nofile.rlim_max < MAX + 64 ? nofile.rlim_max : MAX + 64;
    setrlimit(RLIMIT_NOFILE, &nofile);
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s/backlog.sock", sock_dir);
    while (fds && n < MAX - 1) {
        int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
            why = errno;
            if (fd >= 0)
                close(fd);
            break;
        }
        fds[n++] = fd;
    }
    if (why == EMFILE && n > 1)
        close(fds[--n]); /* a descriptor for the client below */
    ok(n > 0 && (why == EAGAIN || why == EMFILE),
       "the backlog is full after %d connections "
       "(or this process has no descriptor left: %s)",
       n, strerror(why));
    shmipc_client_opts_init(&o);
    o.timeout_ms = 300;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = shmipc_connect("backlog", "viewer", &o, &c);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    is_rc(rc, SHMIPC_ETIMEDOUT, "connect to a full backlog gives up: ETIMEDOUT");
    ok((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 < 3000,
       "within its timeout, not forever");
    while (n > 0)
        close(fds[--n]);
    free(fds);
    shmipc_server_close(srv);
}

/* 1 if text is in the n bytes at p. */
static int contains(const char *p, size_t n, const char *text)
{
    size_t len = strlen(text);

    for (size_t i = 0; i + len <= n; i++)
        if (memcmp(p + i, text, len) == 0)
            return 1;
    return 0;
}

static void test_version_mismatch(void)
{
    shmipc_server *srv = server("versions");
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct {
        uint32_t magic;
        uint16_t version, type;
        char app[SHMIPC_NAME_MAX + 1];
    } hello = {0x4f525053u, 99, 1, "viewer"};
    struct {
        uint32_t magic;
        uint16_t version, type;
        int32_t status;
        char rest[512];
    } answer;
    shmipc_session *s;
    int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);

    snprintf(sa.sun_path, sizeof sa.sun_path, "%s/versions.sock", sock_dir);
    connect(fd, (struct sockaddr *)&sa, sizeof sa);
    send(fd, &hello, sizeof hello, 0);
    shmipc_server_accept(srv, 200, &s);
    ok(recv(fd, &answer, sizeof answer, 0) > 8 && answer.status == SHMIPC_EPROTO,
       "protocol version 99 is refused with EPROTO");
    close(fd);
    { /* a later version's HELLO may have another size: its version is still told */
        struct {
            uint32_t magic;
            uint16_t version, type;
            char app[300];
        } future = {0x4f525053u, 2, 1, "viewer"};
        fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
        connect(fd, (struct sockaddr *)&sa, sizeof sa);
        send(fd, &future, sizeof future, 0);
        shmipc_server_accept(srv, 200, &s);
        ssize_t n = recv(fd, &answer, sizeof answer, 0);
        ok(n > 8 && answer.status == SHMIPC_EPROTO &&
               contains(answer.rest, (size_t)n - 12, "speaks protocol version 2"),
           "a version 2 HELLO of another size is refused with EPROTO, saying why");
        close(fd);
    }
    fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    connect(fd, (struct sockaddr *)&sa, sizeof sa);
    send(fd, "garbage", 7, 0);
    is_rc(shmipc_server_accept(srv, 200, &s), SHMIPC_ETIMEDOUT, "garbage is skipped too");
    ok(shmipc_server_rejected(srv) == 3, "all three counted");
    close(fd);
    { /* descriptors sent with a HELLO (which carries none) are not kept by the server */
        int fds[3] = {0, 1, 2}, before;
        hello.version = 1;
        memcpy(hello.app, "badapp!", 8); /* refused: a bad name */
        fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
        connect(fd, (struct sockaddr *)&sa, sizeof sa);
        before = open_fds();
        shmipc__send_fds(fd, &hello, sizeof hello, fds, 3, 0);
        shmipc_server_accept(srv, 200, &s);
        ok(open_fds() == before,
           "descriptors a client sends with its HELLO are closed "
           "(%d open, %d before)",
           open_fds(), before);
        close(fd);
    }
    shmipc_server_close(srv);
}

static void test_messages(shmipc_session *a, shmipc_session *b)
{
    static char big[SHMIPC_MSG_MAX + 1], got[SHMIPC_MSG_MAX + 1];
    size_t len = 12345;
    shmipc_obj *o = (shmipc_obj *)&len;
    int same = 1;

    memset(big, 'x', sizeof big);
    is_rc(shmipc_send(a, "hello", 5, NULL), 0, "send a message");
    is_rc(shmipc_recv(b, got, sizeof got, &len, &o, 1000), 0, "receive it");
    ok(len == 5 && memcmp(got, "hello", 5) == 0 && o == NULL, "same bytes, no object");
    is_rc(shmipc_send(b, "", 0, NULL), 0, "an empty message");
    is_rc(shmipc_recv(a, got, sizeof got, &len, NULL, 1000), 0, "arrives");
    ok(len == 0, "with length 0");
    is_rc(shmipc_send(a, big, SHMIPC_MSG_MAX + 1, NULL), SHMIPC_EMSGSIZE,
          "too large: EMSGSIZE");
    is_rc(shmipc_send(a, big, SHMIPC_MSG_MAX, NULL), 0, "SHMIPC_MSG_MAX bytes");
    is_rc(shmipc_recv(b, got, 100, &len, NULL, 1000), SHMIPC_EMSGSIZE,
          "a small buffer: EMSGSIZE");
    ok(len == SHMIPC_MSG_MAX, "which says the size (%zu)", len);
    is_rc(shmipc_recv(b, got, sizeof got, &len, NULL, 1000), 0, "the message is still there");
    ok(len == SHMIPC_MSG_MAX && memcmp(got, big, len) == 0, "whole");
    is_rc(shmipc_recv(b, got, sizeof got, &len, NULL, 0), SHMIPC_ETIMEDOUT,
          "empty: poll says so");
    is_rc(shmipc_recv(b, got, sizeof got, &len, NULL, 50), SHMIPC_ETIMEDOUT,
          "and waits the time");
    /* many messages: the ring wraps around many times */
    for (int i = 0; i < 5000 && same; i++) {
        char m[64];
        int n = snprintf(m, sizeof m, "message %d", i);
        same &= shmipc_send(a, m, (size_t)n, NULL) == 0;
        same &= shmipc_recv(b, got, sizeof got, &len, NULL, 1000) == 0 && len == (size_t)n &&
                memcmp(got, m, len) == 0;
    }
    ok(same, "5000 messages through the ring in order");
    is_rc(shmipc_send(NULL, "x", 1, NULL), SHMIPC_EINVAL, "NULL session");
    is_rc(shmipc_recv(b, NULL, 10, &len, NULL, 0), SHMIPC_EINVAL, "NULL buffer");
}

static void test_lending(shmipc_session *srv, shmipc_session *cli)
{
    int lend = shmipc_session_provider(srv) == SHMIPC_PROVIDER_LEND;
    shmipc_arena *sa = shmipc_session_arena(srv), *aa = shmipc_app_arena(srv);
    size_t base_s = used_of(sa), base_a = used_of(aa), len;
    shmipc_obj *o, *b1, *b2, *back;
    shmipc_blob blob, blob2;
    char buf[16];

    is_rc(shmipc_obj_new(sa, 1 << 20, &o), 0, "a 1 MiB object in the session arena");
    ok(shmipc_obj_size(o) == 1 << 20 && shmipc_obj_writable(o), "its size, writable");
    memset(shmipc_obj_ptr(o), 0x42, 1 << 20);
    is_rc(shmipc_send(srv, "take", 4, o), 0, "lend it with a message");
    is_rc(shmipc_recv(cli, buf, sizeof buf, &len, &b1, 1000), 0, "the client gets it");
    ok(b1 && shmipc_obj_size(b1) == 1 << 20 &&
           ((unsigned char *)shmipc_obj_ptr(b1))[12345] == 0x42,
       "and reads the same bytes through its own mapping");
    ok(shmipc_obj_ptr(b1) != shmipc_obj_ptr(o), "at its own address");
    if (lend) {
        ok(!shmipc_obj_writable(b1), "lend provider: the borrowed object is read-only");
        shmipc_obj_unref(o);
        ok(used_of(sa) >= base_s + (1 << 20), "the owner let go; the borrower keeps it alive");
        is_rc(shmipc_lend(cli, b1, &blob), SHMIPC_ENOTSUP, "a borrower cannot lend it on");
        shmipc_obj_unref(b1);
        ok(used_of(sa) == base_s, "freed when the borrower lets go too (used back to %zu)",
           base_s);
        goto app_arena;
    }
    ok(shmipc_obj_writable(b1), "shared provider: the borrower may write");
    ((unsigned char *)shmipc_obj_ptr(b1))[0] = 0x43;
    ok(((unsigned char *)shmipc_obj_ptr(o))[0] == 0x43,
       "shared provider: a write shows at the owner");

    /* multi-hop: the owner lets go first; the borrower lends it back */
    shmipc_obj_unref(o);
    ok(used_of(sa) > base_s + (1 << 20), "the owner let go; the borrower keeps it alive");
    is_rc(shmipc_lend(cli, b1, &blob), 0, "the borrower lends it back");
    is_rc(shmipc_borrow(srv, &blob, &back), 0, "the first owner borrows it again");
    ok(shmipc_obj_ptr(back) != NULL && ((unsigned char *)shmipc_obj_ptr(back))[0] == 0x43,
       "same object");
    is_rc(shmipc_borrow(srv, &blob, &b2), SHMIPC_EBADBLOB, "a blob is borrowed once");
    shmipc_obj_unref(b1);
    ok(used_of(sa) > base_s + (1 << 20), "still alive while one handle remains");
    shmipc_obj_unref(back);
    ok(used_of(sa) == base_s, "freed when the last handle anywhere goes (used back to %zu)",
       base_s);
    is_rc(shmipc_borrow(srv, &blob, &b2), SHMIPC_ESTALE, "its blob is now stale");

app_arena:
    /* the app arena, several loans of one object, a blob never borrowed */
    if (lend)
        is_rc(shmipc_obj_new(shmipc_app_arena(cli), 64, &o), SHMIPC_ENOTSUP,
              "lend provider: the client cannot make objects in the server's app arena");
    is_rc(shmipc_obj_new(aa, 4096, &o), 0, "an object in the app arena");
    is_rc(shmipc_lend(srv, o, &blob), 0, "lend it once");
    is_rc(shmipc_lend(srv, o, &blob2), 0, "and twice");
    ok(memcmp(&blob, &blob2, sizeof blob) != 0, "two loans, two blobs");
    is_rc(shmipc_borrow(cli, &blob, &b1), 0, "borrow the first");
    is_rc(shmipc_borrow(cli, &blob2, &b2), 0, "and the second");
    ok(shmipc_obj_ptr(b1) == shmipc_obj_ptr(b2), "both are the same memory");
    is_rc(shmipc_borrow(srv, &blob2, &back), SHMIPC_EBADBLOB,
          "the lender cannot borrow a loan "
          "made to its peer");
    shmipc_obj_unref(b1);
    shmipc_obj_unref(b2);
    is_rc(shmipc_lend(srv, o, &blob), 0, "a third loan, never borrowed");
    shmipc_obj_unref(o);
    ok(used_of(aa) > base_a, "the unborrowed loan keeps it");
    is_rc(shmipc_borrow(cli, &blob, &b1), 0, "until borrowed");
    shmipc_obj_unref(b1);
    ok(used_of(aa) == base_a, "app arena back to baseline");

    /* an object of an arena the peer does not share */
    {
        shmipc_pool *p;
        shmipc_arena *other;
        shmipc_pool_create(NULL, 1 << 20, 0, &p);
        shmipc_arena_create(p, &other);
        shmipc_obj_new(other, 64, &o);
        is_rc(shmipc_lend(srv, o, &blob), SHMIPC_EINVAL,
              "an object of a private arena cannot "
              "be lent");
        shmipc_obj_unref(o);
        shmipc_arena_close(other);
    }
    is_rc(shmipc_obj_new(sa, 0, &o), SHMIPC_EINVAL, "size 0");
    is_rc(shmipc_obj_new(sa, (size_t)1 << 40, &o), SHMIPC_ENOMEM,
          lend ? "larger than this machine's memory" : "larger than the arena");
    is_rc(shmipc_arena_check(sa), 0, "session arena consistent");
    is_rc(shmipc_arena_check(aa), 0, "app arena consistent");
}

/* Every kind of bad blob is refused with the right code, and nothing is touched. */
static void test_bad_blobs(shmipc_session *srv, shmipc_session *cli, shmipc_session *other)
{
    const struct shmipc_lend_ctx *ctx = shmipc__session_lend_ctx(srv);
    struct blob_view {
        uint32_t magic;
        uint8_t version, provider, kind, reserved;
        uint64_t session_id, pool_id, obj, size, loan, gen, check;
    } v;
    shmipc_obj *o, *b;
    shmipc_blob good, bad;
    size_t base = used_of(shmipc_session_arena(srv));

    shmipc_obj_new(shmipc_session_arena(srv), 256, &o);
    shmipc_lend(srv, o, &good);
    memcpy(&v, &good, sizeof v);
    ok(sizeof v == SHMIPC_BLOB_SIZE, "blob is %d bytes", SHMIPC_BLOB_SIZE);

    memset(&bad, 0, sizeof bad);
    is_rc(shmipc_borrow(cli, &bad, &b), SHMIPC_EBADBLOB, "all zeros");
    for (int i = 0; i < 200; i++) {
        for (size_t j = 0; j < sizeof bad; j++)
            bad.bytes[j] = (unsigned char)rand();
        if (shmipc_borrow(cli, &bad, &b) != SHMIPC_EBADBLOB)
            break;
        if (i == 199)
            ok(1, "200 random blobs: EBADBLOB");
    }
    bad = good;
    memset(bad.bytes + 40, 0, 24);
    is_rc(shmipc_borrow(cli, &bad, &b), SHMIPC_EBADBLOB, "truncated (tail zeroed)");
    bad = good;
    bad.bytes[30] ^= 1;
    is_rc(shmipc_borrow(cli, &bad, &b), SHMIPC_EBADBLOB, "one bit flipped");
    is_rc(shmipc_borrow(other, &good, &b), SHMIPC_EBADBLOB, "another session's blob");

    /* forged by someone who knows the key: the check value passes, validation does not */
#define FORGE(field, value, want, what)                                                        \
    do {                                                                                       \
        struct blob_view f = v;                                                                \
        f.field = value;                                                                       \
        memcpy(&bad, &f, sizeof f);                                                            \
        shmipc__blob_reseal(ctx, &bad);                                                        \
        is_rc(shmipc_borrow(cli, &bad, &b), want, what);                                       \
    } while (0)
    FORGE(obj, (uint64_t)1 << 40, SHMIPC_EBADBLOB, "forged: object outside the pool");
    FORGE(size, (uint64_t)1 << 40, SHMIPC_EBADBLOB, "forged: size past the pool's end");
    FORGE(obj, v.obj + 16, SHMIPC_EBADBLOB, "forged: object offset inside another block");
    FORGE(loan, 64, SHMIPC_ESTALE, "forged: loan record that is not one");
    FORGE(pool_id, v.pool_id ^ 1, SHMIPC_EBADBLOB, "forged: a pool the session does not share");
    FORGE(kind, 1, SHMIPC_EBADBLOB, "forged: the other arena's kind");
    FORGE(gen, v.gen + 1, SHMIPC_ESTALE, "forged: another generation");
    FORGE(version, 9, SHMIPC_EBADBLOB, "another blob version");
    FORGE(provider, 9, SHMIPC_EBADBLOB, "another provider");
    FORGE(session_id, v.session_id ^ 1, SHMIPC_EBADBLOB, "forged: another session id");

    is_rc(shmipc_borrow(cli, &good, &b), 0, "the genuine blob still works after all that");
    is_rc(shmipc_borrow(cli, &good, &b), SHMIPC_EBADBLOB, "replayed: EBADBLOB");
    shmipc_obj_unref(b);
    shmipc_obj_unref(o);
    shmipc_session_poll(srv); /* lend provider: the owner takes the release here */
    is_rc(shmipc_borrow(cli, &good, &b), SHMIPC_ESTALE, "after the object is freed: ESTALE");
    ok(used_of(shmipc_session_arena(srv)) == base, "nothing leaked");
    is_rc(shmipc_arena_check(shmipc_session_arena(srv)), 0, "arena consistent");
}

/* A tool's lock-free snapshot of who holds what in an arena. */
static void test_snapshot(shmipc_session *srv, shmipc_session *cli)
{
    shmipc_arena *a = shmipc_session_arena(srv);
    struct shmipc_ep_info eps[SHMIPC_EP_CHUNK];
    shmipc_obj *o;
    shmipc_blob blob;
    size_t n, size = 12345;
    uint64_t held = 0, held_bytes = 0, lent = 0, lent_bytes = 0;
    int peers = 0;

    shmipc_obj_new(a, size, &o);
    shmipc_lend(srv, o, &blob);
    is_rc(shmipc__reftable_snapshot(a, eps, SHMIPC_EP_CHUNK, &n), 0,
          "snapshot of the session "
          "arena's table");
    for (size_t i = 0; i < n; i++) {
        held += eps[i].held;
        held_bytes += eps[i].held_bytes;
        lent += eps[i].lent;
        lent_bytes += eps[i].lent_bytes;
        peers += eps[i].open && eps[i].pid == getpid();
    }
    ok(held == 1 && held_bytes == size && lent == 1 && lent_bytes == size,
       "it shows the handle and the loan, with their bytes (%llu/%llu, %llu/%llu)",
       (unsigned long long)held, (unsigned long long)held_bytes, (unsigned long long)lent,
       (unsigned long long)lent_bytes);
    ok(peers >= 1, "and the sessions' processes");
    shmipc_obj_unref(o);
    shmipc_obj_unref(NULL);
    {
        shmipc_obj *b;
        if (shmipc_borrow(cli, &blob, &b) == 0)
            shmipc_obj_unref(b);
    }
}

struct pump {
    shmipc_session *s;
    int count, ok;
};

static void *sender(void *arg)
{
    struct pump *p = arg;
    for (int i = 0; i < p->count; i++) {
        shmipc_obj *o;
        int rc = shmipc_obj_new(shmipc_session_arena(p->s), 100, &o);
        if (rc == 0 && (rc = shmipc_send(p->s, &i, sizeof i, o)) != 0)
            shmipc_obj_unref(o);
        if (rc != 0) {
            diag("sender %d: %s (%s)", i, shmipc_strerror(rc), shmipc_error_detail());
            return NULL;
        }
        shmipc_obj_unref(o);
    }
    p->ok = 1;
    return NULL;
}

/* Two threads send on one session while the other side receives on two threads. */
static void *receiver(void *arg)
{
    struct pump *p = arg;
    for (int i = 0; i < p->count; i++) {
        shmipc_obj *o;
        int v;
        size_t len;
        int rc = shmipc_recv(p->s, &v, sizeof v, &len, &o, 5000);
        if (rc != 0 || !o) {
            diag("receiver %d: %s (%s)", i, shmipc_strerror(rc), shmipc_error_detail());
            return NULL;
        }
        shmipc_obj_unref(o);
    }
    p->ok = 1;
    return NULL;
}

static void test_threads(shmipc_session *a, shmipc_session *b)
{
    enum {
        N = 20000
    };
    struct pump s1 = {a, N, 0}, s2 = {a, N, 0}, r1 = {b, N, 0}, r2 = {b, N, 0};
    pthread_t t[4];
    size_t base = used_of(shmipc_session_arena(a));

    pthread_create(&t[0], NULL, sender, &s1);
    pthread_create(&t[1], NULL, sender, &s2);
    pthread_create(&t[2], NULL, receiver, &r1);
    pthread_create(&t[3], NULL, receiver, &r2);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    ok(s1.ok && s2.ok && r1.ok && r2.ok, "2 sender and 2 receiver threads moved %d objects",
       2 * N);
    ok(used_of(shmipc_session_arena(a)) == base, "all freed");
}

/* The n-th message of test_ring_race: its length (every size class, so that records end
 * and WRAP records fall at every kind of position) and its bytes. */
static size_t race_len(int n)
{
    return n % 3 == 0 ? (size_t)n % 97 : ((size_t)n * 7919) % (SHMIPC_MSG_MAX + 1);
}

static void race_fill(unsigned char *m, size_t len, int n)
{
    for (size_t j = 0; j < len; j++)
        m[j] = (unsigned char)(n * 31 + (int)j);
}

struct race {
    shmipc_session *s;
    int count, ok;
};

static void *race_sender(void *arg)
{
    static unsigned char m[SHMIPC_MSG_MAX];
    struct race *r = arg;

    for (int n = 0; n < r->count; n++) {
        race_fill(m, race_len(n), n);
        if (shmipc_send(r->s, m, race_len(n), NULL) != 0)
            return NULL;
    }
    r->ok = 1;
    return NULL;
}

/* A sender on one core and a spinning receiver on the other, through a ring that wraps
 * hundreds of times: every record arrives whole and in order, none is seen before its
 * bytes (the receiver polls the header the sender publishes last) and none twice. */
static void test_ring_race(shmipc_session *a, shmipc_session *b)
{
    enum {
        N = 20000
    };
    static unsigned char got[SHMIPC_MSG_MAX], want[SHMIPC_MSG_MAX];
    struct race r = {a, N, 0};
    pthread_t t;
    int n, bad = 0;

    shmipc_session_set_spin(b, 1000);
    pthread_create(&t, NULL, race_sender, &r);
    for (n = 0; n < N && !bad; n++) {
        size_t len;
        int rc = shmipc_recv(b, got, sizeof got, &len, NULL, 5000);
        race_fill(want, race_len(n), n);
        bad = rc != 0 || len != race_len(n) || memcmp(got, want, len) != 0;
        if (bad)
            diag("message %d: %s, %zu bytes (%zu sent)", n, shmipc_strerror(rc), len,
                 race_len(n));
    }
    pthread_join(t, NULL);
    shmipc_session_set_spin(b, 0);
    ok(!bad && r.ok,
       "%d messages of 0..%d bytes, sender and spinning receiver on two threads: "
       "each whole and in order",
       N, SHMIPC_MSG_MAX);
}

struct spin_toggle {
    shmipc_session *s;
    atomic_int stop;
};

static void *toggle_spin(void *arg)
{
    struct spin_toggle *t = arg;

    for (unsigned i = 0; !atomic_load(&t->stop); i++)
        shmipc_session_set_spin(t->s, i % 2 ? 50 : 0);
    return NULL;
}

/* shmipc_session_set_spin while a receive runs: no data race (make check-tsan tells). */
static void test_spin_while_receiving(shmipc_session *a, shmipc_session *b)
{
    enum {
        N = 2000
    };
    struct pump s1 = {a, N, 0}, r1 = {b, N, 0};
    struct spin_toggle t = {.s = b};
    pthread_t ts, tt;

    atomic_init(&t.stop, 0);
    pthread_create(&tt, NULL, toggle_spin, &t);
    pthread_create(&ts, NULL, sender, &s1);
    receiver(&r1);
    pthread_join(ts, NULL);
    atomic_store(&t.stop, 1);
    pthread_join(tt, NULL);
    shmipc_session_set_spin(b, 0);
    ok(s1.ok && r1.ok, "%d messages received while another thread changes the spin", N);
}

static void test_poll(shmipc_session *a, shmipc_session *b)
{
    struct pollfd p = {.fd = shmipc_session_fd(b), .events = POLLIN};
    char buf[8];
    size_t len;

    shmipc_recv(b, buf, sizeof buf, &len, NULL, 0); /* empty */
    ok(poll(&p, 1, 0) == 0, "session fd not readable with nothing queued");
    shmipc_send(a, "ping", 4, NULL);
    ok(poll(&p, 1, 1000) == 1, "readable when a message waits");
    is_rc(shmipc_recv(b, buf, sizeof buf, &len, NULL, 0), 0, "and the message is there");
    shmipc_recv(b, buf, sizeof buf, &len, NULL, 0);
    ok(poll(&p, 1, 0) == 0, "not readable once drained");
    shmipc_session_close(a);
    ok(poll(&p, 1, 1000) == 1, "readable when the peer is gone");
    is_rc(shmipc_recv(b, buf, sizeof buf, &len, NULL, 0), SHMIPC_ECLOSED, "recv says ECLOSED");
    ok(shmipc_session_closed(b), "session_closed says so");
    is_rc(shmipc_send(b, "x", 1, NULL), SHMIPC_ECLOSED, "send says ECLOSED");
}

/* A fresh session's fd is readable as soon as a first message waits (before any recv). */
static void test_fresh_fd(shmipc_server *srv)
{
    shmipc_session *s, *c;
    struct pollfd p;
    char buf[8];
    size_t len;

    if (open_pair(srv, "main", &s, &c) != 0)
        return;
    p = (struct pollfd){.fd = shmipc_session_fd(c), .events = POLLIN};
    shmipc_send(s, "first", 5, NULL);
    ok(poll(&p, 1, 1000) == 1, "a new session's fd is readable when its first message waits");
    is_rc(shmipc_recv(c, buf, sizeof buf, &len, NULL, 0), 0, "and the message is there");
    shmipc_send(s, "second", 6, NULL);
    ok(poll(&p, 1, 1000) == 1, "still readable while a message waits");
    is_rc(shmipc_recv(c, buf, sizeof buf, &len, NULL, 0), 0, "the second one");
    shmipc_session_close(c);
    shmipc_session_close(s);
}

/* A server process that starts after delay_ms and serves one client, then exits. */
static pid_t late_server(const char *name, int delay_ms)
{
    pid_t pid = fork();

    if (pid == 0) {
        shmipc_server *srv;
        shmipc_session *s;
        int rc;
        usleep((useconds_t)delay_ms * 1000u);
        srv = server_of(name, SHMIPC_PROVIDER_SHARED, &rc);
        rc = srv ? shmipc_server_accept(srv, 10000, &s) : rc;
        if (rc == 0)
            shmipc_session_close(s);
        shmipc_server_close(srv);
        _exit(rc == 0 ? 0 : 1);
    }
    return pid;
}

/* A client started before its server waits for it (opts.wait); without wait it is told at
 * once that there is none, and with wait it gives up when its timeout is up. */
static void test_wait_for_server(void)
{
    shmipc_client_opts o;
    shmipc_session *c = NULL;
    struct timespec t0;
    pid_t pid = late_server("late", 1000);
    int status = -1;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    shmipc_client_opts_init(&o);
    is_rc(shmipc_connect("late", "viewer", &o, &c), SHMIPC_ENOENT,
          "without wait: no server yet is ENOENT at once (%.0f ms)", ms_since(&t0));
    o.wait = 1;
    o.timeout_ms = 10000;
    is_rc(shmipc_connect("late", "viewer", &o, &c), 0,
          "with wait: the client started 1 s before its server connects");
    ok(ms_since(&t0) >= 900 && ms_since(&t0) < 5000,
       "once the server is up (%.0f ms after the start)", ms_since(&t0));
    shmipc_session_close(c);
    waitpid(pid, &status, 0);
    ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the late server served it");
    o.timeout_ms = 300;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    is_rc(shmipc_connect("never", "viewer", &o, &c), SHMIPC_ETIMEDOUT,
          "with wait and no server: ETIMEDOUT (%s)", shmipc_error_detail());
    ok(ms_since(&t0) >= 290 && ms_since(&t0) < 2000, "after its timeout (%.0f ms)",
       ms_since(&t0));
}

/* Every name up to SHMIPC_NAME_MAX works in a socket directory of SHMIPC_SOCKET_DIR_MAX
 * bytes (its socket is then named by a hash); a longer directory is refused up front. */
static void test_long_names(void)
{
    char deep[SHMIPC_SOCKET_DIR_MAX + 1], too_deep[SHMIPC_SOCKET_DIR_MAX + 3];
    char name[SHMIPC_NAME_MAX + 1];
    shmipc_server_opts so;
    shmipc_client_opts co;
    shmipc_server *srv = NULL;
    shmipc_session *c = NULL;
    struct connector conn;
    pthread_t t;
    int made;

    snprintf(deep, sizeof deep, "%s/", sock_dir);
    memset(deep + strlen(deep), 'd', SHMIPC_SOCKET_DIR_MAX - strlen(deep));
    deep[SHMIPC_SOCKET_DIR_MAX] = '\0';
    snprintf(too_deep, sizeof too_deep, "%s/e", deep);
    memset(name, 'n', SHMIPC_NAME_MAX);
    name[SHMIPC_NAME_MAX] = '\0';
    made = mkdir(deep, 0700) == 0 && mkdir(too_deep, 0700) == 0;
    shmipc_server_opts_init(&so);
    shmipc_client_opts_init(&co);
    so.socket_dir = co.socket_dir = deep;
    diag("a %d-byte server name in a %zu-byte socket directory", SHMIPC_NAME_MAX, strlen(deep));
    if (SETUP(made && shmipc_server_open(name, &so, &srv) == 0, "a server of a long name")) {
        conn = (struct connector){.server = name, .app = "viewer"};
        setenv("SHMIPC_SOCKET_DIR", deep, 1); /* connect_thread takes no options */
        pthread_create(&t, NULL, connect_thread, &conn);
        is_rc(shmipc_server_accept(srv, 5000, &c), 0, "it accepts a client");
        pthread_join(t, NULL);
        is_rc(conn.rc, 0, "whose connect found it by its name (%s)", conn.detail);
        shmipc_session_close(conn.s);
        shmipc_session_close(c);
        name[0] = 'm'; /* another long name: another socket */
        is_rc(shmipc_connect(name, "viewer", &co, &c), SHMIPC_ENOENT,
              "another long name finds no server (%s)", shmipc_error_detail());
        setenv("SHMIPC_SOCKET_DIR", sock_dir, 1);
        shmipc_server_close(srv);
    }
    so.socket_dir = too_deep;
    is_rc(shmipc_server_open(name, &so, &srv), SHMIPC_EINVAL,
          "a longer socket directory is refused up front (%s)", shmipc_error_detail());
    ok(strstr(shmipc_error_detail(), "SHMIPC_SOCKET_DIR_MAX") != NULL, "and says its limit");
    rmdir(too_deep);
    rmdir(deep);
}

/* A client process that connects as "viewer" and is killed with SIGKILL at once. */
static pid_t dying_client(const char *server)
{
    pid_t pid = fork();

    if (pid == 0) {
        shmipc_session *c;
        if (shmipc_connect(server, "viewer", NULL, &c) == 0)
            raise(SIGKILL);
        _exit(1);
    }
    return pid;
}

/* A client process that borrows one object, ends its session cleanly but keeps the
 * object, and is then killed with SIGKILL holding it. */
static pid_t goodbye_then_death(const char *server)
{
    pid_t pid = fork();

    if (pid == 0) {
        shmipc_session *c;
        shmipc_obj *o = NULL;
        char buf[8];
        size_t len;
        if (shmipc_connect(server, "viewer", NULL, &c) == 0 &&
            shmipc_recv(c, buf, sizeof buf, &len, &o, 5000) == 0 && o) {
            shmipc_session_close(c); /* goodbye: the handle lives on */
            raise(SIGKILL);
        }
        _exit(1);
    }
    return pid;
}

/* A client process that connects and closes its session (a goodbye), then exits. */
static pid_t closing_client(const char *server)
{
    pid_t pid = fork();

    if (pid == 0) {
        shmipc_session *c;
        if (shmipc_connect(server, "viewer", NULL, &c) != 0)
            _exit(1);
        shmipc_session_close(c);
        _exit(0);
    }
    return pid;
}

/* ECLOSED tells an orderly close from a crash: in its detail and shmipc_session_peer_gone. */
static void test_goodbye_or_crash(shmipc_server *srv)
{
    for (int crash = 0; crash < 2; crash++) {
        const char *how = crash ? "killed with SIGKILL" : "that closed its session";
        pid_t pid = crash ? dying_client("main") : closing_client("main");
        shmipc_session *s;
        char buf[8];
        size_t len;
        int status;

        if (!SETUP(shmipc_server_accept(srv, 5000, &s) == 0, "a client that leaves"))
            continue;
        waitpid(pid, &status, 0);
        is_rc(shmipc_session_peer_gone(s), 0, "a peer %s: not seen gone before a call", how);
        is_rc(shmipc_recv(s, buf, sizeof buf, &len, NULL, 2000), SHMIPC_ECLOSED,
              "a peer %s: recv says ECLOSED", how);
        ok(strstr(shmipc_error_detail(),
                  crash ? "died or hung up without a goodbye" : "said goodbye") != NULL,
           "a peer %s: the detail says so (%s)", how, shmipc_error_detail());
        is_rc(shmipc_session_peer_gone(s), crash ? SHMIPC_PEER_DIED : SHMIPC_PEER_GOODBYE,
              "a peer %s: shmipc_session_peer_gone says so", how);
        shmipc_session_close(s);
    }
    is_rc(shmipc_session_peer_gone(NULL), SHMIPC_EINVAL, "peer_gone(NULL) is EINVAL");
}

/* What a peer kept after its goodbye comes back when it dies: the survivor notices in
 * shmipc_session_poll (shared provider: the peer held it in the shared arena itself; lend
 * provider: its loan, reaped by the owner's arena). */
static void test_kept_after_goodbye(shmipc_server *srv)
{
    shmipc_session *s;
    shmipc_obj *o;
    size_t base;
    int status, tries = 0;
    pid_t pid = goodbye_then_death("main");

    if (!SETUP(shmipc_server_accept(srv, 5000, &s) == 0, "a client that will keep an object"))
        return;
    base = used_of(shmipc_app_arena(s));
    if (SETUP(shmipc_obj_new(shmipc_app_arena(s), 100000, &o) == 0 &&
                  shmipc_send(s, "keep", 4, o) == 0,
              "an object lent to it")) {
        shmipc_obj_unref(o);
        waitpid(pid, &status, 0);
        ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
           "it said goodbye, kept the object, and was killed holding it");
        while (used_of(shmipc_app_arena(s)) != base && tries++ < 100) {
            shmipc_session_poll(s);
            usleep(20000);
        }
        ok(used_of(shmipc_app_arena(s)) == base,
           "the object comes back once the survivor polls (%d polls)", tries);
        is_rc(shmipc_arena_check(shmipc_app_arena(s)), 0, "the app arena is consistent");
    }
    shmipc_session_close(s);
}

/* A session whose peer died, or that recv found over, frees its endpoints; the next
 * session of the app may get the same ones. Nothing the old session still does (closing
 * it, its arena handles, the arena's reaping of dead peers) may touch the new session's
 * counts, and no new object is made through the old session's shared arena. */
static void test_endpoint_reuse(shmipc_server *srv, int provider)
{
    shmipc_session *old, *s, *c;
    shmipc_obj *o = NULL, *got = NULL, *late = NULL;
    char buf[16];
    size_t len, base = 0;
    int status;
    pid_t pid = dying_client("main");

    if (!SETUP(shmipc_server_accept(srv, 5000, &old) == 0, "a client that gets killed"))
        return;
    waitpid(pid, &status, 0);
    base = used_of(shmipc_app_arena(old));
    is_rc(shmipc_recv(old, buf, sizeof buf, &len, NULL, 2000), SHMIPC_ECLOSED,
          "its death is seen: ECLOSED");
    if (provider == SHMIPC_PROVIDER_SHARED)
        is_rc(shmipc_obj_new(shmipc_session_arena(old), 64, &late), SHMIPC_ECLOSED,
              "no new object through the shared arena of a session that is over");
    else /* our own lend arena: what we make in it is ours alone */
        is_rc(shmipc_obj_new(shmipc_session_arena(old), 64, &late), 0,
              "a lend arena of a session that is over still serves its owner");
    shmipc_obj_unref(late);
    if (SETUP(open_pair(srv, "main", &s, &c) == 0, "a new session of the same app")) {
        SETUP(shmipc_obj_new(shmipc_app_arena(s), 4096, &o) == 0 &&
                  shmipc_send(s, "new", 3, o) == 0,
              "an object lent to the new session's client");
        shmipc_session_poll(old);
        shmipc_session_close(old); /* after the death: nothing of it may go twice */
        usleep(150 * 1000);        /* past a lend arena's reaping of dead peers */
        shmipc_session_poll(s);
        is_rc(shmipc_recv(c, buf, sizeof buf, &len, &got, 2000), 0,
              "the new client still borrows what was lent to it");
        ok(got && shmipc_obj_size(got) == 4096, "the object it was lent");
        is_rc(shmipc_obj_new(shmipc_app_arena(s), 64, &late), 0,
              "the new session makes objects");
        is_rc(shmipc_arena_check(shmipc_app_arena(s)), 0, "the app arena is consistent");
        shmipc_obj_unref(late);
        shmipc_obj_unref(got);
        shmipc_obj_unref(o);
        shmipc_session_poll(s);
        ok(used_of(shmipc_app_arena(s)) <= base + 4096,
           "the app arena comes back (%zu, %zu before)", used_of(shmipc_app_arena(s)), base);
        shmipc_session_close(c);
        shmipc_session_close(s);
    } else {
        shmipc_session_close(old);
    }
}

/* Everything that works on a session pair, with the given provider. */
static void test_provider(int provider)
{
    shmipc_server *srv;
    shmipc_session *s, *c, *s2, *c2;
    int rc;

    diag("---- provider %s", provider_name[provider]);
    srv = server_of("main", provider, &rc);
    if (rc == SHMIPC_ENOTSUP) {
        skip("the lend provider: this build has no jemalloc (configured --without-jemalloc)");
        return;
    }
    is_rc(rc, 0, "%s server", provider_name[provider]);
    is_rc(open_pair(srv, "main", &s, &c), 0, "a session");
    is_rc(open_pair(srv, "main", &s2, &c2), 0, "a second session");
    ok(shmipc_session_provider(c) == provider, "the client learnt the provider");
    ok(shmipc_session_peer_pid(s) == getpid(), "the peer's pid comes from the kernel");
    test_fresh_fd(srv);
    test_endpoint_reuse(srv, provider);
    test_kept_after_goodbye(srv);
    test_goodbye_or_crash(srv);
    test_messages(s, c);
    test_messages(c, s);
    test_lending(s, c);
    test_bad_blobs(s, c, s2);
    test_snapshot(s, c);
    test_threads(s, c);
    test_threads(c, s);
    test_spin_while_receiving(s, c);
    test_ring_race(s, c);
    test_ring_race(c, s);
    shmipc_session_close(s2);
    shmipc_session_close(c2);
    test_poll(s, c);
    shmipc_session_close(c);
    shmipc_server_close(srv);
}

int main(void)
{
    use_private_socket_dir();
    test_server_names();
    test_refused();
    test_version_mismatch();
    test_full_backlog();
    test_wait_for_server();
    test_long_names();
    test_provider(SHMIPC_PROVIDER_SHARED);
    test_provider(SHMIPC_PROVIDER_LEND);
    ok(socket_dir_leftovers() == 0, "nothing left in the socket directory");
    ok(shm_leftovers() == 0, "nothing left in the shm directory");
    return done_testing();
}

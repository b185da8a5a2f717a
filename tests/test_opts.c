/* test_opts — the options structs' ABI (docs/design.md, "Options and the ABI"): a program
 * built against an older, smaller layout of shmipc_server_opts / shmipc_client_opts keeps
 * working (the fields it does not know take their defaults, whatever lies past its
 * struct), one built against a newer, larger layout works as long as the fields this
 * library does not know are zero, and a size of 0 or garbage is SHMIPC_EINVAL with a
 * detail. NULL options stay the defaults. */
#include "session_util.h"

#include <sys/stat.h>

/* shmipc_server_opts as a program built before max_pending and max_apps saw it. */
struct old_server_opts {
    size_t size;
    const shmipc_app_rule *allow;
    size_t n_allow;
    const char *socket_dir;
    unsigned socket_mode;
    size_t session_arena_size;
    size_t app_arena_size;
    int provider;
    int handshake_timeout_ms;
};
/* shmipc_client_opts as one built before timeout_ms saw it. */
struct old_client_opts {
    size_t size;
    const char *socket_dir;
};
/* An older struct in memory whose bytes past it are 0xff: the fields a newer library
 * knows there must not be read (max_pending, max_apps and max_sessions would be -1:
 * EINVAL). */
union old_server {
    struct old_server_opts o;
    unsigned char bytes[sizeof(shmipc_server_opts) + 64];
};
union old_client {
    struct old_client_opts o;
    unsigned char bytes[sizeof(shmipc_client_opts) + 64];
};
/* A newer struct: this library's, and one more field. */
struct new_server_opts {
    shmipc_server_opts cur;
    long added;
};

static int detail_has(const char *what)
{
    return strstr(shmipc_error_detail(), what) != NULL;
}

static void test_init(void)
{
    shmipc_server_opts so;
    shmipc_client_opts co;

    memset(&so, 0xff, sizeof so);
    memset(&co, 0xff, sizeof co);
    shmipc_server_opts_init(&so);
    shmipc_client_opts_init(&co);
    ok(so.size == sizeof so && so.socket_dir == NULL && so.max_apps == 0 &&
           so.max_sessions == 0,
       "shmipc_server_opts_init sets size to sizeof the struct, the rest to zero");
    ok(co.size == sizeof co && co.socket_dir == NULL && co.timeout_ms == 0,
       "shmipc_client_opts_init sets size to sizeof the struct, the rest to zero");
}

static void test_null(void)
{
    const char *name = uname_("null");
    shmipc_session *a = NULL, *b = NULL;
    shmipc_server *srv = NULL;

    ok(shmipc_server_open(name, NULL, &srv) == 0 && open_pair(srv, name, &a, &b) == 0,
       "NULL options are the defaults, for the server and the client");
    shmipc_session_close(a);
    shmipc_session_close(b);
    shmipc_server_close(srv);
}

static void test_older(void)
{
    const char *name = uname_("older");
    char other[64] = "/tmp/shmipc-test-other-XXXXXX", sock[128];
    union old_server so;
    union old_client co;
    shmipc_session *a = NULL, *b = NULL;
    shmipc_server *srv = NULL;
    struct shmipc_arena_stats st = {0};
    struct stat sb;
    int rc;

    if (!mkdtemp(other))
        exit(99);
    memset(&so, 0xff, sizeof so);
    memset(&co, 0xff, sizeof co);
    memset(&so.o, 0, sizeof so.o);
    so.o.size = sizeof so.o;
    so.o.socket_dir = other; /* not $SHMIPC_SOCKET_DIR: the fields it has are read */
    so.o.socket_mode = 0640;
    so.o.session_arena_size = (size_t)1 << 20;
    co.o.size = sizeof co.o;
    co.o.socket_dir = other;
    rc = shmipc_server_open(name, (const shmipc_server_opts *)&so, &srv);
    if (!ok(rc == 0,
            "a server with an older, smaller shmipc_server_opts (%zu bytes, this "
            "library's %zu) opens",
            sizeof so.o, sizeof(shmipc_server_opts)))
        diag("%s", shmipc_error_detail());
    snprintf(sock, sizeof sock, "%s/%s.sock", other, name);
    ok(rc == 0 && stat(sock, &sb) == 0 && (sb.st_mode & 0777) == 0640,
       "its fields are read: the socket is in its directory, with its mode");
    rc = rc ? rc : open_pair_opts(srv, name, (const shmipc_client_opts *)&co, &a, &b);
    ok(rc == 0,
       "a client with an older, smaller shmipc_client_opts (%zu bytes) connects "
       "through its socket directory",
       sizeof co.o);
    ok(rc == 0 && shmipc_arena_stats(shmipc_session_arena(a), &st) == 0 &&
           st.capacity <= (size_t)1 << 20,
       "the session arena has the size the older struct asked for");
    shmipc_session_close(a);
    shmipc_session_close(b);
    shmipc_server_close(srv);
    rmdir(other);
}

static void test_newer(void)
{
    const char *name = uname_("newer");
    struct new_server_opts so;
    shmipc_server *srv = NULL;
    int rc;

    shmipc_server_opts_init(&so.cur);
    so.cur.size = sizeof so;
    so.added = 0;
    rc = shmipc_server_open(name, &so.cur, &srv);
    ok(rc == 0, "a newer, larger struct whose unknown fields are zero (their defaults) works");
    shmipc_server_close(srv);
    so.added = 7;
    rc = shmipc_server_open(name, &so.cur, &srv);
    ok(rc == SHMIPC_EINVAL && detail_has("newer libshmipc"),
       "one that sets a field this library does not know: SHMIPC_EINVAL, which says so");
    if (rc == 0)
        shmipc_server_close(srv);
}

static void test_garbage(void)
{
    static const size_t bad[] = {0, 3, sizeof(size_t), sizeof(shmipc_server_opts) + 1,
                                 (size_t)0xdeadbeef};
    const char *name = uname_("garbage");
    shmipc_server_opts so;
    shmipc_client_opts co;
    shmipc_session *s = NULL;
    shmipc_server *srv = NULL;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc;
        shmipc_server_opts_init(&so);
        so.size = bad[i];
        rc = shmipc_server_open(name, &so, &srv);
        ok(rc == SHMIPC_EINVAL && detail_has("shmipc_server_opts.size is"),
           "shmipc_server_opts.size %zu: SHMIPC_EINVAL, the detail says so", bad[i]);
        if (rc == 0)
            shmipc_server_close(srv);
    }
    shmipc_client_opts_init(&co);
    co.size = 0;
    ok(shmipc_connect(name, "viewer", &co, &s) == SHMIPC_EINVAL &&
           detail_has("shmipc_client_opts.size is 0"),
       "shmipc_client_opts.size 0: SHMIPC_EINVAL, the detail says so");
}

int main(void)
{
    use_private_socket_dir();
    test_init();
    test_null();
    test_older();
    test_newer();
    test_garbage();
    ok(socket_dir_leftovers() == 0, "nothing left in the socket directory");
    ok(shm_leftovers() == 0, "nothing left in the shm directory");
    return done_testing();
}

/* helper_dlopen — a module that tests/test_dlopen loads with dlopen() after start-up: it
 * links libshmipc (shared), so libshmipc and its built-in jemalloc arrive in a running
 * process, as in Python's import or a plugin. helper_dlopen_lend() makes a lend-provider
 * server and session pair in this process and lends an object across it. */
#include "session_util.h"

int helper_dlopen_lend(const char *name, char *why, size_t why_len);

/* 0 if a lend arena's object crossed a lend session, else the SHMIPC_E* code with why set
 * (SHMIPC_ENOTSUP: a build without jemalloc). */
int helper_dlopen_lend(const char *name, char *why, size_t why_len)
{
    shmipc_server_opts opts;
    shmipc_server *srv = NULL;
    shmipc_session *s = NULL, *c = NULL;
    shmipc_obj *o = NULL, *got = NULL;
    char buf[16];
    size_t len;
    int rc;

    shmipc_server_opts_init(&opts);
    opts.provider = SHMIPC_PROVIDER_LEND;
    if ((rc = shmipc_server_open(name, &opts, &srv)) != 0 ||
        (rc = open_pair(srv, name, &s, &c)) != 0 ||
        (rc = shmipc_obj_new(shmipc_session_arena(s), 1 << 16, &o)) != 0)
        goto out;
    memset(shmipc_obj_ptr(o), 0x5a, 1 << 16);
    if ((rc = shmipc_send(s, "lent", 4, o)) != 0 ||
        (rc = shmipc_recv(c, buf, sizeof buf, &len, &got, 5000)) != 0)
        goto out;
    if (!got || ((unsigned char *)shmipc_obj_ptr(got))[4321] != 0x5a || len != 4)
        rc = SHMIPC_EPROTO;
out:
    snprintf(why, why_len, "%s (%s)", shmipc_strerror(rc), shmipc_error_detail());
    if (got)
        shmipc_obj_unref(got);
    if (o)
        shmipc_obj_unref(o);
    if (c)
        shmipc_session_close(c);
    if (s)
        shmipc_session_close(s);
    if (srv)
        shmipc_server_close(srv);
    return rc;
}

/* helper_owner — the owner side of the cross-language crash tests: it lends objects to one
 * client (in any language), waits until the client is gone however it went (a clean close
 * or kill -9), and says whether every byte came back.
 *
 *   helper_owner NAME shared|lend COUNT SIZE
 *
 * Serves one client of the server NAME: lends it COUNT objects of SIZE bytes, each with the
 * message "have", alternately from the session and the app arena, and prints "lent COUNT";
 * then receives until the client is gone and prints the arenas' use against the baseline
 * taken before lending. Exit status: 0 both arenas back to baseline and consistent, 1 not,
 * 3 could not serve, 77 the provider is not supported by this build.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <shmipc.h>

static int fail(const char *what, int rc)
{
    fprintf(stderr, "helper_owner: %s: %s (%s)\n", what, shmipc_strerror(rc),
            shmipc_error_detail());
    return rc == SHMIPC_ENOTSUP ? 77 : 3;
}

static size_t used(shmipc_arena *a)
{
    struct shmipc_arena_stats st;
    return shmipc_arena_stats(a, &st) == 0 ? st.used : 0;
}

/* Lend count objects of size bytes; 0 or an error code. */
static int lend_all(shmipc_session *s, long count, size_t size)
{
    for (long i = 0; i < count; i++) {
        shmipc_arena *a = i % 2 ? shmipc_app_arena(s) : shmipc_session_arena(s);
        shmipc_obj *o;
        int rc = shmipc_obj_new(a, size, &o);
        if (rc != 0)
            return rc;
        memset(shmipc_obj_ptr(o), (int)i, size);
        rc = shmipc_send(s, "have", 4, o);
        shmipc_obj_unref(o); /* the loan keeps it */
        if (rc != 0)
            return rc;
    }
    return 0;
}

int main(int argc, char **argv)
{
    shmipc_server_opts so;
    shmipc_server *srv;
    shmipc_session *s;
    size_t size, base_s, base_a, len;
    long count;
    char msg[64];
    int rc, back;

    if (argc != 5 || (strcmp(argv[2], "shared") != 0 && strcmp(argv[2], "lend") != 0) ||
        (count = atol(argv[3])) <= 0 || (size = strtoul(argv[4], NULL, 10)) == 0) {
        fprintf(stderr, "usage: helper_owner NAME shared|lend COUNT SIZE\n");
        return 3;
    }
    shmipc_server_opts_init(&so);
    so.provider = strcmp(argv[2], "lend") == 0 ? SHMIPC_PROVIDER_LEND : SHMIPC_PROVIDER_SHARED;
    so.session_arena_size = so.app_arena_size = (size_t)count * size + ((size_t)4 << 20);
    if ((rc = shmipc_server_open(argv[1], &so, &srv)) != 0)
        return fail("server_open", rc);
    printf("listening %s\n", argv[1]);
    fflush(stdout);
    if ((rc = shmipc_server_accept(srv, 30000, &s)) != 0)
        return fail("accept", rc);
    base_s = used(shmipc_session_arena(s));
    base_a = used(shmipc_app_arena(s));
    if ((rc = lend_all(s, count, size)) != 0)
        return fail("lending", rc);
    printf("lent %ld\n", count);
    fflush(stdout);
    while ((rc = shmipc_recv(s, msg, sizeof msg, &len, NULL, 60000)) == 0)
        ;
    if (rc != SHMIPC_ECLOSED)
        return fail("waiting for the client to go", rc);
    back = used(shmipc_session_arena(s)) == base_s && used(shmipc_app_arena(s)) == base_a &&
           shmipc_arena_check(shmipc_session_arena(s)) == 0 &&
           shmipc_arena_check(shmipc_app_arena(s)) == 0;
    printf("client gone: session arena %zu bytes used (baseline %zu), app arena %zu (baseline "
           "%zu): %s\n",
           used(shmipc_session_arena(s)), base_s, used(shmipc_app_arena(s)), base_a,
           back ? "back to baseline" : "LEAKED");
    shmipc_session_close(s);
    shmipc_server_close(srv);
    return back ? 0 : 1;
}

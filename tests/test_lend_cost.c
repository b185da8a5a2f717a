/* test_lend_cost — what a lend-provider session costs its server (issue 14), in bytes, not
 * time: an idle session takes at most 256 KiB of the server's RSS and maps no data pool
 * before its first object; lend arenas made and
 * closed leave no memory behind;
 * client lifetimes, some SIGKILLed while they hold loans of the app arena, leave the
 * server holding no more mappings or descriptors than before them. */
#include "session_util.h"

#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

#include "lend.h"

#define IDLE 32
#define LIFETIMES 12

static char name[64];

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/smaps_rollup", "r");
    char line[256];
    long kb = -1, v;

    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "Rss: %ld", &v) == 1)
            kb = v;
    if (f)
        fclose(f);
    return kb;
}

/* Mappings of memfds (pools, tables, control segments) in this process. */
static int memfd_maps(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    int n = 0;

    while (f && fgets(line, sizeof line, f))
        n += strstr(line, "/memfd:") != NULL;
    if (f)
        fclose(f);
    return n;
}

static int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;

    while (d && (e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

static shmipc_server *lend_server(void)
{
    shmipc_server_opts o;
    shmipc_server *srv = NULL;

    shmipc_server_opts_init(&o);
    o.provider = SHMIPC_PROVIDER_LEND;
    is_rc(shmipc_server_open(name, &o, &srv), 0, "a lend server");
    return srv;
}

static shmipc_session *connect_app(const char *app)
{
    shmipc_client_opts o;
    shmipc_session *s = NULL;

    shmipc_client_opts_init(&o);
    if (shmipc_connect(name, app, &o, &s) != 0)
        _exit(3);
    return s;
}

/* A child that holds n sessions of app until the pipe *hold reaches EOF. */
static pid_t holder(const char *app, int n, int *hold)
{
    int p[2];
    pid_t pid;

    if (pipe(p) != 0)
        return -1;
    if ((pid = fork()) == 0) {
        char c;
        close(p[1]);
        for (int i = 0; i < n; i++)
            connect_app(app);
        _exit(read(p[0], &c, 1) == 0 ? 0 : 4);
    }
    close(p[0]);
    *hold = p[1];
    return pid;
}

/* An idle session's arena has no data pool (jemalloc's arena and its first pool come with
 * the first object): its figures say 0 bytes, and its first object maps one pool. */
static void first_object_maps_the_pool(shmipc_session *s)
{
    shmipc_arena *a = shmipc_session_arena(s);
    struct shmipc_arena_stats st;
    shmipc_obj *o = NULL;
    int maps = memfd_maps(), rc;

    rc = shmipc_arena_stats(a, &st);
    ok(rc == 0 && st.capacity == 0,
       "an idle lend session's arena has no data pool yet "
       "(capacity %zu)",
       st.capacity);
    rc = shmipc_obj_new(a, 100, &o);
    ok(rc == 0 && memfd_maps() == maps + 1,
       "its first object maps its first pool (%d memfd mappings, %d before)", memfd_maps(),
       maps);
    rc = shmipc_arena_stats(a, &st);
    ok(rc == 0 && st.capacity > 0 && st.allocations == 1,
       "and the figures count the pool (capacity %zu) and the object", st.capacity);
    shmipc_obj_unref(o);
}

static void idle_sessions(void)
{
    shmipc_server *srv = lend_server();
    shmipc_session *s[IDLE];
    int hold = -1, st, n = 0, maps = 0;
    long first = 0, all;
    pid_t pid = holder("idle", IDLE, &hold);

    for (; n < IDLE && shmipc_server_accept(srv, 5000, &s[n]) == 0; n++)
        if (n == 0) {
            first = rss_kb(); /* the app arena is made with the first session */
            maps = memfd_maps();
        }
    all = rss_kb();
    maps = memfd_maps() - maps;
    ok(n == IDLE, "%d idle lend sessions accepted (%d)", IDLE, n);
    ok(n > 1 && maps == 3 * (n - 1),
       "an idle lend session maps 3 memfds in its server: its control segment, its refcount "
       "table, the client's table (%d for %d sessions)",
       maps, n - 1);
    first_object_maps_the_pool(s[0]);
    diag("server RSS: %ld KiB with 1 session, %ld KiB with %d: %ld KiB per session", first, all,
         n, n > 1 ? (all - first) / (n - 1) : 0);
    if (UNDER_SANITIZER) /* their shadow memory grows the RSS with every mapping */
        skip("an idle lend session's RSS: not measurable under the sanitizers");
    else
        ok(n > 1 && (all - first) / (n - 1) <= 256,
           "an idle lend session takes at most 256 KiB of the server's RSS");
    close(hold);
    waitpid(pid, &st, 0);
    for (int i = 0; i < n; i++)
        shmipc_session_close(s[i]);
    shmipc_server_close(srv);
}

/* One client lifetime: the server lends an object of the app arena and one of the session
 * arena; the client keeps both and is SIGKILLed (kill), or lets them go and closes. The
 * server takes messages until the session ends, then closes it. */
static int lifetime(shmipc_server *srv, int kill_it)
{
    shmipc_session *s;
    shmipc_obj *o;
    char buf[16];
    size_t len;
    int st, rc;
    pid_t pid = fork();

    if (pid == 0) {
        shmipc_session *c = connect_app("churn");
        shmipc_obj *a, *b;
        if (shmipc_recv(c, buf, sizeof buf, &len, &a, 5000) != 0 ||
            shmipc_recv(c, buf, sizeof buf, &len, &b, 5000) != 0)
            _exit(5);
        if (kill_it)
            raise(SIGKILL);
        shmipc_obj_unref(a);
        shmipc_obj_unref(b);
        shmipc_session_close(c);
        _exit(0);
    }
    if ((rc = shmipc_server_accept(srv, 5000, &s)) != 0)
        return rc;
    for (int k = 0; k < 2 && rc == 0; k++) {
        shmipc_arena *a = k ? shmipc_session_arena(s) : shmipc_app_arena(s);
        if ((rc = shmipc_obj_new(a, 100, &o)) == 0) {
            rc = shmipc_send(s, "obj", 3, o);
            shmipc_obj_unref(o);
        }
    }
    while (shmipc_recv(s, buf, sizeof buf, &len, NULL, 5000) == 0)
        continue; /* until the peer has gone */
    shmipc_session_close(s);
    waitpid(pid, &st, 0);
    return rc == 0 && WIFSIGNALED(st) == kill_it ? 0 : SHMIPC_EPROTO;
}

static void churn(void)
{
    shmipc_server *srv = lend_server();
    shmipc_session *first = NULL;
    shmipc_obj *o = NULL;
    int maps, fds, failed = 0, hold = -1, st;
    pid_t pid = holder("churn", 1, &hold);

    /* A session of the app that stays, and an object of its app arena: the app arena and
     * its pool are there before the lifetimes, and after them. */
    is_rc(shmipc_server_accept(srv, 5000, &first), 0, "a first session of the app");
    is_rc(shmipc_obj_new(shmipc_app_arena(first), 100, &o), 0, "an object of its app arena");
    maps = memfd_maps();
    fds = open_fds();
    for (int i = 0; i < LIFETIMES; i++)
        failed += lifetime(srv, i % 3 == 2) != 0;
    ok(failed == 0, "%d client lifetimes, 1 in 3 SIGKILLed holding loans (%d failed)",
       LIFETIMES, failed);
    ok(memfd_maps() == maps,
       "the server maps no more memfds than before the lifetimes "
       "(control segments, tables, pools of gone sessions): %d, then %d",
       maps, memfd_maps());
    ok(open_fds() == fds,
       "the server holds no more descriptors than before the lifetimes "
       "(the gone peers' pidfds): %d, then %d",
       fds, open_fds());
    shmipc_obj_unref(o);
    close(hold);
    waitpid(pid, &st, 0);
    shmipc_session_close(first);
    shmipc_server_close(srv);
}

/* Lend arenas made, used and closed (what each lend session does on both sides) leave
 * nothing behind: no RSS grows with their number. */
static void arena_lifetimes(void)
{
    long before = 0;
    int failed = 0;

    for (int i = 0; i < 600; i++) {
        shmipc_arena *a;
        shmipc_obj *o;
        if (i == 100)
            before = rss_kb(); /* after the first ones: jemalloc's own start-up is done */
        if (shmipc__lend_arena_create(1 << 20, &a) != 0) {
            failed++;
            continue;
        }
        if (shmipc_obj_new(a, 100, &o) == 0)
            shmipc_obj_unref(o);
        else
            failed++;
        shmipc_arena_close(a);
    }
    ok(failed == 0, "600 lend arenas made, used and closed");
    diag("RSS: %ld KiB after 100, %ld KiB after 600", before, rss_kb());
    if (UNDER_SANITIZER) /* ASan's quarantine and shadow grow the RSS by themselves */
        skip("the RSS of 500 more arena lifetimes: not measurable under the sanitizers");
    else
        ok(rss_kb() - before < 256,
           "500 more arena lifetimes grow the RSS by less than 256 KiB");
}

#define FIRST_THREADS 4

static pthread_barrier_t first_start;

static void *first_objects(void *arg)
{
    shmipc_obj *o[8] = {0};
    intptr_t failed = 0;

    pthread_barrier_wait(&first_start);
    for (int i = 0; i < 8; i++)
        failed += shmipc_obj_new(arg, 64 << i, &o[i]) != 0;
    for (int i = 0; i < 8; i++)
        if (o[i])
            shmipc_obj_unref(o[i]);
    return (void *)failed;
}

/* Threads that make the first objects of a fresh lend arena at once make its jemalloc
 * arena once: every object is made, and the arena has one pool. */
static void first_objects_at_once(void)
{
    pthread_t t[FIRST_THREADS];
    shmipc_arena *a;
    intptr_t failed = 0;
    void *r;

    if (shmipc__lend_arena_create(1 << 20, &a) != 0) {
        ok(0, "a lend arena: %s", shmipc_error_detail());
        return;
    }
    pthread_barrier_init(&first_start, NULL, FIRST_THREADS);
    for (int i = 0; i < FIRST_THREADS; i++)
        pthread_create(&t[i], NULL, first_objects, a);
    for (int i = 0; i < FIRST_THREADS; i++) {
        pthread_join(t[i], &r);
        failed += (intptr_t)r;
    }
    pthread_barrier_destroy(&first_start);
    ok(failed == 0 && shmipc__lend_pool_count(a) == 1,
       "%d threads make a fresh lend arena's first objects at once: all made (%d failed), "
       "in one pool (%zu)",
       FIRST_THREADS, (int)failed, shmipc__lend_pool_count(a));
    shmipc_arena_close(a);
}

int main(void)
{
    use_private_socket_dir();
    snprintf(name, sizeof name, "lend-cost-%d", (int)getpid());
    if (shmipc__lend_supported() != 0) {
        printf("1..0 # SKIP no jemalloc: no lend provider\n");
        return 0;
    }
    idle_sessions();
    churn();
    arena_lifetimes();
    first_objects_at_once();
    ok(socket_dir_leftovers() == 0, "nothing left in the socket directory");
    return done_testing();
}

/* Shared containers: every operation of shmipc_vec, shmipc_str, shmipc_map and
 * shmipc_mutex; random operations against a reference model; nesting; two processes on one
 * named container; writers killed (SIGKILL) while updating under the mutex, the container
 * consistent afterwards; corrupt container bytes never lead a read outside the arena. */
#include <stdint.h>
#include <sys/mman.h>
#include <time.h>

#include "tap.h"

#define MiB ((size_t)1 << 20)

static shmipc_arena *arena;
static char *lo_bound, *hi_bound; /* the arena's memory */

static int inside(const void *p, size_t len)
{
    return (const char *)p >= lo_bound && len <= (size_t)(hi_bound - (const char *)p);
}

/* In a forked child: a handle of its own on the same arena (an inherited one refuses every
 * call), and the address of the named allocation `name` in its mapping. */
static void *child_handle(const char *name)
{
    shmipc_pool *p;
    void *at;
    if (shmipc_pool_from_fd(shmipc_pool_fd(shmipc_arena_pool(arena)), 0, &p) != 0 ||
        shmipc_arena_attach(p, &arena) != 0 || shmipc_named_find(arena, name, &at, NULL) != 0)
        _exit(9);
    return at;
}

static void *named(const char *name, size_t size)
{
    void *p = NULL;
    SETUP(shmipc_named_alloc(arena, name, size, &p) >= 0, name);
    return p;
}

static void test_vec(void)
{
    size_t used = stats_of(arena).used;
    shmipc_vec *v = named("vec", sizeof *v);
    shmipc_vec local;

    is_rc(shmipc_vec_init(arena, &local, 8, 0), SHMIPC_EINVAL, "a header outside the arena");
    is_rc(shmipc_vec_init(arena, v, 0, 0), SHMIPC_EINVAL, "elem_size 0");
    is_rc(shmipc_vec_init(arena, v, sizeof(uint64_t), 0), 0, "init");
    ok(shmipc_vec_len(v) == 0 && shmipc_vec_at(v, 0) == NULL, "empty");
    int good = 1;
    for (uint64_t i = 0; i < 1000; i++)
        good &= shmipc_vec_push(arena, v, &i) == 0;
    ok(good && shmipc_vec_len(v) == 1000, "1000 pushes");
    for (uint64_t i = 0; i < 1000; i++)
        good &= *(uint64_t *)shmipc_vec_at(v, i) == i;
    ok(good, "each element in place");
    ok(shmipc_vec_at(v, 1000) == NULL, "at(len) is NULL");
    ok((char *)shmipc_vec_at(v, 1) - (char *)shmipc_vec_at(v, 0) == 8, "contiguous");
    shmipc_vec *moved = named("moved", sizeof *moved);
    memcpy(moved, v, sizeof *v);
    uint64_t one = 1;
    is_rc(shmipc_vec_push(arena, moved, &one), SHMIPC_ECORRUPT, "a moved header: refused");
    shmipc_named_free(arena, "moved");
    is_rc(shmipc_vec_reserve(arena, v, 5000), 0, "reserve");
    ok(v->cap >= 5000 && shmipc_vec_len(v) == 1000 && *(uint64_t *)shmipc_vec_at(v, 999) == 999,
       "reserve keeps the elements");
    is_rc(shmipc_vec_push(arena, v, NULL), SHMIPC_EINVAL, "push NULL");
    is_rc(shmipc_vec_pop(v), 0, "pop");
    ok(shmipc_vec_len(v) == 999 && shmipc_vec_at(v, 999) == NULL, "one fewer");
    shmipc_vec_clear(v);
    ok(shmipc_vec_len(v) == 0 && v->cap >= 5000, "clear keeps the memory");
    shmipc_vec_free(arena, v);
    ok(shmipc_vec_len(v) == 0 && v->data == 0, "free");
    is_rc(shmipc_vec_pop(v), SHMIPC_ENOENT, "pop when empty: ENOENT");
    uint64_t x = 7;
    is_rc(shmipc_vec_push(arena, v, &x), 0, "usable after free");
    shmipc_vec_free(arena, v);
    shmipc_named_free(arena, "vec");
    ok(stats_of(arena).used == used, "memory back to baseline");
}

static void test_str(void)
{
    size_t used = stats_of(arena).used;
    shmipc_str *s = named("str", sizeof *s);

    memset(s, 0, sizeof *s);
    ok(shmipc_str_len(s) == 0 && strcmp(shmipc_str_ptr(s), "") == 0, "zeroed is empty");
    is_rc(shmipc_str_set(arena, s, "hello", 5), 0, "set");
    ok(shmipc_str_len(s) == 5 && strcmp(shmipc_str_ptr(s), "hello") == 0, "read back");
    size_t n = 0;
    ok(strcmp(shmipc_str_data(s, &n), "hello") == 0 && n == 5, "data: bytes and length");
    is_rc(shmipc_str_set(arena, s, "a\0b", 3), 0, "set bytes with a NUL");
    ok(shmipc_str_len(s) == 3 && memcmp(shmipc_str_ptr(s), "a\0b", 4) == 0, "bytes kept");
    is_rc(shmipc_str_set(arena, s, NULL, 0), 0, "set empty");
    ok(shmipc_str_len(s) == 0, "empty");
    is_rc(shmipc_str_set(arena, s, NULL, 2), SHMIPC_EINVAL, "NULL bytes");
    shmipc_str_free(arena, s);
    ok(shmipc_str_len(s) == 0 && s->data == 0, "free");
    shmipc_named_free(arena, "str");
    ok(stats_of(arena).used == used, "memory back to baseline");
}

static void test_map(void)
{
    size_t used = stats_of(arena).used;
    shmipc_map *m = named("map", sizeof *m);
    uint64_t v = 1, *got;
    char key[32];

    is_rc(shmipc_map_init(arena, m, 0, 0), SHMIPC_EINVAL, "value_size 0");
    is_rc(shmipc_map_init(arena, m, sizeof v, 4), 0, "init");
    is_rc(shmipc_map_get(m, "a", 1, (void **)&got), SHMIPC_ENOENT, "get: ENOENT");
    is_rc(shmipc_map_put(arena, m, "a", 1, &v), 0, "put");
    is_rc(shmipc_map_get(m, "a", 1, (void **)&got), 0, "get");
    ok(*got == 1 && inside(got, 8), "value in place");
    v = 2;
    is_rc(shmipc_map_put(arena, m, "a", 1, &v), 0, "replace");
    shmipc_map_get(m, "a", 1, (void **)&got);
    ok(*got == 2 && shmipc_map_len(m) == 1, "replaced, one entry");
    is_rc(shmipc_map_put(arena, m, "", 0, &v), 0, "an empty key");
    is_rc(shmipc_map_get(m, "", 0, (void **)&got), 0, "found");
    int good = 1;
    for (uint64_t i = 0; i < 10000; i++) {
        int n = snprintf(key, sizeof key, "key-%llu", (unsigned long long)i);
        good &= shmipc_map_put(arena, m, key, (size_t)n, &i) == 0;
    }
    ok(good && shmipc_map_len(m) == 10002, "10000 puts (growing by rehash)");
    for (uint64_t i = 0; i < 10000; i++) {
        int n = snprintf(key, sizeof key, "key-%llu", (unsigned long long)i);
        good &= shmipc_map_get(m, key, (size_t)n, (void **)&got) == 0 && *got == i;
    }
    ok(good, "each found");
    for (uint64_t i = 0; i < 10000; i += 2) {
        int n = snprintf(key, sizeof key, "key-%llu", (unsigned long long)i);
        good &= shmipc_map_del(arena, m, key, (size_t)n) == 0;
    }
    ok(good && shmipc_map_len(m) == 5002, "half deleted");
    is_rc(shmipc_map_del(arena, m, "key-0", 5), SHMIPC_ENOENT, "delete again: ENOENT");
    is_rc(shmipc_map_get(m, "key-0", 5, (void **)&got), SHMIPC_ENOENT, "deleted not found");
    is_rc(shmipc_map_get(m, "key-1", 5, (void **)&got), 0, "kept found");
    size_t pos = 0, n = 0, klen;
    const void *k;
    while (shmipc_map_next(m, &pos, &k, &klen, (void **)&got) == 0)
        n++;
    ok(n == 5002, "iteration visits every entry (%zu)", n);
    is_rc(shmipc_map_repair(arena, m), 0, "repair");
    ok(shmipc_map_len(m) == 5002, "repair keeps the count");
    shmipc_map_free(arena, m);
    ok(shmipc_map_len(m) == 0, "free: empty");
    is_rc(shmipc_map_get(m, "key-1", 5, (void **)&got), SHMIPC_ENOENT, "freed: ENOENT");
    pos = 0;
    is_rc(shmipc_map_next(m, &pos, NULL, NULL, NULL), SHMIPC_ENOENT, "freed: no entries");
    is_rc(shmipc_map_put(arena, m, "b", 1, &v), 0, "usable after free");
    shmipc_map_free(arena, m);
    shmipc_named_free(arena, "map");
    ok(stats_of(arena).used == used, "memory back to baseline");
    is_rc(shmipc_arena_check(arena), 0, "arena consistent");
}

/* Random operations against a model: keys 0..K-1 as decimal strings. */
#define K 300
static void test_model(void)
{
    shmipc_map *m = named("model", sizeof *m);
    shmipc_vec *v = named("model-v", sizeof *v);
    uint64_t val[K], *got, list[4096];
    int present[K] = {0}, good = 1;
    size_t count = 0, nlist = 0;
    char key[16];

    rnd_seed(19);
    shmipc_map_init(arena, m, 8, 0);
    shmipc_vec_init(arena, v, 8, 0);
    for (int op = 0; op < 20000 && good; op++) {
        uint64_t r = rnd(), k = r % K;
        int n = snprintf(key, sizeof key, "%llu", (unsigned long long)k);
        switch ((r >> 20) % 5) {
        case 0:
        case 1:
            val[k] = rnd();
            good &= shmipc_map_put(arena, m, key, (size_t)n, &val[k]) == 0;
            count += !present[k];
            present[k] = 1;
            break;
        case 2:
            good &= shmipc_map_del(arena, m, key, (size_t)n) ==
                    (present[k] ? 0 : SHMIPC_ENOENT);
            count -= present[k];
            present[k] = 0;
            break;
        case 3: {
            int rc = shmipc_map_get(m, key, (size_t)n, (void **)&got);
            good &= present[k] ? rc == 0 && *got == val[k] : rc == SHMIPC_ENOENT;
            break;
        }
        default:
            if (nlist < 4096 && (r >> 40) % 8) {
                list[nlist++] = r;
                good &= shmipc_vec_push(arena, v, &r) == 0;
            } else {
                nlist = 0;
                shmipc_vec_clear(v);
            }
        }
        good &= shmipc_map_len(m) == count && shmipc_vec_len(v) == nlist;
    }
    for (size_t i = 0; i < nlist; i++)
        good &= *(uint64_t *)shmipc_vec_at(v, i) == list[i];
    ok(good, "20000 random operations agree with the model");
    shmipc_map_free(arena, m);
    shmipc_vec_free(arena, v);
    shmipc_named_free(arena, "model");
    shmipc_named_free(arena, "model-v");
}

static void test_nested(void)
{
    size_t used = stats_of(arena).used;
    shmipc_map *m = named("nest", sizeof *m);
    shmipc_vec *strs = named("strs", sizeof *strs);
    shmipc_vec zero = {0}, *in;
    shmipc_str empty = {0};
    int good = 1;

    shmipc_map_init(arena, m, sizeof(shmipc_vec), 0);
    for (uint64_t k = 0; k < 50; k++) {
        good &= shmipc_map_put(arena, m, &k, sizeof k, &zero) == 0;
        good &= shmipc_map_get(m, &k, sizeof k, (void **)&in) == 0;
        good &= shmipc_vec_init(arena, in, 8, 0) == 0;
        for (uint64_t i = 0; i <= k; i++)
            good &= shmipc_vec_push(arena, in, &i) == 0;
    }
    for (uint64_t k = 0; k < 50; k++) {
        good &= shmipc_map_get(m, &k, sizeof k, (void **)&in) == 0;
        good &= shmipc_vec_len(in) == k + 1 && *(uint64_t *)shmipc_vec_at(in, k) == k;
    }
    ok(good, "a map whose values are vectors");
    /* Elements move when a vector grows, and a header must not move: reserve first. */
    shmipc_vec_init(arena, strs, sizeof(shmipc_str), 100);
    for (int i = 0; i < 100; i++) {
        char b[16];
        int n = snprintf(b, sizeof b, "s%d", i);
        good &= shmipc_vec_push(arena, strs, &empty) == 0;
        good &= shmipc_str_set(arena, shmipc_vec_at(strs, (size_t)i), b, (size_t)n) == 0;
    }
    good &= strcmp(shmipc_str_ptr(shmipc_vec_at(strs, 42)), "s42") == 0;
    ok(good, "a vector of strings");
    for (size_t i = 0; i < 100; i++)
        shmipc_str_free(arena, shmipc_vec_at(strs, i));
    shmipc_vec_free(arena, strs);
    for (uint64_t k = 0; k < 50; k++)
        if (shmipc_map_get(m, &k, sizeof k, (void **)&in) == 0)
            shmipc_vec_free(arena, in);
    shmipc_map_free(arena, m);
    shmipc_named_free(arena, "nest");
    shmipc_named_free(arena, "strs");
    ok(stats_of(arena).used == used, "nested: memory back to baseline");
}

/* ---- the mutex ---- */

static int hold_and_die(void *arg)
{
    shmipc_mutex_lock(arg);
    _exit(0); /* dies holding the lock */
}

static int try_briefly(void *arg)
{
    return shmipc_mutex_timedlock(arg, 50) == SHMIPC_ETIMEDOUT ? 0 : 1;
}

static void test_mutex(void)
{
    shmipc_mutex *mx = named("mutex", sizeof *mx);
    shmipc_mutex uninit;

    memset(&uninit, 0, sizeof uninit);
    is_rc(shmipc_mutex_lock(&uninit), SHMIPC_EINVAL, "not initialised");
    is_rc(shmipc_mutex_init(mx), 0, "init");
    is_rc(shmipc_mutex_lock(mx), 0, "lock");
    ok(run_child(try_briefly, mx) == 0, "another process times out while it is held");
    is_rc(shmipc_mutex_unlock(mx), 0, "unlock");
    is_rc(shmipc_mutex_timedlock(mx, 0), 0, "trylock when free");
    is_rc(shmipc_mutex_unlock(mx), 0, "unlock");
    is_rc(shmipc_mutex_unlock(mx), SHMIPC_EPERM, "unlock when not held: EPERM");
    run_child(hold_and_die, mx);
    is_rc(shmipc_mutex_timedlock(mx, 1000), SHMIPC_EOWNERDEAD,
          "its holder died: EOWNERDEAD, to the next locker");
    ok(strstr(shmipc_strerror(SHMIPC_EOWNERDEAD), "died") != NULL, "strerror: %s",
       shmipc_strerror(SHMIPC_EOWNERDEAD));
    is_rc(shmipc_mutex_unlock(mx), 0, "the new holder unlocks");
    is_rc(shmipc_mutex_lock(mx), 0, "usable again");
    shmipc_mutex_unlock(mx);

    /* Memory this process maps read-only. */
    long pg = sysconf(_SC_PAGESIZE);
    shmipc_mutex *ro = mmap(NULL, (size_t)pg, PROT_READ | PROT_WRITE,
                            MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (SETUP(ro != MAP_FAILED, "mmap")) {
        shmipc_mutex_init(ro);
        mprotect(ro, (size_t)pg, PROT_READ);
        is_rc(shmipc_mutex_lock(ro), SHMIPC_EPERM, "read-only memory: EPERM, no fault");
        ok(strstr(shmipc_error_detail(), "read-only") != NULL, "detail: %s",
           shmipc_error_detail());
        is_rc(shmipc_mutex_init(ro), SHMIPC_EPERM, "init there: EPERM");
        munmap(ro, (size_t)pg);
    }
    shmipc_named_free(arena, "mutex");
}

/* ---- writers killed mid-update ---- */

struct shared {
    shmipc_mutex mx;
    shmipc_map map; /* "w<writer>-<n>" -> n */
    shmipc_vec log; /* n | writer << 32, pushed after each put */
    shmipc_str last;
};

/* In a child: keep updating under the lock; with stop != 0, stop mid-update holding it. */
static void writer(uint64_t id, int stop, int ready_fd)
{
    struct shared *sh = child_handle("shared");
    char key[32];
    for (uint64_t n = 0;; n++) {
        int rc = shmipc_mutex_lock(&sh->mx);
        if (rc == SHMIPC_EOWNERDEAD)
            shmipc_map_repair(arena, &sh->map);
        else if (rc)
            _exit(2);
        int len = snprintf(key, sizeof key, "w%llu-%llu", (unsigned long long)id,
                           (unsigned long long)n);
        uint64_t rec = n | id << 32;
        if (shmipc_map_put(arena, &sh->map, key, (size_t)len, &n))
            _exit(3);
        if (stop && n == 100) {
            if (write(ready_fd, "x", 1) != 1)
                _exit(4);
            for (;;)
                pause();
        }
        shmipc_vec_push(arena, &sh->log, &rec);
        shmipc_str_set(arena, &sh->last, key, (size_t)len);
        shmipc_mutex_unlock(&sh->mx);
        if (n == 3000 && !stop)
            _exit(0);
    }
}

/* What a consistent container holds: every log record's key in the map with its n, each
 * map entry well formed, the counts right after repair, the arena consistent. Each of the
 * `killed` writers may have put one key it did not log. */
static int consistent(struct shared *sh, size_t killed)
{
    char key[32];
    uint64_t *got;
    size_t logged = shmipc_vec_len(&sh->log);
    for (size_t i = 0; i < logged; i++) {
        uint64_t rec = *(uint64_t *)shmipc_vec_at(&sh->log, i);
        int len = snprintf(key, sizeof key, "w%llu-%llu", (unsigned long long)(rec >> 32),
                           (unsigned long long)(rec & 0xffffffffu));
        if (shmipc_map_get(&sh->map, key, (size_t)len, (void **)&got) != 0 ||
            *got != (rec & 0xffffffffu)) {
            diag("log record %zu (%s) not in the map", i, key);
            return 0;
        }
    }
    size_t pos = 0, klen, n = 0;
    const void *k;
    while (shmipc_map_next(&sh->map, &pos, &k, &klen, (void **)&got) == 0)
        n++;
    int rc = shmipc_map_repair(arena, &sh->map);
    if (rc || n != shmipc_map_len(&sh->map) || n < logged || n > logged + killed) {
        diag("repair %d; %zu entries, len %zu, %zu logged", rc, n, shmipc_map_len(&sh->map),
             logged);
        return 0;
    }
    if (shmipc_str_len(&sh->last) >= 32 || (rc = shmipc_arena_check(arena)) != 0) {
        diag("string of %zu bytes; arena check %d (%s)", shmipc_str_len(&sh->last), rc,
             shmipc_error_detail());
        return 0;
    }
    return 1;
}

static void test_killed_writers(void)
{
    struct shared *sh = named("shared", sizeof *sh);
    int fds[2];

    shmipc_mutex_init(&sh->mx);
    shmipc_map_init(arena, &sh->map, 8, 0);
    shmipc_vec_init(arena, &sh->log, 8, 0);
    memset(&sh->last, 0, sizeof sh->last);
    if (!SETUP(pipe(fds) == 0, "pipe"))
        return;
    pid_t a = fork();
    if (a == 0)
        writer(1, 1, fds[1]);
    char c;
    ok(read(fds[0], &c, 1) == 1, "writer 1 stops mid-update, holding the lock");
    /* Writer 2 starts only now, so that it waits for the lock writer 1 holds (started
     * before, it could finish its 3000 updates first, and the death be ours to see). */
    pid_t b = fork();
    if (b == 0)
        writer(2, 0, -1);
    kill(a, SIGKILL);
    ok(wait_exit(a) == 128 + SIGKILL, "writer 1 killed (SIGKILL)");
    ok(wait_exit(b) == 0, "writer 2 went on: EOWNERDEAD, repair, 3000 more updates");
    is_rc(shmipc_mutex_lock(&sh->mx), 0, "the lock is usable");
    ok(consistent(sh, 1), "consistent: the killed update either done or not");
    uint64_t *got;
    ok(shmipc_map_get(&sh->map, "w1-100", 6, (void **)&got) == 0 && *got == 100,
       "the killed writer's last put is whole");
    shmipc_mutex_unlock(&sh->mx);

    /* Kills at random moments, inside the library's own updates too. */
    int good = 1;
    for (int round = 0; round < 20; round++) {
        pid_t w = fork();
        if (w == 0)
            writer(10 + (uint64_t)round, 0, -1);
        struct timespec ts = {0, (long)(rnd() % 5000000)};
        nanosleep(&ts, NULL);
        kill(w, SIGKILL);
        wait_exit(w);
        int rc = shmipc_mutex_lock(&sh->mx);
        good &= rc == 0 || rc == SHMIPC_EOWNERDEAD;
        good &= consistent(sh, 2 + (size_t)round);
        shmipc_mutex_unlock(&sh->mx);
    }
    ok(good, "20 writers killed at random moments: consistent after each");
    close(fds[0]);
    close(fds[1]);
    shmipc_map_free(arena, &sh->map);
    shmipc_vec_free(arena, &sh->log);
    shmipc_str_free(arena, &sh->last);
    shmipc_named_free(arena, "shared");
}

/* ---- a second process on a named container ---- */

static int child_reads(void *arg)
{
    (void)arg;
    shmipc_map *m = child_handle("index");
    uint64_t *got, v = 99;
    if (shmipc_map_get(m, "parent", 6, (void **)&got) != 0 || *got != 42)
        return 2;
    return shmipc_map_put(arena, m, "child", 5, &v) == 0 ? 0 : 3;
}

static void test_two_processes(void)
{
    shmipc_map *m = named("index", sizeof *m);
    uint64_t v = 42, *got;

    shmipc_map_init(arena, m, 8, 0);
    shmipc_map_put(arena, m, "parent", 6, &v);
    ok(run_child(child_reads, NULL) == 0, "another process finds it by name, reads, writes");
    ok(shmipc_map_get(m, "child", 5, (void **)&got) == 0 && *got == 99, "its write seen");
    shmipc_map_free(arena, m);
    shmipc_named_free(arena, "index");
}

/* ---- corrupt bytes ---- */

static void scribble(void *p, size_t len)
{
    unsigned char *b = p;
    for (int i = 0; i < 4; i++)
        b[rnd() % len] = (unsigned char)rnd();
    if (rnd() % 4 == 0)
        ((uint64_t *)p)[rnd() % (len / 8)] = rnd();
}

static void test_corrupt(void)
{
    shmipc_map *m = named("bad", sizeof *m);
    shmipc_vec *v = named("bad-v", sizeof *v);
    shmipc_str *s = named("bad-s", sizeof *s);
    int good = 1;

    rnd_seed(7);
    for (int round = 0; round < 300; round++) {
        shmipc_map_init(arena, m, 8, 0);
        shmipc_vec_init(arena, v, 8, 0);
        memset(s, 0, sizeof *s);
        shmipc_str_set(arena, s, "abcdef", 6);
        for (uint64_t i = 0; i < 40; i++) {
            shmipc_map_put(arena, m, &i, sizeof i, &i);
            shmipc_vec_push(arena, v, &i);
        }
        /* A peer writes random bytes into headers (all but the extent words, which a
         * reader without the arena trusts) and into the table's slots. */
        uint64_t *t = (uint64_t *)((char *)m + m->table);
        scribble(t, 16 + 16 * 64); /* 40 entries: a table of 64 slots */
        scribble(m, offsetof(shmipc_map, lo));
        scribble(v, offsetof(shmipc_vec, lo));
        scribble(s, offsetof(shmipc_str, lo));
        void *val;
        const void *k;
        size_t klen, pos = 0;
        for (uint64_t i = 0; i < 50; i++)
            if (shmipc_map_get(m, &i, sizeof i, &val) == 0)
                good &= inside(val, m->value_size);
        for (int n = 0; n < 100 && shmipc_map_next(m, &pos, &k, &klen, &val) == 0; n++)
            good &= inside(val, m->value_size) && inside(k, klen);
        for (size_t i = 0; i < shmipc_vec_len(v); i++)
            good &= inside(shmipc_vec_at(v, i), v->elem_size);
        good &= inside(shmipc_str_ptr(s), shmipc_str_len(s) + 1) || shmipc_str_len(s) == 0;
    } /* each round leaks its containers: the arena goes with the test */
    ok(good, "300 corrupted containers: every read stayed inside the arena");
}

int main(void)
{
    shmipc_pool *p;

    if (!SETUP(shmipc_pool_create(NULL, 64 * MiB, 0, &p) == 0 &&
                   shmipc_arena_create(p, &arena) == 0,
               "arena"))
        return done_testing();
    lo_bound = shmipc_pool_base(p);
    hi_bound = lo_bound + shmipc_pool_size(p);
    test_vec();
    test_str();
    test_map();
    test_model();
    test_nested();
    test_mutex();
    test_two_processes();
    test_killed_writers();
    test_corrupt();
    shmipc_arena_close(arena);
    ok(shm_leftovers() == 0, "nothing left in the shm directory");
    return done_testing();
}

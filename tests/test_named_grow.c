/* The name directory grows and shrinks with its names (issue 14): an incremental rehash
 * inside the arena, under its robust lock.
 *
 * 1. 20k names: every one found with its bytes, a lookup compares ~1.5 entries (the
 *    directory's shape through the inspect API), deletes work, the directory shrinks.
 * 2. Crash injection: a child is killed at every store of the operations that start, carry
 *    on and finish a grow, then a shrink. The next locker must find exactly the names of
 *    before the interrupted operation, with their bytes, and go on to the same end state.
 * 3. Real kills: children inserting names non-stop are SIGKILLed at random moments, over
 *    many resizes; every name a child finished is there with its bytes, no other is.
 * 4. Two processes insert 10k names each at once, across resizes, each looking up its
 *    earlier names as it goes: none is ever missing. */
#include <stdint.h>
#include <sys/mman.h>
#include <time.h>

#include "internal.h"
#include "shmipc/inspect.h"
#include "kill_util.h"
#include "tap.h"

#define MiB ((size_t)1 << 20)

/* ---- names, their sizes and bytes -------------------------------------------------- */

static void name_of(char *buf, size_t cap, const char *prefix, int i)
{
    snprintf(buf, cap, "%s-%d", prefix, i);
}

static size_t size_of(int i)
{
    return 8 + (size_t)i % 57;
}

static void fill(unsigned char *p, int i)
{
    for (size_t k = 0; k < size_of(i); k++)
        p[k] = (unsigned char)(i * 7 + k);
}

/* 1 if the name exists with its size and bytes. */
static int intact(shmipc_arena *a, const char *prefix, int i)
{
    char name[64];
    unsigned char *p;
    size_t size = 0;

    name_of(name, sizeof name, prefix, i);
    if (shmipc_named_find(a, name, (void **)&p, &size) != 0 || size != size_of(i))
        return 0;
    for (size_t k = 0; k < size; k++)
        if (p[k] != (unsigned char)(i * 7 + k))
            return 0;
    return 1;
}

static int absent(shmipc_arena *a, const char *prefix, int i)
{
    char name[64];
    void *p;

    name_of(name, sizeof name, prefix, i);
    return shmipc_named_find(a, name, &p, NULL) == SHMIPC_ENOENT;
}

static int create(shmipc_arena *a, const char *prefix, int i)
{
    char name[64];
    void *p;

    name_of(name, sizeof name, prefix, i);
    if (shmipc_named_alloc(a, name, size_of(i), &p) != 1)
        return 0;
    fill(p, i);
    return 1;
}

static int drop(shmipc_arena *a, const char *prefix, int i)
{
    char name[64];

    name_of(name, sizeof name, prefix, i);
    return shmipc_named_free(a, name) == 0;
}

/* What the inspect API reads of a's directory (as `shmipc stat` does). */
struct shape {
    uint64_t buckets, probes;
    size_t names;
    int twins; /* a name listed twice */
};

static struct shape shape_of(shmipc_arena *a)
{
    struct shape s = {0, 0, 0, 0};
    struct shmipc_inspect_arena *ai;
    shmipc_pool *p;

    if (shmipc_pool_from_fd(shmipc_pool_fd(shmipc_arena_pool(a)), 0, &p) != 0 ||
        shmipc__inspect_arena(p, 0, NULL, &ai) != 0)
        return s;
    s.buckets = ai->dir_buckets;
    s.probes = ai->dir_probes;
    s.names = ai->nnames;
    for (size_t i = 1; i < ai->nnames; i++)
        s.twins |= strcmp(ai->names[i - 1].name, ai->names[i].name) == 0;
    shmipc__inspect_arena_free(ai);
    return s;
}

static double mean_probes(struct shape s)
{
    return s.names ? (double)s.probes / (double)s.names : 0;
}

/* ---- 1. many names ------------------------------------------------------------------- */

static void test_many(void)
{
    enum {
        N = 20000
    };
    shmipc_pool *p;
    shmipc_arena *a;
    struct shmipc_arena_stats base;
    struct shape s;
    int created = 0, found = 0, gone = 0, kept = 0, freed = 0;

    shmipc_pool_create(NULL, 16 * MiB, 0, &p);
    shmipc_arena_create(p, &a);
    base = stats_of(a);
    s = shape_of(a);
    diag("empty: %llu buckets", (unsigned long long)s.buckets);
    for (int i = 0; i < N; i++)
        created += create(a, "item", i);
    ok(created == N && stats_of(a).named == N, "%d names created", created);
    for (int i = 0; i < N; i++)
        found += intact(a, "item", i);
    ok(found == N, "every name found with its size and bytes (%d/%d)", found, N);
    is_rc(shmipc_arena_check(a), 0, "arena and directory consistent");
    s = shape_of(a);
    ok(s.names == N && !s.twins, "the inspect API lists %zu names, none twice", s.names);
    ok(s.buckets >= N / 2, "the directory grew to %llu buckets", (unsigned long long)s.buckets);
    ok(mean_probes(s) <= 2.0, "a lookup compares %.2f entries on average (at most 2)",
       mean_probes(s));
    for (int i = 0; i < N; i += 2)
        freed += drop(a, "item", i);
    for (int i = 0; i < N; i++) {
        kept += i % 2 && intact(a, "item", i);
        gone += i % 2 == 0 && absent(a, "item", i);
    }
    ok(freed == N / 2 && gone == N / 2 && kept == N / 2,
       "half deleted: %d gone, the other %d intact", gone, kept);
    for (int i = 1; i < N; i += 2)
        freed += drop(a, "item", i);
    s = shape_of(a);
    ok(freed == N && stats_of(a).named == 0 && s.names == 0, "all deleted");
    ok(s.buckets == 64, "the directory shrank back to %llu buckets",
       (unsigned long long)s.buckets);
    ok(stats_of(a).used == base.used, "memory back to the baseline (%zu vs %zu)",
       stats_of(a).used, base.used);
    is_rc(shmipc_arena_check(a), 0, "arena consistent");
    shmipc_arena_close(a);
}

/* ---- 2. crash injection across a resize ---------------------------------------------- */

#define G 300 /* the script creates names 0..G-1, then frees them last first */
#define OPS (2 * G)

static int script_op(shmipc_arena *a, int i)
{
    return i < G ? create(a, "s", i) : drop(a, "s", OPS - 1 - i);
}

/* Name j is live after the first s operations. */
static int live_after(int j, int s)
{
    return j < s && j < OPS - s;
}

struct progress {
    volatile int step;
    struct shmipc_arena_stats after[OPS + 1]; /* reference: after the first i operations */
    uint64_t buckets[OPS + 1];                /* and the directory's buckets (both arrays) */
};

static shmipc_arena *script_arena(struct progress *pr, int ops)
{
    shmipc_pool *p;
    shmipc_arena *a;

    shmipc_pool_create(NULL, MiB, 0, &p);
    shmipc_arena_create(p, &a);
    for (int i = 0; i < ops; i++)
        script_op(a, i);
    if (pr) {
        pr->after[0] = stats_of(a);
        pr->buckets[0] = shape_of(a).buckets;
        for (int i = 0; i < OPS; i++) {
            script_op(a, i);
            pr->after[i + 1] = stats_of(a);
            pr->buckets[i + 1] = shape_of(a).buckets;
        }
    }
    return a;
}

static int same_counters(const struct shmipc_arena_stats *x, const struct shmipc_arena_stats *y)
{
    return x->used == y->used && x->allocations == y->allocations && x->named == y->named &&
           x->largest_free == y->largest_free;
}

/* The names after the first s operations, and only they, with their bytes. */
static int names_as_after(shmipc_arena *a, int s)
{
    for (int j = 0; j < G; j++)
        if (live_after(j, s) ? !intact(a, "s", j) : !absent(a, "s", j))
            return 0;
    return 1;
}

/* The first resize (a grow, or a shrink) of the reference run: the operations
 * [*start, *end) that start, carry on and finish it. 0 if there is none. */
static int find_resize(const struct progress *pr, int grow, int *start, int *end)
{
    for (int i = 1; i <= OPS; i++) {
        uint64_t before = pr->buckets[i - 1], next = pr->buckets[i] - before;
        if (pr->buckets[i] <= before || (next > before) != grow)
            continue; /* operation i - 1 did not start a resize of that kind */
        *start = i - 1;
        for (*end = i; *end <= OPS && pr->buckets[*end] != next; ++*end)
            ;
        return *end <= OPS;
    }
    return 0;
}

/* Kill a child at every store of operations [start, end); check each death. */
static void crash_window(struct progress *pr, int start, int end, const char *what)
{
    int deaths = 0, consistent = 0, atomic = 0, names = 0, recovered = 0, same_end = 0;
    long k;

    for (k = 1; k < 100000; k++) {
        shmipc_arena *a = script_arena(NULL, start);
        struct shmipc_arena_stats s;
        int status, ops_ok = 1;
        pid_t pid = fork();

        if (pid == 0) {
            shmipc_arena *mine = own_handle(a);
            if (!mine)
                _exit(1);
            shmipc__crash_countdown = k;
            for (int i = start; i < end; i++) {
                pr->step = i;
                script_op(mine, i);
            }
            _exit(0);
        }
        waitpid(pid, &status, 0);
        if (!WIFSIGNALED(status)) {
            shmipc_arena_close(a);
            break;
        }
        deaths++;
        consistent += shmipc_arena_check(a) == 0;
        s = stats_of(a);
        atomic += same_counters(&s, &pr->after[pr->step]);
        recovered += s.lock_recoveries == 1;
        names += names_as_after(a, pr->step) && !shape_of(a).twins;
        /* the interrupted operation again, and the rest: the same end as the reference */
        for (int i = pr->step; i < end; i++)
            ops_ok &= script_op(a, i);
        s = stats_of(a);
        same_end += ops_ok && same_counters(&s, &pr->after[end]) &&
                    shape_of(a).buckets == pr->buckets[end] && names_as_after(a, end) &&
                    shmipc_arena_check(a) == 0;
        shmipc_arena_close(a);
    }
    ok(deaths > 10 * (end - start), "%s: the child was killed at each of its %d stores", what,
       deaths);
    ok(consistent == deaths, "%s: arena consistent after every kill (%d/%d)", what, consistent,
       deaths);
    ok(atomic == deaths && recovered == deaths,
       "%s: each interrupted operation rolled back whole by one recovery (%d, %d of %d)", what,
       atomic, recovered, deaths);
    ok(names == deaths,
       "%s: exactly the names of before it, each once, with their bytes "
       "(%d/%d)",
       what, names, deaths);
    ok(same_end == deaths,
       "%s: the same operations then end where the reference does "
       "(%d/%d)",
       what, same_end, deaths);
}

static void test_crash_injection(void)
{
    struct progress *pr = mmap(NULL, sizeof *pr, PROT_READ | PROT_WRITE,
                               MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    int start = 0, end = 0;

    shmipc_arena_close(script_arena(pr, 0));
    for (int grow = 1; grow >= 0; grow--) {
        const char *what = grow ? "grow" : "shrink";
        if (!ok(find_resize(pr, grow, &start, &end), "the script has a %s", what))
            continue;
        diag("%s: operations %d..%d, %llu -> %llu buckets", what, start, end - 1,
             (unsigned long long)pr->buckets[start], (unsigned long long)pr->buckets[end]);
        crash_window(pr, start, end, what);
    }
    munmap(pr, sizeof *pr);
}

/* ---- 3. real kills ------------------------------------------------------------------- */

#define KILLS 30
#define PER_CHILD 1500

struct board {
    volatile int done[KILLS]; /* names child c finished (created and filled) */
};

static int inserter(const char *arena_name, struct board *b, int c)
{
    char prefix[16];
    shmipc_arena *a;

    if (shmipc_arena_open(arena_name, 32 * MiB, SHMIPC_SCOPE_NODE, &a) != 0)
        return 10;
    snprintf(prefix, sizeof prefix, "k%d", c);
    for (int j = 0; j < PER_CHILD; j++) {
        if (!create(a, prefix, j))
            return 11;
        b->done[c] = j + 1;
    }
    return 0;
}

static void test_real_kills(void)
{
    struct board *b = mmap(NULL, sizeof *b, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                           -1, 0);
    const char *name = uname_("grow-kill");
    shmipc_arena *a;
    int bad_exits = 0, lost = 0, extra = 0, total = 0;
    char prefix[16];
    struct shape s;

    is_rc(shmipc_arena_open(name, 32 * MiB, SHMIPC_SCOPE_NODE, &a), 0, "arena");
    srand((unsigned)getpid());
    for (int c = 0; c < KILLS; c++) {
        struct timespec pause = {0, 200000 + rand() % 3000000};
        int status;
        pid_t pid = fork();

        if (pid == 0)
            _exit(inserter(name, b, c));
        nanosleep(&pause, NULL);
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        bad_exits += WIFEXITED(status) && WEXITSTATUS(status) != 0;
        /* the name being made when it died may have been committed, not yet filled */
        snprintf(prefix, sizeof prefix, "k%d", c);
        if (b->done[c] < PER_CHILD && !absent(a, prefix, b->done[c]))
            drop(a, prefix, b->done[c]);
        total += b->done[c];
    }
    for (int c = 0; c < KILLS; c++) {
        snprintf(prefix, sizeof prefix, "k%d", c);
        for (int j = 0; j < b->done[c]; j++)
            lost += !intact(a, prefix, j);
        for (int j = b->done[c]; j < PER_CHILD; j++)
            extra += !absent(a, prefix, j);
    }
    ok(bad_exits == 0, "no child found its arena broken");
    /* (children under the sanitizers run ~10x slower, so they make fewer names before
     * their kill; the directory's growth along them is checked below either way) */
    ok(total > (UNDER_SANITIZER ? 500 : 5000), "%d names made by %d children killed at random",
       total, KILLS);
    ok(lost == 0 && extra == 0,
       "every finished name there with its bytes (%d lost), no "
       "other (%d)",
       lost, extra);
    ok(stats_of(a).named == (size_t)total, "the directory counts exactly those");
    diag("%llu kills landed inside the lock", (unsigned long long)stats_of(a).lock_recoveries);
    is_rc(shmipc_arena_check(a), 0, "arena consistent after all kills");
    s = shape_of(a);
    ok(s.names == (size_t)total && !s.twins && mean_probes(s) <= 2.0,
       "listed once each; the directory grew along (%llu buckets, %.2f entries a lookup)",
       (unsigned long long)s.buckets, mean_probes(s));
    shmipc_arena_close(a);
    shmipc_arena_unlink(name);
    munmap(b, sizeof *b);
}

/* ---- 4. two writers ------------------------------------------------------------------ */

#define EACH 10000

/* Insert EACH names; after each, look one of the earlier ones up. */
static int writer(const char *arena_name, const char *prefix, int go)
{
    shmipc_arena *a;
    char c;

    if (shmipc_arena_open(arena_name, 32 * MiB, SHMIPC_SCOPE_NODE, &a) != 0)
        return 10;
    if (read(go, &c, 1) != 1)
        return 11;
    rnd_seed((uint64_t)getpid());
    for (int j = 0; j < EACH; j++) {
        if (!create(a, prefix, j))
            return 12;
        if (!intact(a, prefix, (int)(rnd() % (uint64_t)(j + 1))))
            return 13;
    }
    return 0;
}

static void test_two_writers(void)
{
    const char *name = uname_("grow-two");
    const char *prefix[2] = {"left", "right"};
    shmipc_arena *a;
    pid_t pid[2];
    int go[2], ok_exit = 0, found = 0;
    struct shape s;

    is_rc(shmipc_arena_open(name, 32 * MiB, SHMIPC_SCOPE_NODE, &a), 0, "arena");
    if (!SETUP(pipe(go) == 0, "pipe"))
        return;
    for (int w = 0; w < 2; w++)
        if ((pid[w] = fork()) == 0)
            _exit(writer(name, prefix[w], go[0]));
    close(go[0]);
    if (write(go[1], "gg", 2) != 2)
        diag("could not start the writers");
    close(go[1]);
    for (int w = 0; w < 2; w++) {
        int rc = wait_exit(pid[w]);
        ok_exit += rc == 0;
        if (rc != 0)
            diag("writer %s exited %d", prefix[w], rc);
    }
    ok(ok_exit == 2, "both writers made all their names and never missed an earlier one");
    for (int w = 0; w < 2; w++)
        for (int j = 0; j < EACH; j++)
            found += intact(a, prefix[w], j);
    ok(found == 2 * EACH && stats_of(a).named == 2 * EACH,
       "all %d names there with their bytes (%d found)", 2 * EACH, found);
    is_rc(shmipc_arena_check(a), 0, "arena consistent");
    s = shape_of(a);
    ok(s.names == 2 * EACH && !s.twins && mean_probes(s) <= 2.0,
       "listed once each; %llu buckets, %.2f entries a lookup", (unsigned long long)s.buckets,
       mean_probes(s));
    shmipc_arena_close(a);
    shmipc_arena_unlink(name);
}

int main(void)
{
    test_many();
    test_crash_injection();
    test_real_kills();
    test_two_writers();
    ok(shm_leftovers() == 0, "nothing left in the shm directory");
    return done_testing();
}

/* Processes killed with SIGKILL while they hold the arena's lock.
 *
 * 1. Crash injection: a child runs a fixed script of allocator operations and is killed at
 *    its k-th store (k = 1, 2, ... until the script completes), i.e. at every point where
 *    it holds the lock with the state half-changed. The next locker must roll the
 *    interrupted operation back: the arena is consistent and its counters equal exactly
 *    those after the last completed operation (measured by a reference run).
 * 2. Real kills: processes allocate and free non-stop; random ones get SIGKILL at random
 *    moments, many times over; the survivors keep working and the arena stays sound. */
#include <stdint.h>
#include <sys/mman.h>
#include <time.h>

#include "internal.h"
#include "helper_arena.h"
#include "kill_util.h"
#include "tap.h"

#define MiB ((size_t)1 << 20)
#define STEPS 10

struct progress {
    volatile int step;                          /* the step the child is in */
    struct shmipc_arena_stats after[STEPS + 1]; /* reference: stats after each step */
};

/* The script: allocations, frees, named allocations, splits and merges. */
static void run_script(shmipc_arena *a, struct progress *pr, int record)
{
    void *x = NULL, *y = NULL, *z = NULL, *n = NULL;

    for (int step = 0; step < STEPS; step++) {
        pr->step = step;
        switch (step) {
        case 0: x = shmipc_alloc(a, 100); break;
        case 1: y = shmipc_alloc(a, 3000); break;
        case 2: shmipc_free(a, x); break;
        case 3: shmipc_named_alloc(a, "n1", 500, &n); break;
        case 4: z = shmipc_alloc(a, 20000); break;
        case 5: shmipc_free(a, y); break;
        case 6: shmipc_named_alloc(a, "n1", 500, &n); break;
        case 7: shmipc_named_free(a, "n1"); break;
        case 8: shmipc_named_free(a, "n1"); break;
        case 9: shmipc_free(a, z); break;
        }
        if (record)
            pr->after[step + 1] = stats_of(a);
    }
    pr->step = STEPS;
}

/* A fresh arena holding a few blocks of the parent's, with known contents. */
static shmipc_arena *fresh_arena(unsigned char **keep)
{
    shmipc_pool *p;
    shmipc_arena *a;

    shmipc_pool_create(NULL, MiB, 0, &p);
    shmipc_arena_create(p, &a);
    for (int i = 0; i < 3; i++) {
        keep[i] = shmipc_alloc(a, 700);
        memset(keep[i], 0x30 + i, 700);
    }
    return a;
}

static int keep_intact(unsigned char **keep)
{
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 700; j++)
            if (keep[i][j] != 0x30 + i)
                return 0;
    return 1;
}

static int same_counters(const struct shmipc_arena_stats *x, const struct shmipc_arena_stats *y)
{
    return x->used == y->used && x->allocations == y->allocations && x->named == y->named &&
           x->largest_free == y->largest_free;
}

static void test_crash_injection(void)
{
    struct progress *pr = mmap(NULL, sizeof *pr, PROT_READ | PROT_WRITE,
                               MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    unsigned char *keep[3];
    shmipc_arena *a = fresh_arena(keep);
    int deaths = 0, consistent = 0, atomic = 0, recovered = 0, intact = 0, usable = 0;
    long k;

    pr->after[0] = stats_of(a);
    run_script(a, pr, 1);
    shmipc_arena_close(a);

    for (k = 1; k < 5000; k++) {
        struct shmipc_arena_stats s;
        pid_t pid;
        int status;
        void *v;

        a = fresh_arena(keep);
        pid = fork();
        if (pid == 0) {
            shmipc_arena *mine = own_handle(a);
            if (!mine)
                _exit(1);
            shmipc__crash_countdown = k;
            run_script(mine, pr, 0);
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
        if (!same_counters(&s, &pr->after[pr->step]))
            diag("k=%ld step %d: used %zu allocs %zu named %zu, expected %zu %zu %zu", k,
                 pr->step, s.used, s.allocations, s.named, pr->after[pr->step].used,
                 pr->after[pr->step].allocations, pr->after[pr->step].named);
        recovered += s.lock_recoveries == 1;
        intact += keep_intact(keep);
        v = shmipc_alloc(a, 1000);
        shmipc_free(a, v);
        usable += v != NULL && shmipc_arena_check(a) == 0;
        shmipc_arena_close(a);
    }
    ok(deaths > 100, "the script was killed at each of its %d stores", deaths);
    ok(consistent == deaths, "arena consistent after every kill (%d/%d)", consistent, deaths);
    ok(atomic == deaths, "every interrupted operation was rolled back whole (%d/%d)", atomic,
       deaths);
    ok(recovered == deaths, "each kill was one lock recovery (%d/%d)", recovered, deaths);
    ok(intact == deaths, "the parent's blocks were never touched (%d/%d)", intact, deaths);
    ok(usable == deaths, "the arena keeps serving after every kill (%d/%d)", usable, deaths);
    munmap(pr, sizeof *pr);
}

/* Start a spinner and return once it is allocating in full swing. */
static pid_t spawn_spinner(const char *name, int seed)
{
    char seed_s[16], ready;
    char *args[] = {"helper_arena", "spin", (char *)name, seed_s, NULL};
    int out;
    pid_t pid;

    snprintf(seed_s, sizeof seed_s, "%d", seed);
    pid = spawn("helper_arena", args, &out);
    if (pid > 0 && read(out, &ready, 1) != 1)
        diag("spinner %d did not start", seed);
    if (pid > 0)
        close(out);
    return pid;
}

static void test_random_kills(void)
{
    enum {
        KILLS = 200
    };
    const char *name = uname_("kill");
    shmipc_arena *a;
    pid_t survivor, victim;
    int status, bad_exits = 0, kills = 0;
    struct shmipc_arena_stats s;
    struct timespec pause;

    is_rc(shmipc_arena_open(name, HELPER_ARENA_SIZE, SHMIPC_SCOPE_NODE, &a), 0, "arena");
    survivor = spawn_spinner(name, 1000);
    srand((unsigned)getpid());
    for (int i = 0; i < KILLS; i++) {
        victim = spawn_spinner(name, i + 1);
        pause.tv_sec = 0;
        pause.tv_nsec = rand() % 2000000; /* 0..2 ms into its loop */
        nanosleep(&pause, NULL);
        kill(victim, SIGKILL);
        waitpid(victim, &status, 0);
        kills += WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
        bad_exits += WIFEXITED(status); /* exited by itself: it found corruption */
    }
    ok(kills == KILLS && bad_exits == 0, "%d processes killed mid-work (%d exited early)",
       kills, bad_exits);
    ok(waitpid(survivor, &status, WNOHANG) == 0, "the long-running peer survived them all");
    kill(survivor, SIGKILL);
    waitpid(survivor, &status, 0);
    s = stats_of(a);
    ok(s.lock_recoveries > 0, "kills landed inside the lock: %llu recoveries",
       (unsigned long long)s.lock_recoveries);
    diag("%d kills, %llu of them while holding the lock", kills,
         (unsigned long long)s.lock_recoveries);
    is_rc(shmipc_arena_check(a), 0, "arena consistent after all kills");
    ok(shmipc_alloc(a, 4096) != NULL, "and allocates");
    shmipc_arena_close(a);
    shmipc_arena_unlink(name);
}

int main(void)
{
    test_crash_injection();
    test_random_kills();
    ok(shm_leftovers() == 0, "nothing left in the shm directory");
    return done_testing();
}

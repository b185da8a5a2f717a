/* Several real processes on one shared arena: concurrent allocs/frees that verify each
 * other's data, the find-or-create race on an arena's name, and a creator that dies in the
 * middle of creating an arena. */
#include <dirent.h>
#include <inttypes.h>
#include <stdint.h>
#include <time.h>

#include "internal.h"
#include "helper_arena.h"
#include "tap.h"

/* Verify and free the blocks helper SEED left on its board. Returns how many were intact,
 * or -1 if the board is missing. */
static int collect_board(shmipc_arena *a, unsigned seed, int *count)
{
    struct board_entry *board;
    char bname[32];
    int good = 0;

    snprintf(bname, sizeof bname, "board-%u", seed);
    if (shmipc_named_find(a, bname, (void **)&board, NULL) != 0)
        return -1;
    *count = 0;
    for (int i = 0; i < 64 && board[i].len; i++) {
        unsigned char *p = shmipc_arena_from_poolrel(a, board[i].where);
        good += p && helper_intact(p, board[i].len, seed, (unsigned)board[i].slot);
        shmipc_free(a, p);
        ++*count;
    }
    shmipc_named_free(a, bname);
    return good;
}

static void test_hammer(void)
{
    enum {
        PROCS = 4
    };
    const char *name = uname_("hammer");
    char seed_s[PROCS][16];
    pid_t pids[PROCS];
    shmipc_arena *a;
    struct shmipc_arena_stats base, after;
    int failures = 0, intact = 0, total = 0;

    is_rc(shmipc_arena_open(name, HELPER_ARENA_SIZE, SHMIPC_SCOPE_NODE, &a), 0, "arena");
    base = stats_of(a);
    for (int i = 0; i < PROCS; i++) {
        snprintf(seed_s[i], sizeof seed_s[i], "%d", i + 1);
        char *args[] = {"helper_arena", "hammer", (char *)name, seed_s[i],
                        "100000",       "16",     NULL};
        pids[i] = spawn("helper_arena", args, NULL);
    }
    for (int i = 0; i < PROCS; i++) {
        int code = wait_exit(pids[i]);
        if (code != 0)
            diag("helper %d exited with %d", i + 1, code);
        failures += code != 0;
    }
    ok(failures == 0,
       "%d processes allocated and freed concurrently; none saw its data "
       "overwritten",
       PROCS);
    for (unsigned i = 1; i <= PROCS; i++) {
        int count = 0, good = collect_board(a, i, &count);
        intact += good == count;
        total += count;
    }
    ok(intact == PROCS && total == PROCS * 16,
       "the parent verified and freed the %d blocks the helpers left (%d boards intact)", total,
       intact);
    after = stats_of(a);
    ok(after.used == base.used && after.allocations == base.allocations,
       "used back to baseline (%zu vs %zu)", after.used, base.used);
    is_rc(shmipc_arena_check(a), 0, "arena consistent");
    shmipc_arena_close(a);
    shmipc_arena_unlink(name);
}

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* ROUNDS times, PROCS processes open the same new arena name at the same instant. */
static void test_open_race(void)
{
    enum {
        ROUNDS = 15,
        PROCS = 6
    };
    int same_arena = 0, one_creator = 0, clean_exit = 0;

    for (int round = 0; round < ROUNDS; round++) {
        char name[64], start[32], line[64];
        int fds[PROCS], creators = 0, exits = 0;
        uint64_t ids[PROCS] = {0};
        pid_t pids[PROCS];

        snprintf(name, sizeof name, "%s%d", uname_("race"), round);
        snprintf(start, sizeof start, "%" PRIu64, now_ns() + 30 * 1000000u);
        for (int i = 0; i < PROCS; i++) {
            char *args[] = {"helper_arena", "race", name, start, NULL};
            pids[i] = spawn("helper_arena", args, &fds[i]);
        }
        for (int i = 0; i < PROCS; i++) {
            FILE *f = fdopen(fds[i], "r");
            int created = 0;
            if (f && fgets(line, sizeof line, f) &&
                sscanf(line, "%" SCNx64 " %d", &ids[i], &created) == 2)
                creators += created;
            if (f)
                fclose(f);
            exits += wait_exit(pids[i]) == 0;
        }
        same_arena += ids[0] != 0 && ids[0] == ids[1] && ids[1] == ids[2] && ids[2] == ids[3] &&
                      ids[3] == ids[4] && ids[4] == ids[5];
        one_creator += creators == 1;
        clean_exit += exits == PROCS;
        shmipc_arena_unlink(name);
    }
    ok(clean_exit == ROUNDS, "every racer finished (%d/%d rounds)", clean_exit, ROUNDS);
    ok(same_arena == ROUNDS, "%d processes racing arena_open got one arena (%d/%d rounds)",
       PROCS, same_arena, ROUNDS);
    ok(one_creator == ROUNDS, "exactly one created the named allocation (%d/%d rounds)",
       one_creator, ROUNDS);
}

/* Remove the temporary files a killed creator left; returns how many there were. */
static int remove_tmp_of(pid_t pid)
{
    char prefix[64], path[4096];
    const char *dir = getenv("SHMIPC_SHM_DIR") ? getenv("SHMIPC_SHM_DIR") : "/dev/shm";
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    snprintf(prefix, sizeof prefix, ".shmipc.%u.tmp.%d.", (unsigned)getuid(), (int)pid);
    while (d && (e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            n += unlink(path) == 0;
        }
    }
    if (d)
        closedir(d);
    return n;
}

static int create_and_die(void *name)
{
    shmipc_arena *a;
    return shmipc_arena_open(name, 1 << 20, SHMIPC_SCOPE_NODE, &a) == 0 ? 0 : 1;
}

/* A creator killed at every store of its creation leaves no half-made arena under the name:
 * the next opener creates a fresh one at once. */
static void test_creator_dies(void)
{
    const char *name = uname_("dies");
    int deaths = 0, clean_names = 0, reopened = 0, tmp_found = 0;
    long k;

    for (k = 1; k < 400; k++) {
        shmipc_pool *p;
        shmipc_arena *a;
        pid_t pid = fork();
        int status;

        if (pid == 0) {
            shmipc__crash_countdown = k;
            _exit(create_and_die((void *)name));
        }
        waitpid(pid, &status, 0);
        if (!WIFSIGNALED(status))
            break; /* k is past the last store: creation completed */
        deaths++;
        clean_names += shmipc_pool_open(name, 0, &p) == SHMIPC_ENOENT;
        tmp_found += remove_tmp_of(pid);
        if (shmipc_arena_open(name, 1 << 20, SHMIPC_SCOPE_NODE, &a) == 0) {
            reopened += shmipc_arena_check(a) == 0;
            shmipc_arena_close(a);
        }
        shmipc_arena_unlink(name);
    }
    ok(deaths > 10 && k < 400, "creator killed at each of its %d stores", deaths);
    ok(clean_names == deaths, "no half-made arena was ever published (%d/%d)", clean_names,
       deaths);
    ok(reopened == deaths, "the next opener created a sound arena at once (%d/%d)", reopened,
       deaths);
    ok(tmp_found == deaths, "each death left only its temporary file (%d), removed here",
       tmp_found);
    shmipc_arena_unlink(name);
}

int main(void)
{
    test_hammer();
    test_open_race();
    test_creator_dies();
    ok(shm_leftovers() == 0, "nothing left in the shm directory");
    return done_testing();
}

/* replay.c — a libFuzzer harness's corpus replayed without libFuzzer: `make check` runs
 * each harness of tests/fuzz (built with this file as its main, by the project's compiler
 * and flags, under the sanitizers of check-asan and check-tsan too) over its seeds, so that
 * what only a seed covers (a WRAP record at a ring's start, what the fuzzers found) is
 * checked by every build, not only by `make fuzz`.
 *
 * Usage: replay_NAME [DIR|FILE...]; without arguments, $SHMIPC_SRCDIR/tests/fuzz/corpus/NAME
 * (FUZZ_HARNESS is NAME). A TAP producer: one line per input, in the order of the names.
 * An input fails if the harness aborts (its finding), trips a sanitizer (the process ends
 * without the closing plan) or runs longer than REPLAY_SECONDS (a hang: a watchdog thread
 * ends the process; not a signal, which ThreadSanitizer would hold back from a thread
 * spinning in code without calls). */
#include "tap.h"

#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <time.h>

#include "lend.h"

#ifndef FUZZ_HARNESS
#error "FUZZ_HARNESS: the harness's name (its corpus directory)"
#endif
#ifndef FUZZ_NEEDS_LEND
#define FUZZ_NEEDS_LEND 0
#endif

/* As libFuzzer's -timeout in `make fuzz`: far above what any seed takes, even under TSan. */
#define REPLAY_SECONDS 20
#define MAX_INPUTS 4096

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *inputs[MAX_INPUTS];
static size_t n_inputs;
static char hang_line[4200];
static _Atomic int64_t deadline_ms; /* of the input being replayed; 0: none */

static void add_input(const char *path)
{
    if (n_inputs == MAX_INPUTS || !(inputs[n_inputs] = strdup(path))) {
        fprintf(stderr, "replay: too many inputs\n");
        exit(2);
    }
    n_inputs++;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A directory's regular files (sorted), or the file itself. */
static void add_path(const char *path)
{
    char file[4096];
    struct stat st;
    struct dirent *e;
    size_t first = n_inputs;
    DIR *d;

    if (stat(path, &st) != 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        exit(2);
    }
    if (!S_ISDIR(st.st_mode)) {
        add_input(path);
        return;
    }
    if (!(d = opendir(path)))
        exit(2);
    while ((e = readdir(d)) != NULL) {
        snprintf(file, sizeof file, "%s/%s", path, e->d_name);
        if (e->d_name[0] != '.' && stat(file, &st) == 0 && S_ISREG(st.st_mode))
            add_input(file);
    }
    closedir(d);
    qsort(inputs + first, n_inputs - first, sizeof *inputs, by_name);
}

static uint8_t *read_input(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0;

    if (!f)
        return NULL;
    for (;;) {
        if (n == cap && !(buf = realloc(buf, cap = cap ? 2 * cap : 4096)))
            break;
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    *size = n;
    return buf;
}

static int64_t now_ms(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void *watchdog(void *arg)
{
    (void)arg;
    for (;;) {
        int64_t d = atomic_load_explicit(&deadline_ms, memory_order_acquire);
        if (d != 0 && now_ms() > d) {
            ssize_t rc = write(1, hang_line, strlen(hang_line));
            (void)rc;
            _exit(1);
        }
        usleep(100 * 1000);
    }
    return NULL;
}

static void replay(const char *path)
{
    const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    size_t size;
    uint8_t *data = read_input(path, &size);

    if (!SETUP(data != NULL, path))
        return;
    snprintf(hang_line, sizeof hang_line, "not ok %d - fuzz_%s: %s: still running after %d s\n",
             tap_count + 1, FUZZ_HARNESS, name, REPLAY_SECONDS);
    diag("%s (%zu bytes)", path, size); /* named before a crash can end the stream */
    atomic_store_explicit(&deadline_ms, now_ms() + REPLAY_SECONDS * 1000, memory_order_release);
    LLVMFuzzerTestOneInput(data, size);
    atomic_store_explicit(&deadline_ms, 0, memory_order_release);
    ok(1, "fuzz_%s: %s", FUZZ_HARNESS, name);
    free(data);
}

/* The lend provider needs jemalloc: without it, a harness that makes lend sessions cannot
 * set up (and says so by aborting), so it is skipped. */
static int lend_missing(void)
{
    shmipc_arena *probe;
    int rc = FUZZ_NEEDS_LEND ? shmipc__lend_arena_create(1 << 20, &probe) : SHMIPC_EINVAL;

    if (rc == 0)
        shmipc_arena_close(probe);
    return rc == SHMIPC_ENOTSUP;
}

int main(int argc, char **argv)
{
    char dir[4096];
    pthread_t t;

    signal(SIGPIPE, SIG_IGN);
    if (lend_missing()) {
        skip("fuzz_" FUZZ_HARNESS " makes lend-provider sessions: this build has no jemalloc");
        return done_testing();
    }
    for (int i = 1; i < argc; i++)
        add_path(argv[i]);
    if (argc == 1) {
        snprintf(dir, sizeof dir, "%s/tests/fuzz/corpus/%s",
                 getenv("SHMIPC_SRCDIR") ? getenv("SHMIPC_SRCDIR") : ".", FUZZ_HARNESS);
        add_path(dir);
    }
    if (!SETUP(n_inputs > 0, "a corpus with inputs"))
        return done_testing();
    if (!SETUP(pthread_create(&t, NULL, watchdog, NULL) == 0, "the watchdog"))
        return done_testing();
    LLVMFuzzerInitialize(&argc, &argv);
    for (size_t i = 0; i < n_inputs; i++)
        replay(inputs[i]);
    for (size_t i = 0; i < n_inputs; i++)
        free(inputs[i]);
    return done_testing();
}

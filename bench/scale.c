/* bench/scale — how shmipc holds up as things grow (issue 14), with real processes and
 * the public API only, every figure compared with a smaller size of the same run:
 *   loans     live loans 1k -> 1M, both providers: owner CPU per lend/release op
 *   sessions  sessions of one app 1 -> 64 -> 1000, both providers: connect time, server
 *             memory per session, total throughput relative to one session
 *   at-once   1000 client processes connecting at once, both providers
 *   names     named allocations 100 -> 100k: lookup cost
 *   churn     20,000 lend client lifetimes, one in ten SIGKILLed: the server's RSS
 * Each part runs in fresh processes forked from this one. A size that fails is reported with
 * its exact error and the run goes on. Prints a table (goal and ratio in each row) and, with
 * --csv FILE, writes the rows for bench/plot_scale.py. --quick: the short form (make bench);
 * --smoke: the smallest (make check runs it: tests/test_bench_scale.sh); --only
 * PART[,PART...]: just those parts; --provider lend|shared: the parts of that provider only
 * (loans, sessions and at-once for it alone; names is the shared provider's, churn the lend
 * provider's); --sessions N[,N...]: the session counts of the sessions part instead of the
 * form's (up to 3; the first is the others' base); --messages N: the messages of the
 * sessions part at each count, through all its sessions together, instead of the form's
 * (64,000 full, 12,800 short). A benchmark, not a test: it exits non-zero only when it
 * could not run. */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scale.h"

static const struct scale_cfg full = {
    .loans = {1000, 10000, 100000, 1000000},
    .loan_ops = 51200,
    .sessions = {1, 64, 1000},
    .session_ops = 64000,
    .at_once = 1000,
    .names = {100, 1000, 10000, 100000},
    .lookups = 200000,
    .churn = {2000, 10000, 20000},
    .churn_inflight = 4,
};

static const struct scale_cfg quick = {
    .quick = 1,
    .loans = {1000, 10000, 100000},
    .loan_ops = 12800,
    .sessions = {1, 64},
    .session_ops = 12800,
    .at_once = 100,
    .names = {100, 1000, 10000},
    .lookups = 100000,
    .churn = {100, 200, 400},
    .churn_inflight = 4,
};

/* The smallest run that goes through every part (tests/test_bench_scale.sh, a second). */
static const struct scale_cfg smoke = {
    .quick = 1,
    .loans = {1000, 2000},
    .loan_ops = 2560,
    .sessions = {1, 4},
    .session_ops = 1280,
    .at_once = 8,
    .names = {100, 1000},
    .lookups = 10000,
    .churn = {10, 20, 40},
    .churn_inflight = 4,
};

static char socket_dir[64];

/* The servers' sockets go to a directory of this run's, removed at the end. */
static void make_socket_dir(void)
{
    snprintf(socket_dir, sizeof socket_dir, "/tmp/shmipc-scale-XXXXXX");
    if (!mkdtemp(socket_dir)) {
        perror("scale: mkdtemp");
        exit(1);
    }
    setenv("SHMIPC_SOCKET_DIR", socket_dir, 1);
}

static void remove_socket_dir(void)
{
    DIR *d = opendir(socket_dir);
    struct dirent *e;
    char path[sizeof socket_dir + 256];

    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            snprintf(path, sizeof path, "%s/%s", socket_dir, e->d_name);
            unlink(path);
        }
    if (d)
        closedir(d);
    rmdir(socket_dir);
}

/* --sessions N[,N...]: up to 3 positive counts into cfg->sessions; 0, or -1 if malformed. */
static int parse_sessions(const char *arg, struct scale_cfg *cfg)
{
    int k = 0;

    memset(cfg->sessions, 0, sizeof cfg->sessions);
    for (const char *p = arg;; p++) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 1 || v > 1000000 || k == 3 || (*end != ',' && *end != '\0'))
            return -1;
        cfg->sessions[k++] = (int)v;
        if (*(p = end) == '\0')
            return 0;
    }
}

static int wanted(const char *only, const char *part)
{
    size_t n = strlen(part);

    for (const char *p = only; p && *p; p += strcspn(p, ",") + (p[strcspn(p, ",")] != 0))
        if (strncmp(p, part, n) == 0 && (p[n] == ',' || p[n] == '\0'))
            return 1;
    return !only;
}

/* In a child: exits 3 if this build has no lend provider (no jemalloc). */
static int probe_lend(void *arg)
{
    shmipc_server_opts so;
    shmipc_server *srv;
    char name[96];
    int rc;

    (void)arg;
    shmipc_server_opts_init(&so);
    so.provider = SHMIPC_PROVIDER_LEND;
    scale_name(name, sizeof name, "probe", so.provider, 0);
    if ((rc = shmipc_server_open(name, &so, &srv)) == 0)
        shmipc_server_close(srv);
    return rc == SHMIPC_ENOTSUP ? 3 : 0;
}

/* The parts `only` names (all if NULL), for the providers of this build, or for `pick`
 * alone (-1: both): names is the shared provider's part, churn the lend provider's. */
static void run(const struct scale_cfg *cfg, const char *only, int pick)
{
    int have_lend = scale_wait(scale_spawn(probe_lend, NULL)) != 3;
    int providers[2], n = 0;

    if (!have_lend)
        printf("lend provider: not in this build (no jemalloc): its parts are left out\n");
    if (pick != SHMIPC_PROVIDER_LEND)
        providers[n++] = SHMIPC_PROVIDER_SHARED;
    if (pick != SHMIPC_PROVIDER_SHARED && have_lend)
        providers[n++] = SHMIPC_PROVIDER_LEND;
    for (int p = 0; p < n && wanted(only, "loans"); p++)
        scale_loans(cfg, providers[p]);
    for (int p = 0; p < n && wanted(only, "sessions"); p++)
        scale_sessions(cfg, providers[p]);
    for (int p = 0; p < n && wanted(only, "at-once"); p++)
        scale_at_once(cfg, providers[p]);
    if (pick != SHMIPC_PROVIDER_LEND && wanted(only, "names"))
        scale_names(cfg);
    if (pick != SHMIPC_PROVIDER_SHARED && have_lend && wanted(only, "churn"))
        scale_churn(cfg);
}

/* --provider lend|shared: the provider into *pick; 0, or -1 if neither. */
static int parse_provider(const char *arg, int *pick)
{
    if (strcmp(arg, "lend") == 0)
        *pick = SHMIPC_PROVIDER_LEND;
    else if (strcmp(arg, "shared") == 0)
        *pick = SHMIPC_PROVIDER_SHARED;
    else
        return -1;
    return 0;
}

/* --messages N: a positive count into cfg->session_ops; 0, or -1 if malformed. */
static int parse_messages(const char *arg, struct scale_cfg *cfg)
{
    char *end;
    long long v = strtoll(arg, &end, 10);

    if (end == arg || *end != '\0' || v < 1 || v > 1000000000000LL)
        return -1;
    cfg->session_ops = (long)v;
    return 0;
}

int main(int argc, char **argv)
{
    struct scale_cfg cfg = full;
    const char *sessions = NULL, *messages = NULL;
    const char *csv = NULL, *only = NULL;
    int pick = -1;
    double t0 = scale_now_ns();

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            cfg = quick;
        else if (strcmp(argv[i], "--smoke") == 0)
            cfg = smoke;
        else if (strcmp(argv[i], "--csv") == 0 && i + 1 < argc)
            csv = argv[++i];
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
            only = argv[++i];
        else if (strcmp(argv[i], "--sessions") == 0 && i + 1 < argc)
            sessions = argv[++i];
        else if (strcmp(argv[i], "--messages") == 0 && i + 1 < argc)
            messages = argv[++i];
        else if (strcmp(argv[i], "--provider") == 0 && i + 1 < argc) {
            if (parse_provider(argv[++i], &pick) != 0) {
                fprintf(stderr, "%s: --provider wants lend or shared\n", argv[0]);
                return 2;
            }
        } else {
            fprintf(stderr,
                    "usage: %s [--quick | --smoke] [--csv FILE] "
                    "[--only loans,sessions,at-once,names,churn] [--provider lend|shared] "
                    "[--sessions N[,N...]] [--messages N]\n",
                    argv[0]);
            return 2;
        }
    }
    if (sessions && parse_sessions(sessions, &cfg) != 0) {
        fprintf(stderr, "%s: --sessions wants 1 to 3 counts, like 1,64\n", argv[0]);
        return 2;
    }
    if (messages && parse_messages(messages, &cfg) != 0) {
        fprintf(stderr, "%s: --messages wants a count of messages, like 64000\n", argv[0]);
        return 2;
    }
    printf("shmipc %s scale benchmark (%s form; ratios within this run)\n", shmipc_version(),
           cfg.quick ? "short" : "full");
    scale_raise_nofile();
    make_socket_dir();
    run(&cfg, only, pick);
    remove_socket_dir();
    scale_print_table();
    printf("(%.0f s)\n", (scale_now_ns() - t0) / 1e9);
    if (csv && scale_write_csv(csv) != 0) {
        perror(csv);
        return 1;
    }
    return 0;
}

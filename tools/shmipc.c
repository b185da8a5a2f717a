/* shmipc — the command-line tool: list the named arenas, pools and session servers of this
 * user, show one in detail, and remove what dead processes left behind.
 *
 *   shmipc ls [--json]
 *   shmipc stat NAME [--json]
 *   shmipc gc [--dry-run]
 *
 * Exit status: 0 on success, 1 when something failed (or NAME does not exist), 2 on bad
 * usage. Messages go to stderr, prefixed "shmipc: ". See docs/tool.md. */
#include <getopt.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>

#include "tool.h"

static const char usage_text[] =
    "Usage: shmipc COMMAND [OPTION]...\n"
    "Inspect the shared memory of shmipc (named arenas and pools, session servers) of this\n"
    "user, and clean up what dead processes left behind.\n"
    "\n"
    "Commands:\n"
    "  ls [--json]          list named arenas and pools, and session servers, with their\n"
    "                       owner pid, state, size, used, free, mode and users\n"
    "  stat NAME [--json]   one arena or pool (every scope of it) or server in detail:\n"
    "                       figures, endpoints and what each holds; a server's arenas\n"
    "                       and its peers with the objects and bytes they hold\n"
    "  gc [--dry-run]       remove named pools whose creator is dead and that no live\n"
    "                       process uses, temporary files of pools whose creator died,\n"
    "                       and sockets of servers that are gone\n"
    "\n"
    "Options:\n"
    "      --json     print JSON (the shape is documented in docs/tool.md)\n"
    "  -n, --dry-run  print what gc would remove, remove nothing\n"
    "  -h, --help     print this help and exit\n"
    "      --version  print the version of shmipc and exit\n"
    "\n"
    "States: alive (its owner lives), orphaned (its owner is dead, live processes use it),\n"
    "unknown (whether it is in use cannot be told: kept), stale (gc removes it).\n"
    "\n"
    "Environment: SHMIPC_SHM_DIR (default /dev/shm), SHMIPC_SOCKET_DIR (default\n"
    "$XDG_RUNTIME_DIR/shmipc, else /tmp/shmipc-UID).\n"
    "\n"
    "Exit status: 0 on success, 1 if something failed or NAME was not found, 2 on bad usage.\n";

enum {
    OPT_JSON = 1,
    OPT_DRY_RUN = 2,
    OPT_HELP = 4,
    OPT_VERSION = 8
};

struct command {
    const char *name;
    int options;  /* OPT_* it accepts */
    int operands; /* how many it needs */
};

static const struct command commands[] = {
    {"ls", OPT_JSON, 0},
    {"stat", OPT_JSON, 1},
    {"gc", OPT_DRY_RUN, 0},
};

static int bad_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int bad_usage(const char *fmt, ...)
{
    va_list ap;

    fputs("shmipc: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nTry 'shmipc --help' for more information.\n", stderr);
    return 2;
}

static const struct command *find_command(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

/* Parse argv (argv[0] is the command, or the program when there is none): the options
 * `allowed` (OPT_* bits; --help and --version always) and up to `max` operands, which go
 * to args[]. Returns the options seen, or -1 after a usage message. */
static int parse(int argc, char **argv, int allowed, const char **args, int max, int *nargs)
{
    static const struct option longopts[] = {{"json", no_argument, NULL, OPT_JSON},
                                             {"dry-run", no_argument, NULL, OPT_DRY_RUN},
                                             {"help", no_argument, NULL, OPT_HELP},
                                             {"version", no_argument, NULL, OPT_VERSION},
                                             {NULL, 0, NULL, 0}};
    int opts = 0, c;

    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "nh", longopts, NULL)) != -1) {
        int bit = c == 'n' ? OPT_DRY_RUN : c == 'h' ? OPT_HELP : c;
        if (c == '?' || !(bit & (allowed | OPT_HELP | OPT_VERSION))) {
            bad_usage("unrecognized option '%s'", argv[optind - 1]);
            return -1;
        }
        opts |= bit;
    }
    for (*nargs = 0; optind < argc; optind++) {
        if (*nargs == max) {
            bad_usage("unexpected argument '%s'", argv[optind]);
            return -1;
        }
        args[(*nargs)++] = argv[optind];
    }
    return opts;
}

/* Print what was gathered (if rc is 0) and free it; the exit status. */
static int report(struct facts *f, int rc, int json, int detail)
{
    if (rc == 0 && json)
        json_facts(f, detail);
    else if (rc == 0 && detail)
        text_stat(f);
    else if (rc == 0)
        text_ls(f);
    rc = rc == 0 && f->denied == 0 ? 0 : 1;
    facts_free(f);
    return rc;
}

static int cmd_ls(int json)
{
    struct facts f;

    return report(&f, gather(&f, NULL), json, 0);
}

static int cmd_stat(const char *name, int json)
{
    struct facts f;
    int rc = gather(&f, name);

    if (rc == 0 && f.named.n == 0 && f.servers.n == 0) {
        warn("no arena, pool or server named '%s'", name);
        rc = -1;
    }
    return report(&f, rc, json, 1);
}
static int run(const struct command *cmd, int opts, const char *name)
{
    if (strcmp(cmd->name, "ls") == 0)
        return cmd_ls(opts & OPT_JSON);
    if (strcmp(cmd->name, "stat") == 0)
        return cmd_stat(name, opts & OPT_JSON);
    return cmd_gc(opts & OPT_DRY_RUN);
}

int main(int argc, char **argv)
{
    const struct command *cmd = argc > 1 ? find_command(argv[1]) : NULL;
    const char *args[1] = {NULL};
    int opts, nargs;

    if (argc < 2)
        return bad_usage("missing command");
    if (!cmd && argv[1][0] != '-')
        return bad_usage("unknown command '%s'", argv[1]);
    if (cmd)
        opts = parse(argc - 1, argv + 1, cmd->options, args, cmd->operands, &nargs);
    else
        opts = parse(argc, argv, 0, args, 0, &nargs);
    if (opts < 0)
        return 2;
    if (opts & OPT_HELP) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (opts & OPT_VERSION) {
        printf("shmipc %s\n", shmipc_version());
        return 0;
    }
    if (!cmd)
        return bad_usage("missing command");
    if (nargs < cmd->operands)
        return bad_usage("%s: missing NAME", cmd->name);
    return run(cmd, opts, args[0]);
}

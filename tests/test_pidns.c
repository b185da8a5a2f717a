/* Peers in different pid namespaces (issue 12): a server inside `unshare --pid --fork` sees
 * its client's pid as 0, and a client inside sees the server's pid as one of another
 * namespace. Neither may be taken for dead: a client keeps what it borrowed and what it
 * made while both sides poll their reapers (>= 300 ms, 3 periods), and when it is killed
 * the server takes everything back at once. Both directions, both providers; for the lend
 * provider also a client that said goodbye keeping its loans and died later (its pidfd
 * tells). The pair are helper_session lendpoll and keep, one of them in the namespace. */
#include <time.h>

#include "session_util.h"

/* Start helper_session with args, in a new pid namespace if inside; stdout to *out. */
static pid_t spawn_helper(int inside, char *const args[], FILE **out)
{
    char *argv[16] = {"unshare", "--pid", "--fork", "--kill-child"};
    int n = inside ? 4 : 0, fds[2];
    pid_t pid;

    argv[n++] = (char *)test_program("helper_session");
    for (int i = 0; args[i] && n < 15; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    if (pipe(fds) != 0)
        return -1;
    pid = fork();
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(fds[1]);
    *out = fdopen(fds[0], "r");
    return pid;
}

/* The next line of f that starts with word, into buf; 0 at the end of f. */
static int line_of(FILE *f, const char *word, char *buf, size_t cap)
{
    while (f && fgets(buf, (int)cap, f))
        if (strncmp(buf, word, strlen(word)) == 0)
            return 1;
    return 0;
}

/* The pid a helper printed ("peer <pid>"), or 1 if it printed none. */
static long peer_of(FILE *f)
{
    char line[128];
    long pid = 1;

    if (line_of(f, "peer ", line, sizeof line))
        sscanf(line, "peer %ld", &pid);
    return pid;
}

/* shmipc stat of the server, while the client holds: the server's pid is the one its
 * client outside sees (not the one it sees for itself, which the tool's /proc may give to
 * another process); a session side recorded in another pid namespace has no pid and no
 * liveness (null), every other one is alive; client_pid (if > 0) is listed, alive. */
static int tool_is_honest(const char *name, long server_pid, long client_pid)
{
    char cmd[8192];

    snprintf(
        cmd, sizeof cmd,
        "'%s' stat '%s' --json | python3 -c \"import json, sys; d = json.load(sys.stdin); "
        "s = d['servers'][0]; eps = [e for x in s['pools'] if x.get('arena') "
        "for e in x['arena']['endpoints'] if e['endpoint'] != 0]; "
        "unknown = [e for e in eps if e['pid'] is None]; "
        "sys.exit(not (s['pid'] == %ld and s['alive'] and "
        "all(e['alive'] is None for e in unknown) and "
        "all(e['alive'] is True for e in eps if e['pid'] is not None) and "
        "(%ld > 0 and any(e['pid'] == %ld for e in eps) or %ld <= 0 and len(unknown) >= 2)))\"",
        test_program("../tools/shmipc"), name, server_pid, client_pid, client_pid, client_pid);
    return system(cmd) == 0;
}

static void run_case(const char *provider, int server_inside, const char *mode)
{
    const char *name = uname_(server_inside ? "in" : "out");
    char *srv_args[] = {"lendpoll", (char *)name, (char *)provider, NULL};
    char *cli_args[] = {"keep", (char *)name, "viewer", (char *)mode, NULL};
    FILE *srv_out = NULL, *cli_out = NULL;
    pid_t srv, cli = -1;
    char line[128];
    long srv_peer, cli_peer;
    ssize_t ds = -1, da = -1;
    int own = 0, held = 0, reclaimed;
    struct timespec t0;

    diag("---- %s provider, server %s the new pid namespace, client %s", provider,
         server_inside ? "inside" : "outside", mode);
    srv = spawn_helper(server_inside, srv_args, &srv_out);
    if (!line_of(srv_out, "listening", line, sizeof line)) {
        ok(0, "the server helper listens");
        wait_exit(srv);
        return;
    }
    cli = spawn_helper(!server_inside, cli_args, &cli_out);
    srv_peer = peer_of(srv_out);
    cli_peer = peer_of(cli_out);
    is_rc((int)(server_inside ? srv_peer : cli_peer), SHMIPC_ENOENT,
          "the side inside is told its peer has no pid it can see (ENOENT)");
    ok((server_inside ? cli_peer : srv_peer) > 1, "the side outside sees the real pid (%ld)",
       server_inside ? cli_peer : srv_peer);
    if (line_of(srv_out, "during", line, sizeof line))
        sscanf(line, "during %zd %zd %d", &ds, &da, &own);
    ok(ds >= 1000 && da >= 2000,
       "after 500 ms of both sides polling, what the client holds is still held "
       "(session arena +%zd, app arena +%zd)",
       ds, da);
    ok(own, "the server's own object is intact");
    if (line_of(cli_out, "intact", line, sizeof line))
        sscanf(line, "intact %d", &held);
    ok(held, "the client reads the right bytes in both loans and in its own object");
    ok(tool_is_honest(name, server_inside ? cli_peer : (long)srv, server_inside ? 0 : srv_peer),
       "shmipc stat shows the server's real pid, and no pid it cannot stand behind");
    kill(cli, SIGKILL);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ds = da = -1;
    if (line_of(srv_out, "after", line, sizeof line))
        sscanf(line, "after %zd %zd", &ds, &da);
    reclaimed = ds == 0 && da == 0;
    ok(reclaimed && ms_since(&t0) < 2000,
       "killed, the client's holdings come back to the server promptly (%.0f ms; "
       "+%zd, +%zd left)",
       ms_since(&t0), ds, da);
    is_rc(wait_exit(srv), 0, "the server helper ends cleanly");
    wait_exit(cli);
    fclose(srv_out);
    fclose(cli_out);
}

int main(void)
{
    static const char *const providers[] = {"shared", "lend"};
    shmipc_server_opts o;
    shmipc_server *probe;

    signal(SIGPIPE, SIG_IGN);
    use_private_socket_dir();
    if (system("unshare --pid --fork --kill-child true >/dev/null 2>&1") != 0) {
        skip("unshare --pid --fork does not work here (not root, or no user namespaces)");
        rmdir(sock_dir);
        return done_testing();
    }
    for (int p = 0; p < 2; p++) {
        shmipc_server_opts_init(&o);
        o.provider = p ? SHMIPC_PROVIDER_LEND : SHMIPC_PROVIDER_SHARED;
        if (shmipc_server_open(uname_("probe"), &o, &probe) == SHMIPC_ENOTSUP) {
            skip("the lend provider: this build has no jemalloc");
            continue;
        }
        shmipc_server_close(probe);
        run_case(providers[p], 1, "open");
        run_case(providers[p], 0, "open");
        /* a peer the server cannot see, dying after its goodbye: only its pidfd tells */
        run_case(providers[p], 1, "goodbye");
    }
    ok(socket_dir_leftovers() == 0, "nothing left in the socket directory");
    ok(shm_leftovers() == 0, "nothing left in the shm directory");
    return done_testing();
}

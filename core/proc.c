/* proc.c — how a process is identified in shared memory that outlives it, and when it
 * counts as gone.
 *
 * A pid means something only in a pid namespace, and /proc answers in the namespace of the
 * procfs mounted there, which need not be the reader's own (`unshare --pid --fork` without
 * a new /proc). So a process is recorded as {pid, start time, frame}: its pid as the
 * recording process sees it (getpid(), SO_PEERCRED), its start time from /proc, and the
 * recorder's *pid frame*: its pid namespace, when its /proc shows that same namespace, else
 * 0. The rule, for every reaper:
 *   - a process counts as gone only when it is verifiably gone: its record has a frame,
 *     the checker's own frame is the same, and its pid no longer exists or has another
 *     start time (a pid that was reused);
 *   - a record without a frame (pid 0: the kernel could not translate the peer's pid,
 *     because it lives in a namespace the recorder cannot see; or a recorder whose /proc
 *     is not its own), or one made in another frame, is never judged by /proc: it ends with
 *     its session's socket hang-up, or through a pidfd its checker holds.
 * Where a pidfd is at hand it is the answer: it names the process itself, in any
 * namespace, and becomes readable when the process exits. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77 /* Linux 6.5; older kernels answer ENOPROTOOPT */
#endif

/* Start time of pid into *out (0: no such process, or a zombie). -1 if /proc cannot be
 * read now (no descriptor or memory left): nobody can tell. */
static int read_start(pid_t pid, uint64_t *out)
{
    char path[64], buf[1024];
    unsigned long long start = 0;
    char state = 0;
    FILE *f;
    char *p;

    *out = 0;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    f = fopen(path, "re");
    if (!f)
        return errno == ENOENT || errno == ESRCH ? 0 : -1;
    if (!fgets(buf, sizeof buf, f)) {
        fclose(f);
        return 0; /* it went while we read */
    }
    fclose(f);
    /* The command name (field 2) may hold spaces and ')': skip to the last ')'. Field 3 is
     * the state, field 22 (starttime) the 20th field after the name. */
    p = strrchr(buf, ')');
    if (!p || sscanf(p + 2,
                     "%c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d "
                     "%*d %*d %*d %*d %llu",
                     &state, &start) != 2)
        return 0;
    *out = state == 'Z' || state == 'X' ? 0 : start; /* a zombie is gone for us */
    return 0;
}

uint64_t shmipc__proc_starttime(pid_t pid)
{
    uint64_t start;

    read_start(pid, &start);
    return start;
}

/* The number of pids this process has in /proc/self/status's NSpid line (one per pid
 * namespace from the procfs's down to its own), 0 if there is no such line. */
static int nspid_levels(void)
{
    char line[512];
    int levels = 0;
    FILE *f = fopen("/proc/self/status", "re");

    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "NSpid:", 6) == 0) {
            for (char *tok = strtok(line + 6, " \t\n"); tok; tok = strtok(NULL, " \t\n"))
                levels++;
            break;
        }
    fclose(f);
    return levels;
}

/* The frame as computed now (see the top of the file); *sure 0 if /proc could not be read
 * (no descriptor left): 0 for now, not to be kept. */
static uint32_t frame_now(int *sure)
{
    struct stat st;
    int levels = nspid_levels();

    *sure = levels >= 0;
    if (levels == 0)
        return 1; /* no NSpid (no pid namespaces, or Linux < 4.1): one frame for all */
    if (levels != 1 || stat("/proc/self/ns/pid", &st) != 0 || st.st_ino == 0)
        return 0; /* our /proc shows another namespace (or none): we cannot check */
    return (uint32_t)st.st_ino; /* namespace inodes are 32-bit and never 0 */
}

/* This process's frame into *frame: 0, or -1 if /proc could not be read now (the frame is
 * then 0 for now, and not kept). */
static int frame_of(uint64_t *frame)
{
    /* Cached with the pid it was computed for: a child forked into another namespace has
     * another pid, and computes its own. */
    static _Atomic uint64_t cache; /* pid << 32 | frame */
    uint64_t pid = (uint64_t)getpid(), c = atomic_load_explicit(&cache, memory_order_relaxed);
    int sure = 1;

    if (c >> 32 != pid) {
        c = pid << 32 | frame_now(&sure);
        if (sure)
            atomic_store_explicit(&cache, c, memory_order_relaxed);
    }
    *frame = (uint32_t)c;
    return sure ? 0 : -1;
}

uint64_t shmipc__pid_frame(void)
{
    uint64_t frame;

    frame_of(&frame);
    return frame;
}

/* The record of pid into *id: 0, or -1 (errno set) if /proc could not be read now. */
static int record(pid_t pid, struct shmipc_proc_id *id)
{
    *id = (struct shmipc_proc_id){0, 0, 0};
    if (pid <= 0)
        return 0;
    id->pid = (uint64_t)pid;
    return read_start(pid, &id->start) == 0 && frame_of(&id->frame) == 0 ? 0 : -1;
}

struct shmipc_proc_id shmipc__proc_id(pid_t pid)
{
    struct shmipc_proc_id id;

    record(pid, &id);
    return id;
}

int shmipc__proc_record(pid_t pid, struct shmipc_proc_id *id)
{
    if (record(pid, id) != 0)
        return shmipc__fail_errno("reading /proc for process %d", (int)pid);
    return 0;
}

int shmipc__proc_gone(const struct shmipc_proc_id *id, int pidfd)
{
    struct pollfd p = {.fd = pidfd, .events = POLLIN};
    pid_t pid = (pid_t)id->pid;
    uint64_t now;

    if (pidfd >= 0)
        return poll(&p, 1, 0) == 1 && (p.revents & (POLLIN | POLLHUP)) != 0;
    if (id->frame == 0 || id->frame != shmipc__pid_frame() || pid <= 0)
        return 0; /* not ours to judge */
    if (kill(pid, 0) != 0 && errno == ESRCH)
        return 1;
    return read_start(pid, &now) == 0 && now != id->start; /* unreadable: not evidence */
}

int shmipc__sock_peer_pidfd(int sock)
{
    int fd = -1;
    socklen_t len = sizeof fd;

    if (getsockopt(sock, SOL_SOCKET, SO_PEERPIDFD, &fd, &len) != 0 || len != sizeof fd)
        return -1; /* ENOPROTOOPT before Linux 6.5: the pid and the hang-up remain */
    return fd;
}

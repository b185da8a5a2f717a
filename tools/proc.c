/* proc.c — what the tool learns about processes from /proc: a process's name, which
 * processes map or hold open given files, who holds an flock, and which Unix sockets
 * listen. Only reads. Whether a process lives is the inspect API's answer
 * (shmipc__inspect_alive: the core's rule), never decided here. */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "tool.h"

static int pids_has(const struct pids *p, long pid)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->v[i] == pid)
            return 1;
    return 0;
}

int pids_add(struct pids *p, long pid)
{
    if (pids_has(p, pid))
        return 0;
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 8;
        long *grown = realloc(p->v, cap * sizeof *grown);
        if (!grown)
            return -1;
        p->v = grown;
        p->cap = cap;
    }
    p->v[p->n++] = pid;
    return 0;
}

void pids_free(struct pids *p)
{
    free(p->v);
    p->v = NULL;
    p->n = p->cap = 0;
}

void proc_comm(long pid, char *buf, size_t cap)
{
    char path[64];
    FILE *f;

    snprintf(path, sizeof path, "/proc/%ld/comm", pid);
    snprintf(buf, cap, "?");
    if (!(f = fopen(path, "re")))
        return;
    if (fgets(buf, (int)cap, f))
        buf[strcspn(buf, "\n")] = '\0';
    fclose(f);
}

/* ---- who uses a file ------------------------------------------------------------------ */

static struct file_use *find_use(struct file_use *const *uses, size_t n, dev_t dev, ino_t ino,
                                 const char *path)
{
    for (size_t i = 0; i < n; i++)
        if (uses[i]->ino == ino && (uses[i]->dev == dev || (path && uses[i]->path &&
                                                            strcmp(uses[i]->path, path) == 0)))
            return uses[i];
    return NULL;
}

/* The files of uses[] that pid maps. -1 if its maps cannot be read. A mapping's device is
 * the one the kernel shows, which on layered file systems may not be stat's: the path
 * then decides, with the inode. */
static int scan_maps(long pid, struct file_use *const *uses, size_t n)
{
    char path[64], line[PATH_MAX + 256];
    FILE *f;
    int rc = 0;

    snprintf(path, sizeof path, "/proc/%ld/maps", pid);
    if (!(f = fopen(path, "re")))
        return -1;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        unsigned maj, min;
        unsigned long long ino;
        int at = 0;
        struct file_use *u;
        line[strcspn(line, "\n")] = '\0';
        if (sscanf(line, "%*s %*s %*s %x:%x %llu %n", &maj, &min, &ino, &at) < 3 || ino == 0)
            continue;
        u = find_use(uses, n, makedev(maj, min), (ino_t)ino, at ? line + at : NULL);
        if (u && pids_add(&u->users, pid) != 0)
            rc = -2;
    }
    fclose(f);
    return rc;
}

/* The files of uses[] that pid holds open. -1 if its descriptors cannot be listed. */
static int scan_fds(long pid, struct file_use *const *uses, size_t n)
{
    char path[64];
    struct dirent *e;
    DIR *d;
    int dfd, rc = 0;

    snprintf(path, sizeof path, "/proc/%ld/fd", pid);
    if (!(d = opendir(path)))
        return -1;
    dfd = dirfd(d);
    while (rc == 0 && (e = readdir(d)) != NULL) {
        struct stat st;
        struct file_use *u;
        if (e->d_name[0] == '.' || fstatat(dfd, e->d_name, &st, 0) != 0)
            continue;
        u = find_use(uses, n, st.st_dev, st.st_ino, NULL);
        if (u && pids_add(&u->users, pid) != 0)
            rc = -2;
    }
    closedir(d);
    return rc;
}

static long pid_of(const char *name)
{
    char *end;
    long pid;

    if (!isdigit((unsigned char)name[0]))
        return 0;
    pid = strtol(name, &end, 10);
    return *end ? 0 : pid;
}

int scan_users(struct file_use *const *uses, size_t n)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    long self = (long)getpid();
    int unreadable = 0;

    if (!d)
        return -1;
    while ((e = readdir(d)) != NULL) {
        long pid = pid_of(e->d_name);
        int m, f;
        if (pid <= 0 || pid == self)
            continue;
        m = scan_maps(pid, uses, n);
        f = m == -2 ? 0 : scan_fds(pid, uses, n);
        if (m == -2 || f == -2) {
            closedir(d);
            return -1;
        }
        /* A process that vanished meanwhile uses nothing; one we may not look at might. */
        if ((m == -1 || f == -1) && shmipc__inspect_alive(pid, 0))
            unreadable++;
    }
    closedir(d);
    return unreadable;
}

/* ---- locks and sockets ---------------------------------------------------------------- */

long flock_holder(dev_t dev, ino_t ino)
{
    FILE *f = fopen("/proc/locks", "re");
    char line[256];
    long holder = 0;

    if (!f)
        return 0;
    /* "1: FLOCK  ADVISORY  WRITE 1234 00:1a:5678 0 EOF"; waiters have "->" after the
     * number and are not holders. */
    while (!holder && fgets(line, sizeof line, f)) {
        char type[16];
        long pid;
        unsigned maj, min;
        unsigned long long i;
        if (sscanf(line, "%*d: %15s %*s %*s %ld %x:%x:%llu", type, &pid, &maj, &min, &i) == 5 &&
            strcmp(type, "FLOCK") == 0 && makedev(maj, min) == dev && (ino_t)i == ino)
            holder = pid > 0 ? pid : -1; /* a holder in another pid namespace shows as 0 */
    }
    fclose(f);
    return holder;
}

int socket_listening(const char *path)
{
    FILE *f = fopen("/proc/net/unix", "re");
    char line[PATH_MAX + 128];
    int found = 0;

    if (!f)
        return 0;
    /* "Num RefCount Protocol Flags Type St Inode Path"; listening: flag __SO_ACCEPTCON. */
    while (!found && fgets(line, sizeof line, f)) {
        unsigned long flags;
        int at = 0;
        line[strcspn(line, "\n")] = '\0';
        if (sscanf(line, "%*s %*s %*s %lx %*s %*s %*s %n", &flags, &at) < 1 || !at)
            continue;
        found = (flags & 0x10000) && strcmp(line + at, path) == 0;
    }
    fclose(f);
    return found;
}

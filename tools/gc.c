/* gc.c — `shmipc gc`: remove what dead owners left behind, never what a live process uses.
 *
 *   - A named pool goes when the process that created it is dead (pid and start time from
 *     the pool's header) and no live process maps it or holds it open. To close the race
 *     with a process opening it meanwhile, the pool is first renamed out of sight, then
 *     looked for again in every process: if one uses it after all, it is put back.
 *   - A temporary file ".shmipc.<uid>.tmp.<pid>.*" (a pool being created) goes when
 *     process pid is dead and nobody uses the file.
 *   - A server's "<name>.sock" and "<name>.lock" go when nobody holds the lock: gc takes it
 *     itself (flock, without waiting) while it removes them, so a server starting meanwhile
 *     either finds the lock taken or makes new files.
 *
 * Each removal is one line on stdout ("would remove" with --dry-run). A file of another
 * user (or a symbolic link) under one of this user's names, or a socket directory the
 * library would refuse, is never opened nor removed: one line "skipped PATH (why)". */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "tool.h"

static void say(int dry_run, const char *path, const char *why)
{
    printf("%s %s (%s)\n", dry_run ? "would remove" : "removed", path, why);
}

static void skipped(const char *path, const char *why)
{
    printf("skipped %s (%s)\n", path, why);
}

static int remove_file(const char *path)
{
    if (unlink(path) == 0 || errno == ENOENT)
        return 0;
    warn("cannot remove %s: %s", path, strerror(errno));
    return -1;
}

/* 1 if the pool, now at `hidden`, is still the one that was judged and still unused. */
static int still_stale(struct named_pool *p, const char *hidden)
{
    struct file_use *use = &p->use;
    struct stat st;
    int unreadable;

    if (lstat(hidden, &st) != 0 || st.st_dev != p->st.st_dev || st.st_ino != p->st.st_ino)
        return 0; /* replaced between the look and the rename: not the one we judged */
    pids_free(&use->users);
    use->path = hidden;
    unreadable = scan_users(&use, 1);
    use->path = p->path;
    return unreadable >= 0 && named_state(p, unreadable) == STATE_STALE;
}

/* Remove a stale named pool: rename it out of sight, look again, then unlink or put back. */
static int remove_pool(struct named_pool *p)
{
    char hidden[PATH_MAX];
    uint64_t salt;

    if (shmipc__random_u64(&salt) != 0) {
        warn("cannot remove %s: %s", p->path, shmipc_error_detail());
        return -1;
    }
    snprintf(hidden, sizeof hidden, "%s/.shmipc.%u.tmp.%d.gc%016llx", shmipc__shm_dir(),
             (unsigned)getuid(), (int)getpid(), (unsigned long long)salt);
    if (renameat2(AT_FDCWD, p->path, AT_FDCWD, hidden, RENAME_NOREPLACE) != 0) {
        if (errno == ENOENT)
            return 1; /* someone else removed it */
        warn("cannot remove %s: %s", p->path, strerror(errno));
        return -1;
    }
    if (still_stale(p, hidden))
        return remove_file(hidden) == 0 ? 1 : -1;
    if (renameat2(AT_FDCWD, hidden, AT_FDCWD, p->path, RENAME_NOREPLACE) != 0) {
        warn("%s came into use while being removed and cannot be put back (%s): it is "
             "left as %s",
             p->path, strerror(errno), hidden);
        return -1;
    }
    return 0;
}

/* 0 if kept or removed as it should be, -1 on failure. */
static int gc_named(struct named_pool *p, int dry_run)
{
    char why[NAME_MAX + 128];
    int rc;

    if (p->state == STATE_FOREIGN)
        skipped(p->path, p->error);
    if (p->state != STATE_STALE)
        return 0;
    if (p->temp)
        snprintf(why, sizeof why, "a pool being created by pid %ld, which is dead",
                 p->temp_pid);
    else
        snprintf(why, sizeof why, "%s '%s' of pid %ld, which is dead; used by no process",
                 pool_kind(p), p->name, p->info.pool.pid);
    if (dry_run) {
        say(1, p->path, why);
        return 0;
    }
    rc = p->temp ? (remove_file(p->path) == 0 ? 1 : -1) : remove_pool(p);
    if (rc > 0)
        say(0, p->path, why);
    return rc < 0 ? -1 : 0;
}

/* Remove a dead server's socket and lock file, holding its lock meanwhile. */
static int remove_server(const struct server *s, const char *why)
{
    struct stat held, now;
    int fd, rc = 0;

    if (!s->has_lock) {
        if (socket_listening(s->sock))
            return 0;
        rc = remove_file(s->sock);
        if (rc == 0)
            say(0, s->sock, why);
        return rc;
    }
    if ((fd = open(s->lock, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
        return errno == ENOENT ? 0 : (warn("cannot open %s: %s", s->lock, strerror(errno)), -1);
    /* Held: a server lives (again). Replaced: a new server has made its own. */
    if (flock(fd, LOCK_EX | LOCK_NB) != 0 || shmipc__check_owned(fd, s->lock, &held) != 0 ||
        lstat(s->lock, &now) != 0 || held.st_ino != now.st_ino || held.st_dev != now.st_dev) {
        close(fd);
        return 0;
    }
    if (s->has_sock && (rc = remove_file(s->sock)) == 0)
        say(0, s->sock, why);
    if (rc == 0 && (rc = remove_file(s->lock)) == 0)
        say(0, s->lock, why);
    close(fd);
    return rc;
}

static int gc_server(const struct server *s, int dry_run)
{
    char why[NAME_MAX + 128];

    if (s->foreign[0]) {
        skipped(s->foreign_lock ? s->lock : s->sock, s->foreign);
        return 0;
    }
    if (s->alive)
        return 0;
    if (s->pid > 0)
        snprintf(why, sizeof why, "server '%s' of pid %ld, which is gone", s->name, s->pid);
    else
        snprintf(why, sizeof why, "server '%s', which is gone", s->name);
    if (!dry_run)
        return remove_server(s, why);
    if (s->has_sock)
        say(1, s->sock, why);
    if (s->has_lock)
        say(1, s->lock, why);
    return 0;
}

int cmd_gc(int dry_run)
{
    struct named_list pools;
    struct server_list servers;
    char dir[PATH_MAX];
    int failed = 0;

    if (named_list_read(&pools, NULL, 1) != 0) {
        warn("cannot read %s: %s", shmipc__shm_dir(), strerror(errno));
        named_list_free(&pools);
        return 1;
    }
    for (size_t i = 0; i < pools.n; i++)
        failed |= gc_named(&pools.v[i], dry_run) != 0;
    named_list_free(&pools);
    if (server_list_read(&servers, NULL) != 0) {
        warn("cannot read %s: %s", socket_dir(dir, sizeof dir), strerror(errno));
        server_list_free(&servers);
        return 1;
    }
    if (servers.refused[0])
        skipped(socket_dir(dir, sizeof dir), servers.refused);
    for (size_t i = 0; i < servers.n; i++)
        failed |= gc_server(&servers.v[i], dry_run) != 0;
    server_list_free(&servers);
    return failed;
}

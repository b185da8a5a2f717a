/* scan.c — discovery: the named pools of this user in the shm directory (and the
 * temporary files of pools being created), who uses them and what state they are in; the
 * session servers in the socket directory and whether they live. Only reads. */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tool.h"

const char *state_name(int state)
{
    static const char *const names[] = {"alive", "orphaned", "unknown", "stale", "foreign"};
    return names[state];
}

/* Grow an array of `size`-byte items to hold one more: the array, moved or not; NULL when
 * out of memory (v is then unchanged). */
static void *grow(void *v, size_t *cap, size_t n, size_t size)
{
    size_t c = *cap ? 2 * *cap : 16;
    void *g;

    if (n < *cap)
        return v;
    if (!(g = realloc(v, c * size)))
        return NULL;
    *cap = c;
    return g;
}

/* ---- named pools ------------------------------------------------------------------------ */

/* 1 if pool name `name` is arena `only` in some scope: "only" or "only@s<N>". */
static int name_matches(const char *name, const char *only)
{
    size_t len = strlen(only);

    if (strncmp(name, only, len) != 0)
        return 0;
    if (name[len] == '\0')
        return 1;
    if (strncmp(name + len, "@s", 2) != 0 || !isdigit((unsigned char)name[len + 2]))
        return 0;
    for (const char *p = name + len + 2; *p; p++)
        if (!isdigit((unsigned char)*p))
            return 0;
    return 1;
}

/* Classify directory entry `file`: 1 for a named pool (its name after the prefix in
 * *name), 2 for a temporary file (its creator in *pid), 0 for anything else. */
static int classify(const char *file, const char *only, int with_temps, const char **name,
                    long *pid)
{
    char prefix[64], temp[64];
    size_t plen = (size_t)snprintf(prefix, sizeof prefix, "shmipc.%u.", (unsigned)getuid());
    size_t tlen = (size_t)snprintf(temp, sizeof temp, ".shmipc.%u.tmp.", (unsigned)getuid());
    char *end;

    if (strncmp(file, prefix, plen) == 0 && file[plen]) {
        *name = file + plen;
        return !only || name_matches(*name, only);
    }
    if (!with_temps || strncmp(file, temp, tlen) != 0 || !isdigit((unsigned char)file[tlen]))
        return 0;
    *pid = strtol(file + tlen, &end, 10);
    *name = file;
    return *end == '.' ? 2 : 0;
}

/* Map the file read-only and read its pool header (and arena). */
static void read_pool(struct named_pool *p)
{
    int fd = open(p->path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

    if (fd < 0) {
        p->rc = SHMIPC_ESYS;
        snprintf(p->error, sizeof p->error, "cannot open: %s", strerror(errno));
        return;
    }
    p->rc = pool_info_read(fd, 0, NULL, &p->info);
    if (p->rc != 0)
        snprintf(p->error, sizeof p->error, "%s", shmipc_error_detail());
    close(fd);
}

/* 1 if a file found under one of this user's names is a symbolic link or another user's:
 * someone may have planted it there to be followed. why: what it is. */
static int foreign_file(const struct stat *st, char *why, size_t cap)
{
    if (S_ISLNK(st->st_mode))
        snprintf(why, cap, "a symbolic link of uid %u: never followed", (unsigned)st->st_uid);
    else if (st->st_uid != geteuid())
        snprintf(why, cap,
                 "owned by uid %u (mode %04o), not by this uid %u: another user's "
                 "file, never opened nor removed",
                 (unsigned)st->st_uid, (unsigned)(st->st_mode & 07777), (unsigned)geteuid());
    else
        return 0;
    return 1;
}

static int add_named(struct named_list *l, int dfd, const char *file, const char *name,
                     int temp, long pid)
{
    struct named_pool *p, *v = grow(l->v, &l->cap, l->n, sizeof *l->v);

    if (!v)
        return -1;
    l->v = v;
    p = memset(&l->v[l->n], 0, sizeof *p);
    if (fstatat(dfd, file, &p->st, AT_SYMLINK_NOFOLLOW) != 0)
        return 0; /* gone meanwhile */
    snprintf(p->path, sizeof p->path, "%s/%s", shmipc__shm_dir(), file);
    snprintf(p->name, sizeof p->name, "%s", name);
    p->temp = temp;
    p->temp_pid = pid;
    p->use.dev = p->st.st_dev;
    p->use.ino = p->st.st_ino;
    if (foreign_file(&p->st, p->error, sizeof p->error)) {
        p->foreign = 1;
        p->rc = SHMIPC_EPERM;
    } else if (S_ISREG(p->st.st_mode)) {
        read_pool(p);
    } else {
        return 0; /* one of ours that no pool could be */
    }
    l->n++;
    return 0;
}

/* Whether the process that made the pool (or is making it: a temporary file) lives. */
static int owner_alive(const struct named_pool *p)
{
    if (!p->temp || (p->rc == 0 && p->info.pool.alive < 0))
        return p->info.pool.alive;
    if (p->rc == 0 && p->info.pool.pid == p->temp_pid)
        return p->info.pool.alive;
    return shmipc__inspect_alive(p->temp_pid, 0);
}

int named_state(const struct named_pool *p, int unreadable_procs)
{
    if (p->foreign)
        return STATE_FOREIGN;
    if (p->rc != 0 && !p->temp)
        return STATE_UNKNOWN; /* not a pool this library reads: never ours to judge */
    switch (owner_alive(p)) {
    case 1: return STATE_ALIVE;
    case -1: return STATE_UNKNOWN; /* made in another pid namespace: not ours to judge */
    }
    if (p->use.users.n > 0)
        return STATE_ORPHANED;
    /* Processes we could not look at can only have opened it if its mode lets them. */
    if (unreadable_procs > 0 && (p->st.st_mode & 077))
        return STATE_UNKNOWN;
    return STATE_STALE;
}

static int find_users(struct named_list *l)
{
    struct file_use **uses = calloc(l->n ? l->n : 1, sizeof *uses);
    int rc;

    if (!uses)
        return -1;
    for (size_t i = 0; i < l->n; i++) {
        l->v[i].use.path = l->v[i].path;
        uses[i] = &l->v[i].use;
    }
    rc = scan_users(uses, l->n);
    free(uses);
    if (rc < 0)
        return -1;
    l->unreadable_procs = rc;
    for (size_t i = 0; i < l->n; i++)
        l->v[i].state = named_state(&l->v[i], rc);
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct named_pool *)a)->name, ((const struct named_pool *)b)->name);
}

int named_list_read(struct named_list *out, const char *only, int with_temps)
{
    DIR *d = opendir(shmipc__shm_dir());
    struct dirent *e;
    int rc = 0;

    memset(out, 0, sizeof *out);
    if (!d)
        return errno == ENOENT ? 0 : -1;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        const char *name;
        long pid = 0;
        int kind = classify(e->d_name, only, with_temps, &name, &pid);
        if (kind)
            rc = add_named(out, dirfd(d), e->d_name, name, kind == 2, pid);
    }
    closedir(d);
    if (rc == 0 && out->n)
        qsort(out->v, out->n, sizeof *out->v, by_name);
    if (rc == 0)
        rc = find_users(out);
    if (rc != 0)
        errno = ENOMEM;
    return rc;
}

void named_list_free(struct named_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        pool_info_free(&l->v[i].info);
        pids_free(&l->v[i].use.users);
    }
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* ---- servers ------------------------------------------------------------------------------ */

const char *socket_dir(char *buf, size_t cap)
{
    shmipc__socket_dir_name(NULL, buf, cap); /* the library's rule; never made here */
    return buf;
}

static struct server *find_server(struct server_list *l, const char *name, size_t len)
{
    struct server *v;

    for (size_t i = 0; i < l->n; i++)
        if (strlen(l->v[i].name) == len && strncmp(l->v[i].name, name, len) == 0)
            return &l->v[i];
    if (!(v = grow(l->v, &l->cap, l->n, sizeof *l->v)))
        return NULL;
    l->v = v;
    memset(&l->v[l->n], 0, sizeof l->v[0]);
    snprintf(l->v[l->n].name, sizeof l->v[0].name, "%.*s", (int)len, name);
    return &l->v[l->n++];
}

/* A directory entry "<name>.sock" or "<name>.lock" of a valid server name. */
static int note_file(struct server_list *l, const char *file, const char *only)
{
    size_t len = strlen(file);
    char name[NAME_MAX + 1];
    struct server *s;
    int sock;

    if (len < 6 ||
        (strcmp(file + len - 5, ".sock") != 0 && strcmp(file + len - 5, ".lock") != 0))
        return 0;
    sock = file[len - 4] == 's';
    snprintf(name, sizeof name, "%.*s", (int)(len - 5), file);
    if (shmipc__check_name(name, "server") != 0 || (only && strcmp(name, only) != 0))
        return 0;
    if (!(s = find_server(l, name, len - 5)))
        return -1;
    if (sock)
        s->has_sock = 1;
    else
        s->has_lock = 1;
    return 0;
}

static long lock_file_pid(const char *path)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
    long pid = 0;

    if (!f) {
        if (fd >= 0)
            close(fd);
        return 0;
    }
    if (fscanf(f, "%ld", &pid) != 1 || pid < 0)
        pid = 0;
    fclose(f);
    return pid;
}

/* Fill in paths, mode, pid and liveness. A live server holds an flock on its lock file;
 * a socket without a lock file lives if something listens on it. -1 if the paths are too
 * long to be a server's. */
static int describe_server(struct server *s, const char *dir)
{
    struct stat st;

    if ((size_t)snprintf(s->sock, sizeof s->sock, "%s/%s.sock", dir, s->name) >=
            sizeof s->sock ||
        (size_t)snprintf(s->lock, sizeof s->lock, "%s/%s.lock", dir, s->name) >= sizeof s->lock)
        return -1;
    if (s->has_sock && lstat(s->sock, &st) == 0) {
        s->mode = st.st_mode;
        if (foreign_file(&st, s->foreign, sizeof s->foreign))
            return 0;
    }
    if (s->has_lock) {
        long holder;
        if (lstat(s->lock, &st) == 0 && foreign_file(&st, s->foreign, sizeof s->foreign)) {
            s->foreign_lock = 1;
            return 0;
        }
        /* The file says the pid the server sees for itself, which here may be another
         * process's: while the lock is held, its holder's pid by /proc is the truth. */
        holder = lstat(s->lock, &st) == 0 ? flock_holder(st.st_dev, st.st_ino) : 0;
        s->alive = holder != 0;
        s->pid = holder > 0 ? holder : holder < 0 ? 0 : lock_file_pid(s->lock);
    } else {
        s->alive = socket_listening(s->sock);
    }
    return 0;
}

static int by_server_name(const void *a, const void *b)
{
    return strcmp(((const struct server *)a)->name, ((const struct server *)b)->name);
}

int server_state(const struct server *s)
{
    return s->foreign[0] ? STATE_FOREIGN : s->alive ? STATE_ALIVE : STATE_STALE;
}

int server_list_read(struct server_list *out, const char *only)
{
    char dir[PATH_MAX];
    struct dirent *e;
    uid_t owner;
    DIR *d;
    int given, rc;

    memset(out, 0, sizeof *out);
    given = shmipc__socket_dir_name(NULL, dir, sizeof dir);
    rc = shmipc__socket_dir_check(dir, given, &owner);
    if (rc != 0 && rc != SHMIPC_ENOENT)
        snprintf(out->refused, sizeof out->refused, "%s", shmipc_error_detail());
    if (rc != 0)
        return 0;
    if (!(d = opendir(dir)))
        return errno == ENOENT ? 0 : -1;
    while (rc == 0 && (e = readdir(d)) != NULL)
        rc = note_file(out, e->d_name, only);
    closedir(d);
    if (rc != 0) {
        errno = ENOMEM;
        return -1;
    }
    for (size_t i = 0; i < out->n;)
        if (describe_server(&out->v[i], dir) == 0)
            i++;
        else
            out->v[i] = out->v[--out->n];
    if (out->n)
        qsort(out->v, out->n, sizeof *out->v, by_server_name);
    return 0;
}

void server_list_free(struct server_list *l)
{
    free(l->v);
    memset(l, 0, sizeof *l);
}

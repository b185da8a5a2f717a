/* pool.c — one shared-memory segment: memfd (anonymous, passed by fd) or a named file in
 * the shm directory. Owns the segment's header page (magic, ABI version, pool id, size,
 * creator), its validation on every open, the atomic publication of named pools, and the
 * mapping (read-write or read-only). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define POOL_MAGIC UINT64_C(0x4c4f4f5043504d53) /* "SMPCPOOL" little-endian */
#define POOL_ABI 2
#define POOL_HDR_SIZE 4096 /* one page: keeps the usable bytes page-aligned */

struct pool_hdr {
    uint64_t magic;
    uint32_t abi;
    uint32_t hdr_size;
    uint64_t id;
    uint64_t size; /* usable bytes after the header page */
    uint32_t creator_pid;
    uint32_t creator_uid;
    uint64_t creator_start; /* shmipc__proc_starttime of the creator */
    uint64_t creator_frame; /* the creator's pid frame: who may judge its pid (proc.c) */
    uint64_t created_ns;    /* CLOCK_REALTIME */
    char name[SHMIPC_NAME_MAX + 1];
};
_Static_assert(sizeof(struct pool_hdr) <= POOL_HDR_SIZE, "pool header fits its page");

static size_t page_round(size_t size)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    return (size + page - 1) & ~(page - 1);
}

static int check_size(size_t size)
{
    if (size == 0)
        return shmipc__fail(SHMIPC_EINVAL, "pool size is 0");
    if (size > SHMIPC_POOL_MAX)
        return shmipc__fail(SHMIPC_EINVAL, "pool size %zu is larger than SHMIPC_POOL_MAX (%zu)",
                            size, SHMIPC_POOL_MAX);
    return 0;
}

static int check_room(const char *dir, size_t bytes)
{
    struct statvfs vfs;

    if (statvfs(dir, &vfs) != 0)
        return 0; /* cannot tell: let ftruncate/mmap decide */
    if ((unsigned long long)vfs.f_bavail * vfs.f_frsize < bytes)
        return shmipc__fail(SHMIPC_ENOMEM, "%s has %llu bytes free, the pool needs %zu", dir,
                            (unsigned long long)vfs.f_bavail * vfs.f_frsize, bytes);
    return 0;
}

static void pool_free(shmipc_pool *p)
{
    if (p->map && p->map != MAP_FAILED)
        munmap(p->map, p->map_size);
    if (p->fd >= 0)
        close(p->fd);
    free(p->tmp_path);
    free(p->path);
    free(p);
}

static shmipc_pool *pool_alloc(int fd)
{
    shmipc_pool *p = calloc(1, sizeof *p);
    if (p) {
        p->fd = fd;
        p->fork_gen = shmipc__fork_gen_now();
    }
    return p;
}

/* An address where a mapping of map_size bytes puts its usable bytes (after the header
 * page) on an `align` boundary, reserved; NULL to let the kernel choose (align 0). */
static void *reserve_aligned(size_t map_size, size_t align)
{
    char *r, *at;

    if (align <= POOL_HDR_SIZE)
        return NULL;
    r = mmap(NULL, map_size + align, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1,
             0);
    if (r == MAP_FAILED)
        return NULL;
    at = (char *)((((uintptr_t)r + POOL_HDR_SIZE + align - 1) & ~(uintptr_t)(align - 1)) -
                  POOL_HDR_SIZE);
    if (at > r)
        munmap(r, (size_t)(at - r));
    munmap(at + map_size, (size_t)(r + map_size + align - (at + map_size)));
    return at;
}

/* Map fd's whole file (usable bytes aligned to `align` if not 0); the header is validated
 * by the caller. */
static int map_fd(shmipc_pool *p, size_t map_size, int writable, size_t align)
{
    int prot = PROT_READ | (writable ? PROT_WRITE : 0);
    void *at = reserve_aligned(map_size, align);

    p->map = mmap(at, map_size, prot, MAP_SHARED | (at ? MAP_FIXED : 0), p->fd, 0);
    if (p->map == MAP_FAILED) {
        p->map = NULL;
        if (at)
            munmap(at, map_size);
        return shmipc__fail_errno("mmap of %zu bytes", map_size);
    }
    p->map_size = map_size;
    p->base = (char *)p->map + POOL_HDR_SIZE;
    p->size = map_size - POOL_HDR_SIZE;
    p->writable = writable;
    return 0;
}

static int write_header(shmipc_pool *p, const char *name)
{
    struct shmipc_proc_id me = shmipc__proc_id(getpid());
    struct pool_hdr *h = p->map;
    struct timespec now;
    int rc;

    if ((rc = shmipc__random_u64(&p->id)) != 0)
        return rc;
    clock_gettime(CLOCK_REALTIME, &now);
    h->abi = POOL_ABI;
    h->hdr_size = POOL_HDR_SIZE;
    h->id = p->id;
    h->size = p->size;
    h->creator_pid = (uint32_t)me.pid;
    h->creator_uid = (uint32_t)getuid();
    h->creator_start = me.start;
    h->creator_frame = me.frame;
    h->created_ns = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
    if (name)
        snprintf(h->name, sizeof h->name, "%s", name);
    atomic_signal_fence(memory_order_seq_cst);
    h->magic = POOL_MAGIC;
    return 0;
}

/* A named pool's pages are reserved when it is made: a sparse file on a tmpfs that others
 * fill later would kill whoever first touches a missing page (SIGBUS), however much room
 * statvfs showed. A file system that cannot reserve (EOPNOTSUPP) keeps the pool sparse. */
static int reserve(int fd, size_t map_size)
{
    int rc;

    do
        rc = fallocate(fd, 0, 0, (off_t)map_size);
    while (rc != 0 && errno == EINTR);
    if (rc != 0 && errno != EOPNOTSUPP && errno != ENOSYS)
        return shmipc__fail_errno("reserving %zu bytes for the pool in %s", map_size,
                                  shmipc__shm_dir());
    return 0;
}

/* Size the new file (reserving its pages if it is named), map it and write the header. */
static int init_new(shmipc_pool *p, size_t size, size_t align, const char *name)
{
    size_t map_size = POOL_HDR_SIZE + page_round(size);
    int rc;

    if (ftruncate(p->fd, (off_t)map_size) != 0)
        return shmipc__fail_errno("ftruncate of pool to %zu bytes", map_size);
    if (name && (rc = reserve(p->fd, map_size)) != 0)
        return rc;
    if ((rc = map_fd(p, map_size, 1, align)) != 0)
        return rc;
    return write_header(p, name);
}

static int create_memfd(size_t size, size_t align, shmipc_pool **out)
{
    shmipc_pool *p;
    int rc, fd = memfd_create("shmipc-pool", MFD_CLOEXEC | MFD_ALLOW_SEALING);

    if (fd < 0)
        return shmipc__fail_errno("memfd_create");
    p = pool_alloc(fd);
    if (!p) {
        close(fd);
        return shmipc__fail(SHMIPC_ENOMEM, "out of memory for a pool handle");
    }
    rc = init_new(p, size, align, NULL);
    /* The pool never changes size: seal it so no peer can shrink it under our feet. */
    if (rc == 0 && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) != 0)
        rc = shmipc__fail_errno("sealing a memfd pool");
    if (rc != 0) {
        pool_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

static int create_named_tmp(const char *name, size_t size, unsigned mode, shmipc_pool **out)
{
    char path[4096], tmp[4096];
    const char *dir = shmipc__shm_dir();
    shmipc_pool *p;
    uint64_t salt;
    int rc, fd;

    if ((rc = shmipc__pool_path(name, path, sizeof path)) != 0)
        return rc;
    if ((rc = check_room(dir, POOL_HDR_SIZE + page_round(size))) != 0 ||
        (rc = shmipc__random_u64(&salt)) != 0)
        return rc;
    /* The temporary name starts with '.', which no pool name may: it never collides. */
    snprintf(tmp, sizeof tmp, "%s/.shmipc.%u.tmp.%d.%016llx", dir, (unsigned)getuid(),
             (int)getpid(), (unsigned long long)salt);
    fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return shmipc__fail_errno("creating %s", tmp);
    p = pool_alloc(fd);
    if (!p) {
        close(fd);
        unlink(tmp);
        return shmipc__fail(SHMIPC_ENOMEM, "out of memory for a pool handle");
    }
    p->tmp_path = strdup(tmp);
    p->path = strdup(path);
    if (!p->tmp_path || !p->path) {
        unlink(tmp);
        rc = shmipc__fail(SHMIPC_ENOMEM, "out of memory for a pool handle");
    } else if (fchmod(fd, mode) != 0) {
        rc = shmipc__fail_errno("chmod %o of pool '%s'", mode, name);
    } else {
        rc = init_new(p, size, 0, name);
    }
    if (rc != 0) {
        shmipc_pool_close(p); /* removes the temporary file */
        return rc;
    }
    *out = p;
    return 0;
}

int shmipc__pool_create_unpublished(const char *name, size_t size, unsigned mode,
                                    shmipc_pool **out)
{
    int rc;

    if (!out)
        return shmipc__fail(SHMIPC_EINVAL, "out is NULL");
    if ((rc = check_size(size)) != 0)
        return rc;
    if (!name)
        return create_memfd(size, 0, out);
    if (mode == 0)
        mode = 0600;
    if (mode & ~0777u)
        return shmipc__fail(SHMIPC_EINVAL, "mode %o has bits beyond 0777", mode);
    return create_named_tmp(name, size, mode, out);
}

void shmipc__pool_origin(const shmipc_pool *p, struct shmipc_pool_origin *out)
{
    const struct pool_hdr *h = p->map;

    out->pid = (long)h->creator_pid;
    out->start = h->creator_start;
    out->frame = h->creator_frame;
    out->uid = h->creator_uid;
    out->created_ns = h->created_ns;
    snprintf(out->name, sizeof out->name, "%.*s", (int)sizeof h->name - 1, h->name);
}

void shmipc__pool_label(shmipc_pool *p, const char *label)
{
    struct pool_hdr *h = p->map;

    snprintf(h->name, sizeof h->name, "%s", label);
}

int shmipc__pool_create_aligned(size_t size, size_t align, shmipc_pool **out)
{
    int rc = check_size(size);

    return rc ? rc : create_memfd(size, align, out);
}

int shmipc__pool_seal_owner(shmipc_pool *p)
{
    if (fcntl(p->fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE | F_SEAL_SEAL) != 0)
        return shmipc__fail_errno("sealing a pool against writable mappings");
    return 0;
}

int shmipc__pool_publish(shmipc_pool *p)
{
    int rc;

    if (!p->tmp_path)
        return 0;
    rc = renameat2(AT_FDCWD, p->tmp_path, AT_FDCWD, p->path, RENAME_NOREPLACE);
    if (rc != 0 && errno == EINVAL) { /* a file system without RENAME_NOREPLACE */
        rc = link(p->tmp_path, p->path);
        if (rc == 0)
            unlink(p->tmp_path);
    }
    if (rc != 0)
        return shmipc__fail_errno("publishing pool %s", p->path);
    free(p->tmp_path);
    p->tmp_path = NULL;
    return 0;
}

int shmipc_pool_create(const char *name, size_t size, unsigned mode, shmipc_pool **out)
{
    shmipc_pool *p;
    int rc;

    if (!out)
        return shmipc__fail(SHMIPC_EINVAL, "out is NULL");
    if (name && (rc = shmipc__check_name(name, "pool")) != 0)
        return rc;
    if ((rc = shmipc__pool_create_unpublished(name, size, mode, &p)) != 0)
        return rc;
    if ((rc = shmipc__pool_publish(p)) != 0) {
        shmipc_pool_close(p);
        if (rc == SHMIPC_EEXIST)
            shmipc__fail(rc, "pool '%s' already exists", name);
        return rc;
    }
    *out = p;
    return 0;
}

/* Check the header of a mapped pool whose file has file_size bytes. */
static int validate_header(const struct pool_hdr *h, size_t file_size, const char *what)
{
    if (h->magic != POOL_MAGIC)
        return shmipc__fail(SHMIPC_ECORRUPT, "%s is not a shmipc pool (bad magic)", what);
    if (h->abi != POOL_ABI)
        return shmipc__fail(SHMIPC_EPROTO, "%s has pool ABI version %u, this library reads %u",
                            what, (unsigned)h->abi, (unsigned)POOL_ABI);
    if (h->hdr_size != POOL_HDR_SIZE || h->id == 0)
        return shmipc__fail(SHMIPC_ECORRUPT, "%s has a corrupt header", what);
    if (h->size != file_size - POOL_HDR_SIZE)
        return shmipc__fail(SHMIPC_ECORRUPT,
                            "%s is truncated or resized: header says %llu "
                            "bytes, the file holds %zu",
                            what, (unsigned long long)h->size, file_size - POOL_HDR_SIZE);
    return 0;
}

/* A memfd handed to us must be sealed against shrinking, else its sender could make us die
 * of SIGBUS by truncating it. A file that has a name (a named pool) cannot be sealed and is
 * trusted, as is everything under the shm directory — but not from a session's peer
 * (`from_peer`), which only ever sends sealed memfds. */
static int check_seals(int fd, const struct stat *st, int from_peer)
{
    int seals = fcntl(fd, F_GET_SEALS);

    if (seals >= 0 && (seals & F_SEAL_SHRINK))
        return 0;
    if (from_peer)
        return shmipc__fail(SHMIPC_EPERM, "the peer sent a pool that is not a memfd sealed "
                                          "against shrinking: it could truncate it under us");
    if (st->st_nlink > 0)
        return 0;
    return shmipc__fail(SHMIPC_EPERM, "pool fd is an unnamed file not sealed against "
                                      "shrinking: its sender could truncate it under us");
}

/* Take ownership of fd: validate and map it as a pool. */
static int attach_fd(int fd, int flags, int from_peer, const char *what, shmipc_pool **out)
{
    struct stat st;
    shmipc_pool *p;
    int rc;

    if (fstat(fd, &st) != 0) {
        rc = shmipc__fail_errno("fstat of %s", what);
        close(fd);
        return rc;
    }
    if (!S_ISREG(st.st_mode) || st.st_size < 2 * POOL_HDR_SIZE ||
        (uint64_t)st.st_size > (uint64_t)SHMIPC_POOL_MAX + POOL_HDR_SIZE) {
        close(fd);
        return shmipc__fail(SHMIPC_ECORRUPT, "%s is not a shmipc pool (size %lld)", what,
                            (long long)st.st_size);
    }
    if ((rc = check_seals(fd, &st, from_peer)) != 0) {
        close(fd);
        return rc;
    }
    p = pool_alloc(fd);
    if (!p) {
        close(fd);
        return shmipc__fail(SHMIPC_ENOMEM, "out of memory for a pool handle");
    }
    rc = map_fd(p, (size_t)st.st_size, !(flags & SHMIPC_RDONLY), 0);
    if (rc == 0)
        rc = validate_header(p->map, (size_t)st.st_size, what);
    if (rc != 0) {
        pool_free(p);
        return rc;
    }
    p->id = ((struct pool_hdr *)p->map)->id;
    *out = p;
    return 0;
}

static int check_flags(int flags, shmipc_pool **out)
{
    if (!out)
        return shmipc__fail(SHMIPC_EINVAL, "out is NULL");
    if (flags & ~(SHMIPC_RDONLY | SHMIPC_SHARED_MODE))
        return shmipc__fail(SHMIPC_EINVAL, "unknown pool flags 0x%x", (unsigned)flags);
    return 0;
}

/* A named pool is followed only if it is the caller's: any user can create a file under a
 * name of ours in the shm directory (a symlink, or a copy of a pool that it keeps writing),
 * and whoever can write a pool writes the allocator state its users follow. So the file
 * must be owned by our euid and writable by nobody else, unless the caller opted in to a
 * pool shared with its group or others (SHMIPC_SHARED_MODE). */
static int check_owner(int fd, const char *path, int flags)
{
    struct stat st;

    int rc = shmipc__check_owned(fd, path, &st);

    if (rc != 0)
        return rc;
    if ((st.st_mode & 022) && !(flags & SHMIPC_SHARED_MODE))
        return shmipc__fail(SHMIPC_EPERM,
                            "%s (owner uid %u) has mode %04o: others may write "
                            "it; refused without SHMIPC_SHARED_MODE",
                            path, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
    return 0;
}

int shmipc__pool_open(const char *name, int flags, shmipc_pool **out)
{
    char path[4096], what[SHMIPC_NAME_MAX + 16];
    int rc, fd;

    if ((rc = check_flags(flags, out)) != 0 ||
        (rc = shmipc__pool_path(name, path, sizeof path)) != 0)
        return rc;
    /* O_NONBLOCK: a FIFO planted under the name must not block us (it is refused below) */
    fd = open(path, ((flags & SHMIPC_RDONLY) ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NOFOLLOW |
                        O_NONBLOCK);
    if (fd < 0 && errno == ELOOP)
        return shmipc__fail(SHMIPC_EPERM,
                            "%s is a symbolic link: refused, a pool is never "
                            "followed elsewhere",
                            path);
    if (fd < 0)
        return shmipc__fail_errno("opening pool '%s' (%s)", name, path);
    if ((rc = check_owner(fd, path, flags)) != 0) {
        close(fd);
        return rc;
    }
    snprintf(what, sizeof what, "pool '%s'", name);
    return attach_fd(fd, flags, 0, what, out);
}

int shmipc_pool_open(const char *name, int flags, shmipc_pool **out)
{
    int rc = shmipc__check_name(name, "pool");
    return rc ? rc : shmipc__pool_open(name, flags, out);
}

static int from_fd(int fd, int flags, int from_peer, shmipc_pool **out)
{
    int rc, dup_fd;

    if ((rc = check_flags(flags, out)) != 0)
        return rc;
    if (fd < 0)
        return shmipc__fail(SHMIPC_EINVAL, "fd %d is not a descriptor", fd);
    dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (dup_fd < 0)
        return shmipc__fail_errno("dup of fd %d", fd);
    return attach_fd(dup_fd, flags, from_peer, "pool fd", out);
}

int shmipc_pool_from_fd(int fd, int flags, shmipc_pool **out)
{
    return from_fd(fd, flags, 0, out);
}

int shmipc__pool_from_peer_fd(int fd, int flags, shmipc_pool **out)
{
    return from_fd(fd, flags, 1, out);
}

int shmipc_pool_fd(const shmipc_pool *p)
{
    return p ? p->fd : SHMIPC_EINVAL;
}

void *shmipc_pool_base(const shmipc_pool *p)
{
    return p ? p->base : NULL;
}

size_t shmipc_pool_size(const shmipc_pool *p)
{
    return p ? p->size : 0;
}

uint64_t shmipc_pool_id(const shmipc_pool *p)
{
    return p ? p->id : 0;
}

int shmipc_pool_writable(const shmipc_pool *p)
{
    return p ? p->writable : 0;
}

void shmipc_pool_close(shmipc_pool *p)
{
    if (!p)
        return;
    if (p->tmp_path && !shmipc__inherited(p->fork_gen)) /* a child's copy: the parent's */
        unlink(p->tmp_path);
    pool_free(p);
}

int shmipc__pool_unlink(const char *name)
{
    char path[4096];
    int rc;

    if ((rc = shmipc__pool_path(name, path, sizeof path)) != 0)
        return rc;
    if (unlink(path) != 0)
        return shmipc__fail_errno("removing pool '%s'", name);
    return 0;
}

int shmipc_pool_unlink(const char *name)
{
    int rc = shmipc__check_name(name, "pool");
    return rc ? rc : shmipc__pool_unlink(name);
}

/* names.c — the naming rules: valid names, where named pools live (and whose files there
 * are followed), random ids. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

int shmipc__check_name(const char *name, const char *what)
{
    size_t len;

    if (name == NULL)
        return shmipc__fail(SHMIPC_EINVAL, "%s name is NULL", what);
    len = strnlen(name, SHMIPC_NAME_MAX + 1);
    if (len == 0)
        return shmipc__fail(SHMIPC_EINVAL, "%s name is empty", what);
    if (len > SHMIPC_NAME_MAX)
        return shmipc__fail(SHMIPC_EINVAL, "%s name is longer than %d bytes", what,
                            SHMIPC_NAME_MAX);
    if (name[0] == '.')
        return shmipc__fail(SHMIPC_EINVAL, "%s name '%s' starts with '.'", what, name);
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)name[i];
        if (!isalnum(ch) && ch != '_' && ch != '-' && ch != '.')
            return shmipc__fail(
                SHMIPC_EINVAL, "%s name '%s' has character 0x%02x (allowed: A-Z a-z 0-9 . _ -)",
                what, name, ch);
    }
    return 0;
}

int shmipc__random_u64(uint64_t *out)
{
    uint64_t v = 0;

    while (v == 0) {
        ssize_t n = getrandom(&v, sizeof v, 0);
        if (n == (ssize_t)sizeof v)
            continue;
        if (n < 0 && errno == EINTR) {
            v = 0;
            continue;
        }
        if (n >= 0)
            errno = EIO; /* a short read of 8 bytes: not expected from the kernel */
        return shmipc__fail(SHMIPC_ESYS,
                            "getrandom: %s (errno %d): no random id or key can "
                            "be made",
                            strerror(errno), errno);
    }
    *out = v;
    return 0;
}

const char *shmipc__shm_dir(void)
{
    const char *dir = getenv("SHMIPC_SHM_DIR");
    return dir && dir[0] ? dir : "/dev/shm";
}

int shmipc__pool_path(const char *name, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "%s/shmipc.%u.%s", shmipc__shm_dir(), (unsigned)getuid(), name);
    if (n < 0 || (size_t)n >= cap)
        return shmipc__fail(SHMIPC_EINVAL, "path of pool '%s' is too long", name);
    return 0;
}

int shmipc__check_owned(int fd, const char *path, struct stat *st)
{
    if (fstat(fd, st) != 0)
        return shmipc__fail_errno("fstat of %s", path);
    if (st->st_uid != geteuid())
        return shmipc__fail(SHMIPC_EPERM,
                            "%s is owned by uid %u (mode %04o), not by this "
                            "process's uid %u: refused, another user may have planted it",
                            path, (unsigned)st->st_uid, (unsigned)(st->st_mode & 07777),
                            (unsigned)geteuid());
    return 0;
}

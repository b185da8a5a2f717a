/* error.c — error codes, their texts, the per-thread failure detail and the version. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define DETAIL_MAX 512

static _Thread_local char detail[DETAIL_MAX];

static const char *const messages[] = {
    [0] = "success",
    [-SHMIPC_EINVAL] = "invalid argument",
    [-SHMIPC_ENOMEM] = "out of memory",
    [-SHMIPC_ENOENT] = "no such pool, arena or name",
    [-SHMIPC_EEXIST] = "already exists",
    [-SHMIPC_EPERM] = "permission denied",
    [-SHMIPC_ECLOSED] = "peer or session closed",
    [-SHMIPC_ETIMEDOUT] = "timed out",
    [-SHMIPC_EBADBLOB] = "malformed or forged lend blob",
    [-SHMIPC_ESTALE] = "stale lend blob: the object is gone",
    [-SHMIPC_EPROTO] = "incompatible protocol or ABI version",
    [-SHMIPC_ENOTSUP] = "not supported",
    [-SHMIPC_ESYS] = "system call failed",
    [-SHMIPC_ECORRUPT] = "not a shmipc pool, or corrupt state",
    [-SHMIPC_EMSGSIZE] = "message too large",
    [-SHMIPC_EOWNERDEAD] = "lock acquired; its previous holder died holding it",
};

const char *shmipc_strerror(int code)
{
    if (code > 0 || code < SHMIPC_ERRNO_MIN)
        return "unknown error";
    return messages[-code];
}

const char *shmipc_error_detail(void)
{
    return detail;
}

int shmipc_error_set(int code, const char *text)
{
    return shmipc__fail(code, "%s", text ? text : "");
}

int shmipc__fail(int code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    return code;
}

static int code_of_errno(int err)
{
    switch (err) {
    case ENOENT: return SHMIPC_ENOENT;
    case EEXIST: return SHMIPC_EEXIST;
    case EACCES:
    case EPERM: return SHMIPC_EPERM;
    case ENOMEM:
    case ENOSPC:
    case EFBIG: return SHMIPC_ENOMEM;
    case EINVAL:
    case ENAMETOOLONG: return SHMIPC_EINVAL;
    case ETIMEDOUT: return SHMIPC_ETIMEDOUT;
    default: return SHMIPC_ESYS;
    }
}

int shmipc__fail_errno(const char *fmt, ...)
{
    int err = errno;
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof detail)
        snprintf(detail + n, sizeof detail - (size_t)n, ": %s (errno %d)", strerror(err), err);
    errno = err; /* still the caller's to look at */
    return code_of_errno(err);
}

const char *shmipc_version(void)
{
    return SHMIPC_VERSION_STRING;
}

unsigned shmipc_version_number(void)
{
    return SHMIPC_VERSION_NUMBER;
}

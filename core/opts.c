/* opts.c — the options structs callers allocate (shmipc_server_opts, shmipc_client_opts)
 * and their ABI. Each starts with its size, which *_opts_init sets to the sizeof the
 * caller was built with: a program built against an older, smaller layout keeps working
 * with a newer library (the fields it does not know take their defaults), and a newer
 * program's struct works with an older library as long as the fields that library does
 * not know hold their defaults (zero), as copy_struct_from_user does in Linux. */
#include <stdalign.h>
#include <string.h>

#include "handshake.h"

#define OPTS_SIZE_MAX 4096 /* more is no layout of a struct of options, but garbage */

void shmipc_server_opts_init(shmipc_server_opts *opts)
{
    if (opts) {
        memset(opts, 0, sizeof *opts);
        opts->size = sizeof *opts;
    }
}

void shmipc_client_opts_init(shmipc_client_opts *opts)
{
    if (opts) {
        memset(opts, 0, sizeof *opts);
        opts->size = sizeof *opts;
    }
}

/* 1 if the n bytes at p are all zero. */
static int all_zero(const unsigned char *p, size_t n)
{
    while (n && !*p)
        p++, n--;
    return n == 0;
}

/* Copy the caller's struct opts (its size first) into out, cur bytes of this library's
 * layout holding the defaults (zero); align: the struct's alignment. */
static int take(const void *opts, size_t cur, size_t align, void *out, const char *what)
{
    size_t size;

    memset(out, 0, cur);
    memcpy(out, &cur, sizeof cur);
    if (!opts)
        return 0;
    memcpy(&size, opts, sizeof size);
    if (size == 0)
        return shmipc__fail(SHMIPC_EINVAL, "%s.size is 0: fill the options with %s_init()",
                            what, what);
    if (size <= sizeof size || size % align || size > OPTS_SIZE_MAX)
        return shmipc__fail(SHMIPC_EINVAL,
                            "%s.size is %zu, which is no size of a %s (this "
                            "library's is %zu): fill the options with %s_init()",
                            what, size, what, cur, what);
    if (size > cur && !all_zero((const unsigned char *)opts + cur, size - cur))
        return shmipc__fail(SHMIPC_EINVAL,
                            "%s: fields past the %zu bytes this version of "
                            "shmipc knows are set (the caller's struct has %zu): they need a "
                            "newer libshmipc",
                            what, cur, size);
    memcpy((char *)out + sizeof size, (const char *)opts + sizeof size,
           (size < cur ? size : cur) - sizeof size);
    return 0;
}

int shmipc__server_opts_take(const shmipc_server_opts *opts, shmipc_server_opts *out)
{
    return take(opts, sizeof *out, alignof(shmipc_server_opts), out, "shmipc_server_opts");
}

int shmipc__client_opts_take(const shmipc_client_opts *opts, shmipc_client_opts *out)
{
    return take(opts, sizeof *out, alignof(shmipc_client_opts), out, "shmipc_client_opts");
}

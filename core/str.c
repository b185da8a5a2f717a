/* str.c — shmipc_str: a byte string in a shared arena. Its bytes live in a block
 * {uint64_t len; bytes; NUL}; setting makes a new block and switches to it by one store. */
#include <string.h>

#include "container.h"

#define STR_HDR 8u

/* s's block, validated against the extent (its length in *len), or NULL. */
static const char *str_block(const shmipc_str *s, uint64_t *len)
{
    int64_t off = CONT_LOAD(&s->data);
    const char *b = cont_at(s, s->lo, s->hi, off, STR_HDR);
    if (!b)
        return NULL;
    memcpy(len, b, sizeof *len);
    if (!cont_at(s, s->lo, s->hi, off,
                 *len < UINT64_MAX - STR_HDR ? *len + STR_HDR + 1 : *len) ||
        b[STR_HDR + *len] != '\0')
        return NULL;
    return b;
}

/* Check s against a (a zeroed string has no extent yet: it gets a's). */
static int str_writable(shmipc_arena *a, shmipc_str *s)
{
    if (!s)
        return shmipc__fail(SHMIPC_EINVAL, "shmipc_str: NULL");
    if (s->data == 0 && s->lo == 0 && s->hi == 0)
        return shmipc__cont_extent(a, s, sizeof *s, &s->lo, &s->hi);
    return shmipc__cont_check(a, s, sizeof *s, s->lo, s->hi, "shmipc_str");
}

int shmipc_str_set(shmipc_arena *a, shmipc_str *s, const void *bytes, size_t len)
{
    int rc = str_writable(a, s);
    if (rc)
        return rc;
    if (!bytes && len)
        return shmipc__fail(SHMIPC_EINVAL, "shmipc_str_set: NULL bytes");
    uint64_t old_len;
    const char *old = str_block(s, &old_len);
    int64_t off;
    rc = shmipc__cont_alloc(a, s, (uint64_t)len + STR_HDR + 1, &off);
    if (rc)
        return rc;
    char *b = (char *)s + off;
    uint64_t n = len;
    memcpy(b, &n, sizeof n);
    if (len)
        memcpy(b + STR_HDR, bytes, len);
    b[STR_HDR + len] = '\0';
    CONT_STORE(&s->data, off);
    shmipc_free(a, (void *)old);
    return 0;
}

const char *shmipc_str_data(const shmipc_str *s, size_t *len)
{
    uint64_t n = 0;
    const char *b = s ? str_block(s, &n) : NULL;
    if (len)
        *len = b ? (size_t)n : 0;
    return b ? b + STR_HDR : "";
}

const char *shmipc_str_ptr(const shmipc_str *s)
{
    return shmipc_str_data(s, NULL);
}

size_t shmipc_str_len(const shmipc_str *s)
{
    size_t len;
    shmipc_str_data(s, &len);
    return len;
}

void shmipc_str_free(shmipc_arena *a, shmipc_str *s)
{
    if (str_writable(a, s))
        return;
    uint64_t len;
    const char *old = str_block(s, &len);
    CONT_STORE(&s->data, 0);
    shmipc_free(a, (void *)old);
}

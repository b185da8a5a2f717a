/* shmipc_echo.h — the "echo" roles that the C, Python and Rust examples all play, so that
 * any server can be paired with any client (examples/README.md describes the protocol):
 *
 *   server -> client  "sum <n> <fnv hex>"            + an object of n bytes
 *   client -> server  "sum <n> <fnv hex>"            + an object holding those bytes reversed
 *   server -> client  "catalog <count> <digest hex>" + an object holding a catalogue
 *   client -> server  "catalog <count> <digest hex>" + its own catalogue, in reverse order
 *   server -> client  "bye"                          (the client closes and exits 0)
 *
 * Byte i of the server's object of n bytes is (i * 13 + n) & 0xff. Checksums are FNV-1a 64
 * in lowercase hex; the catalogue and its digest are those of shmipc_catalog.h. */
#ifndef SHMIPC_ECHO_H
#define SHMIPC_ECHO_H

#include <inttypes.h>
#include <stdio.h>

#include "shmipc_catalog.h"

#define ECHO_DEFAULT_SERVER "echo"
#define ECHO_DEFAULT_APP "echo-client"
#define ECHO_MSG_MAX 128

static inline uint64_t echo_checksum(const void *p, size_t n)
{
    return catalog_fnv(CATALOG_FNV_INIT, p, n);
}

static inline void echo_fill(unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(i * 13 + n);
}

static inline void echo_reverse(unsigned char *dst, const unsigned char *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = src[n - 1 - i];
}

/* Format "<word> <n> <hex>" into buf (ECHO_MSG_MAX bytes); returns its length. */
static inline size_t echo_format(char *buf, const char *word, uint64_t n, uint64_t hash)
{
    int len = snprintf(buf, ECHO_MSG_MAX, "%s %" PRIu64 " %016" PRIx64, word, n, hash);
    return len < 0 ? 0 : (size_t)len;
}

/* Parse a message of len bytes as "<word> <n> <hex>". 1 if it is one. */
static inline int echo_parse(const char *msg, size_t len, const char *word, uint64_t *n,
                             uint64_t *hash)
{
    char text[ECHO_MSG_MAX + 1], extra;
    size_t wlen = strlen(word);

    if (len > ECHO_MSG_MAX || len <= wlen + 1 || memcmp(msg, word, wlen) != 0 ||
        msg[wlen] != ' ')
        return 0;
    memcpy(text, msg + wlen + 1, len - wlen - 1);
    text[len - wlen - 1] = '\0';
    return sscanf(text, "%" SCNu64 " %" SCNx64 "%c", n, hash, &extra) == 2;
}

#endif /* SHMIPC_ECHO_H */

/* arrow_reader.h — a minimal reader of the Arrow IPC stream format (docs/arrow.md) for the
 * fixed-width columns of a stream lying in memory, read in place.
 *
 * It walks the stream's messages (schema, dictionary batches, record batches), decodes the
 * few flatbuffers tables it needs, and hands each top-level column of each record batch to
 * a callback: integers and floats with a pointer to their values inside the stream, other
 * columns (strings, lists, dictionaries...) by name and length only. Every offset read from
 * the stream is checked against the stream's bounds: a malformed, truncated or hostile
 * stream is an error, never a read outside it. Little-endian hosts and streams only;
 * compressed bodies are refused.
 */
#ifndef ARROW_READER_H
#define ARROW_READER_H

#include <stddef.h>
#include <stdint.h>

enum arrow_kind {
    ARROW_OTHER, /* any other type: values is NULL */
    ARROW_INT,   /* signed integer of `width` bytes */
    ARROW_UINT,  /* unsigned integer of `width` bytes */
    ARROW_FLOAT, /* float (width 4) or double (width 8) */
};

struct arrow_column {
    const char *name; /* NUL-terminated copy, valid during the callback */
    enum arrow_kind kind;
    unsigned width; /* bytes per value (fixed-width kinds) */
    int64_t length; /* values */
    int64_t null_count;
    const uint8_t *validity; /* bit i (LSB first) set: value i is valid; NULL: all valid */
    const void *values;      /* `length` values, aligned to `width`, inside the stream */
};

/* Called for each top-level column of each record batch (batch counts from 0); a non-zero
 * return stops the walk and is returned by arrow_stream_read. */
typedef int (*arrow_column_fn)(void *ctx, int batch, const struct arrow_column *column);

/* Read the stream data[0..size): 0 once its end-of-stream marker (or its end) is reached,
 * -1 with *error set to a static description if it is malformed or unsupported, or the
 * callback's non-zero return. */
int arrow_stream_read(const void *data, size_t size, arrow_column_fn fn, void *ctx,
                      const char **error);

/* Whether value i of a column is valid (not null). */
static inline int arrow_valid(const struct arrow_column *c, int64_t i)
{
    return !c->validity || (c->validity[i >> 3] >> (i & 7)) & 1;
}

#endif

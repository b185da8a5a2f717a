/* arrow_reader.c — see arrow_reader.h. The flatbuffers layout read here is that of Arrow's
 * Message.fbs and Schema.fbs (field ids in the comments); every read is bounds-checked. */
#include "arrow_reader.h"

#include <string.h>

#define MAX_COLUMNS 256 /* top-level columns of a schema */
#define MAX_FIELDS 4096 /* fields of a schema, nested ones included */
#define MAX_DEPTH 32    /* nesting of fields */
#define NAME_MAX_LEN 63

enum {
    TYPE_INT = 2,
    TYPE_FLOAT = 3
}; /* Schema.fbs: Type */
enum {
    HEADER_SCHEMA = 1,
    HEADER_DICTIONARY = 2,
    HEADER_BATCH = 3
}; /* MessageHeader */

/* One flatbuffer (a message's metadata) and a table in it. */
struct fb {
    const uint8_t *p;
    size_t n;
};

struct table {
    const struct fb *b;
    size_t pos, vt;
    uint16_t vtlen, size;
};

struct column_info {
    char name[NAME_MAX_LEN + 1];
    enum arrow_kind kind;
    unsigned width;
    size_t nodes,
        buffers; /* in a record batch: the field's nodes and buffers, children's too */
};

struct reader {
    struct column_info columns[MAX_COLUMNS];
    size_t ncolumns, fields;
    int have_schema;
    const char *error;
};

static uint64_t le(const uint8_t *p, unsigned size)
{
    uint64_t v = 0;

    for (unsigned i = size; i-- > 0;)
        v = v << 8 | p[i];
    return v;
}

static int fail(struct reader *r, const char *why)
{
    r->error = why;
    return -1;
}

static int in_bounds(const struct fb *b, size_t at, size_t len)
{
    return at <= b->n && len <= b->n - at;
}

static int table_at(const struct fb *b, size_t pos, struct table *t)
{
    int64_t vt;

    if (!in_bounds(b, pos, 4))
        return -1;
    vt = (int64_t)pos - (int32_t)le(b->p + pos, 4);
    if (vt < 0 || !in_bounds(b, (size_t)vt, 4))
        return -1;
    t->b = b;
    t->pos = pos;
    t->vt = (size_t)vt;
    t->vtlen = (uint16_t)le(b->p + t->vt, 2);
    t->size = (uint16_t)le(b->p + t->vt + 2, 2);
    if (t->vtlen < 4 || !in_bounds(b, t->vt, t->vtlen) || t->size < 4 ||
        !in_bounds(b, pos, t->size))
        return -1;
    return 0;
}

/* Where field `id` of `len` bytes lies: 1 (*at set), 0 absent, -1 outside its table. */
static int field_at(const struct table *t, unsigned id, size_t len, size_t *at)
{
    size_t slot = 4 + 2 * (size_t)id;
    uint16_t off;

    if (slot + 2 > t->vtlen)
        return 0;
    off = (uint16_t)le(t->b->p + t->vt + slot, 2);
    if (off == 0)
        return 0;
    if (off < 4 || off + len > t->size)
        return -1;
    *at = t->pos + off;
    return 1;
}

static int get_scalar(const struct table *t, unsigned id, unsigned size, uint64_t dflt,
                      uint64_t *out)
{
    size_t at;
    int rc = field_at(t, id, size, &at);

    if (rc < 0)
        return -1;
    *out = rc ? le(t->b->p + at, size) : dflt;
    return 0;
}

/* Follow the offset stored at `at` (forward, never to itself): *target. */
static int follow(const struct fb *b, size_t at, size_t *target)
{
    uint32_t v = (uint32_t)le(b->p + at, 4);

    if (v == 0 || !in_bounds(b, at + v, 1))
        return -1;
    *target = at + v;
    return 0;
}

static int get_ref(const struct table *t, unsigned id, size_t *target)
{
    size_t at;
    int rc = field_at(t, id, 4, &at);

    if (rc <= 0)
        return rc;
    return follow(t->b, at, target) == 0 ? 1 : -1;
}

static int get_table(const struct table *t, unsigned id, struct table *sub)
{
    size_t at;
    int rc = get_ref(t, id, &at);

    if (rc <= 0)
        return rc;
    return table_at(t->b, at, sub) == 0 ? 1 : -1;
}

/* A vector of `count` elements of `elem` bytes from `elems`: 1, 0 absent, -1 bad. */
static int get_vector(const struct table *t, unsigned id, size_t elem, size_t *elems,
                      size_t *count)
{
    size_t at;
    int rc = get_ref(t, id, &at);

    if (rc <= 0)
        return rc;
    if (!in_bounds(t->b, at, 4))
        return -1;
    *count = (size_t)le(t->b->p + at, 4);
    *elems = at + 4;
    return *count <= (t->b->n - *elems) / elem ? 1 : -1;
}

static int vector_table(const struct fb *b, size_t elems, size_t i, struct table *t)
{
    size_t at;

    return follow(b, elems + 4 * i, &at) == 0 ? table_at(b, at, t) : -1;
}

/* Buffers of one node of a type (Schema.fbs: Type), without its children; -1 unsupported. */
static int type_buffers(uint64_t type)
{
    switch (type) {
    case 1: /* Null */ return 0;
    case 13: /* Struct_ */
    case 16: /* FixedSizeList */ return 1;
    case 2:
    case 3:
    case 6:
    case 7:
    case 8:
    case 9:
    case 10:
    case 11: /* Int .. Interval */
    case 12:
    case 15:
    case 17:
    case 18:
    case 21: /* List, FixedSizeBinary, Map, Duration, LargeList */ return 2;
    case 4:
    case 5:
    case 19:
    case 20: /* Binary, Utf8, LargeBinary, LargeUtf8 */ return 3;
    default: /* Union, views, run-end encoded...: not read here */ return -1;
    }
}

/* Count the nodes and buffers of a Field (and its children) in a record batch. */
static int count_field(struct reader *r, const struct table *f, int depth, size_t *nodes,
                       size_t *buffers)
{
    struct table dict, child;
    uint64_t type;
    size_t elems, count;
    int n, rc;

    if (depth > MAX_DEPTH || ++r->fields > MAX_FIELDS)
        return fail(r, "fields nested too deep or too many");
    if ((rc = get_table(f, 4, &dict)) < 0 || get_scalar(f, 2, 1, 0, &type) < 0)
        return fail(r, "bad field");
    ++*nodes;
    if (rc == 1) { /* dictionary-encoded: the batch holds the indices */
        *buffers += 2;
        return 0;
    }
    if ((n = type_buffers(type)) < 0)
        return fail(r, "a column of a type this reader does not know");
    *buffers += (size_t)n;
    if ((rc = get_vector(f, 5, 4, &elems, &count)) < 0)
        return fail(r, "bad children of a field");
    for (size_t i = 0; rc == 1 && i < count; i++)
        if (vector_table(f->b, elems, i, &child) < 0 ||
            count_field(r, &child, depth + 1, nodes, buffers) < 0)
            return fail(r, r->error ? r->error : "bad child field");
    return 0;
}

/* Kind and width of a top-level field: Int (bitWidth 0, is_signed 1), FloatingPoint
 * (precision 0: SINGLE 1, DOUBLE 2); dictionary-encoded fields are ARROW_OTHER. */
static int describe_field(const struct table *f, struct column_info *c)
{
    struct table type, dict;
    uint64_t type_type, bits, is_signed, precision;
    int rc;

    c->kind = ARROW_OTHER;
    c->width = 0;
    if ((rc = get_table(f, 4, &dict)) != 0 || get_scalar(f, 2, 1, 0, &type_type) < 0)
        return rc < 0 ? -1 : 0;
    if ((rc = get_table(f, 3, &type)) <= 0)
        return rc;
    if (type_type == TYPE_INT) {
        if (get_scalar(&type, 0, 4, 0, &bits) < 0 || get_scalar(&type, 1, 1, 0, &is_signed) < 0)
            return -1;
        if (bits == 8 || bits == 16 || bits == 32 || bits == 64) {
            c->kind = is_signed ? ARROW_INT : ARROW_UINT;
            c->width = (unsigned)bits / 8;
        }
    } else if (type_type == TYPE_FLOAT) {
        if (get_scalar(&type, 0, 2, 0, &precision) < 0)
            return -1;
        if (precision == 1 || precision == 2) {
            c->kind = ARROW_FLOAT;
            c->width = precision == 1 ? 4 : 8;
        }
    }
    return 0;
}

static void copy_name(const struct table *f, char *name)
{
    size_t elems, count;

    name[0] = '\0';
    if (get_vector(f, 0, 1, &elems, &count) == 1) {
        count = count < NAME_MAX_LEN ? count : NAME_MAX_LEN;
        memcpy(name, f->b->p + elems, count);
        name[count] = '\0';
    }
}

/* Schema: endianness 0 (Little), fields 1. */
static int read_schema(struct reader *r, const struct table *schema)
{
    struct table f;
    uint64_t endianness;
    size_t elems, count;

    if (r->have_schema)
        return fail(r, "a second schema");
    if (get_scalar(schema, 0, 2, 0, &endianness) < 0 || endianness != 0)
        return fail(r, "not a little-endian schema");
    if (get_vector(schema, 1, 4, &elems, &count) < 0)
        return fail(r, "bad schema fields");
    if (count > MAX_COLUMNS)
        return fail(r, "more columns than this reader takes");
    for (size_t i = 0; i < count; i++) {
        struct column_info *c = &r->columns[i];

        c->nodes = c->buffers = 0;
        if (vector_table(schema->b, elems, i, &f) < 0 || describe_field(&f, c) < 0)
            return fail(r, "bad field");
        if (count_field(r, &f, 0, &c->nodes, &c->buffers) < 0)
            return -1;
        copy_name(&f, c->name);
    }
    r->ncolumns = count;
    r->have_schema = 1;
    return 0;
}

/* Buffer i of a batch (struct Buffer {offset, length: long}) inside the body. */
static int body_buffer(const struct fb *b, size_t elems, size_t i, const uint8_t *body,
                       uint64_t body_len, const uint8_t **at, uint64_t *len)
{
    uint64_t off = le(b->p + elems + 16 * i, 8);

    *len = le(b->p + elems + 16 * i + 8, 8);
    if (off > body_len || *len > body_len - off)
        return -1;
    *at = body + off;
    return 0;
}

/* The column of info `c` whose first node and buffer are `node` and `buf`. */
static int fill_column(struct reader *r, const struct fb *b, const struct column_info *c,
                       size_t nodes, size_t node, size_t buffers, size_t buf,
                       const uint8_t *body, uint64_t body_len, struct arrow_column *out)
{
    const uint8_t *validity, *values;
    uint64_t validity_len, values_len;

    memset(out, 0, sizeof *out);
    out->name = c->name;
    out->kind = c->kind;
    out->width = c->width;
    out->length = (int64_t)le(b->p + nodes + 16 * node, 8);
    out->null_count = (int64_t)le(b->p + nodes + 16 * node + 8, 8);
    if (out->length < 0 || out->null_count < 0 || out->null_count > out->length)
        return fail(r, "bad field node");
    if (c->kind == ARROW_OTHER)
        return 0;
    if (body_buffer(b, buffers, buf, body, body_len, &validity, &validity_len) < 0 ||
        body_buffer(b, buffers, buf + 1, body, body_len, &values, &values_len) < 0)
        return fail(r, "a buffer outside the message body");
    if ((uint64_t)out->length > values_len / c->width)
        return fail(r, "a values buffer shorter than its column");
    if ((uintptr_t)values % c->width != 0)
        return fail(r, "a values buffer not aligned to its type");
    if (out->null_count > 0) {
        if (validity_len < ((uint64_t)out->length + 7) / 8)
            return fail(r, "a validity bitmap shorter than its column");
        out->validity = validity;
    }
    out->values = values;
    return 0;
}

/* RecordBatch: length 0, nodes 1 (struct FieldNode {length, null_count: long}), buffers 2,
 * compression 3. */
static int read_batch(struct reader *r, const struct table *batch, const uint8_t *body,
                      uint64_t body_len, int index, arrow_column_fn fn, void *ctx)
{
    struct table compression;
    size_t nodes, nnodes, buffers, nbuffers, node = 0, buf = 0;
    struct arrow_column column;
    int rc;

    if (!r->have_schema)
        return fail(r, "a record batch before the schema");
    if (get_table(batch, 3, &compression) != 0)
        return fail(r, "a compressed (or bad) record batch");
    if (get_vector(batch, 1, 16, &nodes, &nnodes) != 1 ||
        get_vector(batch, 2, 16, &buffers, &nbuffers) != 1)
        return fail(r, "bad record batch");
    for (size_t i = 0; i < r->ncolumns; i++) {
        const struct column_info *c = &r->columns[i];

        if (c->nodes > nnodes - node || c->buffers > nbuffers - buf)
            return fail(r, "fewer nodes or buffers than the schema says");
        if (fill_column(r, batch->b, c, nodes, node, buffers, buf, body, body_len, &column) < 0)
            return -1;
        if ((rc = fn(ctx, index, &column)) != 0)
            return rc;
        node += c->nodes;
        buf += c->buffers;
    }
    return 0;
}

/* Message: version 0, header_type 1, header 2, bodyLength 3. */
static int read_message(struct reader *r, const struct fb *meta, const uint8_t *body,
                        size_t body_room, uint64_t *body_len, int *batches, arrow_column_fn fn,
                        void *ctx)
{
    struct table message, header;
    uint64_t version, header_type;
    size_t root;
    int rc;

    if (!in_bounds(meta, 0, 4) || follow(meta, 0, &root) < 0 ||
        table_at(meta, root, &message) < 0)
        return fail(r, "bad message metadata");
    if (get_scalar(&message, 0, 2, 0, &version) < 0 || version < 3 ||
        get_scalar(&message, 1, 1, 0, &header_type) < 0 ||
        get_scalar(&message, 3, 8, 0, body_len) < 0 || get_table(&message, 2, &header) != 1)
        return fail(r, "bad message (or an Arrow version before 1.0)");
    if (*body_len > body_room)
        return fail(r, "a message body past the end of the stream");
    switch (header_type) {
    case HEADER_SCHEMA: return read_schema(r, &header);
    case HEADER_DICTIONARY: /* dictionary values: not fixed-width columns */ return 0;
    case HEADER_BATCH:
        rc = read_batch(r, &header, body, *body_len, *batches, fn, ctx);
        ++*batches;
        return rc;
    default: return fail(r, "a message that is not part of a stream");
    }
}

int arrow_stream_read(const void *data, size_t size, arrow_column_fn fn, void *ctx,
                      const char **error)
{
    static struct reader zero;
    struct reader r = zero;
    const uint8_t *p = data;
    size_t pos = 0;
    int batches = 0, rc = 0;

    while (rc == 0 && pos < size) {
        uint64_t len, body_len;
        struct fb meta;

        if (size - pos < 4)
            return *error = "a truncated message", -1;
        len = le(p + pos, 4);
        pos += 4;
        if (len == 0xFFFFFFFFu) { /* continuation marker, then the length */
            if (size - pos < 4)
                return *error = "a truncated message", -1;
            len = le(p + pos, 4);
            pos += 4;
        }
        if (len == 0) /* end of stream */
            return 0;
        if (len > size - pos)
            return *error = "message metadata past the end of the stream", -1;
        meta = (struct fb){p + pos, (size_t)len};
        pos += (size_t)len;
        rc = read_message(&r, &meta, p + pos, size - pos, &body_len, &batches, fn, ctx);
        if (rc == 0)
            pos += (size_t)body_len;
    }
    if (rc < 0 && r.error)
        *error = r.error;
    return rc;
}

/* columns — reads Arrow tables that a peer lends (shmipc.arrow.write in Python,
 * shmipc::arrow::write in Rust) in place, with the small reader of arrow_reader.c, and
 * prints each column of each record batch:
 *
 *   batch B column NAME: ROWS rows, NULLS nulls, sum S      (integers and floats)
 *   batch B column NAME: ROWS rows, NULLS nulls             (any other type)
 *
 * then answers "ok", or "bad: WHY" for a stream it cannot read. Stops at the message "end".
 *
 *   columns SERVER
 *
 * Exit status: 0 at "end", 3 could not connect, 4 a session error.
 * Build: cc columns.c arrow_reader.c $(pkg-config --cflags --libs shmipc)
 */
#include <stdio.h>
#include <string.h>

#include <shmipc.h>

#include "arrow_reader.h"

static double value(const struct arrow_column *c, int64_t i)
{
    const void *v = c->values;

    switch (c->kind * 16 + c->width) {
    case ARROW_INT * 16 + 1: return ((const int8_t *)v)[i];
    case ARROW_INT * 16 + 2: return ((const int16_t *)v)[i];
    case ARROW_INT * 16 + 4: return ((const int32_t *)v)[i];
    case ARROW_INT * 16 + 8: return (double)((const int64_t *)v)[i];
    case ARROW_UINT * 16 + 1: return ((const uint8_t *)v)[i];
    case ARROW_UINT * 16 + 2: return ((const uint16_t *)v)[i];
    case ARROW_UINT * 16 + 4: return ((const uint32_t *)v)[i];
    case ARROW_UINT * 16 + 8: return (double)((const uint64_t *)v)[i];
    case ARROW_FLOAT * 16 + 4: return ((const float *)v)[i];
    default: return ((const double *)v)[i];
    }
}

/* The name as printable ASCII: any other byte (of UTF-8, or garbage) as \xHH. */
static void print_name(const char *name)
{
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        printf(*p >= 0x20 && *p < 0x7f && *p != '\\' ? "%c" : "\\x%02x", *p);
}

static int print_column(void *ctx, int batch, const struct arrow_column *c)
{
    double sum = 0;

    (void)ctx;
    printf("batch %d column ", batch);
    print_name(c->name);
    printf(": %lld rows, %lld nulls", (long long)c->length, (long long)c->null_count);
    if (c->kind != ARROW_OTHER) {
        for (int64_t i = 0; i < c->length; i++)
            if (arrow_valid(c, i))
                sum += value(c, i);
        printf(", sum %.17g", sum);
    }
    printf("\n");
    return 0;
}

static int fail(const char *what, int rc, int status)
{
    fprintf(stderr, "columns: %s: %s (%s)\n", what, shmipc_strerror(rc), shmipc_error_detail());
    return status;
}

int main(int argc, char **argv)
{
    shmipc_session *s;
    int rc;

    if (argc != 2) {
        fprintf(stderr, "usage: columns SERVER\n");
        return 3;
    }
    if ((rc = shmipc_connect(argv[1], "arrow-columns", NULL, &s)) != 0)
        return fail("connect", rc, 3);
    for (;;) {
        char msg[SHMIPC_MSG_MAX], answer[SHMIPC_MSG_MAX] = "ok";
        const char *why = NULL;
        shmipc_obj *obj;
        size_t len;

        if ((rc = shmipc_recv(s, msg, sizeof msg, &len, &obj, -1)) != 0) {
            shmipc_session_close(s);
            return fail("recv", rc, 4);
        }
        if (len == 3 && memcmp(msg, "end", 3) == 0 && !obj)
            break;
        if (!obj || arrow_stream_read(shmipc_obj_ptr(obj), shmipc_obj_size(obj), print_column,
                                      NULL, &why) != 0)
            snprintf(answer, sizeof answer, "bad: %s", obj ? why : "no object");
        fflush(stdout);
        shmipc_obj_unref(obj);
        if ((rc = shmipc_send(s, answer, strlen(answer), NULL)) != 0) {
            shmipc_session_close(s);
            return fail("send", rc, 4);
        }
    }
    shmipc_session_close(s);
    return 0;
}

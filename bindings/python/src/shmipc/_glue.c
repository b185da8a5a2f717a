/* _glue.c — the binding's additions to the C API (declared in _glue.h), compiled into the
 * cffi extension shmipc._lib. */
#include <stdint.h>

#include "shmipc.h"

#include "_glue.h"

/* rc, after describing o (the handle a call just made, if it succeeded) into out. */
static int describe(int rc, shmipc_obj *o, struct shmipc_py_obj *out)
{
    out->handle = rc == 0 ? o : NULL;
    if (out->handle) {
        out->bytes = shmipc_obj_ptr(o);
        out->size = shmipc_obj_size(o);
        out->writable = shmipc_obj_writable(o);
    }
    return rc;
}

int shmipc_py_obj_new(shmipc_arena *a, size_t size, struct shmipc_py_obj *out)
{
    shmipc_obj *o = NULL;
    int rc = shmipc_obj_new(a, size, &o);
    return describe(rc, o, out);
}

int shmipc_py_borrow(shmipc_session *s, const shmipc_blob *b, struct shmipc_py_obj *out)
{
    shmipc_obj *o = NULL;
    int rc = shmipc_borrow(s, b, &o);
    return describe(rc, o, out);
}

int shmipc_py_recv(shmipc_session *s, int timeout_ms, void *buf, size_t cap, size_t *len,
                   struct shmipc_py_obj *out)
{
    shmipc_obj *o = NULL;
    int rc = shmipc_recv(s, buf, cap, len, &o, timeout_ms);

    describe(rc, o, out);
    return rc == 0 ? (int)*len : rc; /* a message has at most SHMIPC_MSG_MAX bytes */
}

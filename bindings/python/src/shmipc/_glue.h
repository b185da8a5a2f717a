/* _glue.h — what the binding adds to the C API (no preprocessor lines: _build_ffi.py hands
 * this file to cffi's cdef as it is). What a Python Object needs to know of a handle, got in
 * the same call that makes the handle: every cffi call lets go of the GIL and takes it back,
 * so one call instead of four. */
struct shmipc_py_obj {
    shmipc_obj *handle;
    char *bytes; /* its first byte in this process: cffi's buffer of it needs no cast */
    size_t size;
    int writable;
};
int shmipc_py_obj_new(shmipc_arena *a, size_t size, struct shmipc_py_obj *out);
int shmipc_py_borrow(shmipc_session *s, const shmipc_blob *b, struct shmipc_py_obj *out);
/* shmipc_recv with the timeout second, where shmipc_server_accept has it; the message's
 * length (>= 0) or a negative SHMIPC_E* code, so that Python reads no out-parameter for it
 * (*len is set too: SHMIPC_EMSGSIZE's length). */
int shmipc_py_recv(shmipc_session *s, int timeout_ms, void *buf, size_t cap, size_t *len,
                   struct shmipc_py_obj *out);

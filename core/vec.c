/* vec.c — shmipc_vec: a growable array of fixed-size elements in a shared arena. A push
 * writes the element, then publishes it by storing the length; growth copies into a new
 * block, switches the data offset, then the capacity, then frees the old block. */
#include <string.h>

#include "container.h"

/* The elements of v (cap of them, validated against the extent), or NULL. */
static char *vec_data(const shmipc_vec *v, uint64_t *cap)
{
    if (v->magic != SHMIPC_VEC_MAGIC || v->elem_size == 0)
        return NULL;
    *cap = CONT_LOAD(&v->cap);
    int64_t off = CONT_LOAD(&v->data);
    return cont_at(v, v->lo, v->hi, off, cont_mul(*cap, v->elem_size));
}

static int vec_writable(shmipc_arena *a, const shmipc_vec *v)
{
    if (!v || v->magic != SHMIPC_VEC_MAGIC || v->elem_size == 0)
        return shmipc__fail(SHMIPC_EINVAL, "shmipc_vec: not an initialised vector");
    return shmipc__cont_check(a, v, sizeof *v, v->lo, v->hi, "shmipc_vec");
}

/* Grow v's block to hold cap elements (v is checked, cap > v->cap). */
static int vec_grow(shmipc_arena *a, shmipc_vec *v, uint64_t cap)
{
    uint64_t bytes = cont_mul(cap, v->elem_size), old_cap = 0;
    char *old = vec_data(v, &old_cap);
    int64_t off;
    int rc = shmipc__cont_alloc(a, v, bytes, &off);
    if (rc)
        return rc;
    if (old)
        memcpy((char *)v + off, old, v->len * v->elem_size);
    CONT_STORE(&v->data, off);
    CONT_STORE(&v->cap, cap);
    shmipc_free(a, old);
    return 0;
}

int shmipc_vec_init(shmipc_arena *a, shmipc_vec *v, size_t elem_size, size_t capacity)
{
    int64_t lo, hi;
    if (elem_size == 0)
        return shmipc__fail(SHMIPC_EINVAL, "shmipc_vec_init: elem_size 0");
    int rc = shmipc__cont_extent(a, v, sizeof *v, &lo, &hi);
    if (rc)
        return rc;
    *v = (shmipc_vec){.elem_size = elem_size, .lo = lo, .hi = hi};
    CONT_STORE(&v->magic, SHMIPC_VEC_MAGIC);
    return capacity ? shmipc_vec_reserve(a, v, capacity) : 0;
}

int shmipc_vec_reserve(shmipc_arena *a, shmipc_vec *v, size_t capacity)
{
    int rc = vec_writable(a, v);
    if (rc)
        return rc;
    uint64_t cap = 0;
    if (!vec_data(v, &cap))
        cap = 0;
    if (v->len > cap)
        return shmipc__fail(SHMIPC_ECORRUPT, "shmipc_vec: length beyond capacity");
    return capacity > cap ? vec_grow(a, v, capacity) : 0;
}

int shmipc_vec_push(shmipc_arena *a, shmipc_vec *v, const void *elem)
{
    int rc = vec_writable(a, v);
    if (rc)
        return rc;
    if (!elem)
        return shmipc__fail(SHMIPC_EINVAL, "shmipc_vec_push: NULL element");
    uint64_t cap = 0;
    char *data = vec_data(v, &cap);
    if (!data)
        cap = 0;
    if (v->len > cap)
        return shmipc__fail(SHMIPC_ECORRUPT, "shmipc_vec: length beyond capacity");
    if (v->len == cap) {
        rc = vec_grow(a, v, cap < 8 ? 8 : cont_mul(cap, 2));
        if (rc)
            return rc;
        data = vec_data(v, &cap);
    }
    memcpy(data + v->len * v->elem_size, elem, v->elem_size);
    CONT_STORE(&v->len, v->len + 1);
    return 0;
}

void *shmipc_vec_at(const shmipc_vec *v, size_t i)
{
    uint64_t cap = 0;
    char *data = v ? vec_data(v, &cap) : NULL;
    if (!data || i >= CONT_LOAD(&v->len) || i >= cap)
        return NULL;
    return data + i * v->elem_size;
}

size_t shmipc_vec_len(const shmipc_vec *v)
{
    uint64_t cap = 0, len = v ? CONT_LOAD(&v->len) : 0;
    if (!v || !vec_data(v, &cap))
        return 0;
    return len <= cap ? (size_t)len : 0;
}

int shmipc_vec_pop(shmipc_vec *v)
{
    size_t len = shmipc_vec_len(v);
    if (!v || v->magic != SHMIPC_VEC_MAGIC)
        return shmipc__fail(SHMIPC_EINVAL, "shmipc_vec_pop: not an initialised vector");
    if (len == 0)
        return shmipc__fail(SHMIPC_ENOENT, "shmipc_vec_pop: empty");
    CONT_STORE(&v->len, len - 1);
    return 0;
}

void shmipc_vec_clear(shmipc_vec *v)
{
    if (v && v->magic == SHMIPC_VEC_MAGIC)
        CONT_STORE(&v->len, 0);
}

void shmipc_vec_free(shmipc_arena *a, shmipc_vec *v)
{
    if (vec_writable(a, v))
        return;
    uint64_t cap = 0;
    char *data = vec_data(v, &cap);
    CONT_STORE(&v->len, 0);
    CONT_STORE(&v->data, 0);
    CONT_STORE(&v->cap, 0);
    shmipc_free(a, data);
}

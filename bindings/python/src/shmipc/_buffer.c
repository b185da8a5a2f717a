/* _buffer.c — the base type of shmipc.Object and shmipc.Named: a buffer exporter over shared
 * memory that counts its live exports.
 *
 * This is the one piece that cffi cannot express before Python 3.12 (PEP 688): a type whose
 * instances `memoryview()` and `numpy.frombuffer()` accept, that knows how many of those views
 * are alive, and that refuses to let go of the memory while any is. An exporter holds an
 * `owner` (the cffi handle whose finaliser drops the C reference) for as long as it is bound;
 * every view holds the exporter, so the memory outlives every view, whatever is dropped
 * first. release() ends the hold early, but only when no export is alive.
 *
 * An exporter takes no address: it re-exports the memory of another buffer exporter (the
 * binding passes cffi's ffi.buffer of the object's bytes), whose buffer it holds while bound.
 * So it gives Python no access to memory that Python could not reach already; a shmipc
 * object cannot be made to stand for arbitrary memory.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

typedef struct {
    PyObject_HEAD PyObject *owner; /* NULL once released */
    Py_buffer source;              /* the memory re-exported, held while owner is */
    char *buf;
    Py_ssize_t len;
    char readonly;
    Py_ssize_t exports;
    PyObject *weakrefs;
} Exporter;

static PyObject *exporter_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    PyObject *owner, *memory;
    int readonly;
    Exporter *self;

    if (kwds && PyDict_GET_SIZE(kwds)) {
        PyErr_SetString(PyExc_TypeError, "shmipc objects take no keyword arguments");
        return NULL;
    }
    if (!PyArg_ParseTuple(args, "OOp:shmipc object (made by alloc, recv, borrow or named)",
                          &owner, &memory, &readonly))
        return NULL;
    self = (Exporter *)type->tp_alloc(type, 0);
    if (!self)
        return NULL;
    if (PyObject_GetBuffer(memory, &self->source,
                           PyBUF_SIMPLE | (readonly ? 0 : PyBUF_WRITABLE)) < 0) {
        Py_DECREF(self);
        return NULL;
    }
    Py_INCREF(owner);
    self->owner = owner;
    self->buf = self->source.buf;
    self->len = self->source.len;
    self->readonly = (char)readonly;
    return (PyObject *)self;
}

/* Let go of the owner and of the memory re-exported. */
static void exporter_unbind(Exporter *self)
{
    if (self->owner)
        PyBuffer_Release(&self->source);
    Py_CLEAR(self->owner);
    self->buf = NULL;
    self->len = 0;
}

/* One collected while it still holds its memory warns (ResourceWarning "unreleased <repr>",
 * shown under -X dev), as files do. In C: it runs for every object a program receives. */
static void exporter_finalize(Exporter *self)
{
    PyObject *type, *value, *traceback;

    if (!self->owner)
        return;
    PyErr_Fetch(&type, &value, &traceback);
    if (PyErr_ResourceWarning((PyObject *)self, 1, "unreleased %R", (PyObject *)self) < 0)
        PyErr_WriteUnraisable((PyObject *)self);
    PyErr_Restore(type, value, traceback);
}

static void exporter_dealloc(Exporter *self)
{
    PyTypeObject *type = Py_TYPE(self);

    /* a subclass's dealloc (Python's) has run the finaliser already */
    if (type->tp_dealloc == (destructor)exporter_dealloc &&
        PyObject_CallFinalizerFromDealloc((PyObject *)self) < 0)
        return; /* resurrected */
    if (self->weakrefs)
        PyObject_ClearWeakRefs((PyObject *)self);
    exporter_unbind(self);
    type->tp_free((PyObject *)self);
    Py_DECREF(type); /* instances of heap types hold their type */
}

static int exporter_getbuffer(Exporter *self, Py_buffer *view, int flags)
{
    if (!self->owner) {
        PyErr_SetString(PyExc_ValueError, "operation on a released shmipc object");
        view->obj = NULL;
        return -1;
    }
    if ((flags & PyBUF_WRITABLE) && self->readonly) {
        PyErr_SetString(PyExc_BufferError,
                        "this shmipc object is read-only (borrowed from a lend-provider peer)");
        view->obj = NULL;
        return -1;
    }
    if (PyBuffer_FillInfo(view, (PyObject *)self, self->buf, self->len, self->readonly, flags) <
        0)
        return -1;
    self->exports++;
    return 0;
}

static void exporter_releasebuffer(Exporter *self, Py_buffer *view)
{
    (void)view;
    self->exports--;
}

static PyObject *exporter_release(Exporter *self, PyObject *unused)
{
    (void)unused;
    if (self->exports > 0)
        return PyErr_Format(
            PyExc_BufferError,
            "cannot release a shmipc object while %zd view%s of it (memoryview, "
            "numpy array, cffi buffer) %s alive; drop them first",
            self->exports, self->exports == 1 ? "" : "s", self->exports == 1 ? "is" : "are");
    exporter_unbind(self);
    Py_RETURN_NONE;
}

static PyObject *exporter_get_owner(Exporter *self, void *closure)
{
    (void)closure;
    if (!self->owner) {
        PyErr_SetString(PyExc_ValueError, "operation on a released shmipc object");
        return NULL;
    }
    Py_INCREF(self->owner);
    return self->owner;
}

static PyObject *exporter_get_released(Exporter *self, void *closure)
{
    (void)closure;
    return PyBool_FromLong(self->owner == NULL);
}

static PyObject *exporter_get_address(Exporter *self, void *closure)
{
    (void)closure;
    return PyLong_FromUnsignedLongLong((unsigned long long)(uintptr_t)self->buf);
}

static Py_ssize_t exporter_length(Exporter *self)
{
    return self->len;
}

static PyMethodDef exporter_methods[] = {
    {"release", (PyCFunction)exporter_release, METH_NOARGS,
     "Let go of the memory now. Raises BufferError while a view of it is alive; a no-op once "
     "released."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef exporter_getset[] = {
    {"_owner", (getter)exporter_get_owner, NULL, "the handle that keeps the memory", NULL},
    {"released", (getter)exporter_get_released, NULL, "True once release() has run", NULL},
    {"address", (getter)exporter_get_address, NULL,
     "address of the first byte in this process (0 once released)", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMemberDef exporter_members[] = {
    {"nbytes", T_PYSSIZET, offsetof(Exporter, len), READONLY, "size in bytes"},
    {"readonly", T_BOOL, offsetof(Exporter, readonly), READONLY,
     "True if this process may not write the bytes"},
    {"exports", T_PYSSIZET, offsetof(Exporter, exports), READONLY,
     "views (memoryview, numpy, cffi) of the bytes alive now"},
    {"__weaklistoffset__", T_PYSSIZET, offsetof(Exporter, weakrefs), READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot exporter_slots[] = {
    {Py_tp_doc, "Shared memory that memoryview() and numpy.frombuffer() read in place."},
    {Py_tp_new, exporter_new},
    {Py_tp_dealloc, exporter_dealloc},
    {Py_tp_finalize, exporter_finalize},
    {Py_tp_methods, exporter_methods},
    {Py_tp_getset, exporter_getset},
    {Py_tp_members, exporter_members},
    {Py_sq_length, exporter_length},
    {Py_bf_getbuffer, exporter_getbuffer},
    {Py_bf_releasebuffer, exporter_releasebuffer},
    {0, NULL},
};

static PyType_Spec exporter_spec = {
    .name = "shmipc._buffer.Exporter",
    .basicsize = sizeof(Exporter),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .slots = exporter_slots,
};

static int buffer_exec(PyObject *module)
{
    PyObject *type = PyType_FromSpec(&exporter_spec);

    if (!type)
        return -1;
    if (PyModule_AddObject(module, "Exporter", type) < 0) {
        Py_DECREF(type);
        return -1;
    }
    return 0;
}

static PyModuleDef_Slot buffer_slots[] = {
    {Py_mod_exec, buffer_exec},
    {0, NULL},
};

static struct PyModuleDef buffer_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "shmipc._buffer",
    .m_doc = "The buffer-exporting base type of shmipc objects.",
    .m_size = 0,
    .m_slots = buffer_slots,
};

PyMODINIT_FUNC PyInit__buffer(void)
{
    return PyModuleDef_Init(&buffer_module);
}

"""Structures in shared memory through a cffi cdef of a C header, and offset pointers."""

import cffi
import pytest

import echo_common  # the catalogue of the examples (conftest puts them on the path)
import shmipc
from conftest import TIMEOUT

SHAPES = """
#include <stdint.h>
#include <shmipc/offptr.h>
struct point { double x, y; shmipc_rel next; };
struct shape { uint32_t npoints; uint32_t flags; shmipc_rel first; };
"""


@pytest.fixture
def ffi(tmp_path):
    header = tmp_path / "shapes.h"
    header.write_text(SHAPES)
    ffi = cffi.FFI()
    ffi.cdef(shmipc.cdef_from_header(str(header)))
    return ffi


def test_struct_reads_and_writes_in_place(shared_pair, ffi):
    obj = shared_pair.owner.alloc(ffi.sizeof("struct shape") + 3 * ffi.sizeof("struct point"))
    shape = shmipc.struct(obj, "struct shape *", ffi)
    shape.npoints, shape.flags = 3, 0xABCD
    assert bytes(memoryview(obj)[:8]) == (3).to_bytes(4, "little") + (0xABCD).to_bytes(4, "little")
    with pytest.raises(BufferError):  # the struct is a view of the object
        obj.release()
    del shape
    obj.release()


def test_a_linked_structure_through_offset_pointers(shared_pair, ffi):
    size = ffi.sizeof("struct shape") + 3 * ffi.sizeof("struct point")
    obj = shared_pair.owner.alloc(size)
    shape = shmipc.struct(obj, "struct shape *", ffi)
    points = [
        shmipc.struct(
            obj,
            "struct point *",
            ffi,
            offset=ffi.sizeof("struct shape") + i * ffi.sizeof("struct point"),
        )
        for i in range(3)
    ]
    link = ffi.addressof(shape, "first")
    for i, point in enumerate(points):
        point.x, point.y = i, i * 2.0
        shmipc.rel_set(ffi, point.next, None)
        shmipc.rel_set(ffi, link, point)
        link = ffi.addressof(point, "next")
    shape.npoints = 3
    del shape, points, point, link
    shared_pair.owner.send(b"shape", obj)
    obj.release()

    _, got = shared_pair.peer.recv(timeout=TIMEOUT)  # elsewhere: another address, same links
    shape = shmipc.struct(got, "struct shape *", ffi)
    walked = []
    point = shmipc.rel_get(ffi, shape.first, "struct point *", within=got)
    while point is not None:
        walked.append((point.x, point.y))
        point = shmipc.rel_get(ffi, point.next, "struct point *", within=got)
    assert walked == [(0.0, 0.0), (1.0, 2.0), (2.0, 4.0)]
    assert shmipc.rel_get(ffi, ffi.addressof(shape, "first")) is not None  # a pointer works


def test_offset_pointers_out_of_the_object_are_refused(shared_pair, ffi):
    obj = shared_pair.owner.alloc(ffi.sizeof("struct shape"))
    shape = shmipc.struct(obj, "struct shape *", ffi)
    for off in (-8, ffi.sizeof("struct shape"), 1 << 40, -(1 << 40)):
        shape.first.off = off
        with pytest.raises(ValueError, match="outside the object"):
            shmipc.rel_get(ffi, shape.first, "struct point *", within=obj)
    shape.first.off = 0  # points at itself: inside, but a point does not fit after it
    with pytest.raises(ValueError, match="outside"):
        shmipc.rel_get(ffi, shape.first, "struct point *", within=obj, count=2)
    shape.first.off = shmipc.REL_NULL
    assert shmipc.rel_get(ffi, shape.first, "struct point *", within=obj) is None
    with pytest.raises(TypeError):
        shmipc.rel_get(ffi, shape.npoints)
    with pytest.raises(TypeError):
        shmipc.rel_get(ffi, shape.first, within=b"not an object")


def test_struct_checks_type_and_room(shared_pair, ffi):
    obj = shared_pair.owner.alloc(16)
    with pytest.raises(ValueError, match="needs"):
        shmipc.struct(obj, "struct shape *", ffi, offset=8)
    with pytest.raises(ValueError):
        shmipc.struct(obj, "struct point *", ffi, offset=-1)
    with pytest.raises(TypeError, match="pointer type"):
        shmipc.struct(obj, "struct shape", ffi)


# ---- the catalogue of the examples ------------------------------------------------------------


def _catalogue(pair, count):
    obj = pair.owner.alloc(echo_common.catalog_size(count))
    echo_common.catalog_build(obj, count, reversed_order=True)
    return obj


def test_the_python_catalogue_matches_its_record_set(shared_pair):
    obj = _catalogue(shared_pair, 37)
    assert echo_common.catalog_digest(obj) == (echo_common.record_set_digest(37, True), 37)
    assert echo_common.catalog_digest(obj)[0] != echo_common.record_set_digest(37, False)


@pytest.mark.parametrize(
    "damage", ["magic", "first", "name", "tags", "count", "loop", "unterminated"]
)
def test_a_malformed_catalogue_is_refused_never_followed(shared_pair, damage):
    ffi = echo_common.ffi
    obj = _catalogue(shared_pair, 5)
    cat = shmipc.struct(obj, "struct catalog *", ffi)
    record = shmipc.rel_get(ffi, cat.first, "struct catalog_record *")
    if damage == "magic":
        cat.magic += 1
    elif damage == "first":
        cat.first.off = 1 << 30
    elif damage == "name":
        record.name.off = -(1 << 20)
    elif damage == "tags":  # record 4 has no tags; record 3 has 3: claim far more
        shmipc.rel_get(ffi, record.next, "struct catalog_record *").ntags = 1 << 28
    elif damage == "count":
        cat.count -= 1
    elif damage == "loop":  # the last record points back at the first
        last = record
        while following := shmipc.rel_get(ffi, last.next, "struct catalog_record *"):
            last = following
        shmipc.rel_set(ffi, last.next, record)
    else:  # a name that runs to the end of the object without its NUL
        memoryview(obj)[cat.used :] = b"x" * (obj.nbytes - cat.used)
        shmipc.rel_set(ffi, record.name, ffi.cast("char *", obj.address + obj.nbytes - 1))
    del cat, record
    with pytest.raises(echo_common.Malformed):
        echo_common.catalog_digest(obj)

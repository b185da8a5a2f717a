"""Objects: the buffer protocol, views and their lifetimes, release, read-only borrows."""

import gc
import os

import numpy
import pytest

import shmipc
from conftest import TIMEOUT, connect_pair, open_server
from shmipc import ffi


def test_an_object_is_a_buffer(shared_pair):
    obj = shared_pair.owner.alloc(4096)
    assert len(obj) == obj.nbytes == obj.size == 4096
    assert obj.writable and not obj.readonly and obj.address % 16 == 0
    view = memoryview(obj)
    assert view.nbytes == 4096 and view.format == "B" and not view.readonly
    view[:4] = b"abcd"
    array = numpy.frombuffer(obj, dtype=numpy.float32)
    assert array.shape == (1024,) and array.flags.writeable
    array[1:] = 1.5  # the same memory: the view sees it
    assert bytes(view[:4]) == b"abcd" and view[4:8].cast("f")[0] == 1.5
    assert "4096 bytes" in repr(obj)


def test_release_refuses_while_a_view_is_alive(shared_pair):
    obj = shared_pair.owner.alloc(256)
    for make_view in (
        memoryview,
        lambda o: numpy.frombuffer(o, dtype=numpy.uint8),
        lambda o: ffi.from_buffer(o),
        lambda o: memoryview(o)[10:20],
    ):
        view = make_view(obj)
        assert obj.exports == 1
        with pytest.raises(BufferError, match="1 view"):
            obj.release()
        del view
        assert obj.exports == 0
    with pytest.raises(BufferError, match="2 views"):
        with obj:
            first, second = memoryview(obj), numpy.frombuffer(obj, dtype=numpy.uint8)
    del first, second
    obj.release()
    obj.release()  # a no-op once released
    assert obj.released and obj.nbytes == 0 and "released" in repr(obj)


def test_a_released_object_refuses_use(shared_pair):
    with shared_pair.owner.alloc(64) as obj:
        pass
    with pytest.raises(ValueError, match="released"):
        memoryview(obj)
    with pytest.raises(ValueError, match="released"):
        shared_pair.owner.send(b"x", obj)
    with pytest.raises(ValueError, match="released"):
        shared_pair.owner.lend(obj)


def test_views_outlive_the_session_the_server_and_the_object(name, provider):
    server = open_server(name, provider)
    owner, peer = connect_pair(server)
    data = os.urandom(100_000)
    mine = owner.alloc(len(data))
    memoryview(mine)[:] = data
    owner.send(b"", mine)
    borrowed = peer.recv(timeout=TIMEOUT)[1]
    views = [memoryview(mine), numpy.frombuffer(borrowed, dtype=numpy.uint8)]
    del mine, borrowed
    for closable in (peer, owner, server):  # the worst order: everything else goes first
        closable.close()
    del peer, owner, server
    gc.collect()
    assert views[0] == data and views[1].tobytes() == data


def test_the_memory_goes_when_the_last_holder_lets_go(pair):
    arena = pair.owner.arena
    baseline = arena.stats()
    obj = pair.owner.alloc(10_000)
    assert arena.stats().used >= baseline.used + 10_000
    pair.owner.send(b"", obj)
    obj.release()  # the loan keeps it
    assert arena.stats().used >= baseline.used + 10_000
    _, borrowed = pair.peer.recv(timeout=TIMEOUT)
    array = numpy.frombuffer(borrowed, dtype=numpy.uint8)
    del borrowed  # the array keeps it
    assert arena.stats().used >= baseline.used + 10_000
    del array
    assert arena.stats().used == baseline.used
    assert arena.stats().allocations == baseline.allocations


def test_alloc_checks_its_size(shared_pair):
    with pytest.raises(shmipc.InvalidArgument):
        shared_pair.owner.alloc(0)
    with pytest.raises(shmipc.InvalidArgument, match="negative"):
        shared_pair.owner.alloc(-1)
    with pytest.raises(MemoryError) as full:
        shared_pair.owner.alloc(1 << 40)
    assert isinstance(full.value, shmipc.OutOfMemory)
    for bad in (1.5, "10", None):
        with pytest.raises(TypeError):
            shared_pair.owner.alloc(bad)


def test_objects_come_only_from_the_library():
    with pytest.raises(TypeError):
        shmipc.Object()
    # No address and length: an Object re-exports memory some buffer exports already, so it
    # is no read/write primitive over arbitrary memory.
    with pytest.raises(TypeError):
        shmipc.Object(None, 0x1000, 10, False)
    with pytest.raises(TypeError, match="bytes-like"):
        shmipc.Object(None, 0x1000, False)
    with pytest.raises(BufferError):
        shmipc.Object(None, b"read-only bytes", False)  # writable asked of read-only bytes


def test_a_read_only_object_refuses_writes():
    # The exporter as a lend-provider borrow sets it up (its owner keeps the memory).
    backing = bytearray(b"read me")
    obj = shmipc.Object(None, backing, True)
    _check_read_only(obj, b"read me")
    obj.release()
    backing.extend(b"!")  # the exporter let go of the bytearray's buffer


def _check_read_only(obj, content):
    assert obj.readonly and not obj.writable
    view = memoryview(obj)
    assert view.readonly and bytes(view[: len(content)]) == content
    with pytest.raises(TypeError):
        view[0] = 0
    array = numpy.frombuffer(obj, dtype=numpy.uint8)
    assert not array.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        array[0] = 1
    with pytest.raises(ValueError):
        array.setflags(write=True)
    with pytest.raises(BufferError, match="read-only"):
        ffi.from_buffer(obj, require_writable=True)
    assert bytes(memoryview(obj)[: len(content)]) == content


def test_what_a_lend_provider_peer_lends_is_read_only_here(name):
    with open_server(name, "lend") as server:
        owner, peer = connect_pair(server)
        with owner, peer:
            obj = owner.alloc(64)
            memoryview(obj)[:5] = b"owner"
            owner.send(b"", obj)
            _, borrowed = peer.recv(timeout=TIMEOUT)
            _check_read_only(borrowed, b"owner")
            assert obj.writable  # the owner's own handle stays writable

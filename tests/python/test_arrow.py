"""shmipc.arrow: Arrow tables written once into shared memory and read in place."""

import gc
import subprocess
import sys
import time

import pytest

import shmipc

pyarrow = pytest.importorskip("pyarrow")
import shmipc.arrow  # noqa: E402  (pyarrow is optional: the import needs it)
from conftest import TIMEOUT, connect_pair, open_server  # noqa: E402


def sample_table(rows=1000):
    """Every kind of column a reader must handle: ints, floats, strings, nulls, a
    dictionary, a nested list."""
    return pyarrow.table(
        {
            "i64": pyarrow.array(range(rows), pyarrow.int64()),
            "f64": pyarrow.array([i * 0.5 for i in range(rows)], pyarrow.float64()),
            "text": pyarrow.array([f"row {i}" for i in range(rows)]),
            "maybe": pyarrow.array(
                [None if i % 3 == 0 else i for i in range(rows)], pyarrow.int32()
            ),
            "kind": pyarrow.array(
                [("red", "green", "blue")[i % 3] for i in range(rows)]
            ).dictionary_encode(),
            "list": pyarrow.array(
                [[i, i + 1] if i % 5 else None for i in range(rows)], pyarrow.list_(pyarrow.int16())
            ),
        }
    )


def array_buffers(array):
    """Every buffer of an array (its own, its children's and its dictionary's) that holds
    a byte: an empty one points nowhere in particular."""
    found = [b for b in array.buffers() if b is not None and b.size > 0]
    if pyarrow.types.is_dictionary(array.type):
        found += array_buffers(array.dictionary)
    return found


def table_buffers(table):
    return [
        buf for column in table.columns for chunk in column.chunks for buf in array_buffers(chunk)
    ]


def assert_inside(table, obj):
    buffers = table_buffers(table)
    assert buffers
    for buf in buffers:
        assert obj.address <= buf.address and buf.address + buf.size <= obj.address + obj.nbytes


def test_a_table_goes_through_a_session_and_is_read_in_place(shared_pair):
    table = sample_table()
    obj = shmipc.arrow.write(shared_pair.owner, table)
    assert obj.nbytes == shmipc.arrow.stream_size(table)
    shared_pair.owner.send(b"table", obj)
    _, got = shared_pair.peer.recv(timeout=TIMEOUT)
    read = shmipc.arrow.read(got)
    assert read.equals(table)
    assert_inside(read, got)


@pytest.mark.parametrize("where", ["session", "session_arena", "app_arena", "arena"])
def test_every_kind_of_arena_takes_every_kind_of_data(shared_pair, name, where):
    table = sample_table(100)
    arena = None
    if where == "arena":
        arena = shmipc.Arena.open(name, size=1 << 20)
        target = arena
    else:
        target = {
            "session": shared_pair.owner,
            "session_arena": shared_pair.owner.arena,
            "app_arena": shared_pair.owner.app_arena,
        }[where]
    try:
        for data in (table, table.to_batches()[0], table.to_batches(max_chunksize=30)):
            obj = shmipc.arrow.write(target, data)
            assert shmipc.arrow.read(obj).equals(table)
        empty = table.schema.empty_table()
        assert shmipc.arrow.read(shmipc.arrow.write(target, empty)).equals(empty)
    finally:
        if arena is not None:
            shmipc.Arena.unlink(name)
            arena.close()


def test_the_table_keeps_the_memory_alive(shared_pair):
    obj = shmipc.arrow.write(shared_pair.owner, sample_table())
    table = shmipc.arrow.read(obj)
    with pytest.raises(BufferError, match="alive"):
        obj.release()  # the table's buffers are views of the object
    del obj
    gc.collect()
    shared_pair.owner.alloc(1 << 16)  # would reuse the memory, had it been freed
    assert table.equals(sample_table())
    assert table.column("text")[999].as_py() == "row 999"


def test_write_into_a_named_allocation(name):
    arena = shmipc.Arena.open(name, size=1 << 20)
    try:
        table = sample_table(10)
        with arena.named("table", shmipc.arrow.stream_size(table)) as named:
            assert shmipc.arrow.write_into(named, table) == named.nbytes
            assert shmipc.arrow.read(named).equals(table)
            with pytest.raises(BufferError, match="needs"):
                shmipc.arrow.write_into(named, sample_table(20))
    finally:
        shmipc.Arena.unlink(name)
        arena.close()


def read_only_object(content):
    """An Object exported read-only, as a lend-provider borrow is (its owner keeps it)."""
    return shmipc.Object(None, bytearray(content), True)


def test_writing_into_a_read_only_object_raises_and_does_not_abort():
    # pyarrow.FixedSizeBufferWriter over this object's buffer aborts the interpreter (a
    # failed check in Arrow C++): write_into refuses before pyarrow sees it.
    obj = read_only_object(bytes(4096))
    with pytest.raises(BufferError, match="read-only"):
        shmipc.arrow.write_into(obj, sample_table(10))
    assert bytes(memoryview(obj)) == bytes(4096)


def test_a_lend_provider_borrow_is_read_in_place_and_refuses_writes(name):
    with open_server(name, "lend") as server:
        owner, peer = connect_pair(server)
        with owner, peer:
            table = sample_table()
            owner.send(b"", shmipc.arrow.write(owner, table))
            _, borrowed = peer.recv(timeout=TIMEOUT)
            assert borrowed.readonly
            read = shmipc.arrow.read(borrowed)
            assert read.equals(table)
            assert_inside(read, borrowed)
            with pytest.raises(BufferError, match="read-only"):
                shmipc.arrow.write_into(borrowed, table)
            del read, borrowed


def test_bad_arguments_and_bad_streams(shared_pair):
    for bad in (b"bytes", 3, [], [1, 2], None):
        with pytest.raises(TypeError):
            shmipc.arrow.write(shared_pair.owner, bad)
    with pytest.raises(TypeError, match="arena"):
        shmipc.arrow.write(object(), sample_table(1))
    with pytest.raises(TypeError):
        shmipc.arrow.read(b"not an object")
    garbage = shared_pair.owner.alloc(256)
    memoryview(garbage)[:] = bytes(range(256))
    with pytest.raises(pyarrow.ArrowInvalid):
        shmipc.arrow.read(garbage)
    truncated = shmipc.arrow.write(shared_pair.owner, sample_table(100))
    cut = shared_pair.owner.alloc(truncated.nbytes // 2)
    memoryview(cut)[:] = memoryview(truncated)[: cut.nbytes]
    with pytest.raises(OSError, match="Expected to be able to read"):
        shmipc.arrow.read(cut)


def best_read_time(obj, tries=5):
    best = float("inf")
    for _ in range(tries):
        start = time.perf_counter()
        table = shmipc.arrow.read(obj)
        best = min(best, time.perf_counter() - start)
        del table
    return best


def test_a_1_gib_table_reads_as_fast_as_a_1_kib_one(name):
    numpy = pytest.importorskip("numpy")
    gib = 1 << 30
    with shmipc.Server(name, session_arena_size=gib + (64 << 20)) as server:
        owner, peer = connect_pair(server)
        with owner, peer:
            big = pyarrow.table({"x": numpy.ones(gib // 8, dtype=numpy.float64)})
            small = pyarrow.table({"x": numpy.ones(1024 // 8, dtype=numpy.float64)})
            big_obj, small_obj = shmipc.arrow.write(owner, big), shmipc.arrow.write(owner, small)
            del big
            assert big_obj.nbytes > gib
            small_time, big_time = best_read_time(small_obj), best_read_time(big_obj)
            start = time.perf_counter()
            copy = bytes(memoryview(big_obj))
            copy_time = time.perf_counter() - start
            del copy
            table = shmipc.arrow.read(big_obj)
            assert table.num_rows == gib // 8 and table.column("x")[gib // 8 - 1].as_py() == 1.0
            assert_inside(table, big_obj)
            del table
            # O(1): a read touches the metadata, never the 1 GiB of values.
            assert big_time < max(10 * small_time, 0.005), (big_time, small_time)
            assert big_time < copy_time / 20, (big_time, copy_time)


def test_without_pyarrow_the_import_says_how_to_get_it():
    code = (
        "import sys; sys.modules['pyarrow'] = None\n"
        "try:\n    import shmipc.arrow\nexcept ImportError as e:\n    print(e)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=TIMEOUT, check=True
    ).stdout
    assert "pip install shmipc[arrow]" in out

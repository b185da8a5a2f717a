"""Arrow tables between Python and Rust processes: each writes with shmipc.arrow (one copy),
the other reads in place and checks every value (the Rust side: tests/arrow_peer.rs), and a
1 GiB table is read in another process as fast as a 1 KiB one. The Rust programs are found
through SHMIPC_RUST_TARGET_DIR (make check sets it)."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import shmipc

pyarrow = pytest.importorskip("pyarrow")
numpy = pytest.importorskip("numpy")
from test_arrow import assert_inside, sample_table  # noqa: E402

import shmipc.arrow  # noqa: E402
from conftest import REPO, TIMEOUT, open_server  # noqa: E402

RUST = Path(
    os.environ.get(
        "SHMIPC_RUST_TARGET_DIR", REPO / "bindings" / "rust" / "target" / "debug" / "examples"
    )
)


def rust_program(name):
    path = RUST / name
    if not os.access(path, os.X_OK):
        pytest.fail(
            f"{path} is missing: build it (make check builds it: cargo build "
            "--examples --features shmipc-examples/arrow in bindings/rust)"
        )
    return str(path)


def finish(peer):
    status, out, err = peer.finish()
    assert status == 0, (status, out, err)
    return out


@pytest.mark.parametrize("rows", [1, 1000])
def test_python_writes_rust_reads_and_rust_writes_python_reads(name, provider, spawn, rows):
    with open_server(name, provider) as server:
        peer = spawn([rust_program("arrow_peer"), "check", name, str(rows)])
        with server.accept(timeout=TIMEOUT) as session:
            table = sample_table(rows)
            session.send(b"table", shmipc.arrow.write(session, table))
            assert session.recv(timeout=TIMEOUT) == (b"ok", None)
            msg, obj = session.recv(timeout=TIMEOUT)
            assert msg == b"table"
            read = shmipc.arrow.read(obj)
            assert read.equals(table), read
            assert_inside(read, obj)
            assert obj.readonly == (provider == "lend")
            del read, obj
        finish(peer)


def test_rust_reads_1_gib_as_fast_as_1_kib(name, spawn):
    gib = 1 << 30
    with shmipc.Server(name, session_arena_size=gib + (64 << 20)) as server:
        peer = spawn([rust_program("arrow_peer"), "time", name, "2"])
        with server.accept(timeout=TIMEOUT) as session:
            sizes = {}
            for length in (1024 // 8, gib // 8):
                obj = shmipc.arrow.write(
                    session, pyarrow.table({"x": numpy.ones(length, dtype=numpy.float64)})
                )
                sizes[length] = obj.nbytes
                start = time.perf_counter()
                copy = bytes(memoryview(obj))  # what a copy costs
                copy_time = time.perf_counter() - start
                del copy
                session.send(b"table", obj)
                del obj
            out = finish(peer)
    times = {}
    for line in out.splitlines():
        _, nbytes, rows, seconds = line.split()
        times[int(rows)] = float(seconds)
        assert int(nbytes) == sizes[int(rows)]
    small, big = times[1024 // 8], times[gib // 8]
    # O(1): the reader touches the metadata, never the 1 GiB of values.
    assert big < max(10 * small, 0.005), (big, small)
    assert big < copy_time / 20, (big, copy_time)


def test_the_example_sends_a_dataframe_to_the_rust_consumer():
    argv = [
        sys.executable,
        str(REPO / "examples" / "arrow" / "producer.py"),
        "--rows",
        "5000",
        "--consumer",
        rust_program("arrow_consumer"),
    ]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert "consumer: 5000 rows, 3 columns, sum(id)=12497500.0" in done.stdout


def c_table(rows):
    """sample_table and more fixed-width types: the C reader sums these in place."""
    table = sample_table(rows)
    return (
        table.append_column("u8", pyarrow.array([i % 256 for i in range(rows)], pyarrow.uint8()))
        .append_column("f32", pyarrow.array([i / 4 for i in range(rows)], pyarrow.float32()))
        .append_column(
            "i16", pyarrow.array([None if i % 7 == 0 else -i for i in range(rows)], pyarrow.int16())
        )
    )


def c_lines(batches):
    """What examples/arrow/columns prints for these batches."""
    lines = []
    for b, batch in enumerate(batches):
        for name, column in zip(batch.schema.names, batch.columns):
            line = f"batch {b} column {name}: {len(column)} rows, {column.null_count} nulls"
            fixed = pyarrow.types.is_integer(column.type) or pyarrow.types.is_floating(column.type)
            if fixed:
                total = 0.0
                for value in column.to_pylist():
                    if value is not None:
                        total += float(value)
                line += f", sum {total:.17g}"
            lines.append(line)
    return lines


def columns_peer(spawn, c_program, name):
    return spawn([c_program("examples/arrow/columns"), name])


def test_c_reads_the_columns_in_place(name, provider, spawn, c_program):
    with open_server(name, provider) as server:
        peer = columns_peer(spawn, c_program, name)
        with server.accept(timeout=TIMEOUT) as session:
            table = c_table(1000)
            for data, batches in (
                (table, table.to_batches()),
                (table.to_batches(max_chunksize=300), table.to_batches(max_chunksize=300)),
            ):
                session.send(b"table", shmipc.arrow.write(session, data))
                for line in c_lines(batches):
                    assert peer.expect(r"^batch ").group(0) and peer.seen[-1].rstrip() == line
                assert session.recv(timeout=TIMEOUT) == (b"ok", None)
            session.send(b"end")
        finish(peer)


def mutations(stream, count, seed=18):
    """Truncations at every 8th byte and `count` streams with a few random bytes changed."""
    import random

    chance = random.Random(seed)
    for cut in range(1, len(stream), 8):
        yield stream[:cut]
    for _ in range(count):
        bad = bytearray(stream)
        for _ in range(chance.randint(1, 4)):
            bad[chance.randrange(len(bad))] = chance.choice(
                [0, 0xFF, 0x7F, 0x80, chance.randrange(256)]
            )
        yield bytes(bad)
    yield bytes(chance.randrange(256) for _ in range(4096))


def test_the_c_reader_refuses_bad_streams_without_reading_outside(name, spawn, c_program):
    with shmipc.Server(name) as server:
        peer = columns_peer(spawn, c_program, name)
        with server.accept(timeout=TIMEOUT) as session:
            good = session.alloc(shmipc.arrow.stream_size(c_table(50)))
            shmipc.arrow.write_into(good, c_table(50))
            answers = set()
            for stream in mutations(bytes(memoryview(good)), 2000):
                obj = session.alloc(len(stream))
                memoryview(obj)[:] = stream
                session.send(b"table", obj)
                del obj
                answer, _ = session.recv(timeout=TIMEOUT)
                assert answer == b"ok" or answer.startswith(b"bad: "), answer
                answers.add(answer.split(b":")[0])
            assert answers == {b"ok", b"bad"}
            session.send(b"end")
        finish(peer)

"""Shared containers from Python: shmipc.Vec, Str, Map and Mutex against Python's list and
dict as oracles, zero-copy numpy views, a lock holder killed, and containers made by C read
from Python and the other way round (tests/helper_containers)."""

import os
import random
import signal
import subprocess
import sys
import textwrap

import pytest

import shmipc
from conftest import REPO


@pytest.fixture
def arena(name):
    with shmipc.Arena.open(name, size=32 << 20) as a:
        yield a
    shmipc.Arena.unlink(name)


def u64(n):
    return n.to_bytes(8, "little")


def test_map_behaves_like_a_dict(arena):
    rng = random.Random(19)
    m = shmipc.Map.open(arena, "index", value_size=8)
    model = {}
    for _ in range(5000):
        key = str(rng.randrange(400)).encode() * rng.randrange(1, 4)
        op = rng.randrange(5)
        if op < 2:
            model[key] = u64(rng.getrandbits(64))
            m[key] = model[key]
        elif op == 2:
            if key in model:
                del model[key], m[key]
            else:
                with pytest.raises(KeyError):
                    del m[key]
        elif op == 3:
            assert m.get(key) == model.get(key)
        else:
            assert (key in m) == (key in model)
        assert len(m) == len(model)
    assert dict(m.items()) == model
    assert sorted(m) == sorted(model)
    with pytest.raises(ValueError):
        m[b"short"] = b"1234"
    m.free()
    assert len(m) == 0 and list(m) == []
    m.release()


def test_vec_behaves_like_a_list(arena):
    rng = random.Random(7)
    v = shmipc.Vec.open(arena, "numbers", elem="q")
    model = []
    for _ in range(3000):
        op = rng.randrange(6)
        x = rng.randrange(-(2**63), 2**63)
        if op < 2:
            v.append(x)
            model.append(x)
        elif op == 2 and model:
            i = rng.randrange(-len(model), len(model))
            v[i] = x
            model[i] = x
        elif op == 3 and model:
            i = rng.randrange(len(model))
            del v[i], model[i]
        elif op == 4:
            i = rng.randrange(-len(model) - 2, len(model) + 2)
            v.insert(i, x)
            model.insert(i, x)
        elif model:
            i = rng.randrange(len(model))
            assert v[i] == model[i]
        assert len(v) == len(model)
    assert list(v) == model and v[1:5] == model[1:5]
    with pytest.raises(IndexError):
        v[len(model)]
    v.clear()
    assert len(v) == 0 and v.capacity > 0
    v.release()


def test_vec_is_a_zero_copy_array(arena):
    np = pytest.importorskip("numpy")
    v = shmipc.Vec.open(arena, "floats", elem="d", capacity=1000)
    for i in range(1000):
        v.append(i / 2)
    a = np.asarray(v)
    assert a.dtype == np.float64 and a.shape == (1000,) and a[999] == 499.5
    a[3] = 42.0  # in place
    assert v[3] == 42.0
    assert v.view()[3] == 42.0 and v.view().format == "d"
    raw = shmipc.Vec.open(arena, "records", elem=16)
    raw.append(b"0123456789abcdef")
    assert raw[0] == b"0123456789abcdef"
    with pytest.raises(ValueError):
        raw.append(b"short")
    with pytest.raises(shmipc.InvalidArgument):
        shmipc.Vec.open(arena, "floats", elem="i")  # another element size
    for x in (v, raw):
        x.release()


def test_str(arena):
    s = shmipc.Str.open(arena, "greeting")
    assert s.value == b"" and len(s) == 0
    s.value = b"hello\0world"
    assert bytes(s) == b"hello\0world" and len(s) == 11
    again = shmipc.Str.open(arena, "greeting")
    assert again == b"hello\0world"
    s.free()
    assert again.value == b""
    s.release()
    again.release()


def test_mutex_reports_a_dead_holder(arena, name):
    mx = shmipc.Mutex.open(arena, "lock")
    code = textwrap.dedent(f"""
        import os, shmipc
        a = shmipc.Arena.open({name!r})
        m = shmipc.Mutex.open(a, "lock")
        m.lock()
        os._exit(0)  # dies holding it
    """)
    subprocess.run([sys.executable, "-c", code], check=True, timeout=30)
    assert mx.lock(timeout=5) is True  # owner died, the lock is ours
    mx.unlock()
    with mx:
        assert mx.owner_died is False
    child = textwrap.dedent(f"""
        import shmipc
        a = shmipc.Arena.open({name!r})
        try:
            shmipc.Mutex.open(a, "lock").lock(timeout=0.05)
        except shmipc.Timeout:
            print("timed out")
    """)
    with mx:
        r = subprocess.run(
            [sys.executable, "-c", child], capture_output=True, text=True, timeout=30
        )
    assert r.stdout == "timed out\n", r.stderr
    with pytest.raises(shmipc.PermissionDenied):
        mx.unlock()  # not held
    mx.release()


def test_killed_writer_leaves_the_map_consistent(arena, name):
    m = shmipc.Map.open(arena, "kv", value_size=8)
    mx = shmipc.Mutex.open(arena, "kv-lock")
    code = textwrap.dedent(f"""
        import shmipc
        a = shmipc.Arena.open({name!r})
        m = shmipc.Map.open(a, "kv", value_size=8)
        mx = shmipc.Mutex.open(a, "kv-lock")
        i = 0
        while True:
            with mx:
                if mx.owner_died:
                    m.repair()
                m[b"k%d" % i] = i.to_bytes(8, "little")
                i += 1
                if i == 50:
                    print("going", flush=True)
    """)
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline() == "going\n"
    p.send_signal(signal.SIGKILL)
    p.wait()
    mx.lock(timeout=10)
    m.repair()
    keys = list(m)
    assert len(keys) == len(m) >= 50
    for k in keys:
        assert int.from_bytes(m[k], "little") == int(k[1:])
    mx.unlock()
    arena.check()
    m.release()
    mx.release()


def test_at_finds_a_container_in_an_object(arena):
    holder = arena.named("holder", 256)
    made = shmipc.Map.open(arena, "made", value_size=4)
    made[b"x"] = b"abcd"
    # A header at an offset of an object: here the named allocation itself.
    view = shmipc.Map.at(arena.named("made", shmipc.ffi.sizeof("shmipc_map")), 0)
    assert view[b"x"] == b"abcd" and b"x" in view and len(view) == 1
    with pytest.raises(shmipc.PermissionDenied):
        view[b"y"] = b"efgh"  # no arena given: read-only, refused before the kernel would
    with pytest.raises(shmipc.Corrupt):
        shmipc.Map.at(holder, 0, arena)  # no map there
    for x in (holder, made, view):
        x.release()


def test_c_and_python_share_containers(arena, name, c_program):
    helper = c_program("tests/helper_containers")
    subprocess.run([helper, name, "make"], check=True, timeout=30)
    m = shmipc.Map.open(arena, "c-map", value_size=8)
    v = shmipc.Vec.open(arena, "c-vec", elem="q")
    s = shmipc.Str.open(arena, "c-str")
    assert len(m) == 100 and all(m[b"k%d" % i] == u64(i) for i in range(100))
    assert list(v) == list(range(100)) and s.value == b"made by C"

    xm = shmipc.Map.open(arena, "x-map", value_size=8)
    xv = shmipc.Vec.open(arena, "x-vec", elem="q")
    xs = shmipc.Str.open(arena, "x-str")
    for i in range(100):
        xm[b"k%d" % i] = u64(i)
        xv.append(i)
    xs.value = b"made by Python"
    r = subprocess.run([helper, name, "check"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert xm[b"from-c"] == u64(7) and xv[-1] == 100 and len(xv) == 101
    for x in (m, v, s, xm, xv, xs):
        x.release()


def test_the_containers_example(name, c_program):
    """examples/containers: Python builds an index; C and Rust look keys up in place while a
    second Python process appends to the log under the mutex."""
    rust = os.path.join(
        os.environ.get(
            "SHMIPC_RUST_TARGET_DIR",
            str(REPO / "bindings" / "rust" / "target" / "debug" / "examples"),
        ),
        "container_lookup",
    )
    if not os.access(rust, os.X_OK):
        pytest.fail(f"{rust} is missing: cargo build --examples in bindings/rust")
    example = REPO / "examples" / "containers"
    builder = subprocess.Popen(
        [sys.executable, str(example / "build_index.py"), name, "200000"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert builder.stdout.readline() == "built 200000\n"
        runs = [
            subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for cmd in (
                [c_program("examples/containers/lookup"), name, "20000"],
                [rust, name, "20000"],
                [sys.executable, str(example / "append.py"), name, "2000"],
            )
        ]
        outs = [r.communicate(timeout=120) for r in runs]
        assert [r.returncode for r in runs] == [0, 0, 0], outs
        assert outs[0][0] == outs[1][0] == "found 20000 of 20000\n"
        assert outs[2][0] == "appended 2000, log has 2000\n"
    finally:
        builder.communicate("", timeout=60)
        shmipc.Arena.unlink(name)
    assert builder.returncode == 0

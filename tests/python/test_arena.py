"""Named shared arenas and named allocations (no session needed)."""

import os
import pwd
import subprocess

import pytest

import shmipc
from conftest import SHM_DIR, python_script

SQUATTER = "shmipc-squat"  # the second user of the C test test_users too


@pytest.fixture
def arena_name(name):
    """An arena name, unlinked after the test whatever happened."""
    yield name
    try:
        shmipc.Arena.unlink(name)
    except shmipc.NotFound:
        pass


def test_open_finds_or_creates(arena_name):
    with (
        shmipc.Arena.open(arena_name, size=1 << 20) as first,
        shmipc.Arena.open(arena_name, size=1 << 16) as second,
    ):  # size counts to create
        assert first.stats().capacity == second.stats().capacity >= (1 << 20) - 65536
        with first.named("table", 64) as a, second.named("table", 64) as b:
            assert a.created and not b.created
            memoryview(a)[:5] = b"same!"
            assert bytes(memoryview(b)[:5]) == b"same!"
        assert first.name == arena_name and arena_name in repr(first)


def test_named_allocations_are_counted_and_freed(arena_name):
    with shmipc.Arena.open(arena_name, size=1 << 20) as arena:
        baseline = arena.stats()
        first = arena.named("item", 1000)
        second = arena.named("item", 1000)
        assert arena.stats().named == baseline.named + 1
        first.release()
        assert arena.stats().named == baseline.named + 1  # one reference left
        del second  # dropping it lets go as well
        assert arena.stats().named == baseline.named
        assert arena.stats().used == baseline.used
        arena.check()


def test_named_allocation_errors(arena_name):
    with shmipc.Arena.open(arena_name, size=1 << 20) as arena:
        with arena.named("sized", 64):
            with pytest.raises(shmipc.Exists):
                arena.named("sized", 128)
        for bad in ("", "with space", "x" * 200):
            with pytest.raises(shmipc.InvalidArgument):
                arena.named(bad, 64)
        with pytest.raises(shmipc.InvalidArgument):
            arena.named("zero", 0)
        with pytest.raises(shmipc.OutOfMemory):
            arena.named("huge", 1 << 30)
        with pytest.raises(TypeError):
            arena.named(b"bytes", 64)
        assert arena.stats().named == 0


def test_arena_open_errors(arena_name):
    with pytest.raises(ValueError, match="scope"):
        shmipc.Arena.open(arena_name, scope="planet")
    with pytest.raises(shmipc.InvalidArgument):
        shmipc.Arena.open("bad name")
    with pytest.raises(shmipc.NotFound):
        shmipc.Arena.unlink(arena_name)


def test_socket_scope(arena_name):
    try:
        arena = shmipc.Arena.open(arena_name, size=1 << 20, scope="socket")
    except shmipc.InvalidArgument as e:  # an affinity mask over several CPU packages
        pytest.skip(f"socket scope unavailable here: {e.detail}")
    with arena, arena.named("x", 8):
        pass


def test_closing_the_arena_waits_for_its_named_allocations(arena_name):
    arena = shmipc.Arena.open(arena_name, size=1 << 20)
    named = arena.named("kept", 32)
    memoryview(named)[:4] = b"kept"
    arena.close()
    assert arena.closed
    with pytest.raises(shmipc.Closed):
        arena.named("other", 32)
    with pytest.raises(shmipc.Closed):
        arena.stats()
    assert bytes(memoryview(named)[:4]) == b"kept"  # still mapped: it holds the arena
    named.release()


def test_objects_in_a_named_arena(arena_name):
    with shmipc.Arena.open(arena_name, size=1 << 20) as arena:
        baseline = arena.stats().used
        obj = arena.alloc(5000)
        memoryview(obj)[:3] = b"obj"
        assert arena.stats().used > baseline
    assert bytes(memoryview(obj)[:3]) == b"obj"  # the object keeps its arena mapped
    obj.release()


def test_another_process_finds_the_same_allocation(arena_name, spawn):
    with shmipc.Arena.open(arena_name, size=1 << 20) as arena:
        with arena.named("shared-text", 64) as text:
            memoryview(text)[:15] = b"from the parent"
            child = spawn(
                python_script("tests/python/peer.py") + ["named", arena_name, "shared-text", "64"]
            )
            assert child.finish()[0] == 0
            assert bytes(memoryview(text)[:29]) == b"from the parentfrom the child"


def _squatter():
    """The uid and gid of a second user (made with useradd when root); skip without one."""
    try:
        pw = pwd.getpwnam(SQUATTER)
    except KeyError:
        if os.geteuid() != 0:
            pytest.skip(f"not root, and no user {SQUATTER!r} exists")
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SQUATTER],
            check=True,
            capture_output=True,
        )
        pw = pwd.getpwnam(SQUATTER)
    return pw.pw_uid, pw.pw_gid


def _plant_as(uid, gid, path, data):
    """In a child that becomes uid for good: create path, mode 0666, holding data."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setresgid(gid, gid, gid)
            os.setresuid(uid, uid, uid)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            os.fchmod(fd, 0o666)
            os.write(fd, data)
            os._exit(0)
        except BaseException:
            os._exit(1)
    assert os.waitpid(pid, 0)[1] == 0, f"the other user could not create {path}"


def test_a_pool_another_user_planted_is_refused(arena_name):
    uid, gid = _squatter()
    with shmipc.Arena.open(arena_name + "-src", size=1 << 20):
        pass
    source = SHM_DIR / f"shmipc.{os.getuid()}.{arena_name}-src"
    data = source.read_bytes()
    shmipc.Arena.unlink(arena_name + "-src")
    planted = SHM_DIR / f"shmipc.{os.getuid()}.{arena_name}"
    _plant_as(uid, gid, planted, data)  # a valid arena's copy, that user's, mode 0666
    try:
        with pytest.raises(shmipc.PermissionDenied) as refused:
            shmipc.Arena.open(arena_name, size=1 << 20)
        assert isinstance(refused.value, PermissionError)
        assert refused.value.code == shmipc.lib.SHMIPC_EPERM
        assert str(planted) in refused.value.detail and f"uid {uid}" in refused.value.detail
        assert planted.stat().st_uid == uid  # left as it was
    finally:
        planted.unlink()

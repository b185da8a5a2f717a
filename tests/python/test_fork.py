"""Handles are per process: a forked child (os.fork, multiprocessing's "fork" start method)
gets shmipc.InvalidArgument on every call on what it inherited, and what it closes or
garbage-collects leaves its parent's session, objects and loans as they were."""

import gc
import multiprocessing
import os
import sys
import traceback

import pytest

import shmipc
from conftest import TIMEOUT


def _refused(call, what, failures):
    try:
        call()
    except shmipc.InvalidArgument as e:
        if "inherited across fork" not in str(e):
            failures.append(f"{what}: InvalidArgument without the detail: {e}")
    except BaseException as e:  # noqa: B902 - the child reports everything it sees
        failures.append(f"{what}: {type(e).__name__}: {e}")
    else:
        failures.append(f"{what}: no error")


def _child_work(pair, obj, borrowed):
    """In the child: every call is refused; then everything inherited is dropped, closed
    and garbage-collected. The failures, as text."""
    failures = []
    _refused(lambda: pair.peer.recv(timeout=0), "recv", failures)
    _refused(lambda: pair.peer.recv(timeout=0.5), "recv with a timeout", failures)
    _refused(lambda: pair.owner.send(b"x"), "send", failures)
    _refused(lambda: pair.owner.send(b"x", obj), "send with an object", failures)
    _refused(lambda: pair.owner.lend(obj), "lend", failures)
    _refused(lambda: pair.owner.alloc(64), "alloc", failures)
    _refused(lambda: pair.owner.arena.stats(), "arena stats", failures)
    _refused(lambda: pair.server.accept(0), "accept", failures)
    borrowed.release()
    obj.release()
    pair.owner.close()
    pair.peer.close()
    pair.server.close()
    gc.collect()
    return failures


def _world(pair):
    obj = pair.owner.alloc(4096)
    memoryview(obj)[:] = b"\xa7" * 4096
    pair.owner.send(b"obj", obj)
    _, borrowed = pair.peer.recv(timeout=TIMEOUT)
    return obj, borrowed, pair.owner.arena.stats()


def _parent_unaffected(pair, obj, borrowed, before):
    after = pair.owner.arena.stats()
    assert (after.used, after.allocations) == (before.used, before.allocations)
    assert bytes(memoryview(borrowed)[::1024]) == b"\xa7" * 4
    for sess in (pair.owner, pair.peer):
        with pytest.raises(shmipc.Timeout):  # open: recv waits, no Closed
            sess.recv(timeout=0)
    pair.owner.send(b"ping", obj)
    msg, again = pair.peer.recv(timeout=TIMEOUT)
    assert msg == b"ping" and bytes(memoryview(again)[:2]) == b"\xa7\xa7"
    again.release()
    pair.peer.send(b"pong")
    assert pair.owner.recv(timeout=TIMEOUT)[0] == b"pong"


def test_an_os_fork_child_is_refused_and_leaves_the_parent_alone(pair):
    obj, borrowed, before = _world(pair)
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            failures = _child_work(pair, obj, borrowed)
            for f in failures:
                print(f"child: {f}", file=sys.stderr)
            code = 1 if failures else 0
        except BaseException:  # noqa: B902 - never let the child run pytest on
            traceback.print_exc()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, "the child saw a failure"
    _parent_unaffected(pair, obj, borrowed, before)
    borrowed.release()
    obj.release()


def _mp_child(pair, obj, borrowed, results):
    results.put(_child_work(pair, obj, borrowed))


def test_a_multiprocessing_fork_child_leaves_the_parent_alone(pair):
    """The child's handles go as a multiprocessing child's do: closed, collected, exited."""
    obj, borrowed, before = _world(pair)
    ctx = multiprocessing.get_context("fork")
    results = ctx.Queue()
    child = ctx.Process(target=_mp_child, args=(pair, obj, borrowed, results))
    child.start()
    failures = results.get(timeout=TIMEOUT)
    child.join(TIMEOUT)
    assert failures == [] and child.exitcode == 0
    _parent_unaffected(pair, obj, borrowed, before)
    borrowed.release()
    obj.release()

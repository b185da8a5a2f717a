"""Across languages: the C and Python echo roles paired every way (objects both ways checked
by checksum, the catalogue built in one language and walked in the other), their checks
failing when they should, and peers killed with SIGKILL while they hold borrowed objects."""

import re

import pytest

import echo_common
import shmipc
from conftest import TIMEOUT, connect_pair, open_server, python_script

ECHO = {
    "c": ("examples/c/echo_server", "examples/c/echo_client"),
    "python": ("examples/python/echo_server.py", "examples/python/echo_client.py"),
}
NOT_SUPPORTED = shmipc.strerror(shmipc.lib.SHMIPC_ENOTSUP)


@pytest.fixture
def echo(c_program):
    """echo(language, role) -> the command line of that echo program."""

    def command(language, role):
        path = ECHO[language][role == "client"]
        return [c_program(path)] if language == "c" else python_script(path)

    return command


def skip_unless_served(process, provider):
    """A server that could not start: skip only for the lend provider's ENOTSUP."""
    status, out, err = process.finish()
    if provider == "lend" and status == 3 and NOT_SUPPORTED in err:
        pytest.skip(f"lend provider: the server reports SHMIPC_ENOTSUP ({err.strip()})")
    raise AssertionError(f"the server did not start: status {status}, {out!r}, {err!r}")


def start_server(spawn, argv, provider):
    server = spawn(argv)
    try:
        server.expect(r"^listening ")
    except AssertionError:
        skip_unless_served(server, provider)
    return server


@pytest.mark.parametrize(
    "server_lang,client_lang", [("c", "python"), ("python", "c"), ("python", "python")]
)
def test_echo_roles_pair_across_languages(echo, spawn, name, provider, server_lang, client_lang):
    server = start_server(
        spawn,
        echo(server_lang, "server")
        + ["-n", name, "-p", provider, "-c", "2", "-s", "1,4096,1048576", "-r", "50"],
        provider,
    )
    for app in ("first", "second"):
        client = spawn(echo(client_lang, "client") + ["-n", name, "-a", app])
        status, out, err = client.finish()
        assert status == 0, (out, err)
    status, out, err = server.finish()
    assert status == 0, (out, err)
    lines = re.findall(
        r"client \d \(pid \d+\): 3/3 buffers, catalogue of 50 records, "
        r"arenas back to baseline: ok",
        out,
    )
    assert len(lines) == 2, out


@pytest.mark.parametrize("language", ["c", "python"])
def test_echo_client_without_a_server_exits_3(echo, spawn, name, language):
    status, _, err = spawn(echo(language, "client") + ["-n", name]).finish()
    assert status == 3 and "no server" in err


@pytest.mark.parametrize("language", ["c", "python"])
def test_echo_usage_errors_exit_3(echo, spawn, language):
    for role in ("server", "client"):
        for bad in (["-Z"], ["-t"]):
            status, _, err = spawn(echo(language, role) + bad).finish()
            problem = "invalid option" if bad == ["-Z"] else "option requires an argument"
            assert status == 3 and f": {problem} -- '{bad[0][1]}'\nusage: echo_{role} " in err


def _serve_bad(name, spawn, client_argv, lend):
    """Play the server: lend(session) sends one message with its object; the client's exit
    status."""
    with shmipc.Server(name) as server:
        client = spawn(client_argv + ["-n", name, "-t", "10000"])
        with server.accept(timeout=TIMEOUT) as sess:
            lend(sess)
            return client.finish()


@pytest.mark.parametrize("language", ["c", "python"])
def test_echo_client_catches_a_wrong_checksum(echo, spawn, name, language):
    def lend(sess):
        with sess.alloc(16) as obj:
            memoryview(obj)[:] = bytes(16)
            sess.send(b"sum 16 0123456789abcdef", obj)

    status, _, err = _serve_bad(name, spawn, echo(language, "client"), lend)
    assert status == 2 and "failed its check (2)" in err


@pytest.mark.parametrize("language", ["c", "python"])
def test_echo_client_refuses_a_catalogue_that_points_outside(echo, spawn, name, language):
    ffi = echo_common.ffi

    def lend(sess):
        with sess.alloc(echo_common.catalog_size(3)) as obj:
            echo_common.catalog_build(obj, 3, reversed_order=False)
            digest, _ = echo_common.catalog_digest(obj)
            cat = shmipc.struct(obj, "struct catalog *", ffi)
            cat.first.off = 1 << 20  # a pointer to nowhere the object covers
            del cat
            sess.send(f"catalog 3 {digest:016x}".encode(), obj)

    status, _, err = _serve_bad(name, spawn, echo(language, "client"), lend)
    assert status == 2 and "failed its check (2)" in err


@pytest.mark.parametrize("language", ["c", "python"])
def test_echo_server_catches_a_wrong_answer(echo, spawn, name, language):
    server = start_server(spawn, echo(language, "server") + ["-n", name, "-s", "100"], "shared")
    with shmipc.connect(name, "liar", timeout=TIMEOUT) as sess:
        msg, got = sess.recv(timeout=TIMEOUT)
        with got, sess.alloc(100) as answer:  # the bytes, not reversed: a wrong answer
            memoryview(answer)[:] = memoryview(got)
            sess.send(msg, answer)
    status, out, _ = server.finish()
    assert status == 1 and "FAILED" in out


# ---- kill -9 ----------------------------------------------------------------------------------


def test_a_killed_python_borrower_leaks_nothing_in_a_c_owner(c_program, spawn, name, provider):
    owner = start_server(
        spawn, [c_program("tests/helper_lender"), name, provider, "2", "8", "65536"], provider
    )
    holder = spawn(python_script("tests/python/peer.py") + ["hold", name, "doomed"])
    holder.expect(r"^held 8$")  # every object borrowed, viewed by memoryview and numpy
    holder.kill()
    owner.expect(r"^client 0: .*: ok$")
    taker = spawn(python_script("tests/python/peer.py") + ["take", name, "after"])
    assert taker.finish()[0] == 0  # the owner carries on serving
    status, out, err = owner.finish()
    assert status == 0 and re.search(r"^client 1: .*: ok$", out, re.MULTILINE), (out, err)


def test_a_killed_c_borrower_leaks_nothing_in_a_python_owner(c_program, spawn, name, provider):
    with open_server(name, provider) as server:
        holder = spawn([c_program("tests/helper_session"), "hold", name, "doomed"])
        with server.accept(timeout=TIMEOUT) as sess:
            arenas = (sess.arena, sess.app_arena)
            baseline = [arena.stats().used for arena in arenas]
            for i in range(8):
                with arenas[i % 2].alloc(4096 * (i + 1)) as obj:
                    memoryview(obj)[:] = bytes([i]) * obj.nbytes
                    sess.send(b"gift", obj)
            holder.expect(r"^held 8$")
            assert all(arena.stats().used > used for arena, used in zip(arenas, baseline))
            holder.kill()
            with pytest.raises(shmipc.Closed):
                while True:
                    sess.recv(timeout=TIMEOUT)
            assert [arena.stats().used for arena in arenas] == baseline
        owner, peer = connect_pair(server)  # and the server still serves
        owner.close()
        peer.close()

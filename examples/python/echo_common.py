"""What the Python echo server and client share (examples/README.md): the messages, the
checksums, the byte pattern and the catalogue — the Python side of shmipc_echo.h and
shmipc_catalog.h.

The catalogue's structs are not retyped here: they come from
examples/include/shmipc_catalog.h itself, through shmipc.cdef_from_header (the C
preprocessor reads the header; cffi gets its types), and are read and written in place in
the shared object through that cffi declaration.
"""

import getopt
import re
import struct
import sys
from pathlib import Path

import cffi

import shmipc

DEFAULT_SERVER = "echo"
DEFAULT_APP = "echo-client"
MSG_MAX = 128

FNV_INIT = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3
_MASK64 = (1 << 64) - 1

CATALOG_HEADER = Path(__file__).resolve().parents[1] / "include" / "shmipc_catalog.h"
CATALOG_MAGIC = int.from_bytes(b"DCATALOG", "little")
CATALOG_ALIGN = 8

ffi = cffi.FFI()
ffi.cdef(shmipc.cdef_from_header(str(CATALOG_HEADER)))
CATALOG_SIZE = ffi.sizeof("struct catalog")
RECORD_SIZE = ffi.sizeof("struct catalog_record")


class Malformed(ValueError):
    """A catalogue that breaks the layout: a pointer out of the object, too many records."""


def fail(program, what, error):
    """Report a failed call as the C examples do: 'program: what: text (detail)'."""
    print(f"{program}: {what}: {shmipc.strerror(error.code)} ({error.detail})", file=sys.stderr)


def send_own(program, sess, size, fill, word, failures):
    """Allocate an object of `size` bytes, fill(obj) -> (n, hash), send "<word> <n> <hash>"
    with it; our handle goes at once, the loan keeps the object until the peer lets go.
    False after reporting a failure; failures names the two steps ("allocating ...",
    "sending ...") for the report."""
    try:
        obj = sess.alloc(size)
    except shmipc.Error as e:
        fail(program, failures[0], e)
        return False
    with obj:
        n, h = fill(obj)
        try:
            sess.send(format_msg(word, n, h), obj)
        except shmipc.Error as e:
            fail(program, failures[1], e)
            return False
    return True


def usage_error(error, usage):
    """Report bad arguments as the C examples (and glibc's getopt) do; exit status 3."""
    if isinstance(error, getopt.GetoptError) and error.opt:
        problem = "option requires an argument" if "argument" in error.msg else "invalid option"
        print(f"{sys.argv[0]}: {problem} -- '{error.opt}'", file=sys.stderr)
    print(usage, file=sys.stderr)
    return 3


def client_args(argv, server, app, timeout_ms):
    """A client's command line, [-n SERVER] [-a APP] [-t TIMEOUT_MS], over the defaults:
    (server, app, timeout_ms). Raises getopt.GetoptError or ValueError (see usage_error);
    as in the C clients, extra words are ignored."""
    opts, _ = getopt.getopt(argv, "n:a:t:")
    for flag, value in opts:
        if flag == "-n":
            server = value
        elif flag == "-a":
            app = value
        else:
            timeout_ms = int(value)
    return server, app, timeout_ms


def timeout_s(timeout_ms):
    """-t TIMEOUT_MS as recv() takes it: -1 waits forever."""
    return None if timeout_ms < 0 else timeout_ms / 1000


# ---- messages and bytes -------------------------------------------------------------------


def fnv(data, h=FNV_INIT):
    """FNV-1a 64 of data's bytes, continuing from h."""
    for byte in memoryview(data).cast("B"):
        h = ((h ^ byte) * FNV_PRIME) & _MASK64
    return h


def pattern(n):
    """The server's n bytes: byte i is (i * 13 + n) & 0xff (it repeats every 256 bytes)."""
    period = bytes((i * 13 + n) & 0xFF for i in range(256))
    return (period * (n // 256 + 1))[:n]


def format_msg(word, n, h):
    return f"{word} {n} {h:016x}".encode()


_NUMBERS = re.compile(rb"\s*\+?(\d+)\s+(?:0[xX])?([0-9a-fA-F]+)")


def parse_msg(msg, word):
    """(n, hash) of a message "<word> <n> <hex>", or None if it is not one."""
    head = word.encode() + b" "
    if len(msg) > MSG_MAX or len(msg) <= len(head) or not msg.startswith(head):
        return None
    numbers = _NUMBERS.fullmatch(msg[len(head) :])
    if not numbers:
        return None
    n, h = int(numbers.group(1)), int(numbers.group(2), 16)
    return (n, h) if n <= _MASK64 and h <= _MASK64 else None


# ---- the catalogue --------------------------------------------------------------------------


def catalog_size(count):
    """Bytes a catalogue of `count` records needs (an upper bound, as catalog_size() in C)."""
    return CATALOG_SIZE + count * (RECORD_SIZE + 32 + 4 * 4 + 16)


class _Bump:
    """The bump allocator of the catalogue's area: offsets CATALOG_ALIGN-aligned."""

    def __init__(self, base, cap, used):
        self.base, self.cap, self.used = base, cap, used

    def take(self, ctype, n):
        at = (self.used + CATALOG_ALIGN - 1) & ~(CATALOG_ALIGN - 1)
        if at > self.cap or n > self.cap - at:
            raise Malformed(f"the catalogue does not fit in {self.cap} bytes")
        self.used = at + n
        return ffi.cast(ctype, self.base + at)


def records(count, reversed_order):
    """The record set: (id, name, value, tags) of record i, in id order or reversed."""
    for k in range(count):
        i = count - 1 - k if reversed_order else k
        yield i, f"record-{i}".encode(), i * 1.5, [i * 10 + j for j in range(i % 4)]


def _fnv_record(h, record_id, name, value, tags):
    """The digest's step for one record: id, name, value, ntags and tags, little-endian."""
    h = fnv(struct.pack("<I", record_id) + name + struct.pack("<dI", value, len(tags) // 4), h)
    return fnv(tags, h)


def record_set_digest(count, reversed_order):
    """The digest of a catalogue of this record set (no need to build it)."""
    h = FNV_INIT
    for record_id, name, value, tags in records(count, reversed_order):
        h = _fnv_record(h, record_id, name, value, struct.pack(f"<{len(tags)}I", *tags))
    return h


def catalog_build(obj, count, reversed_order):
    """Build the record set of `count` records (in reverse id order if asked) in obj."""
    cat = shmipc.struct(obj, "struct catalog *", ffi)
    area = _Bump(ffi.cast("char *", cat), obj.nbytes, CATALOG_SIZE)
    cat.magic, cat.count = CATALOG_MAGIC, 0
    link = ffi.addressof(cat, "first")
    for record_id, name, value, tags in records(count, reversed_order):
        record = area.take("struct catalog_record *", RECORD_SIZE)
        text = area.take("char *", len(name) + 1)
        ffi.memmove(text, name + b"\0", len(name) + 1)
        array = area.take("uint32_t *", 4 * len(tags)) if tags else None
        for j, tag in enumerate(tags):
            array[j] = tag
        record.id, record.ntags, record.value = record_id, len(tags), value
        shmipc.rel_set(ffi, record.name, text)
        shmipc.rel_set(ffi, record.tags, array)
        shmipc.rel_set(ffi, record.next, None)
        shmipc.rel_set(ffi, link, record)
        link = ffi.addressof(record, "next")
        cat.count += 1
    cat.used = area.used


def _name(record, obj):
    """The record's name, NUL-terminated inside obj."""
    text = shmipc.rel_get(ffi, record.name, "char *", within=obj)
    if text is None:
        raise Malformed("a record without a name")
    room = obj.address + obj.nbytes - int(ffi.cast("uintptr_t", text))
    name = ffi.string(text, room)
    if len(name) == room:
        raise Malformed("a name runs past the end of the object")
    return name


def catalog_digest(obj):
    """(digest, count) of the catalogue in obj, every pointer checked: Malformed if it
    breaks the layout (a pointer out of obj, more records than it says)."""
    if obj.nbytes < CATALOG_SIZE:
        raise Malformed("too small for a catalogue")
    cat = shmipc.struct(obj, "struct catalog *", ffi)
    if cat.magic != CATALOG_MAGIC:
        raise Malformed("bad magic")
    h, n = FNV_INIT, 0
    try:
        record = shmipc.rel_get(ffi, cat.first, "struct catalog_record *", within=obj)
        while record is not None:
            if n >= cat.count:
                raise Malformed(f"more records than the {cat.count} it says")
            n += 1
            tags = b""  # the tags' bytes, as they are in the object
            if record.ntags:
                array = shmipc.rel_get(
                    ffi, record.tags, "uint32_t *", within=obj, count=record.ntags
                )
                if array is None:
                    raise Malformed("a record with tags but no tag array")
                tags = ffi.buffer(array, 4 * record.ntags)
            h = _fnv_record(h, record.id, _name(record, obj), record.value, tags)
            record = shmipc.rel_get(ffi, record.next, "struct catalog_record *", within=obj)
    except ValueError as e:  # rel_get: a pointer out of the object
        raise Malformed(str(e)) from None
    if n != cat.count:
        raise Malformed(f"{n} records, the catalogue says {cat.count}")
    return h, n

#!/usr/bin/env python3
"""check-layers.py — the core's dependency graph points only down (docs/design.md, "Layers").

Reads core/*.c: the core headers each includes and the shmipc_/shmipc__ functions each
calls that another file of core/ defines, and fails when a file reaches a layer above its
own. Files of one layer may call each other only if the layer says so (SIBLINGS).
Then tools/: they may include only the public header, the inspect header and their own
headers (with --tools-warn, a breach there is a warning, not a failure).

Usage: check-layers.py [--tools-warn] [SRCDIR]
"""

import os
import re
import sys

# Bottom first. A file of layer i may use layers 0..i (its own only if in SIBLINGS).
LAYERS = [
    ("base", ["error", "names", "fork", "plock", "proc", "topology", "sockwatch"]),
    ("pool", ["pool"]),
    ("robust", ["robust", "mutex"]),
    ("relring", ["relring"]),  # needs only a pool: below its users (lend provider, object)
    ("tlsf", ["tlsf"]),
    ("tables", ["named", "reftable"]),
    ("arena", ["arena"]),
    ("provider_shared", ["provider_shared"]),
    ("lend_sources", ["lend_sources"]),
    ("lend parts", ["lend_pools"]),  # the lend provider's: below its tcaches
    ("lend_tcache", ["lend_tcache"]),
    ("providers", ["provider_lend", "provider_view"]),
    ("inspect", ["inspect"]),  # the tool's private API: reads pools, tables, views
    ("containers", ["container"]),  # shared-memory containers over the public arena API
    ("container types", ["map", "str", "vec"]),
    ("object", ["object"]),
    ("channel", ["channel"]),
    ("session", ["session", "watch"]),
    ("handshake", ["proto", "handshake", "opts"]),
    ("ends", ["server", "client"]),
]
SIBLINGS = {"base", "session", "handshake"}  # layers whose files may call each other

# A core header belongs to the layer of what it declares (the lowest user for arena.h,
# the layout every layer from the allocator up shares).
HEADERS = {
    "internal.h": "base",
    "plock.h": "base",
    "arena.h": "tlsf",
    "relring.h": "relring",
    "lend.h": "lend_sources",
    "lend_internal.h": "lend parts",
    "container.h": "containers",
    "object.h": "object",
    "channel.h": "channel",
    "session.h": "session",
    "proto.h": "handshake",
    "handshake.h": "handshake",
}

TOOLS_ALLOWED = re.compile(r"^(shmipc\.h|shmipc/.*|.*inspect.*\.h)$")


def strip(text):
    """Source without comments and string or character literals."""
    return re.sub(
        r'/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'',
        lambda m: "" if m.group(0).startswith("/") else '""',
        text,
        flags=re.S,
    )


DEF = re.compile(
    r"^(?!static\b)[A-Za-z_][\w \t*]*?\b(shmipc_\w+)\s*"
    r"\((?:[^;{()]|\([^()]*\))*\)\s*\{",
    re.M,
)
CALL = re.compile(r"\b(shmipc_\w+)\s*\(")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def main(argv):
    tools_warn = "--tools-warn" in argv
    args = [a for a in argv if not a.startswith("--")]
    src = args[0] if args else os.path.join(os.path.dirname(__file__), "..")
    core = os.path.join(src, "core")
    rank, layer_of = {}, {}
    for i, (name, files) in enumerate(LAYERS):
        rank[name] = i
        for f in files:
            layer_of[f] = name
    texts, owner, errors = {}, {}, []
    for fn in sorted(os.listdir(core)):
        if not fn.endswith(".c"):
            continue
        base = fn[:-2]
        if base not in layer_of:
            errors.append(f"core/{fn}: in no layer (add it to LAYERS in {sys.argv[0]})")
            continue
        with open(os.path.join(core, fn), encoding="utf-8") as f:
            raw = f.read()
        texts[base] = raw
        for m in DEF.finditer(strip(raw)):
            owner[m.group(1)] = base
    for base, raw in texts.items():
        me = rank[layer_of[base]]
        for h in INCLUDE.findall(raw):
            if h in HEADERS and rank[HEADERS[h]] > me:
                errors.append(
                    f"core/{base}.c ({layer_of[base]}) includes {h} ({HEADERS[h]}, a layer above)"
                )
        seen = set()
        for fn in CALL.findall(strip(raw)):
            other = owner.get(fn)
            if not other or other == base or fn in seen:
                continue
            seen.add(fn)
            them = rank[layer_of[other]]
            if them > me or (them == me and layer_of[base] not in SIBLINGS):
                errors.append(
                    f"core/{base}.c ({layer_of[base]}) calls {fn} of core/{other}.c "
                    f"({layer_of[other]}, {'a layer above' if them > me else 'its own layer'})"
                )
    warnings = []
    tools = os.path.join(src, "tools")
    own = {fn for fn in os.listdir(tools) if fn.endswith(".h")} if os.path.isdir(tools) else set()
    for fn in sorted(os.listdir(tools)) if os.path.isdir(tools) else []:
        if not fn.endswith((".c", ".h")):
            continue
        with open(os.path.join(tools, fn), encoding="utf-8") as f:
            for h in INCLUDE.findall(f.read()):
                if h not in own and not TOOLS_ALLOWED.match(h):
                    (warnings if tools_warn else errors).append(
                        f"tools/{fn} includes {h}: tools use only shmipc.h and the inspect header"
                    )
    for w in warnings:
        print(f"check-layers: warning: {w}")
    for e in errors:
        print(f"check-layers: {e}")
    if errors:
        return 1
    print(f"check-layers: {len(texts)} core files, every include and call points down")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

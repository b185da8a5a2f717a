#!/usr/bin/env python3
"""Draw bench/roundtrip's figures (its --csv output) as a PNG chart: the time to move an
object of each size from one process to another and back, with shmipc (lend + borrow +
release, both providers, blocking and spinning) and with the baselines measured in the
same run (a copy through a Unix socket; the Unix-socket and busy-poll ping-pongs).

  plot_roundtrip.py ROUNDTRIP.csv OUT.png

Needs matplotlib (make bench-plots installs it in the build's venv).
"""

import csv
import sys

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402 (after the backend is chosen)

SERIES = [  # column, label, style
    ("lend_block_us", "shmipc lend provider, blocking", "o-"),
    ("lend_spin_us", "shmipc lend provider, spinning", "o--"),
    ("shared_block_us", "shmipc shared provider, blocking", "s-"),
    ("shared_spin_us", "shmipc shared provider, spinning", "s--"),
    ("socket_copy_us", "copy through a Unix socket", "^-"),
]
LEVELS = [  # baselines that do not depend on the size
    ("uds_pingpong_us", "Unix-socket ping-pong, 16 B", ":"),
    ("busy_pingpong_us", "busy-poll ping-pong (one cache line)", "-."),
]


def size_label(n):
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n // scale} {unit}"
    return f"{n} B"


def read(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise SystemExit(f"{path}: no figures")
    return rows


def plot(rows, out):
    sizes = [int(r["size"]) for r in rows]
    fig, ax = plt.subplots(figsize=(8, 5), dpi=110)
    for column, label, style in SERIES:
        points = [(s, float(r[column])) for s, r in zip(sizes, rows) if r[column]]
        if points:
            ax.plot(*zip(*points), style, label=label, markersize=4)
    for column, label, style in LEVELS:
        ax.axhline(float(rows[0][column]), linestyle=style, color="grey", linewidth=1)
        ax.annotate(
            label,
            (sizes[0], float(rows[0][column])),
            textcoords="offset points",
            xytext=(2, 3),
            fontsize=8,
            color="dimgrey",
        )
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xticks(sizes, [size_label(s) for s in sizes], rotation=30)
    ax.set_xlabel("object size")
    ax.set_ylabel("round trip (µs, log scale)")
    ax.set_title("Moving an object to another process and back (median)")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(out)


def main(argv):
    if len(argv) != 2:
        print("usage: plot_roundtrip.py ROUNDTRIP.csv OUT.png", file=sys.stderr)
        return 2
    plot(read(argv[0]), argv[1])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

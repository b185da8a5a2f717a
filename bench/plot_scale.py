#!/usr/bin/env python3
"""Draw bench/scale's figures (its --csv output) as a PNG chart: how shmipc's costs grow
with live loans, sessions of one app, clients connecting at once, named allocations and
client churn, each against its goal (issue 14). A size that failed is marked with an x
at the last size reached, and its error is in the CSV's note.

  plot_scale.py SCALE.csv OUT.png

Needs matplotlib (make bench-plots installs it in the build's venv).
"""

import csv
import sys

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402 (after the backend is chosen)
from matplotlib.ticker import FormatStrFormatter, NullFormatter  # noqa: E402

STYLE = {"shared": "s-", "lend": "o-"}
LABEL = {"shared": "shared provider", "lend": "lend provider"}


def read(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise SystemExit(f"{path}: no figures")
    return rows


def series(rows, part, metric, provider, column="value"):
    """(n, figure) of the rows that have one, and the n of those that failed (no value). A
    ratio is 1 at its base (the row that has a value and no ratio)."""
    points, failed = [], []
    for r in rows:
        if r["part"] == part and r["metric"] == metric and r["provider"] == provider:
            if not r["value"]:
                failed.append(int(r["n"]))
            elif r[column] or column == "ratio":
                points.append((int(r["n"]), float(r[column] or 1)))
    return points, failed


def goal_line(ax, rows, part, metric):
    for r in rows:
        if r["part"] == part and r["metric"] == metric and r["goal"]:
            limit = float(r["goal"].lstrip("<>= "))
            ax.axhline(limit, linestyle=":", color="grey", linewidth=1)
            ax.annotate(
                f"goal {r['goal']}",
                (0.01, limit),
                xycoords=("axes fraction", "data"),
                textcoords="offset points",
                xytext=(2, 3),
                fontsize=7,
                color="dimgrey",
            )
            return


def draw(ax, rows, part, metric, column="value", providers=("shared", "lend"), x=None):
    for p in providers:
        points, failed = series(rows, part, metric, p, column)
        if x:  # the size actually reached (sessions that connected)
            points = [(x.get((p, n), n), v) for n, v in points]
        if points:
            ax.plot(*zip(*points), STYLE.get(p, "^-"), label=LABEL.get(p, p), markersize=4)
        if failed and points:
            ax.plot([points[-1][0]], [points[-1][1]], "x", color="red", markersize=9)
            ax.annotate(
                f"{p}: {min(failed):,} failed",
                points[-1],
                textcoords="offset points",
                xytext=(-60, -12),
                fontsize=7,
                color="red",
            )
    ax.set_xscale("log")
    ax.grid(True, which="major", alpha=0.3)


def reached(rows, part, metric):
    return {
        (r["provider"], int(r["n"])): int(float(r["value"]))
        for r in rows
        if r["part"] == part and r["metric"] == metric and r["value"]
    }


def plot(rows, out):
    fig, axes = plt.subplots(2, 3, figsize=(14, 8), dpi=100)
    (loans, mem, tput), (once, names, churn) = axes

    draw(loans, rows, "loans", "owner CPU ns per lend/release op", column="ratio")
    goal_line(loans, rows, "loans", "owner CPU ns per lend/release op")
    loans.set(
        title="Live loans: owner CPU per lend/release op",
        xlabel="live loans",
        ylabel="÷ the same at 1k",
    )

    connected = reached(rows, "sessions", "sessions connected")
    draw(mem, rows, "sessions", "server RSS KiB per session", x=connected)
    goal_line(mem, rows, "sessions", "server RSS KiB per session")
    mem.set_yscale("log")
    mem.yaxis.set_major_formatter(FormatStrFormatter("%g"))
    mem.set(
        title="Server memory per session (RSS)",
        xlabel="sessions of one app (connected)",
        ylabel="KiB per session",
    )

    draw(tput, rows, "sessions", "total messages per s", column="ratio", x=connected)
    goal_line(tput, rows, "sessions", "total messages per s")
    tput.set(
        title="Total throughput of N sessions",
        xlabel="sessions of one app (connected)",
        ylabel="÷ one session's",
    )

    for p in ("shared", "lend"):
        points, _ = series(rows, "at-once", "clients connected", p, "ratio")
        slow, _ = series(rows, "at-once", "slowest connect ms", p)
        if points:
            n, frac = points[0]
            once.bar(p, frac, color="tab:blue" if p == "shared" else "tab:orange")
            once.annotate(
                f"{round(frac * n)}/{n}" + (f"\nslowest {slow[0][1]:.0f} ms" if slow else ""),
                (p, frac),
                textcoords="offset points",
                xytext=(0, 3),
                ha="center",
                fontsize=8,
            )
    once.set_ylim(0, 1.25)
    once.set(title="Clients connecting at once", ylabel="fraction connected (30 s timeout)")

    draw(
        names,
        rows,
        "names",
        "CPU ns per lookup, 100 hot names",
        column="ratio",
        providers=("shared",),
    )
    hot = names.get_lines()[-1]
    hot.set_label("100 hot names")
    draw(
        names,
        rows,
        "names",
        "CPU ns per lookup, random names",
        column="ratio",
        providers=("shared",),
    )
    names.get_lines()[-1].set(label="random names", linestyle="--")
    goal_line(names, rows, "names", "CPU ns per lookup, 100 hot names")
    names.set_yscale("log")
    top = max(max(line.get_ydata()) for line in names.get_lines())
    names.set_yticks([t for t in (1, 1.5, 2, 3, 5, 10, 20, 50, 100, 200, 500) if t <= top * 1.5])
    names.yaxis.set_major_formatter(FormatStrFormatter("%g"))
    names.yaxis.set_minor_formatter(NullFormatter())
    names.set(
        title="Named allocations: lookup cost",
        xlabel="named allocations",
        ylabel="÷ the same among 100",
    )

    draw(churn, rows, "churn", "server RSS MiB", providers=("lend",))
    churn.set_xscale("linear")
    churn.set_ylim(bottom=0)
    churn.set(
        title="Churn: lend server RSS (1 client in 10 killed)",
        xlabel="client lifetimes",
        ylabel="MiB",
    )

    for ax in axes.flat:
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    fig.suptitle("shmipc at scale (bench/scale; ratios within one run)")
    fig.tight_layout()
    fig.savefig(out)


def main(argv):
    if len(argv) != 2:
        print("usage: plot_scale.py SCALE.csv OUT.png", file=sys.stderr)
        return 2
    plot(read(argv[0]), argv[1])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

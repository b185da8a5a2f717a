"""producer.py — a pandas DataFrame to a Rust process as an Arrow table in shared memory.

    python producer.py [--rows N] [--consumer PATH]

Opens a server, starts the Rust consumer (examples/arrow/consumer.rs; default: the build's
bindings/rust/target/debug/examples/arrow_consumer, or $SHMIPC_RUST_TARGET_DIR) and sends it
a DataFrame: shmipc.arrow.write copies the columns once, straight into a shared object; the
consumer reads them in place and answers with the row count and the sums of the numeric
columns, which this side checks. Without pandas the same table is built with pyarrow alone.
"""

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pyarrow

import shmipc
import shmipc.arrow

ROOT = Path(__file__).resolve().parents[2]


def make_table(rows: int) -> "pyarrow.Table":
    data = {
        "id": range(rows),
        "price": [i * 0.25 for i in range(rows)],
        "symbol": [("ABC", "XYZ", "QRS")[i % 3] for i in range(rows)],
    }
    try:
        import pandas
    except ImportError:
        return pyarrow.table(
            {
                "id": pyarrow.array(data["id"], pyarrow.int64()),
                "price": data["price"],
                "symbol": data["symbol"],
            }
        )
    frame = pandas.DataFrame(data)
    return pyarrow.Table.from_pandas(frame, preserve_index=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    rust = Path(
        os.environ.get(
            "SHMIPC_RUST_TARGET_DIR", ROOT / "bindings" / "rust" / "target" / "debug" / "examples"
        )
    )
    parser.add_argument("--consumer", default=str(rust / "arrow_consumer"))
    args = parser.parse_args()

    name = f"arrow-example-{os.getpid()}"
    table = make_table(args.rows)
    with shmipc.Server(
        name, session_arena_size=2 * shmipc.arrow.stream_size(table) + (1 << 20)
    ) as server:
        consumer = subprocess.Popen([args.consumer, name])
        try:
            with server.accept(timeout=30.0) as session:
                session.send(b"table", shmipc.arrow.write(session, table))
                summary, _ = session.recv(timeout=60.0)
                print(f"consumer: {summary.decode()}")
                expected = (
                    f"{args.rows} rows, 3 columns, sum(id)={float(sum(range(args.rows)))}"
                    f", sum(price)={sum(i * 0.25 for i in range(args.rows))}"
                )
                session.send(b"end")
        finally:
            status = consumer.wait(timeout=60.0)
    if status != 0 or summary.decode() != expected:
        print(f"unexpected: status {status}, expected {expected!r}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

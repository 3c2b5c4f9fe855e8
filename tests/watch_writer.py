"""A stand-in instrument for tests/test_watch.py: writes a CSV hold while it is read.

    python tests/watch_writer.py OUT.csv [--rows 600] [--chunk 60] [--pause 0.15]
                                 [--rewrite-pause SECONDS (default: --pause)]

Rows are ``time/s,I/A,Ewe/V`` of a two-exponential decay to 1e-9 A at 0.1 V, every 10 s.
Each chunk ends in the middle of a row (the rest follows after a pause, as a buffered
instrument writes); halfway the file is rewritten in place: truncated, then written again
from the start in two steps. ``rows(n)`` gives the exact text of the first n rows.
"""

from __future__ import annotations

import sys
import time


def row(k: int) -> str:
    """Text of data row k (0-based), with its line break."""
    import math

    t = 10.0 * k
    i = 1e-9 * (1.0 + 3.0 * math.exp(-t / 300.0) + 1.0 * math.exp(-t / 1500.0))
    return f"{t:.1f},{i:.6e},0.1\n"


HEADER = "time/s,I/A,Ewe/V\n"


def rows(n: int) -> str:
    """The file as it is after n complete rows."""
    return HEADER + "".join(row(k) for k in range(n))


def main(argv: list[str]) -> None:
    path = argv[0]
    opts = dict(zip(argv[1::2], argv[2::2], strict=True))
    n, chunk = int(opts.get("--rows", 600)), int(opts.get("--chunk", 60))
    pause = float(opts.get("--pause", 0.15))
    rewrite_pause = float(opts.get("--rewrite-pause", pause))
    with open(path, "w") as fh:
        fh.write(HEADER)
    written = 0
    while written < n:
        block = "".join(row(k) for k in range(written, min(written + chunk, n)))
        cut = len(block) - 7  # mid-number of the last row
        with open(path, "a") as fh:
            fh.write(block[:cut])
            fh.flush()
            time.sleep(pause)
            fh.write(block[cut:])
        written = min(written + chunk, n)
        if written == (n // chunk // 2) * chunk:  # rewrite in place, in two steps
            text = rows(written)
            with open(path, "r+") as fh:
                fh.truncate(0)
                fh.write(text[: len(text) // 2])
                fh.flush()
                time.sleep(rewrite_pause)
                fh.write(text[len(text) // 2:])
        time.sleep(pause)


if __name__ == "__main__":
    main(sys.argv[1:])

"""Speed and memory of the text readers against pandas, as ratios in the same run.

- CSV of 10^5, 10^6, 10^7 points (``time/s,I/mA,Ewe/V``, sescreen's own header style):
  ``sescreen.io.read`` against ``pandas.read_csv(path)`` with default options.
- EC-Lab ``.mpt`` of 10^6 rows, latin-1, decimal commas, 11 columns (as EC-Lab writes them):
  against a hand-tuned ``pandas.read_csv(path, sep="\\t", decimal=",", encoding="latin-1",
  skiprows=<header lines>)``.
- Gamry ``.DTA`` of 10^6 rows (a CHRONOA file: header, CRLF, the ``CURVE`` table with its
  leading tab and text ``Over`` column): against ``pandas.read_csv(path, sep="\\t",
  encoding="latin-1", skiprows=<lines before the rows>, header=None)``.
- EC-Lab ``.mpr`` (binary, sescreen's own reader): the real ``ca.mpr`` (721 points) against
  pandas reading its text twin ``ca.mpt``, when ``../shared/realdata`` is present.

Times are medians of interleaved pairs (one pandas read, one sescreen read, repeated), in
one process with imports warm. Peak memory is the growth of the peak resident set
(``VmHWM``) of a fresh process over its size after the imports and a read of a small file
of the same kind, for one read; the
table gives it against pandas' and against the numeric data itself (rows x columns x 8 B).

    python tests/benchmarks/test_read_bench.py [--repeat 7] [--sizes 1e5 1e6 1e7]
    python -m pytest tests/benchmarks/test_read_bench.py -s

The table goes to ``tests/benchmarks/read_speed.md``. The files are written once into
``$SESCREEN_BENCH_DIR`` (default: a ``sescreen-read-bench`` folder in the temp directory).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
REALDATA = ROOT.parent / "shared" / "realdata"
OUT = Path(__file__).resolve().parent / "read_speed.md"
SIZES = (10**5, 10**6, 10**7)
MPT_ROWS = 10**6
if str(ROOT) not in sys.path:  # run as a script: this checkout's sescreen, not an installed one
    sys.path.insert(0, str(ROOT))


def bench_dir() -> Path:
    d = Path(os.environ.get("SESCREEN_BENCH_DIR")
             or Path(tempfile.gettempdir()) / "sescreen-read-bench")
    d.mkdir(parents=True, exist_ok=True)
    return d


def _record(n: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    t = np.arange(n) * 0.1
    tau = 0.002 * n + 1  # a fiftieth of the hold
    i = 1e-6 * (1 + np.exp(-t / tau)) + 1e-9 * rng.standard_normal(n)
    return t, i


def make_csv(n: int) -> Path:
    """A CSV of ``n`` points: ``time/s,I/mA,Ewe/V`` (written once, then reused)."""
    import pandas as pd

    path = bench_dir() / f"hold_{n}.csv"
    if not path.exists():
        t, i = _record(n)
        v = 0.1 + 1e-4 * np.sin(t / 100.0)
        df = pd.DataFrame({"time/s": t, "I/mA": i * 1e3, "Ewe/V": v})
        tmp = path.with_suffix(".part")
        df.to_csv(tmp, index=False, float_format="%.10g")
        tmp.replace(path)
    return path


def make_mpt(n: int = MPT_ROWS) -> tuple[Path, int]:
    """An EC-Lab export of ``n`` rows, latin-1, decimal commas; and its header line count."""
    import pandas as pd

    from sescreen.io.writers import write_mpt

    path = bench_dir() / f"hold_{n}_comma.mpt"
    small = bench_dir() / "header.mpt"
    write_mpt(small, np.arange(3.0), np.full(3, 1e-9), decimal=",")
    lines = small.read_bytes().split(b"\n")
    n_header = int(lines[1].split(b":")[1])
    if not path.exists():
        t, i = _record(n, seed=2)
        cols = {"mode": 2, "ox/red": 1, "error": 0, "time/s": t, "control/V": 0.1,
                "Ewe/V": 0.1 + 1e-5 * np.cos(t), "I/mA": i * 1e3,
                "(Q-Qo)/C": np.cumsum(i) * 0.1, "I Range": 41, "cycle number": 0.0, "Ns": 0}
        df = pd.DataFrame(cols)
        df[""] = ""  # EC-Lab's trailing tab
        tmp = path.with_suffix(".part")
        with open(tmp, "wb") as fh:
            fh.write(b"\n".join(lines[:n_header - 1]) + b"\n")
            df.to_csv(fh, sep="\t", decimal=",", index=False, float_format="%.7E",
                      encoding="latin-1")
        tmp.replace(path)
    return path, n_header


DTA_ROWS = 10**6


def make_dta(n: int = DTA_ROWS) -> tuple[Path, int]:
    """A Gamry CHRONOA file of ``n`` rows with CRLF line ends; and the lines before its rows."""
    path = bench_dir() / f"hold_{n}.DTA"
    head = ["EXPLAIN", "TAG\tCHRONOA", "TITLE\tLABEL\tDC polarization\tTest &Identifier",
            "DATE\tLABEL\t3/10/2019\tDate", "TIME\tLABEL\t12:00:00\tTime",
            "NOTES\tNOTES\t1\t&Notes...", "\tLLZO, Au blocking electrodes",
            "PSTAT\tPSTAT\tREF600-12345\tPotentiostat",
            "VSTEP1\tPOTEN\t1.00000E-001\tF\tStep 1 Voltage (V)",
            "TSTEP1\tQUANT\t2.00000E+005\tStep 1 Time (s)",
            "SAMPLETIME\tQUANT\t2.00000E-001\tSa&mple Period (s)",
            "AREA\tQUANT\t1.00000E+000\tElectrode &Area (cm^2)",
            "IERANGE\tIQUANT\t6\tI/E Range", "FRAMEWORKVERSION\tQUANT\t7.07\tFramework Version",
            f"CURVE\tTABLE\t{n}", "\tPt\tT\tVf\tIm\tVu\tSig\tAch\tIERange\tOver",
            "\t#\ts\tV vs. Ref.\tA\tV\tV\tV\t#\tbits"]
    if not path.exists():
        import pandas as pd

        t, i = _record(n, seed=3)
        df = pd.DataFrame({"": "", "Pt": np.arange(n), "T": t, "Vf": 0.1 + 1e-5 * np.cos(t),
                           "Im": i, "Vu": 0.0, "Sig": 0.1, "Ach": -6.65e-4, "IERange": 6,
                           "Over": "..........."})
        tmp = path.with_suffix(".part")
        with open(tmp, "wb") as fh:
            fh.write(("\r\n".join(head) + "\r\n").encode("latin-1"))
            df.to_csv(fh, sep="\t", index=False, header=False, float_format="%.5E",
                      encoding="latin-1", lineterminator="\r\n")
        tmp.replace(path)
    return path, len(head)


# -- timing -----------------------------------------------------------------------------
def _pairs(ours, theirs, repeat: int) -> tuple[float, float, float, float]:
    """Median ratio ours/theirs over interleaved pairs, the median times (s), and the ratio
    of the best times (the floor a busy machine allows)."""
    ours(), theirs()  # warm
    ratios, a, b = [], [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        theirs()
        t1 = time.perf_counter()
        ours()
        t2 = time.perf_counter()
        a.append(t2 - t1)
        b.append(t1 - t0)
        ratios.append((t2 - t1) / (t1 - t0))
    return statistics.median(ratios), statistics.median(a), statistics.median(b), min(a) / min(b)


_MEMORY = """
import resource, sys
import pandas as pd
from sescreen.io import read

def peak():  # VmHWM (ru_maxrss keeps the parent's peak across fork + exec on Linux)
    try:
        with open("/proc/self/status") as fh:
            return next(int(ln.split()[1]) for ln in fh if ln.startswith("VmHWM"))
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

path, how, skip, warm = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]

def load(p):
    if how == "sescreen":
        return read(p).data
    if how == "pandas":
        return pd.read_csv(p)
    if how == "dta":
        return pd.read_csv(p, sep="\\t", encoding="latin-1", skiprows=skip, header=None)
    return pd.read_csv(p, sep="\\t", decimal=",", encoding="latin-1", skiprows=skip)

load(warm)  # the lazy imports (and sescreen's unit table): not the reading's memory
base = peak()
n = len(load(path))
print((peak() - base) * 1024, n)
"""


def peak_bytes(path: Path, how: str, skip: int = 0) -> int:
    """Growth of the peak RSS (bytes) of a fresh process reading ``path`` once, after a
    read of a small file of the same kind (imports warm)."""
    warm = bench_dir() / f"warm{path.suffix}"
    if not warm.exists():
        warm.write_bytes(_head_lines(path, 200))
    r = subprocess.run([sys.executable, "-c", _MEMORY, str(path), how, str(skip), str(warm)],
                       cwd=ROOT, capture_output=True, text=True, check=True)
    return int(r.stdout.split()[0])


def _head_lines(path: Path, n: int) -> bytes:
    with path.open("rb") as fh:
        return b"".join(fh.readline() for _ in range(n))


def run(sizes=SIZES, repeat: int = 7, memory: bool = True) -> list[dict]:
    import pandas as pd

    from sescreen.io import read

    rows = []
    for n in sizes:
        path = make_csv(n)
        ratio, ours, theirs, best = _pairs(lambda p=path: read(p),
                                           lambda p=path: pd.read_csv(p), repeat)
        row = dict(case=f"CSV, {n:.0e} points", ratio=ratio, best=best, ours=ours, theirs=theirs,
                   baseline="pandas.read_csv(path)", data=n * 3 * 8, size=path.stat().st_size)
        if memory:
            row["mem_ours"] = peak_bytes(path, "sescreen")
            row["mem_theirs"] = peak_bytes(path, "pandas")
        rows.append(row)
    mpt, n_header = make_mpt()
    skip = n_header - 1
    ratio, ours, theirs, best = _pairs(
        lambda: read(mpt),
        lambda: pd.read_csv(mpt, sep="\t", decimal=",", encoding="latin-1", skiprows=skip),
        repeat)
    row = dict(case=f".mpt, {MPT_ROWS:.0e} rows, latin-1, decimal commas", ratio=ratio,
               best=best, ours=ours, theirs=theirs,
               baseline="pandas.read_csv(sep='\\t', decimal=',', encoding='latin-1', "
               "skiprows=header)", data=MPT_ROWS * 11 * 8,
               size=mpt.stat().st_size)
    if memory:
        row["mem_ours"] = peak_bytes(mpt, "sescreen")
        row["mem_theirs"] = peak_bytes(mpt, "mpt", skip)
    rows.append(row)
    dta, skip = make_dta()
    ratio, ours, theirs, best = _pairs(
        lambda: read(dta),
        lambda: pd.read_csv(dta, sep="\t", encoding="latin-1", skiprows=skip, header=None),
        repeat)
    row = dict(case=f"Gamry .DTA, {DTA_ROWS:.0e} rows, CRLF", ratio=ratio, best=best,
               ours=ours, theirs=theirs,
               baseline="pandas.read_csv(sep='\\t', encoding='latin-1', skiprows=header, "
               "header=None)", data=DTA_ROWS * 9 * 8, size=dta.stat().st_size)
    if memory:
        row["mem_ours"] = peak_bytes(dta, "sescreen")
        row["mem_theirs"] = peak_bytes(dta, "dta", skip)
    rows.append(row)
    mpr, twin = REALDATA / "biologic" / "ca.mpr", REALDATA / "biologic" / "ca.mpt"
    if mpr.is_file():
        n_skip = int(twin.read_bytes().split(b"\n")[1].split(b":")[1]) - 1
        ratio, ours, theirs, best = _pairs(
            lambda: read(mpr),
            lambda: pd.read_csv(twin, sep="\t", encoding="latin-1", skiprows=n_skip),
            repeat)
        rows.append(dict(case=".mpr (real ca.mpr, 721 points)", ratio=ratio, best=best,
                         ours=ours,
                         theirs=theirs, baseline="pandas.read_csv of its .mpt twin",
                         data=None, size=mpr.stat().st_size))
    return rows


def table(rows: list[dict]) -> str:
    out = ["| file | sescreen read / baseline (median of pairs) | best / best | sescreen s | "
           "baseline s | peak memory / baseline's | peak memory / numeric data | baseline |",
           "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        mem = data = "-"
        if r.get("mem_ours") is not None:
            mem = f"{r['mem_ours'] / max(r['mem_theirs'], 1):.2f}"
            mb = r["mem_ours"] / 1e6
            data = f"{r['mem_ours'] / r['data']:.2f} ({mb:.0f} MB)" if r["data"] else "-"
        out.append(f"| {r['case']} | {r['ratio']:.2f} | {r['best']:.2f} | {r['ours']:.3f} "
                   f"| {r['theirs']:.3f} "
                   f"| {mem} | {data} | {r['baseline']} |")
    return "\n".join(out)


def write(rows: list[dict], path: Path = OUT) -> str:
    import pandas as pd

    text = (f"Measured with `python tests/benchmarks/test_read_bench.py` ({os.cpu_count()} "
            f"shared cores, busy; pandas {pd.__version__}; medians of interleaved pairs), "
            f"{time.strftime('%Y-%m-%d')}.\n\n" + table(rows) + "\n")
    path.write_text(text, encoding="utf-8")
    return text


def test_read_speed_and_memory():
    sizes = tuple(int(float(s)) for s in os.environ.get("SESCREEN_BENCH_SIZES",
                                                         "1e5 1e6 1e7").split())
    rows = run(sizes)
    print("\n" + write(rows))
    for r in rows:
        if r["case"].startswith("CSV") and r["data"] >= 3 * 8 * 10**6:
            assert r["ratio"] <= 1.5, r
            assert r["mem_ours"] <= 2 * r["mem_theirs"], r
        if r["case"].startswith((".mpt", "Gamry")):
            assert r["ratio"] <= 2.0, r
            assert r["mem_ours"] <= 2 * r["mem_theirs"], r


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--sizes", nargs="*", default=["1e5", "1e6", "1e7"])
    ap.add_argument("--no-memory", action="store_true")
    ap.add_argument("--out", type=Path, default=OUT)
    a = ap.parse_args(argv)
    rows = run(tuple(int(float(s)) for s in a.sizes), a.repeat, not a.no_memory)
    print(write(rows, a.out))


if __name__ == "__main__":
    main()

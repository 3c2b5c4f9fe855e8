"""DC polarization benchmarks: accuracy against known truth, and speed against reading.

1. Accuracy: synthetic holds from four models (exp1, exp2, stretched, stoichiometric limit)
   at three noise levels (0.3, 1, 3 % of I_ss), holds that end at steady state (10x the
   slowest time constant) and holds stopped at 1.5-3x it. The fitted asymptote is compared
   with the tail-mean practice (mean of the last 10 %) on the same curves.
2. Speed table (:func:`speed_table`): a 3-column CSV (time/s, current, voltage) of 10^5,
   10^6 and 10^7 points; per size, interleaved repeats of ``pandas.read_csv`` (default
   options), ``sescreen.io.read`` and ``fit_dcpol`` (model auto) on what was read; the
   median ratios fit / pandas read and fit / sescreen read, and the peak memory the fit
   allocates (tracemalloc, in a separate untimed run) against the record's raw size
   (3 float64 columns). Written to ``dcpol_speed.md`` (the README's performance section,
   ``run_all.py``); a script run measures this checkout's sescreen::

       python tests/benchmarks/test_dcpol_bench.py --speed [--sizes 1e5 1e6 1e7] [--repeats 5]
"""

from __future__ import annotations

import math
import sys
import tempfile
import time
from pathlib import Path

if __name__ == "__main__":  # a script run measures this checkout, not an installed copy
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np

from sescreen.dcpol import fit_dcpol
from sescreen.io import read
from sescreen.io.writers import write_table
from sescreen.synthetic import dcpol_record

NOISES = (0.003, 0.01, 0.03)
PER_CELL = 6  # curves per (model, noise, regime)


def _case(kind: str, rng, i_ss: float):
    """Parameters of a model and its slowest time constant, s."""
    if kind == "exp1":
        tau = rng.uniform(200, 2000)
        return dict(i_ss=i_ss, a1=i_ss * rng.uniform(1.5, 5), tau1=tau), tau
    if kind == "exp2":
        t1 = rng.uniform(30, 200)
        t2 = t1 * rng.uniform(8, 30)
        return dict(i_ss=i_ss, a1=i_ss * rng.uniform(3, 10), tau1=t1,
                    a2=i_ss * rng.uniform(1.5, 4), tau2=t2), t2
    if kind == "stretched":
        tau = rng.uniform(500, 3000)
        return dict(i_ss=i_ss, a=i_ss * rng.uniform(3, 6), tau=tau,
                    beta=rng.uniform(0.6, 0.9)), tau
    tau_d = rng.uniform(2e4, 2e5)
    return dict(i_inf=i_ss, tau_d=tau_d), tau_d / (4 * np.pi**2)


def accuracy_table(seed: int = 20190204):
    rng = np.random.default_rng(seed)
    rows = []
    for kind in ("exp1", "exp2", "stretched", "stoich_limit"):
        for noise in NOISES:
            for regime in ("steady", "stopped"):
                for _ in range(PER_CELL):
                    i_ss = 10 ** rng.uniform(-11, -7)
                    params, slow = _case(kind, rng, i_ss)
                    hold = slow * (10.0 if regime == "steady" else rng.uniform(1.5, 3.0))
                    m = dcpol_record(kind, params, hold_s=hold, dt_s=hold / 1500,
                                     noise_a=noise * i_ss, rng=rng)
                    r = fit_dcpol(m, thickness_cm=0.1)
                    lo, hi = r.i_ss_interval
                    rows.append(dict(kind=kind, noise=noise, regime=regime,
                                     err=abs(r.i_ss / i_ss - 1),
                                     tail_err=abs(r.tail_mean_i / i_ss - 1),
                                     flagged=not r.steady_state_reached,
                                     covered=lo <= i_ss <= hi, model=r.model))
    return rows


def _summarize(rows, **where):
    sel = [r for r in rows if all(r[k] == v for k, v in where.items())]
    return (np.median([r["err"] for r in sel]), np.median([r["tail_err"] for r in sel]),
            np.mean([r["flagged"] for r in sel]), np.mean([r["covered"] for r in sel]),
            len(sel))


def test_accuracy_against_tail_mean():
    rows = accuracy_table()
    print("\nregime   model         noise   median|err|  tail-mean|err|  flagged  covered  n")
    for regime in ("steady", "stopped"):
        for kind in ("exp1", "exp2", "stretched", "stoich_limit"):
            for noise in NOISES:
                e, te, fl, cov, n = _summarize(rows, regime=regime, kind=kind, noise=noise)
                print(f"{regime:8s} {kind:12s} {noise:6.1%}  {e:11.3%}  {te:14.1%}  "
                      f"{fl:7.0%}  {cov:7.0%}  {n}")
    steady = _summarize(rows, regime="steady")
    stopped = _summarize(rows, regime="stopped")
    print(f"ALL steady : median |err| {steady[0]:.3%}, tail mean {steady[1]:.2%}, "
          f"reported not steady {steady[2]:.0%}, 95% coverage {steady[3]:.0%}")
    print(f"ALL stopped: median |err| {stopped[0]:.3%}, tail mean {stopped[1]:.1%}, "
          f"reported not steady {stopped[2]:.0%}, 95% coverage {stopped[3]:.0%}")
    assert steady[0] <= 0.01
    assert stopped[0] <= 0.05
    stopped_rows = [r for r in rows if r["regime"] == "stopped" and 0.15 <= r["tail_err"] <= 0.6]
    assert np.median([r["err"] for r in stopped_rows]) <= 0.05
    assert np.mean([r["flagged"] for r in stopped_rows]) >= 0.95


SPEED_MD = Path(__file__).resolve().parent / "dcpol_speed.md"


def _speed_record(path: Path, n: int) -> Path:
    """The speed benchmark's hold: exp2 with 1 % white noise, 2e5 s, ``n`` points, as a
    CSV with a header row and three columns (time/s, I/nA, Ewe/V)."""
    rng = np.random.default_rng(1)
    i_ss = 3e-9
    m = dcpol_record("exp2", dict(i_ss=i_ss, a1=5 * i_ss, tau1=300.0, a2=2 * i_ss,
                                  tau2=2.0e4), hold_s=2.0e5, dt_s=2.0e5 / (n - 1),
                     noise_a=0.01 * i_ss, rng=rng)
    return write_table(path, m.time_s, m.current_a, voltage_v=np.full(n, 0.1),
                       current_unit="nA")


def _fit(m):
    return fit_dcpol(m, thickness_cm=0.1, voltage_v=0.1, area_cm2=1.0)


def speed_row(path: Path, repeats: int) -> dict:
    """Interleaved timings of pandas.read_csv, sescreen.io.read and fit_dcpol (auto) on
    one file, and the fit's peak allocation (tracemalloc, untimed)."""
    import os
    import tracemalloc

    import pandas as pd

    from sescreen.dcpol import core

    t_pd, t_read, t_fit, t_py = [], [], [], []
    m = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        pd.read_csv(path)
        t_pd.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        m = read(path)
        t_read.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        r = _fit(m)
        t_fit.append(time.perf_counter() - t0)
        if core.available():  # the Python reference path of the same fit, for the ratio
            os.environ["SESCREEN_PURE_PYTHON"] = "1"
            try:
                t0 = time.perf_counter()
                _fit(m)
                t_py.append(time.perf_counter() - t0)
            finally:
                del os.environ["SESCREEN_PURE_PYTHON"]
    tracemalloc.start()
    _fit(m)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    f, p, s = (np.array(v) for v in (t_fit, t_pd, t_read))
    return dict(n=len(m), pandas_s=float(np.median(p)), read_s=float(np.median(s)),
                fit_s=float(np.median(f)), fit_pandas=float(np.median(f / p)),
                fit_read=float(np.median(f / s)), peak_mb=peak / 1e6,
                raw_mb=len(m) * 3 * 8 / 1e6, i_ss_err=abs(r.i_ss / 3e-9 - 1),
                python_fit=float(np.median(np.array(t_py) / f)) if t_py else math.nan)


def speed_markdown(rows: list[dict], repeats: int) -> str:
    """The speed table as markdown."""
    lines = [
        f"Fit (model auto) against reading the same 3-column CSV (time/s, I/nA, Ewe/V), "
        f"{repeats} interleaved repeats per size, medians "
        f"(`python tests/benchmarks/test_dcpol_bench.py --speed`, "
        f"{time.strftime('%Y-%m-%d')}; a shared 2-core machine: the ratios, not the "
        "seconds, are the result). Peak: the fit's largest traced allocation (tracemalloc) "
        "against the record's three float64 columns. Python path / fit: the same fit with "
        "`SESCREEN_PURE_PYTHON=1` (the optimizer in Python, not the compiled core), "
        "interleaved.",
        "",
        "| points | pandas.read_csv s | sescreen read s | fit s | fit / pandas read | "
        "fit / sescreen read | Python path / fit | fit peak MB | raw MB | peak / raw | "
        "I_ss error |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['n']:.0e} | {r['pandas_s']:.3f} | {r['read_s']:.3f} | "
                     f"{r['fit_s']:.3f} | {r['fit_pandas']:.2f} | {r['fit_read']:.2f} | "
                     f"{r['python_fit']:.1f} | {r['peak_mb']:.0f} | {r['raw_mb']:.0f} | "
                     f"{r['peak_mb'] / r['raw_mb']:.2f} | {r['i_ss_err']:.1e} |")
    return "\n".join(lines) + "\n"


def speed_table(sizes=(10**5, 10**6, 10**7), repeats: int = 5,
                out: Path | None = SPEED_MD) -> str:
    """Run the speed benchmark; write and return its markdown table."""
    rows = []
    with tempfile.TemporaryDirectory() as d:
        for n in sizes:
            path = _speed_record(Path(d) / f"hold_{n}.csv", int(n))
            _fit(read(path))  # warm-up: imports, caches
            rows.append(speed_row(path, repeats))
            path.unlink()
    text = speed_markdown(rows, repeats)
    if out is not None:
        out.write_text(text, encoding="utf-8")
    return text


def test_fit_is_faster_than_reading_the_csv():
    """Fit (auto, and exp2) against pandas.read_csv and sescreen's reader at 10^5 and 10^6
    points (the table of :func:`speed_table`; 10^7: the script). The ratios are printed;
    the assertions are accuracy and a regression guard (the fit was 13x pandas.read_csv at
    10^6 points before the one-pass statistics; it is ~1.5-3x now, the fixed cost of the
    candidate fits on the bins)."""
    rows = []
    with tempfile.TemporaryDirectory() as d:
        for n in (10**5, 10**6):
            path = _speed_record(Path(d) / f"hold_{n}.csv", n)
            m = read(path)
            _fit(m)  # warm-up: imports, caches
            rows.append(speed_row(path, 3))
            t0 = time.perf_counter()
            r_exp2 = fit_dcpol(m, thickness_cm=0.1, voltage_v=0.1, area_cm2=1.0,
                               model="exp2")
            rows[-1]["exp2_s"] = time.perf_counter() - t0
            assert abs(r_exp2.i_ss / 3e-9 - 1) < 0.01
    print("\n" + speed_markdown(rows, 3))
    for r in rows:
        print(f"{r['n']:.0e} points: fit exp2 {r['exp2_s']:.3f} s")
        assert r["i_ss_err"] < 0.01
    assert rows[-1]["fit_pandas"] < 5.0


if __name__ == "__main__":  # pragma: no cover
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--speed", action="store_true", help="only the speed table")
    ap.add_argument("--sizes", type=float, nargs="+", default=[1e5, 1e6, 1e7])
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    if args.speed:
        print(speed_table([int(n) for n in args.sizes], args.repeats))
    else:
        test_accuracy_against_tail_mean()
        test_fit_is_faster_than_reading_the_csv()

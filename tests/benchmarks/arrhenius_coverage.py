"""Coverage of the 95 % interval of sigma(25 C) from :func:`sescreen.arrhenius.fit_arrhenius`.

The data come from a generator written here (numpy only), not from the fit's own model:

``right``     the stated errors are the true ones (log-normal, 1-10 % per point);
``under3``    the true scatter is 3x the stated errors (multiplicative over-dispersion);
``additive``  the stated errors miss an additive sample-to-sample scatter of 0.2 in ln sigma;
``t3``        heavy tails: Student t(3) errors scaled to 3x the stated errors;
``none``      no stated errors at all (the fit's ordinary least squares);
``curved``    ln sigma curved in 1/T (Ea drifting by 0.08 eV across 30-80 C), errors right:
              no straight line covers this; the column ``flagged`` is how often the fit
              warned about curvature.

Temperatures: n equally spaced points over 30-80 C; extrapolated to 25 C.

    python tests/benchmarks/arrhenius_coverage.py [--trials 4000] [--out FILE.md]

writes the table (default ``tests/benchmarks/arrhenius_coverage.md``, which the README
quotes). ``coverage_table(trials, seed)`` is the function; the default test run calls it with
a small sample (``tests/test_arrhenius.py``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

K_B = 8.617333262e-5  # eV/K, written out: the generator does not import sescreen
EA, LN_A = 0.45, np.log(100.0)
T_AT = 298.15
CASES = ("right", "under3", "additive", "t3", "none", "curved")
SIZES = (3, 4, 6, 10)


def make_points(case: str, n: int, rng: np.random.Generator):
    """(T in K, sigma in S/cm, stated stderr in S/cm or None, true sigma at 25 C)."""
    t = np.linspace(303.15, 353.15, n)
    x = 1.0 / (K_B * t)
    x_at = 1.0 / (K_B * T_AT)
    rel = rng.uniform(0.01, 0.10, n)
    mid = 1.0 / (K_B * 328.15)
    curve = 0.0
    if case == "curved":  # d ln sigma / dx = -(EA + c (x - mid)): Ea drifts 0.08 eV
        c = 0.08 / (x[0] - x[-1]) if n > 1 else 0.0
        curve = -0.5 * c * (x - mid) ** 2
    ln_true = LN_A - EA * x + curve
    if case in ("right", "curved"):
        e = rng.normal(0.0, rel)
    elif case in ("under3", "none"):
        e = rng.normal(0.0, 3.0 * rel)
    elif case == "additive":
        e = rng.normal(0.0, np.sqrt(rel**2 + 0.2**2))
    elif case == "t3":
        e = 3.0 * rel * rng.standard_t(3, n) / np.sqrt(3.0)
    else:
        raise ValueError(case)
    sig = np.exp(ln_true + e)
    c_at = -0.5 * c * (x_at - mid) ** 2 if case == "curved" else 0.0
    return t, sig, None if case == "none" else rel * sig, float(np.exp(LN_A - EA * x_at + c_at))


def coverage_table(trials: int = 4000, seed: int = 13, cases=CASES, sizes=SIZES):
    """{(case, n): (coverage, flagged fraction)} of the 95 % interval of sigma(25 C)."""
    from sescreen.arrhenius import fit_arrhenius

    out = {}
    for ci, case in enumerate(cases):
        for n in sizes:
            rng = np.random.default_rng([seed, ci, n])
            hits = flagged = 0
            for _ in range(trials):
                t, sig, err, truth = make_points(case, n, rng)
                f = fit_arrhenius(t, sig, err)
                lo, hi = f.sigma_at(T_AT).ci
                hits += lo <= truth <= hi
                flagged += f.curvature_p is not None and f.curvature_p < 0.05
            out[case, n] = (hits / trials, flagged / trials)
    return out


def markdown(table, trials: int) -> str:
    lines = [f"Coverage of the 95 % interval of sigma(25 C), {trials} trials per cell "
             "(`python tests/benchmarks/arrhenius_coverage.py`)", "",
             "| case | " + " | ".join(f"n = {n}" for n in SIZES) + " | curvature flagged |",
             "|---|" + "---|" * (len(SIZES) + 1)]
    for case in CASES:
        row = [f"{table[case, n][0]:.1%}".replace("%", " %") for n in SIZES]
        flag = ", ".join(f"{table[case, n][1]:.0%}" for n in SIZES if n >= 4)
        lines.append(f"| {case} | " + " | ".join(row) + f" | {flag} (n = 4, 6, 10) |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=4000)
    ap.add_argument("--out", default=str(Path(__file__).with_name("arrhenius_coverage.md")))
    args = ap.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # this checkout's sescreen
    text = markdown(coverage_table(args.trials), args.trials)
    Path(args.out).write_text(text)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Coverage of the 95 % intervals of sigma_e,max at 1 and 10 mA/cm^2 from
:func:`sescreen.ccd.fit_ccd`, on data that mimic the curated design.

The generator (numpy only; it does not share the fit's code) draws a true line log10 CCD =
-5 - 0.5 log10 sigma_e (the paper's thresholds: 1e-10 S/cm at 1 and 1e-12 at 10 mA/cm^2) and
a true scatter, then a design:

- ``n = 3``: the curated one: two measured pairs at sigma_e 5.5e-8 and 2.2e-9 S/cm and a
  LiPON-like point whose sigma_e is known only as the range 1e-15..1e-12 S/cm (true value
  uniform in it) and whose CCD is a lower bound when it reaches 10 mA/cm^2;
- ``n = 4, 6, 10``: n - 1 pairs with log10 sigma_e uniform in [-13, -7] plus the LiPON-like
  point; every CCD at or above 10 mA/cm^2 is reported as the bound "> 10".

Scatter models: ``normal`` (the fit's model) and ``t3`` (Student t with 3 degrees of
freedom scaled to the same standard deviation: heavy tails the fit does not assume).
Designs with fewer than two measured CCDs are refused by the fit and counted as such. Each
fit uses 8,000 posterior draws (the package default is 40,000; the percentiles move by far
less than the sampling error of the coverage).

    python tests/benchmarks/ccd_coverage.py [--trials 400] [--out FILE.md]

writes the table (default ``tests/benchmarks/ccd_coverage.md``, which the README quotes);
``coverage(n, scatter, model, trials, seed)`` is the function and a small sample runs in the
default tests (``tests/test_criteria.py``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

A_TRUE, B_TRUE = -5.0, -0.5
CAP = 1.0  # log10 of the 10 mA/cm^2 bound
SIZES = (3, 4, 6, 10)
SCATTERS = (0.1, 0.2, 0.3)
MODELS = ("normal", "t3")


def make_pairs(n: int, scatter: float, model: str, rng: np.random.Generator):
    """A pandas DataFrame of pairs in the curated columns."""
    import pandas as pd

    if n == 3:
        x = np.array([np.log10(5.5e-8), np.log10(2.2e-9)])
    else:
        x = rng.uniform(-13.0, -7.0, n - 1)
    x_lipon = rng.uniform(-15.0, -12.0)
    xs = np.append(x, x_lipon)
    if model == "normal":
        e = rng.normal(0.0, scatter, n)
    else:
        e = scatter * rng.standard_t(3, n) / np.sqrt(3.0)
    y = A_TRUE + B_TRUE * xs + e
    cens = y >= CAP
    y = np.where(cens, CAP, y)
    sig = 10 ** xs
    lo = np.full(n, np.nan)
    hi = np.full(n, np.nan)
    sig[-1], lo[-1], hi[-1] = 1e-12, 1e-15, 1e-12
    return pd.DataFrame({"id": [f"p{k}" for k in range(n)], "sigma_e_s_cm": sig,
                         "sigma_e_lo_s_cm": lo, "sigma_e_hi_s_cm": hi,
                         "ccd_ma_cm2": 10 ** y, "ccd_censor": np.where(cens, "lower", "")})


def coverage(n: int, scatter: float, model: str = "normal", trials: int = 400,
             seed: int = 13, n_draws: int = 8000):
    """(coverage at 1 mA/cm^2, at 10 mA/cm^2, median width at 1 mA/cm^2 in decades,
    refused fraction)."""
    from sescreen.ccd import fit_ccd
    from sescreen.errors import FitError

    rng = np.random.default_rng([seed, n, int(scatter * 100), MODELS.index(model)])
    truth = {1.0: (0.0 - A_TRUE) / B_TRUE, 10.0: (1.0 - A_TRUE) / B_TRUE}
    hits = {1.0: 0, 10.0: 0}
    widths, done, refused = [], 0, 0
    for k in range(trials):
        pairs = make_pairs(n, scatter, model, rng)
        try:
            line = fit_ccd(pairs, n_draws=n_draws, seed=k)
        except FitError:
            refused += 1
            continue
        done += 1
        for ccd in hits:
            lo, hi = np.percentile(line.threshold_draws(ccd), [2.5, 97.5])  # log10 S/cm
            hits[ccd] += lo <= truth[ccd] <= hi
            if ccd == 1.0:
                widths.append(hi - lo)
    return (hits[1.0] / done, hits[10.0] / done, float(np.median(widths)), refused / trials)


def markdown(trials: int, seed: int = 13) -> str:
    lines = [f"Coverage of the 95 % intervals of sigma_e,max, {trials} simulated datasets per "
             "row (`python tests/benchmarks/ccd_coverage.py`)", "",
             "| pairs | true scatter (decades) | scatter model | 1 mA/cm² | 10 mA/cm² | "
             "median width at 1 mA/cm² (decades) | refused |",
             "|---|---|---|---|---|---|---|"]
    for model in MODELS:
        for n in SIZES:
            for s in SCATTERS:
                c1, c10, w, r = coverage(n, s, model, trials, seed)
                lines.append(f"| {n} | {s:g} | {model} | {c1:.1%} | {c10:.1%} | {w:.2f} | "
                             f"{r:.0%} |".replace("%", " %"))
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=400)
    ap.add_argument("--out", default=str(Path(__file__).with_name("ccd_coverage.md")))
    args = ap.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # this checkout's sescreen
    text = markdown(args.trials)
    Path(args.out).write_text(text)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""DC polarization benchmarks: accuracy against known truth, and speed against reading.

1. Accuracy: synthetic holds from four models (exp1, exp2, stretched, stoichiometric limit)
   at three noise levels (0.3, 1, 3 % of I_ss), holds that end at steady state (10x the
   slowest time constant) and holds stopped at 1.5-3x it. The fitted asymptote is compared
   with the tail-mean practice (mean of the last 10 %) on the same curves.
2. Speed: fitting a 10^6-point record (model auto, and exp2) against reading the same
   record from CSV with sescreen's reader, as a ratio in one run.
"""

from __future__ import annotations

import time

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


def test_fit_is_faster_than_reading_the_csv(tmp_path):
    rng = np.random.default_rng(1)
    n = 1_000_000
    i_ss = 3e-9
    m = dcpol_record("exp2", dict(i_ss=i_ss, a1=5 * i_ss, tau1=300.0, a2=2 * i_ss,
                                  tau2=2.0e4), hold_s=2.0e5, dt_s=2.0e5 / (n - 1),
                     noise_a=0.01 * i_ss, rng=rng)
    path = write_table(tmp_path / "big.csv", m.time_s, m.current_a, current_unit="nA",
                       comments={"voltage": "0.1 V", "area": "1 cm2",
                                 "technique": "chronoamperometry"})
    fit_dcpol(m, thickness_cm=0.1)  # warm-up: imports, caches
    t0 = time.perf_counter()
    big = read(path)
    t_read = time.perf_counter() - t0
    t0 = time.perf_counter()
    r_auto = fit_dcpol(big, thickness_cm=0.1)
    t_auto = time.perf_counter() - t0
    t0 = time.perf_counter()
    r_exp2 = fit_dcpol(big, thickness_cm=0.1, model="exp2")
    t_exp2 = time.perf_counter() - t0
    print(f"\n{n} points: read CSV {t_read:.3f} s; fit auto {t_auto:.3f} s "
          f"(ratio {t_auto / t_read:.2f}); fit exp2 {t_exp2:.3f} s "
          f"(ratio {t_exp2 / t_read:.2f}); I_ss error {abs(r_auto.i_ss / i_ss - 1):.2e}")
    assert len(big) == n
    assert abs(r_exp2.i_ss / i_ss - 1) < 0.01
    assert t_exp2 < t_read
    assert t_auto < t_read


if __name__ == "__main__":  # pragma: no cover
    import pathlib
    import tempfile

    test_accuracy_against_tail_mean()
    with tempfile.TemporaryDirectory() as d:
        test_fit_is_faster_than_reading_the_csv(pathlib.Path(d))

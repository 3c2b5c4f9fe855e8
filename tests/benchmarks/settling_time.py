"""How the settling time stated for a hold stopped early compares with the true one.

    PYTHONPATH=. python tests/benchmarks/settling_time.py > tests/benchmarks/settling_time.md

Truth: I(t) = I_ss + a1 exp(-t/tau1) + a2 exp(-t/tau2), tau1 < tau2 drawn in 1-10 h,
a1 1-10 I_ss, a2 0.5-5 I_ss, a charging spike of 50 I_ss, optionally a third slow, small
term (tau3 30-100 h, a3 0.1-0.5 I_ss: a decay the record can hardly show); the hold is
cut at 10-50 % of the true settling time t_true (the transient down to 1 % of I_ss),
1500 samples, white noise plus AR(1) noise (rho 0.9) of half its size. N is the fit's
``t_steady_estimate`` (what the statement, the verdict's reason and the warnings quote).
A statement "at least about N" is honest when t_true >= N, up to the "about".
"""

from __future__ import annotations

import math
import sys

import numpy as np

from sescreen.dcpol import fit_dcpol
from sescreen.errors import SescreenError
from sescreen.synthetic import dcpol_record

I_SS = 1e-9


def one(rng, noise: float, slow: bool):
    """(cut fraction, t_true, N or None, steady flag, statement)."""
    tau = np.sort(rng.uniform(1, 10, 2)) * 3600
    p = dict(i_ss=I_SS, a1=I_SS * rng.uniform(1, 10), tau1=tau[0],
             a2=I_SS * rng.uniform(0.5, 5), tau2=tau[1])
    if slow:
        p.update(a3=I_SS * rng.uniform(0.1, 0.5), tau3=rng.uniform(30, 100) * 3600)
    ts = np.geomspace(1, 1e8, 400_001)
    part = sum(p[f"a{k}"] * np.exp(-ts / p[f"tau{k}"]) for k in (1, 2, 3) if f"a{k}" in p)
    t_true = float(ts[np.argmax(part < 0.01 * I_SS)])
    frac = rng.uniform(0.1, 0.5)
    hold = frac * t_true
    m = dcpol_record("exp3" if slow else "exp2", p, hold_s=hold, dt_s=hold / 1500,
                     noise_a=noise * I_SS, rng=rng, spike_a=50 * I_SS)
    e = rng.normal(0, noise / 2 * I_SS * math.sqrt(1 - 0.81), len(m.data))
    ar = np.empty_like(e)
    ar[0] = e[0] / math.sqrt(1 - 0.81)
    for j in range(1, e.size):
        ar[j] = 0.9 * ar[j - 1] + e[j]
    m.data["current_a"] = m.data["current_a"] + ar
    try:
        r = fit_dcpol(m, thickness_cm=0.1)
    except SescreenError:
        return frac, t_true, None, None, ""
    return frac, t_true, r.t_steady_estimate, r.steady_state_reached, r.statement


def scenario(name: str, n: int, seed: int, noise: float, slow: bool) -> None:
    rng = np.random.default_rng(seed)
    rows = [one(rng, noise, slow) for _ in range(n)]
    stated = [(f, t, big_n) for f, t, big_n, steady, _ in rows
              if big_n is not None and steady is False]
    ratio = np.array([t / big_n for _, t, big_n in stated])
    fracs = np.array([f for f, _, _ in stated])
    print(f"\n## {name}\n")
    print(f"{n} holds (seed {seed}); {len(stated)} unsettled with N stated; "
          f"{sum(1 for r in rows if r[3])} called settled (all were cut before t_true); "
          f"{sum(1 for r in rows if r[2] is None)} without N\n")
    print("| cut (of t_true) | n | t_true / N median | min | max | t_true < N | < 0.9 N |")
    print("|---|---|---|---|---|---|---|")
    for lo, hi in ((0.1, 0.2), (0.2, 0.3), (0.3, 0.4), (0.4, 0.5), (0.1, 0.5)):
        sel = (fracs >= lo) & (fracs < hi)
        if sel.any():
            x = ratio[sel]
            print(f"| {lo:.0%}-{hi:.0%} | {sel.sum()} | {np.median(x):.3g} | {x.min():.3g} | "
                  f"{x.max():.3g} | {np.mean(x < 1):.1%} | {np.mean(x < 0.9):.1%} |")
    example = next((r[4] for r in rows if r[2] is not None and r[3] is False), "")
    print(f"\nexample statement: `{example}`")


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 150
    print("# Settling time stated for holds stopped early (tests/benchmarks/settling_time.py)")
    scenario("two exponentials, noise 1 % of I_ss", n, 1, 0.01, False)
    scenario("two exponentials, noise 5 % of I_ss", n // 2, 3, 0.05, False)
    scenario("two exponentials and a slow small third, noise 1 %", n // 2, 4, 0.01, True)

"""Verdict API speed: a million candidates in a pandas column, against a numpy baseline in
the same run (the verdict needs a log10 and two normal CDFs per candidate)."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from sescreen.criteria import judge


def test_judge_a_million_candidates():
    rng = np.random.default_rng(0)
    sigma = pd.Series(10 ** rng.uniform(-15, -6, 1_000_000), name="sigma_e")
    stderr = sigma * rng.uniform(0.05, 0.5, sigma.size)
    judge(sigma[:10], stderr=stderr[:10])  # warm-up (imports)
    t0 = time.perf_counter()
    baseline = np.log10(sigma.to_numpy())
    t_base = time.perf_counter() - t0
    t0 = time.perf_counter()
    out = judge(sigma, stderr=stderr)
    t_judge = time.perf_counter() - t0
    print(f"\n1e6 candidates: judge {t_judge:.3f} s; numpy log10 baseline {t_base:.4f} s "
          f"(ratio {t_judge / t_base:.0f}); pass at 1 mA/cm2: {out['passes_1ma'].mean():.1%}")
    assert len(out) == sigma.size and np.isfinite(baseline).all()
    assert t_judge < 1.0

"""The upper bound never lies below the measured tail (sescreen.dcpol.estimate.tail_floor).

A decay ends at or below its tail level, a rise at or above it; an upper bound below the
tail rests on a model's shape alone. The holds here are the polarization current
-dphi/dt of a Havriliak-Negami relaxation (Havriliak and Negami, Polymer 8, 161 (1967);
its distribution of relaxation times after Zorn, J. Polym. Sci. B 37, 1043 (1999)), a
shape none of the candidate models has, settled just above the threshold: an independent
review found the fit running 1-3 % below the tail, its misfit taken for slow noise, and
the interval passing falsely (hn_geom_edge seeds 22 and 51 of its generator)."""

from __future__ import annotations

import math
import warnings
import zlib

import numpy as np
import pandas as pd
import pytest

from sescreen.dcpol import fit_dcpol
from sescreen.io.measurement import Measurement, Technique

L_CM = 0.1


def _hn_current(t, tau0, alpha, beta, n_tau=600, span=12):
    """-dphi/dt of the HN relaxation, phi(0) = 1, from its distribution of ln tau."""
    x = np.linspace(-span, span, n_tau) * np.log(10) / 2
    ya = np.exp(x) ** alpha
    theta = np.arctan2(np.sin(np.pi * alpha), ya + np.cos(np.pi * alpha))
    g = ya**beta * np.sin(beta * theta) / (ya**2 + 2 * ya * np.cos(np.pi * alpha) + 1) ** (
        beta / 2)
    g = np.clip(g, 0, None)
    g /= g.sum()
    taus = tau0 * np.exp(x)
    keep = g > 1e-14
    return (g[keep] / taus[keep] * np.exp(-t[:, None] / taus[keep])).sum(axis=1)


def _hn_geom_edge(seed):
    """The review's ``hn_geom_edge`` hold ``seed`` (its generator, draw for draw): truth
    1.00-1.05 x the threshold, log-spaced samples after the step, 0.1-1 % white noise."""
    rng = np.random.default_rng([zlib.crc32(b"hn_geom_edge"), seed])
    thr = 1e-10 if rng.random() < 0.5 else 1e-12
    rng.random()
    sigma = thr * rng.uniform(1.0, 1.05)
    v, area = rng.uniform(0.05, 0.5), rng.uniform(0.5, 2.0)
    i_ss = sigma * v * area / L_CM
    tau0 = 10 ** rng.uniform(0.5, 2.5)
    alpha, beta = rng.uniform(0.3, 0.9), rng.uniform(0.3, 1.0)
    t_hold = tau0 * 10 ** rng.uniform(2, 4)
    n = int(rng.integers(3000, 15000))
    t = np.geomspace(t_hold * 10 ** rng.uniform(-5, -3), t_hold, n)
    shape = _hn_current(t, tau0, alpha, beta)
    amp = i_ss * 10 ** rng.uniform(0.3, 2) / shape[min(5, n - 1)]
    i = i_ss + amp * shape + rng.normal(0, i_ss * rng.uniform(0.001, 0.01), n)
    # the voltage step itself, a sample at t = 0
    return np.r_[0.0, t], np.r_[3 * i[0], i], thr, v, area


@pytest.mark.parametrize("seed", [22, 51, 0, 1, 2])
def test_havriliak_negami_tail_is_not_passed(seed):
    t, i, thr, v, area = _hn_geom_edge(seed)
    data = pd.DataFrame({"time_s": t, "current_a": i, "control_v": np.full(t.size, v)})
    m = Measurement(data=data, format="synthetic", technique=Technique.CONSTANT_VOLTAGE,
                    applied_voltage_v=v, area_cm2=area, temperature_k=298.15,
                    source="hn.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = fit_dcpol(m, thickness_cm=L_CM)
    hi = r.i_ss_ci[1]
    n_tail = max(2, math.ceil(r.criterion.tail_fraction * r.n_points))
    sd = np.std(np.diff(i[-2000:], 2)) / math.sqrt(6)  # the white noise, roughly
    assert hi >= r.tail_mean_i - 2.5 * sd / math.sqrt(n_tail)
    assert r.sigma_e_interval[1] > thr  # never a PASS: the truth is above the threshold


def _dipping_hold(seed: int, over: float) -> Measurement:
    """A settled hold at ``over`` x 1e-10 S/cm whose current dips briefly every 0.5-2 h
    (an instrument's periodic auto-zero or range check: -30..-100 % of I_ss decaying over
    30-120 s), on white noise of 0.3 % of I_ss: the dips pull the mean ~1-5 % low."""
    rng = np.random.default_rng(seed)
    i_ss = over * 1e-10 * 0.1 / L_CM  # A at 0.1 V, 1 cm^2
    t = np.arange(1.0, 48 * 3600.0, 10.0)
    period, width = rng.uniform(1800, 7200), rng.uniform(30, 120)
    dips = -i_ss * rng.uniform(0.3, 1.0) * np.exp(-((t - rng.uniform(0, period)) % period)
                                                 / width)
    i = i_ss * (1 + 20 * np.exp(-t / 900.0)) + dips + rng.normal(0, 3e-3 * i_ss, t.size)
    data = pd.DataFrame({"time_s": t, "current_a": i, "control_v": 0.1})
    return Measurement(data=data, format="synthetic", technique=Technique.CONSTANT_VOLTAGE,
                       applied_voltage_v=0.1, area_cm2=1.0, source=f"dips:{seed}")


@pytest.mark.parametrize("seed", range(1, 7))
def test_recurring_dips_do_not_pull_the_upper_bound_below_the_baseline(seed):
    # an independent review: 3/30 false PASS at 1.01-1.08x the threshold; which of the
    # baseline and the mean is I_ss one record cannot tell, so the bound reaches both (the
    # mean's bound ended 0.5-1.5 % below the baseline, the median's within 0.1 %)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = fit_dcpol(_dipping_hold(seed, 1.004), thickness_cm=L_CM, accuracy_a=0.0)
    assert r.sigma_e_interval[1] >= 1e-10

"""Holds whose character changes after the first looks of a watcher (a fourth review's
families, written unlike the estimator's models).

``dip_rise``
    The current decays, dips below its steady state and climbs back to it slowly: a cell
    warming to its temperature, a polarization relaxing, an electronic path growing. The
    climb is a stretched exponential, a power-law approach or a logistic step that starts
    late, with a time constant 1-30x the first look (a tenth of the hold); it is 20-80 % of
    I_ss deep. The truth lies 0.05-0.6 decades *above* the threshold it is drawn around,
    so an early look that reads the dip as the steady state PASSes falsely.
``slow_second_decay``
    A fast decay and a second one of time constant 1-10x the first look, 0.5-2x I_ss
    large. The truth lies 0.05-0.6 decades *below* the threshold, so an early look that
    reads the slow decay as settled FAILs falsely.

Noise is AR(1) (rho 0-0.8) or 1/f, 0.3-3 % of I_ss, and the current is quantized in steps
of 0.1-2 % of I_ss. Hold j is drawn around 1e-10 S/cm (j even) or 1e-12 S/cm (j odd).
``make_hold(family, rng, j)`` returns ``(t_s, current_a, meta)`` as
:func:`realistic_holds.make_hold` does.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import realistic_holds as rh

FAMILIES = ("dip_rise", "slow_second_decay")


def _rise(rng: np.random.Generator, t: np.ndarray, tau: float, look1: float) -> np.ndarray:
    """What is left of the climb at ``t`` (1 at the step, falling to 0)."""
    form = rng.integers(3)
    if form == 0:
        return np.exp(-(t / tau) ** rng.uniform(0.5, 1.0))
    if form == 1:
        return (1 + t / tau) ** -rng.uniform(0.5, 1.5)
    t0, w = rng.uniform(0.5, 2.0) * look1, 0.3 * tau  # a climb that starts late
    return (1 + np.exp(-t0 / w)) / (1 + np.exp((t - t0) / w))


def make_hold(family: str, rng: np.random.Generator,
              j: int) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Hold ``j`` of ``family``: times (s), currents (A) and its truth (``meta``)."""
    if family not in FAMILIES:
        raise KeyError(f"unknown family {family!r}; choose from {', '.join(FAMILIES)}")
    thr = 1e-10 if j % 2 == 0 else 1e-12
    above = family == "dip_rise"
    sigma = thr * 10 ** (rng.uniform(0.05, 0.6) * (1 if above else -1))
    voltage, area = rh._logu(rng, 0.05, 0.5), rh._logu(rng, 0.5, 2.0)
    i_ss = sigma * voltage * area / rh.THICKNESS_CM
    hold = rh._logu(rng, 2e4, 2e5)
    t = rh._grid(rng, hold)
    look1 = hold / 10
    shape = 1 + rh._logu(rng, 3, 30) * np.exp(-t / (rh._logu(rng, 0.02, 0.2) * look1))
    if above:
        shape -= rng.uniform(0.2, 0.8) * _rise(rng, t, rh._logu(rng, 1, 30) * look1, look1)
    else:
        shape += rng.uniform(0.5, 2.0) * np.exp(-t / (rh._logu(rng, 1, 10) * look1))
    sd = rh._logu(rng, 0.003, 0.03) * i_ss
    noise = (rh._ar1(rng, t.size, rng.uniform(0.0, 0.8), sd) if rng.random() < 0.7
             else rh._pink(rng, t.size, sd))
    lsb = i_ss * rh._logu(rng, 1e-3, 2e-2)
    current = np.round((i_ss * shape + noise) / lsb) * lsb
    meta = dict(regime=family, sigma_e_true=float(sigma), i_ss_true=float(i_ss),
                voltage_v=voltage, area_cm2=area, thickness_cm=rh.THICKNESS_CM,
                temperature_k=rh.T_NOMINAL_K, hold_s=float(t[-1]), n_points=int(t.size))
    return t, current, meta

"""Soft shorts in a galvanostatic record: a transient electronic path through the
electrolyte that lowers |V| in dips, or first raises its scatter (the ``noise_burst``
signature of :mod:`sescreen.cycling.signatures`, where the rules are set out).

Instrument noise is symmetric about the polarization's running median; a transient
electronic path in parallel only ever lowers |V|. So the tests count excursions towards and
away from 0 V (:func:`dips`: their ratio, a one-sided sign test, deep dips, dense jumps),
and date a soft short that starts too late in a step to leave dips by the rise of the
scatter (:func:`noise_rise`, a binomial change point in the exceedance rate).
"""

from __future__ import annotations

import math

import numpy as np

from sescreen.cycling.result import Signature
from sescreen.cycling.steps import Step, held, median_filter

__all__ = ["ONSET_CONFIDENCE", "dips", "noise_rise"]

DIP_SIGMAS = 5.0
DIP_FRACTION = 0.10
MIN_DENSE = 0.2
SIGN_TEST_P = 1e-3
DEEP_FRACTION = 0.25
RISE_SIGMAS = 2.5
RISE_P = 1e-6
RISE_FACTOR = 2.0
RISE_MIN_POINTS = 8
#: Confidence of an onset-only mark (below the claim's MIN_CONFIDENCE: it only dates)
ONSET_CONFIDENCE = 0.1


def _established(step: Step, i: np.ndarray, p: np.ndarray):
    """Per segment of a step, the held samples once the polarization is established
    (running median within 80 % of the segment's median) and the running-median width
    (9 points, 5 on short segments: dips last 1-4 points)."""
    for seg in step.segments:
        idx = held(seg, i)
        width = 9 if idx.size >= 30 else 5
        if idx.size < width:
            continue
        level = np.median(p[idx])
        onset = np.flatnonzero(median_filter(p[idx], width) >= 0.8 * level)
        if level <= 0 or onset.size == 0:
            continue
        idx = idx[max(onset[0], 2):]
        if idx.size >= width:
            yield idx, width


def dips(step: Step, sigma: float, t, i, p) -> Signature | None:
    """Soft-short test: excursions below / above the running median of p (taken twice,
    the second time with the dips replaced, so dense dips do not drag it down; the median
    of a monotonic stretch is its centre, so trends give no excursions), counted once the
    polarization is
    established (running median within 80 % of the segment's median: after the onset,
    the reversal transient, the Cu open circuit)."""
    n_down = n_up = n_deep = 0
    first = first_dense = None
    dense = 0.0
    for idx, width in _established(step, i, p):
        pp = p[idx]
        m = median_filter(pp, width)
        thr = np.maximum(DIP_SIGMAS * sigma, DIP_FRACTION * np.abs(m))
        m = median_filter(np.where(pp - m < -thr, m, pp), width)  # again, without the dips
        r = pp - m
        down = np.flatnonzero(r < -thr)
        n_down += down.size
        n_deep += int(np.sum(r < -np.maximum(DEEP_FRACTION * np.abs(m),
                                             2 * DIP_SIGMAS * sigma)))
        n_up += int(np.sum(r > thr))
        # dips so dense that they are the majority: jumps, and the level partly collapsed
        # (the level reached: of the running median's width, which a pair of upward void
        # spikes, away from 0 V, does not pass as a median of 3 did, nor a spike at the
        # segment's edge; it had then read the rest of the segment as a partial collapse)
        ref = np.maximum.accumulate(median_filter(pp, width))
        jumps = np.flatnonzero(np.abs(np.diff(pp)) > np.maximum(DIP_SIGMAS * 1.41 * sigma,
                                                                 DIP_FRACTION * ref[1:]))
        if jumps.size >= 6:
            frac = float(np.mean(pp[jumps[0]:] < 0.8 * ref[jumps[0]:]))
            dense = max(dense, min(1.0, jumps.size / 12) * min(1.0, frac / 0.5) * (frac >= 0.3))
            first_dense = first_dense or float(t[idx[jumps[0]]])
        if down.size and first is None:
            first = float(t[idx[down[0]]])
    if dense >= MIN_DENSE:
        return Signature("noise_burst", step.index, first_dense, dense,
                         f"|V| jumps and partly collapses (below 80 % of its level) at "
                         f"{step.density_ma_cm2:.3g} mA/cm2: a soft short")
    if n_down < 2 or (n_down < 4 * n_up and _sign_test(n_down, n_up) > SIGN_TEST_P):
        return None
    # two dips alone stay below MIN_CONFIDENCE: they only date the onset of a short that
    # later steps confirm
    conf = float((1 - np.exp(-(n_down - 1) / 3.0)) * (n_down - n_up) / (n_down + n_up))
    if n_deep >= 3:  # deep dips (a quarter of the level and 10 sigma) are not noise tails
        conf = max(conf, float((1 - np.exp(-n_deep / 3.0)) * (n_down - n_up)
                               / (n_down + n_up)))
    conf = conf if n_down >= 3 else min(conf, 0.15)
    return Signature("noise_burst", step.index, first, conf,
                     f"{n_down} dips of |V| towards 0 V (vs {n_up} away from it) at "
                     f"{step.density_ma_cm2:.3g} mA/cm2: a soft short")


def noise_rise(step: Step, sigma: float, t, i, p) -> Signature | None:
    """Onset of a soft short late in a step: the scatter of p about its running median
    rises from some point in the step's second half to the step's end (a transient
    electronic path adds noise before it leaves dips enough to count). A change point in
    the exceedance rate of RISE_SIGMAS x the step's own early scatter (floored at the
    record's noise), judged by a binomial tail below RISE_P. Its confidence stays below
    MIN_CONFIDENCE: it only dates the onset of a short that a later step confirms."""
    from scipy.stats import binom

    res, times = [], []
    for idx, width in _established(step, i, p):
        res.append(p[idx] - median_filter(p[idx], width))
        times.append(t[idx])
    if not res:
        return None
    a, tt = np.abs(np.concatenate(res)), np.concatenate(times)
    n = a.size
    if n < 2 * RISE_MIN_POINTS + 8:
        return None
    if np.mean(a[: n // 2] == 0) > 0.5:
        # the first half is a monotone relaxation (Li nucleation on Cu, the concentration
        # build-up of a half-cycle): a running median follows it exactly, so its residuals
        # say nothing of the noise and any later scatter would look like a rise
        return None
    s0 = max(1.4826 * float(np.median(a[: n // 2])), sigma)
    exceed = (a > RISE_SIGMAS * s0).astype(int)
    k = np.cumsum(exceed[::-1])[::-1]  # exceedances from each point to the end
    c = np.arange(n // 2, n - RISE_MIN_POINTS + 1)
    # the baseline rate from the first half itself (residuals about a running median are
    # not Gaussian: their own rate, with a Laplace prior, floored at the Gaussian one)
    p0 = max((float(exceed[: n // 2].sum()) + 1) / (n // 2 + 2),
             2 * (1 - _normal_cdf(RISE_SIGMAS)))
    pv = binom.sf(k[c] - 1, n - c, p0)
    best = int(np.argmin(pv))
    if pv[best] > RISE_P:
        return None
    c0 = int(c[best])
    ratio = 1.4826 * float(np.median(a[c0:])) / s0
    if ratio < RISE_FACTOR:  # a few outliers, not a noisier cell
        return None
    detail = (f"the scatter of V rose {ratio:.2g}-fold over the last {n - c0} points at "
              f"{step.density_ma_cm2:.3g} mA/cm2 ({int(k[c0])} beyond {RISE_SIGMAS:g} "
              "sigma): the onset of a soft short")
    return Signature("noise_burst", step.index, float(tt[c0]), ONSET_CONFIDENCE, detail,
                     onset_only=True)


def _normal_cdf(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def _sign_test(n_down: int, n_up: int) -> float:
    """One-sided sign test: the probability of at least ``n_down`` of ``n_down + n_up``
    excursions falling towards 0 V when noise is symmetric (binomial, p = 1/2)."""
    from scipy.stats import binom

    return float(binom.sf(n_down - 1, n_down + n_up, 0.5))



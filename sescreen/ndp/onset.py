"""When the lithium inside the electrolyte starts to rise: a hinge fit of an NDP series'
bulk content against time, judged against the frames' own scatter (METHODS.md section 5,
onset; used by :func:`sescreen.ndp.profiles.analyse`)."""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

__all__ = ["detect_onset"]


def detect_onset(t, y, err) -> dict[str, Any]:
    """Change point of a series flat at first, then rising: weighted hinge fit.

    y = c for t < t0, y = c + s (t - t0) after; t0 scanned over the frame times; the best
    t0 minimizes chi-square. The change is significant when the hinge improves on a flat
    line by delta chi-square > 11.8 (two more parameters, p ~ 0.003).

    ``err`` are counting errors. When the frames scatter from one to the next by more than
    them (the neutron monitor's own Poisson noise, flux or gain jitter), the errors are
    understated and white frame-to-frame noise would pass for an onset: delta chi-square is
    divided by the scatter ratio r, the mean of z_k^2 = (y[k+1] - 2 y[k] + y[k-1])^2 /
    (e[k+1]^2 + 4 e[k]^2 + e[k-1]^2) without its two largest terms (from 20 frames on:
    fewer leave too few terms to estimate the scatter from once trimmed),
    over that trimmed mean's value for counting noise alone (:func:`_trimmed_chance`),
    floored at 1. Second differences cancel any smooth trend (a curved growth does not
    raise r as a misfitting hinge's chi-square would); the onset itself, a kink or a step
    of the series, makes one or two large terms, which the trimming leaves out (untrimmed,
    a 10 % step of the bulk lithium had given r = 5 from counting noise alone, and its
    dendrite content an error 2.2x too large). For counting noise alone r = 1 with a
    standard deviation s_r (about sqrt(4.3 / (n - 2)) at 30 frames). When r exceeds that
    chance by 3 s_r the errors are estimated from the data (nu = 2 / s_r^2 degrees of
    freedom), and the threshold becomes the F quantile of the same p: 2 F(2, nu) at
    p = 0.0027.

    Returns
    -------
    dict
        ``onset_s`` (None when not significant), ``onset_index``, ``delta_chi2`` (after the
        scaling), ``slope`` (per s), ``baseline``, ``scatter_ratio`` (r, floored at 1),
        ``scatter_excess`` (r beyond chance), ``threshold`` (of delta chi-square).
    """
    t = np.asarray(t, dtype=float)
    y = np.asarray(y, dtype=float)
    w = 1.0 / np.maximum(np.asarray(err, dtype=float), 1e-300) ** 2
    c0 = np.sum(w * y) / np.sum(w)
    chi_flat = float(np.sum(w * (y - c0) ** 2))
    best = (math.inf, None, 0.0, c0)
    for k in range(1, len(t) - 1):
        x = np.maximum(t - t[k], 0.0)
        design = np.column_stack([np.ones_like(t), x])
        coef, *_ = np.linalg.lstsq(design * np.sqrt(w)[:, None], y * np.sqrt(w), rcond=None)
        chi = float(np.sum(w * (y - design @ coef) ** 2))
        if coef[1] > 0 and chi < best[0]:
            best = (chi, k, float(coef[1]), float(coef[0]))
    chi, k, slope, base = best
    ratio, chance_sd = _scatter_ratio(y, np.asarray(err, dtype=float))
    n = len(t)
    excess = n >= 5 and ratio > 1 + 3 * chance_sd
    threshold = 11.8
    if excess:
        from scipy.stats import chi2 as chi2_dist
        from scipy.stats import f as f_dist

        threshold = 2 * float(f_dist.isf(chi2_dist.sf(11.8, 2), 2, 2 / chance_sd**2))
    delta = (chi_flat - chi) / ratio if k is not None else 0.0
    significant = k is not None and delta > threshold
    return {"onset_s": float(t[k]) if significant else None,
            "onset_index": k if significant else None, "delta_chi2": float(delta),
            "slope": slope if significant else 0.0, "baseline": base,
            "scatter_ratio": float(ratio), "scatter_excess": bool(excess),
            "threshold": threshold}


#: Largest terms of the scatter ratio's mean left out (an onset's kink or step), from
#: :data:`_TRIM_FROM` second differences on.
_TRIM, _TRIM_FROM = 2, 18


def _scatter_ratio(y: np.ndarray, err: np.ndarray) -> tuple[float, float]:
    """Frame-to-frame scatter over counting errors from second differences (r, floored at
    1) and r's standard deviation for counting noise alone (:func:`detect_onset`); (1, inf)
    for fewer than 5 frames."""
    if len(y) < 5:
        return 1.0, math.inf
    d2 = y[2:] - 2 * y[1:-1] + y[:-2]
    v = err[2:] ** 2 + 4 * err[1:-1] ** 2 + err[:-2] ** 2
    z2 = np.sort(d2**2 / np.maximum(v, 1e-300))
    trim = _TRIM if z2.size >= _TRIM_FROM else 0
    mean, sd = _trimmed_chance(len(y), trim)
    return max(1.0, float(np.mean(z2[: z2.size - trim])) / mean), sd


@functools.lru_cache(maxsize=256)
def _trimmed_chance(n: int, trim: int) -> tuple[float, float]:
    """Mean and relative standard deviation of the mean of z_k^2 less its ``trim``
    largest terms over ``n`` frames of counting (Gaussian) noise alone: 20,000 seeded draws
    (their standard errors 0.1-0.5 %); untrimmed, 1 and sqrt(3.9 / (n - 2)) (the
    correlation of neighbouring second differences, 4 / 6 and 1 / 6, nearly doubles
    the 2 / (n - 2) of independent terms)."""
    if trim == 0:
        return 1.0, math.sqrt(3.9 / (n - 2))
    y = np.random.default_rng(20190).standard_normal((20_000, n))
    z2 = np.sort((y[:, 2:] - 2 * y[:, 1:-1] + y[:, :-2]) ** 2 / 6.0, axis=1)
    m = z2[:, : n - 2 - trim].mean(axis=1)
    return float(m.mean()), float(m.std() / m.mean())

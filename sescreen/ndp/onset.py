"""When the lithium inside the electrolyte starts to rise: a hinge fit of an NDP series'
bulk content against time, judged against the frames' own scatter (METHODS.md section 5,
onset; used by :func:`sescreen.ndp.profiles.analyse`)."""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

__all__ = ["ONSET_DELTA_CHI2", "ONSET_PER_FRAME", "ONSET_POWERS", "ONSET_SATURATION",
           "detect_onset"]

#: Chi-square rise (after the scatter scaling) bounding the onset's 95 % interval. Not
#: chi2(1)'s 3.84: change-point likelihood ratios are not chi-square (Hinkley 1970), and on
#: independent series (15-60 frames, linear, sqrt, quadratic, step+ramp rises, frame scatter
#: 1-1.8x counting) 3.84 covered 87-89 % of linear and quadratic onsets, 6.0 95 %
ONSET_DELTA_CHI2 = 6.0
#: Exponents of the power-law rises after the onset that locate it. 4 and 6 follow a rise
#: accelerating like exp((t - t0) / tau) back to its onset: with 3 the steepest, an
#: independent review's delayed exponentials (tau 0.15-0.4 of the rise, 30-100 frames)
#: had been covered 57 % and dated > 3 frames late in 37 of 120 NDP spectra series (85 %
#: and 8 with them)
ONSET_POWERS = (0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0)
#: Time constants of saturating rises 1 - exp(-(t - t0) / tau), as fractions of the series
ONSET_SATURATION = (0.02, 0.05, 0.1, 0.2, 0.5)
#: Onset times tried per frame interval
ONSET_PER_FRAME = 2


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

    Where a significant change happened is located separately, without assuming a
    linear rise: a step a H(t - t0), a rise s max(t - t0, 0)^p, or both (a, s > 0), with
    t0 on a grid of ONSET_PER_FRAME values per frame interval and p in ONSET_POWERS (0.5:
    a rise slowing down; 1: the hinge; 2-6: one speeding up). The linear hinge alone
    places a step 4 frames early and a quadratic rise 5 frames late (independent series of
    15-60 frames). The onset is the best t0 of the shape of the lowest Schwarz criterion
    (a linear rise stays a hinge); its 95 % interval the t0 whose best chi-square over
    the shapes, scaled by r, is within ONSET_DELTA_CHI2 of the minimum (a profile
    likelihood, calibrated in simulation: Hinkley, Biometrika 57, 1 (1970), on the change
    point of a two-phase regression), out to the neighbouring grid points. On independent
    series it covered 95-99 % of linear, sqrt, quadratic, x^0.7 and step+ramp onsets,
    92 % of x^1.3, 87 % of tanh and 85 % of exponentially accelerating ones; on an
    independent review's NDP spectra (through :func:`~sescreen.ndp.profiles.analyse`,
    30-100 frames) 97 % of linear, 93 % of step+ramp, 85 % of delayed exponential, 68 % of
    two-stage and of stochastic-burst onsets. An onset whose first frames stay below the scatter (a
    logistic rise, a small first burst) is dated when the rise becomes visible: late, and
    not covered (18 % of logistic onsets).

    Returns
    -------
    dict
        ``onset_s`` (s; None when not significant), ``onset_interval_s`` ((earliest,
        latest), s; None when not significant), ``onset_index``, ``delta_chi2`` (after the
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
    onset, interval = (_locate(t, y, w, ratio) if significant else (None, None))
    return {"onset_s": onset, "onset_interval_s": interval,
            "onset_index": (int(np.searchsorted(t, onset, side="right")) - 1
                            if significant else None),
            "delta_chi2": float(delta),
            "slope": slope if significant else 0.0, "baseline": base,
            "scatter_ratio": float(ratio), "scatter_excess": bool(excess),
            "threshold": threshold}


def _locate(t: np.ndarray, y: np.ndarray, w: np.ndarray,
            ratio: float) -> tuple[float, tuple[float, float]]:
    """The onset and its 95 % interval, s (:func:`detect_onset`): weighted least squares
    of every rise shape on the grid of t0 (from the first frame, the reference, to the one
    before last: from the second, an onset between the first two frames had never been
    covered), the grid points a block at a time through their normal equations."""
    sub = np.linspace(0.0, 1.0, ONSET_PER_FRAME, endpoint=False)
    t0 = np.append((t[:-2, None] + np.diff(t)[:-1, None] * sub[None, :]).ravel(), t[-2])
    # blocks of grid points: the designs of all of them at once would take
    # 8 n^2 ONSET_PER_FRAME bytes each (2000 frames: 64 MB per rise shape, 1 GB in all)
    block = max(1, _LOCATE_ELEMENTS // t.size)
    chis = np.concatenate([_shape_chis(t, y, w, t0[i:i + block])
                           for i in range(0, t0.size, block)], axis=1)  # (shape, t0)
    best = chis.min(axis=0)
    # the onset: the best t0 of the shape with the lowest Schwarz criterion (chi-square,
    # scaled, + ln n per parameter): a linear rise is not bent to fit its noise
    bic = chis.min(axis=1) / ratio + math.log(len(t)) * _shape_extra_parameters()
    i = int(np.argmin(chis[int(np.argmin(bic))]))
    inside = np.flatnonzero((best - best.min()) / ratio <= ONSET_DELTA_CHI2)
    # out to the neighbouring grid points: an onset between them is not excluded
    lo, hi = min(inside.min(), i), max(inside.max(), i)
    lo, hi = max(lo - 1, 0), min(hi + 1, t0.size - 1)
    return float(t0[i]), (float(t0[lo]), float(t0[hi]))


#: Grid points x frames of the designs built at once by :func:`_locate`
_LOCATE_ELEMENTS = 250_000


def _shape_extra_parameters() -> np.ndarray:
    """Parameters of each shape of :func:`_shape_chis` beyond the linear hinge's (the
    exponent or time constant, the step's amplitude)."""
    linear = ONSET_POWERS.index(1.0)
    n_rises = len(ONSET_POWERS) + len(ONSET_SATURATION)
    return np.array([0] + [int(k != linear) for k in range(n_rises)]
                    + [1 + int(k != linear) for k in range(n_rises)])


def _shape_chis(t: np.ndarray, y: np.ndarray, w: np.ndarray, t0: np.ndarray) -> np.ndarray:
    """Chi-square (shape, t0) of a step, each rise and a step with each rise after the
    onset times ``t0`` (s), in the order of :func:`_shape_extra_parameters`."""
    dt = np.maximum(t[None, :] - t0[:, None], 0.0)  # (n_t0, n)
    step = (dt > 0).astype(float)
    span = t[-1] - t[0]
    rises = [dt**p for p in ONSET_POWERS] + [-np.expm1(-dt / (f * span))
                                            for f in ONSET_SATURATION]
    designs = [[step]] + [[r] for r in rises] + [[step, r] for r in rises]
    return np.array([_chi_square(cols, y, w) for cols in designs])


def _chi_square(cols: list[np.ndarray], y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted least-squares chi-square of y on a constant and the columns (each (g, n):
    one design per row g), with the columns' amplitudes positive (inf where one is not, or
    the design is singular)."""
    x = [np.ones_like(y), *cols]
    m = len(x)
    normal = np.empty((cols[0].shape[0], m, m))
    for i in range(m):
        for j in range(i, m):
            normal[:, i, j] = normal[:, j, i] = (x[i] * x[j]) @ w
    rhs = np.stack([np.broadcast_to(xi @ (w * y), normal.shape[:1]) for xi in x], axis=-1)
    scale = np.sqrt(np.diagonal(normal, axis1=1, axis2=2))
    ok = np.all(scale > 0, axis=1)
    scale = np.where(ok[:, None], scale, 1.0)
    unit = normal / scale[:, :, None] / scale[:, None, :]
    ok &= np.linalg.det(unit) > 1e-10
    unit[~ok] = np.eye(m)
    coef = np.linalg.solve(unit, (rhs / scale)[..., None])[..., 0] / scale
    # chi-square at the least-squares solution: sum w y^2 - coef . rhs
    chi = np.sum(w * y**2) - np.sum(coef * rhs, axis=1)
    return np.where(ok & np.all(coef[:, 1:] > 0, axis=1), chi, np.inf)


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
    rng = np.random.default_rng(20190)
    draws, rows = 20_000, max(1, _LOCATE_ELEMENTS * 8 // n)
    m = np.empty(draws)
    for i in range(0, draws, rows):
        # the draws a block of rows at a time (the same stream: 20,000 x n at once took
        # 8 n x 20,000 bytes, 2000 frames 320 MB, and as much again to sort)
        y = rng.standard_normal((min(rows, draws - i), n))
        z2 = (y[:, 2:] - 2 * y[:, 1:-1] + y[:, :-2]) ** 2 / 6.0
        top = np.partition(z2, n - 2 - trim, axis=1)[:, n - 2 - trim:]
        m[i:i + y.shape[0]] = (z2.sum(axis=1) - top.sum(axis=1)) / (n - 2 - trim)
    return float(m.mean()), float(m.std() / m.mean())

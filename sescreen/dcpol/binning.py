"""Log-time resampling of a hold, white noise from second differences, and the current
resolution of the instrument (METHODS.md section 6: quantization).

A hold of 10^6 samples is reduced to ~100-160 log-spaced bins, so every decade of time
weighs alike and a fit takes milliseconds. Each bin keeps the index range of its samples,
which the correlated-noise model (:mod:`sescreen.dcpol.noise`) needs to build the
covariance of the bin means.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

__all__ = ["NODES", "Binned", "bin_nodes", "binned_from_sums", "log_edges", "noise_sigma",
           "resolution_step"]

_NOISE_PRIOR = 30
#: Nodes per bin: a bin of up to this many samples is averaged at its sample times, a longer
#: one by Gauss-Legendre over the time its samples cover.
NODES = 4
_GL_X, _GL_W = np.polynomial.legendre.leggauss(NODES)
_GL_W = _GL_W / 2.0


@dataclass(frozen=True)
class Binned:
    """Log-time bin means of a record.

    Attributes
    ----------
    t, y : array
        Mean time (s) and mean current (scaled units) of every non-empty bin.
    sem : array
        White-noise standard error of every bin mean (the diagonal of :attr:`cov` without
        its correlated part).
    n : array
        Samples per bin.
    noise : float
        White-noise standard deviation of one raw sample (scaled units).
    lo, hi : array
        Time interval each bin's samples cover (each sample standing for dt around it), s.
    first : array of int
        Index (into the fitted samples) of every bin's first sample; bin k holds samples
        ``first[k] .. first[k] + n[k] - 1``.
    white_var : array
        Per-sample white-noise variance inside every bin.
    nodes, weights : array (n_bins, NODES)
        Where and with what weight a model is averaged over each bin (:func:`bin_nodes`).
    memo : dict
        Bin averages computed once for these bins and shared (the grid starts' basis
        columns several candidate models have in common); never part of comparisons.
    """

    t: np.ndarray
    y: np.ndarray
    sem: np.ndarray
    n: np.ndarray
    noise: float
    lo: np.ndarray
    hi: np.ndarray
    first: np.ndarray
    white_var: np.ndarray
    nodes: np.ndarray
    weights: np.ndarray
    memo: dict = dataclasses.field(default_factory=dict, compare=False, repr=False)

    def average(self, func, **params) -> np.ndarray:
        """Bin averages of ``func(t, **params)``: what each bin mean should equal.

        Comparing a bin mean with the model at the bin's mean time would bias a fit: a
        convex decay averaged over a bin lies above its value at the mean time (Jensen),
        by about half a standard error per late bin on stopped holds; and the mean of a
        few samples is not the time average over them while a fast charging current is
        alive (a 10^4 x I_ss spike with tau ~ dt). Parameters given as arrays of shape
        (k, 1) give k rows of bin averages.
        """
        nodes, w = self.nodes, self.weights
        values = func(nodes.ravel(), **params)
        values = values.reshape(values.shape[:-1] + nodes.shape)
        out = values[..., 0] * w[:, 0]  # the sum over the nodes in order, as .sum gives it
        for k in range(1, NODES):
            out += values[..., k] * w[:, k]
        return out

    def subset(self, keep: np.ndarray) -> Binned:
        """The bins selected by a boolean mask (for truncation tests)."""
        return Binned(self.t[keep], self.y[keep], self.sem[keep], self.n[keep], self.noise,
                      self.lo[keep], self.hi[keep], self.first[keep], self.white_var[keep],
                      self.nodes[keep], self.weights[keep])


def bin_nodes(t: np.ndarray, first: np.ndarray, n: np.ndarray, lo: np.ndarray,
              hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of the bin averages, each (n_bins, NODES).

    A bin of up to :data:`NODES` samples: its sample times, weight 1/n each (the bin mean
    of a model is then exact); a longer one: Gauss-Legendre nodes over [lo, hi].
    """
    k = np.arange(NODES)
    few = (n <= NODES)[:, None]
    idx = first[:, None] + np.minimum(k[None, :], n[:, None].astype(int) - 1)
    samples_w = np.where(k[None, :] < n[:, None], 1.0 / n[:, None], 0.0)
    half, mid = (hi - lo) / 2.0, (hi + lo) / 2.0
    gauss = mid[:, None] + half[:, None] * _GL_X[None, :]
    nodes = np.where(few, t[idx], gauss)
    weights = np.where(few, samples_w, np.broadcast_to(_GL_W, gauss.shape))
    return nodes, weights


def noise_sigma(y: np.ndarray) -> float:
    """Standard deviation of the white part of the sample noise, from second differences.

    The second difference y[k+1] - 2 y[k] + y[k-1] cancels a locally linear trend and has
    variance 6 sigma^2 for white noise. It is clipped at 8 robust standard deviations
    (1.4826 MAD) so an isolated glitch does not dominate. Second differences are blind to
    slow (correlated) noise and to quantization steps: :mod:`sescreen.dcpol.noise` adds
    those from the fit residuals.
    """
    y = np.asarray(y, dtype=float)
    if y.size < 4:
        return float(np.std(np.diff(y)) / math.sqrt(2.0)) if y.size > 1 else 0.0
    d = y[2:] - 2.0 * y[1:-1] + y[:-2]
    center = np.median(d)
    robust = 1.4826 * np.median(np.abs(d - center))
    if robust > 0:
        d = np.clip(d, center - 8 * robust, center + 8 * robust)
    return float(np.std(d) / math.sqrt(6.0))


def resolution_step(y: np.ndarray, *, max_samples: int = 20000) -> float:
    """The current resolution (least significant step) seen in a record, or 0.

    The last samples (where the current is smallest and quantization matters most) are
    sorted; the step is the smallest gap between distinct values when (almost) every gap
    is an integer multiple of it and values repeat (a staircase). Float storage noise (gaps
    ~1e-7 of the value) is not a step.

    Parameters
    ----------
    y : array
        Current (any unit).
    max_samples : int
        How many of the last samples to examine.

    Returns
    -------
    float
        The step in the unit of ``y``, 0 when the record is not visibly quantized.
    """
    tail = np.asarray(y[-max_samples:], dtype=float)
    tail = tail[np.isfinite(tail)]
    if tail.size < 16:
        return 0.0
    values = np.unique(tail)
    if values.size < 2 or values.size > 0.5 * tail.size:
        return 0.0
    gaps = np.diff(values)
    tiny = 1e-6 * float(np.max(np.abs(values)))
    gaps = gaps[gaps > tiny]
    if gaps.size == 0:
        return 0.0
    step = float(np.min(gaps))
    ratio = gaps / step
    if np.mean(np.abs(ratio - np.round(ratio)) < 0.05) < 0.9:
        return 0.0
    # refine: the mean of the gaps that are one step
    one = gaps[np.round(ratio) == 1]
    return float(np.mean(one)) if one.size else step


def log_edges(t: np.ndarray, *, per_decade: int = 20, max_bins: int = 160) -> np.ndarray:
    """Edges of the log-spaced time bins of a record, s.

    From the first positive time to just past the last one, ``per_decade`` bins per
    decade, between 8 and ``max_bins`` bins. ``t`` must be non-decreasing.
    """
    if t[0] > 0:
        t0 = float(t[0])
    else:  # the smallest positive time, at most 1 s
        pos = int(np.searchsorted(t, 0.0, side="right"))
        t0 = min(float(t[pos]), 1.0) if pos < t.size else 1.0
    t_end = max(float(t[-1]), t0 * (1 + 1e-9))
    decades = max(math.log10(t_end / t0), 1e-9)
    nb = int(np.clip(math.ceil(decades * per_decade), 8, max_bins))
    return np.geomspace(t0, t_end * (1 + 1e-12), nb + 1)


def binned_from_sums(t: np.ndarray, n: np.ndarray, sum_t: np.ndarray, sum_y: np.ndarray,
                     sum_d2: np.ndarray, nd: np.ndarray, first: np.ndarray,
                     sigma: float) -> Binned:
    """The bins of a record from their sufficient statistics.

    Parameters
    ----------
    t : array
        Sample times, s (only the first and last sample of every bin are read).
    n, sum_t, sum_y : array
        Samples, sum of times (s) and sum of currents of every non-empty bin.
    sum_d2, nd : array
        Sum of squared second differences whose three samples lie in the bin, and their
        number.
    first : array of int
        Index of every bin's first sample.
    sigma : float
        White noise of the whole record (:func:`noise_sigma`), the fallback when fewer
        than 3 bins hold 8 second differences.

    Returns
    -------
    Binned
        Mean time and current of every bin, the white-noise standard error of each mean
        (sigma / sqrt(n), sigma from the second differences inside the bin shrunk towards
        the median of the bins'), counts and sample ranges.
    """
    tm, ym = sum_t / n, sum_y / n
    var_local = sum_d2 / np.maximum(nd, 1) / 6.0
    filled = nd >= 8
    if filled.sum() >= 3:
        sigma = float(np.sqrt(np.median(var_local[filled])))
    # Shrink toward the record's noise: a bin's own estimate counts as much as
    # _NOISE_PRIOR differences of the whole record.
    white = (nd * var_local + _NOISE_PRIOR * sigma**2) / (nd + _NOISE_PRIOR)
    floor = 1e-7 * np.maximum(np.abs(ym), np.abs(ym).max() * 1e-3) + 1e-30
    sem = np.maximum(np.sqrt(white / n), floor)
    last = first + n.astype(int) - 1
    step = np.where(n > 1, (t[last] - t[first]) / np.maximum(n - 1, 1), 0.0)
    lo = np.maximum(t[first] - step / 2, t[first] * 0.5)
    hi = np.maximum(t[last] + step / 2, lo * (1 + 1e-9))
    white_var = np.maximum(white, (sem**2) * n)
    nodes, weights = bin_nodes(t, first, n, lo, hi)
    return Binned(tm, ym, sem, n, sigma, lo, hi, first, white_var, nodes, weights)

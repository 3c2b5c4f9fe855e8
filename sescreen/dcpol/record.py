"""One pass over the raw samples of a hold: every statistic of them the fit uses later.

A hold of 10^7 samples is read once, into

* the log-time bins the transients are fitted to (:class:`~sescreen.dcpol.binning.Binned`:
  counts, sums of time and current, the sum of squared second differences inside every
  bin, first and last samples);
* the white noise of the whole record (:func:`~sescreen.dcpol.binning.noise_sigma`: the
  standard deviation of the second differences clipped at 8 robust standard deviations);
* cells of ``group`` consecutive samples (a power of 2; 1 for records of up to
  :data:`CELLS` samples in their last half, so that short records are treated exactly
  sample by sample): the sum of the current and the mean time of every cell. The
  residual variogram of the long blocks, the step test and the tail means work on them.

What the cells cannot give is read from fixed-size samples of the record: the robust
centre and scale of the second differences from :data:`SAMPLE` of them at pseudo-random
positions (they only place the clipping limits, 8 robust standard deviations out: a relative
error of ~0.5 % there moves the clipped standard deviation of Gaussian noise by < 1e-6),
and the residual variogram of blocks shorter than a cell from :data:`SAMPLE` samples in
whole cells spread evenly over the last half of the hold (a relative standard error of
<= 0.6 % for each such block length, against 30-50 % at the longest blocks, which decide
the slow noise; see :mod:`~sescreen.dcpol.variogram`). Ranges of samples are summed from
the cells plus at most two partial cells of raw samples.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from sescreen.dcpol import core
from sescreen.dcpol.binning import Binned, binned_from_sums, log_edges

__all__ = ["CELLS", "SAMPLE", "RecordStats", "difference_samples", "log_bin", "summarize"]

CELLS = 1 << 15  #: cells in the last half of a record at most
SAMPLE = 1 << 16  #: raw values in each fixed-size sample
_SAMPLE_SEED = 20190204  # positions of the sample of second differences
_BLOCK = 1 << 18  # second differences per block of the one pass (no copy of the record)
_AMPLIFICATION = 1e6  # rounding amplification beyond which the clipped values are summed again


@dataclass(frozen=True)
class RecordStats:
    """What one pass found in a record (currents divided by :attr:`scale`).

    Attributes
    ----------
    t, y : array
        The samples (references to the caller's arrays, never copied or modified): time
        since the step, s, and current in the caller's unit.
    scale : float
        Caller's current unit per unit of every current returned (includes the sign).
    group : int
        Samples per cell (a power of 2).
    cell_sum : array
        Sum of the current in every cell (the last one may be partial), caller's unit.
    cell_time : array
        Mean time of every cell, s.
    cell_n : array
        Samples per cell.
    bin_n, bin_t, bin_y, bin_d2, bin_nd : array
        Per non-empty log-time bin: samples, sum of times (s), sum of currents, sum of
        squared second differences inside the bin and their number.
    bin_first : array of int
        Index of every bin's first sample.
    noise_sd : float
        Clipped second-difference standard deviation of the record / sqrt(6), caller's
        unit (:func:`~sescreen.dcpol.binning.noise_sigma`).
    suspects : array of int
        Samples next to a second difference beyond the clipping limits (the only ones a
        dropout or a glitch can be: :mod:`sescreen.dcpol.outliers`).
    quantum : float
        On a staircase (most second differences exactly 0: a current below the noise of
        the converter or of a rounded export), the step of the others, caller's unit;
        else 0. The outlier test measures against it there, since the clipped standard
        deviation then includes the outliers themselves.
    replaced : (array of int, array)
        Samples whose value every statistic takes from here instead (sorted indices and
        values, caller's unit: :func:`~sescreen.dcpol.outliers.replaced`).
    """

    t: np.ndarray
    y: np.ndarray
    scale: float
    group: int
    cell_sum: np.ndarray
    cell_time: np.ndarray
    cell_n: np.ndarray
    bin_n: np.ndarray
    bin_t: np.ndarray
    bin_y: np.ndarray
    bin_d2: np.ndarray
    bin_nd: np.ndarray
    bin_first: np.ndarray
    noise_sd: float
    suspects: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, int))
    quantum: float = 0.0
    replaced: tuple[np.ndarray, np.ndarray] = dataclasses.field(
        default_factory=lambda: (np.zeros(0, int), np.zeros(0)))

    @property
    def n(self) -> int:
        """Number of samples."""
        return int(self.y.size)

    def scaled(self, scale: float) -> RecordStats:
        """The same statistics with currents in units of ``scale`` (caller's unit)."""
        return dataclasses.replace(self, scale=float(scale))

    @property
    def noise(self) -> float:
        """White noise of one sample (clipped second differences), scaled units."""
        return self.noise_sd / abs(self.scale)

    def binned(self) -> Binned:
        """The log-time bins, scaled units."""
        s = self.scale
        return binned_from_sums(self.t, self.bin_n, self.bin_t, self.bin_y / s,
                                self.bin_d2 / (s * s), self.bin_nd, self.bin_first,
                                self.noise)

    def with_residual_noise(self, model: np.ndarray) -> RecordStats:
        """The statistics with the white noise and the in-bin sums of squared second
        differences taken from the residuals about ``model`` (a fitted transient at every
        sample, scaled units; the replaced samples replaced) instead of the samples.

        Where a decay is steep on the scale of one sample (a hold of a few tens of
        samples, a charging spike over a few of them) its own curvature fills the second
        differences of the samples: 2.5-20x the noise on 30-point holds of a break-it
        review, beyond what clipping at 8 robust standard deviations removes, which hid
        a decay still under way. The residuals' second differences keep the noise and
        lose the curvature (what remains of a misfit is smooth).
        """
        resid = self.samples(np.arange(self.n)) - np.asarray(model, dtype=float) * self.scale
        in_bin, sd, _, _ = _noise_statistics(resid, self.bin_first, self.bin_n.astype(int))
        return dataclasses.replace(self, bin_d2=in_bin, noise_sd=sd / math.sqrt(6.0))

    def cell_means(self) -> np.ndarray:
        """Mean current of every cell, scaled units."""
        return self.cell_sum / self.cell_n / self.scale

    def range_sum(self, start: int, stop: int) -> float:
        """Sum of the current of samples ``start .. stop - 1``, scaled units."""
        n, g = self.n, self.group
        start, stop = max(0, min(start, n)), max(0, min(stop, n))
        if stop <= start:
            return 0.0
        c0, c1 = -(-start // g), stop // g  # whole cells c0 .. c1 - 1
        if c1 <= c0:
            return self._raw_sum(start, stop) / self.scale
        total = float(np.sum(self.cell_sum[c0:c1]))
        total += self._raw_sum(start, c0 * g) + self._raw_sum(c1 * g, stop)
        return total / self.scale

    def _raw_sum(self, start: int, stop: int) -> float:
        """Sum of samples ``start .. stop - 1`` with the replaced ones replaced, caller's
        unit."""
        at, value = self.replaced
        a, b = np.searchsorted(at, [start, stop])
        return float(np.sum(self.y[start:stop])) + float(np.sum(value[a:b] - self.y[at[a:b]]))

    def samples(self, idx: np.ndarray) -> np.ndarray:
        """The current of samples ``idx`` (any shape), the replaced ones replaced, caller's
        unit."""
        out = self.y[idx]
        at, value = self.replaced
        if at.size:
            k = np.clip(np.searchsorted(at, idx), 0, at.size - 1)
            hit = at[k] == idx
            out = np.where(hit, value[k], out)
        return out

    def range_mean(self, start: int, stop: int) -> float:
        """Mean current of samples ``start .. stop - 1``, scaled units."""
        start, stop = max(0, start), min(stop, self.n)
        return self.range_sum(start, stop) / max(stop - start, 1)

    def late_cells(self) -> tuple[int, int]:
        """The whole cells of the last half of the record: (first cell, number)."""
        g = self.group
        first = -(-(self.n // 2) // g)
        return first, self.n // g - first

    def short_sample(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Raw samples in whole cells spread evenly over the last half (for blocks shorter
        than a cell): times (s), currents (scaled) and index of every sample, shape
        (cells, group) each; empty when a cell is one sample."""
        g = self.group
        if g == 1:
            empty = np.zeros((0, 1))
            return empty, empty, empty.astype(int)
        first, count = self.late_cells()
        take = min(count, max(1, SAMPLE // g))
        spread = np.linspace(0, count - 1, take).round().astype(int)  # sorted: once each
        cells = first + spread[np.r_[True, spread[1:] != spread[:-1]][:spread.size]]
        idx = (cells[:, None] * g + np.arange(g)[None, :])
        return self.t[idx], self.samples(idx) / self.scale, idx


def _group(n: int) -> int:
    """Samples per cell: at most :data:`CELLS` cells in the last half of ``n`` samples."""
    late = n - n // 2
    return 1 << max(0, math.ceil(math.log2(max(late, 1) / CELLS)))


def _segment_sums(arrays: tuple[np.ndarray, ...], *boundaries: np.ndarray
                  ) -> list[list[np.ndarray]]:
    """Sums of each of ``arrays`` between consecutive boundaries, for several sorted sets of
    boundary indices (each starting at 0), in one pass over each array: it is summed over
    the segments between the union of all boundaries, and every set's sums are sums of
    whole segments. Returns one list of sums (per set of boundaries) per array."""
    if core.available() and len(boundaries) == 2:  # compiled: one pass per array
        return [core.segment_sums(x, *boundaries) for x in arrays]
    union = np.sort(np.concatenate(boundaries))
    union = union[np.r_[True, union[1:] != union[:-1]]]
    where = [np.searchsorted(union, b) for b in boundaries]
    out = []
    for x in arrays:
        seg = np.add.reduceat(x, union)
        out.append([np.add.reduceat(seg, w) for w in where])
    return out


def _second_difference_sample(y: np.ndarray) -> np.ndarray:
    """:data:`SAMPLE` second differences of ``y`` (all of them in a shorter record), at
    pseudo-random positions (fixed seed: a regular stride would alias with a periodic
    signal, mains hum sampled at a multiple of its frequency, and see one phase only);
    formed as :func:`_second_differences` forms them. In drawing order, not sorted: only
    its median, spread and quantiles are used."""
    m = y.size - 2
    if m <= SAMPLE:
        return _second_differences(y, 0, m)
    j = np.random.default_rng(_SAMPLE_SEED).integers(0, m, SAMPLE)
    return core.second_differences_at(y, j) if core.available() else \
        (y[j + 2] - y[j + 1]) - (y[j + 1] - y[j])


def _second_differences(y: np.ndarray, a: int, b: int) -> np.ndarray:
    """Second differences d[a:b] of ``y``, d[k] = (y[k+2] - y[k+1]) - (y[k+1] - y[k])."""
    e = np.diff(y[a:b + 2])
    return e[1:] - e[:-1]


@dataclass
class _Squares:
    """What a pass over the squared second differences gathers, block by block."""

    in_bin: np.ndarray  #: sum of d^2 over each bin's run of second differences
    total: float = 0.0  #: sum of every d^2
    beyond: list = dataclasses.field(default_factory=list)  #: the d whose square > limit^2
    beyond_at: list = dataclasses.field(default_factory=list)  #: and their indices


def _square_sums(y: np.ndarray, first: np.ndarray, count: np.ndarray,
                 limit: float) -> _Squares:
    """Sums of the squared second differences of ``y`` (one pass, in blocks of
    :data:`_BLOCK`, so no copy of the record is made): inside every bin (bin k holds
    d[j], j = first_k .. first_k + count_k - 3, whose three samples share the bin), over
    all of them, and the values whose square exceeds ``limit``^2."""
    m = y.size - 2
    full = count >= 3
    run_lo, run_hi = first[full], first[full] + count[full] - 2  # runs of d, [lo, hi)
    limit2 = limit * limit
    if core.available():  # compiled: the same sums in one pass (total compensated)
        total, in_bin, far = core.second_difference_sums(y, run_lo, run_hi, limit2)
        d = (y[far + 2] - y[far + 1]) - (y[far + 1] - y[far])
        return _Squares(in_bin, total, [d], [far])
    breaks = np.union1d(run_lo, run_hi)
    out = _Squares(np.zeros(run_lo.size))
    for a in range(0, m, _BLOCK):
        b = min(a + _BLOCK, m)
        d = _second_differences(y, a, b)
        with np.errstate(over="ignore"):
            d2 = d * d
        out.total += float(np.sum(d2))
        if limit2 < math.inf:
            far = np.flatnonzero(d2 > limit2)
            out.beyond.append(d[far])
            out.beyond_at.append(far + a)
        if run_lo.size:
            seg = np.r_[a, breaks[(breaks > a) & (breaks < b)]]
            sums = np.add.reduceat(d2, seg - a)
            r = np.searchsorted(run_lo, seg, side="right") - 1
            inside = (r >= 0) & (seg < run_hi[np.maximum(r, 0)])
            np.add.at(out.in_bin, r[inside], sums[inside])
    return out


def difference_samples(at: np.ndarray, n: int) -> np.ndarray:
    """The indices k, k + 1 and k + 2 for every k in ``at`` (the samples of the second
    differences d[k]) that lie in 0 .. n - 1, sorted and once each (a mask over the record
    when there are many: a sort of millions of indices is slower than one pass)."""
    out = np.concatenate([at, at + 1, at + 2])
    out = out[(out >= 0) & (out < n)]
    if out.size > n // 20:
        mask = np.zeros(n, bool)
        mask[out] = True
        return np.flatnonzero(mask)
    out.sort()
    return out[np.r_[True, out[1:] != out[:-1]]] if out.size else out


def _noise_statistics(y: np.ndarray, first: np.ndarray, count: np.ndarray
                      ) -> tuple[np.ndarray, float, np.ndarray, float]:
    """The in-bin sums of squared second differences, the standard deviation of all
    second differences clipped at 8 robust standard deviations around their median (both
    from :func:`_second_difference_sample`), as
    :func:`~sescreen.dcpol.binning.noise_sigma` computes it, the samples of the second
    differences beyond the nearer limit (2 quanta when most are 0, a staircase, the quantum
    the 5th percentile of the others; none when the limits lie on one side of 0), and that
    quantum (0 when the record is no staircase).

    Where the limits lie either side of 0 the sums of the clipped values are those of all
    values corrected at the few outside the limits (among the values whose square exceeds
    the nearer limit's): the sum of the second differences telescopes to the difference of
    the last and first first differences. Otherwise (a smooth record, limits on one side
    of 0), when the differences would amplify the rounding of the sum of squares beyond
    :data:`_AMPLIFICATION` (a glitch far above the noise carrying nearly all of it, or a
    mean far above the spread), or when it overflowed, the clipped values are summed in a
    pass of their own.
    """
    sample = _second_difference_sample(y)
    center = float(np.median(sample))
    robust = 1.4826 * float(np.median(np.abs(sample - center)))
    lo, hi = center - 8 * robust, center + 8 * robust
    split = robust > 0 and lo < 0 < hi
    spread = robust
    if robust == 0:  # a staircase: most second differences are 0; the others are steps of
        # the quantum (the smallest of them, robustly), or outliers, which must not set it
        moved = np.abs(sample[sample != center] - center)
        spread = float(np.quantile(moved, 0.05)) if moved.size else 0.0
    # (a toggle of one step moves a second difference by at most two steps)
    limit = min(-lo, hi) if split else (2 * spread if robust == 0 < spread else math.inf)
    sq = _square_sums(y, first, count, limit)
    in_bin = np.zeros(first.size)
    in_bin[count >= 3] = sq.in_bin
    m = y.size - 2
    at = np.concatenate(sq.beyond_at) if sq.beyond_at else np.zeros(0, int)
    suspects = difference_samples(at, y.size)
    if split and math.isfinite(sq.total):
        # (none gathered when limit^2 overflows: limit > 1.3e154 with every d^2 finite)
        d = np.concatenate(sq.beyond) if sq.beyond else np.zeros(0)
        above, below = d[d > hi], d[d < lo]
        inner = sq.total - float(np.dot(above, above)) - float(np.dot(below, below))
        total = float((y[-1] - y[-2]) - (y[1] - y[0]))
        total += above.size * hi - float(np.sum(above)) + below.size * lo - float(np.sum(below))
        mean_square = (inner + above.size * hi * hi + below.size * lo * lo) / m
        var = mean_square - (total / m) ** 2
        # the rounding of the sum of squares, amplified by the two differences
        if inner > 0 and var > 0 and sq.total / inner * mean_square / var < _AMPLIFICATION:
            return in_bin, math.sqrt(var), suspects, 0.0 if robust > 0 else spread
    d = np.diff(y, 2)
    if robust > 0:
        np.clip(d, lo, hi, out=d)
    sd = float(np.std(d))
    return in_bin, sd, suspects, 0.0 if robust > 0 else spread


def summarize(t: np.ndarray, y: np.ndarray, *, per_decade: int = 20,
              max_bins: int = 160) -> RecordStats:
    """Read a record once.

    Parameters
    ----------
    t : array
        Time since the step, s, non-decreasing, > 0 (a first sample at 0 is allowed).
    y : array
        Current (any unit).
    per_decade, max_bins : int
        Log-time bins per decade and at most.

    Returns
    -------
    RecordStats
        With ``scale`` 1 (:meth:`RecordStats.scaled` changes the unit).
    """
    t = np.asarray(t, dtype=float)
    y = np.asarray(y, dtype=float)
    n = y.size
    edges = log_edges(t, per_decade=per_decade, max_bins=max_bins)
    nb = edges.size - 1
    starts = np.r_[0, np.searchsorted(t, edges[1:nb], side="left")]
    count = np.diff(np.r_[starts, n])
    keep = count > 0
    first, cnt = starts[keep], count[keep]
    suspects = np.zeros(0, int)
    quantum = 0.0
    if n > 3:
        bin_d2, clipped_sd, suspects, quantum = _noise_statistics(y, first, cnt)
        noise_sd = clipped_sd / math.sqrt(6.0)
    else:
        bin_d2 = np.zeros(first.size)
        noise_sd = float(np.std(np.diff(y)) / math.sqrt(2.0)) if n > 1 else 0.0
    bin_nd = np.maximum(cnt - 2, 0).astype(float)
    g = _group(n)
    if g == 1:
        bin_y, bin_t = np.add.reduceat(y, first), np.add.reduceat(t, first)
        cell_sum, cell_time, cell_n = y, t, np.ones(n)
    else:
        cs = np.arange(0, n, g)
        (bin_y, cell_sum), (bin_t, cell_time) = _segment_sums((y, t), first, cs)
        cell_n = np.diff(np.r_[cs, n]).astype(float)
        cell_time = cell_time / cell_n
    return RecordStats(t, y, 1.0, g, cell_sum, cell_time, cell_n, cnt.astype(float), bin_t,
                       bin_y, bin_d2, bin_nd, first, noise_sd, suspects, quantum=quantum)


def log_bin(t: np.ndarray, y: np.ndarray, *, per_decade: int = 20,
            max_bins: int = 160) -> Binned:
    """Resample a record into log-spaced time bins (the bins of :func:`summarize`).

    Parameters
    ----------
    t : array
        Time since the step, s, increasing (not necessarily strictly), > 0.
    y : array
        Current.
    per_decade, max_bins : int
        Bins per decade of time, and at most.

    Returns
    -------
    Binned
    """
    return summarize(t, y, per_decade=per_decade, max_bins=max_bins).binned()

"""Isolated samples far from their neighbours: dropouts and glitches.

A potentiostat that misses a reading logs 0 A (or a value of the wrong current range) for
a sample or two; an electrical glitch does the same with any value. The white noise is
estimated robustly (second differences clipped at 8 robust standard deviations,
:mod:`sescreen.dcpol.record`), but the bin means are plain means: 1 % of samples at 0 A
pull every late bin 1 % low while its standard error, about sigma / sqrt(n), is far
smaller, and the interval of I_ss lies confidently below the truth (a false PASS; found by
an independent review, 0 of 15 intervals covering). So such a sample is replaced, in every
statistic, by the median of its neighbours.

A sample is isolated when it differs from the median of its six nearest neighbours (three
either side: with 5 % dropouts, three of six are dropouts once in ~4000 samples) by more
than :data:`Z` white-noise standard deviations (on a staircase, where most second
differences are 0, :data:`QUANTA` of its steps instead), :data:`LEVEL` of that
median, and :data:`STEPS` current steps of the instrument, and does not lie strictly between the
samples either side of it (a fast charging current, which changes by large factors from
sample to sample, is monotone, and never touched). Only samples next to a second
difference beyond the clipping limits are examined (the one pass lists them); an isolated
sample grows through the samples either side of it that read exactly its value (a dropout
of several readings, up to :data:`MAX_RUN`), the run taken at the median of the three
samples either side. A step of the level (a crack, a contact change) is not isolated: it
moves every later sample, and the step test (:mod:`sescreen.dcpol.steps`) reports it.
Gaussian noise exceeds Z = 10 standard deviations about once in 10^23 samples; a symmetric
heavy-tailed noise loses a few extreme values either side, without bias. A replaced sample
may still have been real (a burst of current, a one-sample low state of telegraph noise):
the interval of I_ss reaches what the replaced samples of the last half carried, above and
below (:func:`sescreen.dcpol.estimate.replaced_excess`), so neither reading of them can
make a verdict false. When more than :data:`MAX_FRACTION` of the samples would be
replaced, the record is not a decay with dropouts, and none is.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from sescreen.dcpol.record import RecordStats, difference_samples

__all__ = ["LEVEL", "MAX_FRACTION", "MAX_RUN", "QUANTA", "STEPS", "Z", "isolated_samples",
           "replaced"]

Z = 10.0  #: white-noise standard deviations from the neighbours' median
STEPS = 4.0  #: instrument current steps from it, at least
QUANTA = 2.0  #: on a staircase, steps of its own from it (its toggles are one step)
LEVEL = 0.25  #: and this fraction of it (a rounded export's steps are far smaller)
MAX_FRACTION = 0.2  #: of the samples, beyond which none is replaced
MAX_RUN = 16  #: readings of one repeated value a dropout may span
_NEIGHBOURS = np.array([-3, -2, -1, 1, 2, 3])


def isolated_samples(stats: RecordStats, resolution: float = 0.0
                     ) -> tuple[np.ndarray, np.ndarray]:
    """The isolated samples of a record and the median of their neighbours.

    Parameters
    ----------
    stats : RecordStats
        The one-pass statistics (:func:`~sescreen.dcpol.record.summarize`).
    resolution : float
        The instrument's current step, caller's unit (0 when unknown).

    Returns
    -------
    (indices, medians)
        Sorted sample indices and the median of each one's neighbours, caller's unit.
    """
    k = stats.suspects
    y, n = stats.y, stats.n
    k = k[k > 0]  # (the first sample may be the end of the charging spike)
    if k.size == 0:
        return k, np.zeros(0)
    before, after = y[k - 1], y[np.minimum(k + 1, n - 1)]
    between = (np.minimum(before, after) < y[k]) & (y[k] < np.maximum(before, after))
    k = k[~between]  # (the last sample has no later one: it is never between)
    near = k[:, None] + _NEIGHBOURS[None, :]
    med = np.empty(k.size)
    edge = (k < 3) | (k > n - 4)  # fewer than six neighbours
    med[~edge] = np.median(y[near[~edge]], axis=1)
    if edge.any():
        at = near[edge]
        med[edge] = np.nanmedian(np.where((at >= 0) & (at < n), y[np.clip(at, 0, n - 1)],
                                          np.nan), axis=1)
    noise = 0.0 if stats.quantum > 0 else Z * stats.noise_sd
    limit = np.maximum(np.maximum(noise, LEVEL * np.abs(med)),
                       np.maximum(STEPS * resolution, QUANTA * stats.quantum))
    far = np.abs(y[k] - med) > limit
    k, med = _runs(y, k[far], med[far])
    if k.size > MAX_FRACTION * n:
        return k[:0], med[:0]
    return k, med


def _runs(y: np.ndarray, k: np.ndarray, med: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The isolated samples ``k`` grown through the samples either side that read exactly
    the same value, up to :data:`MAX_RUN` in all (a dropout of several readings logs one
    value, 0 A or a wrong range's, again and again: the inner ones are not next to a
    clipped second difference, and a run of four outnumbers the good half of the six
    neighbours), each run taken at the median of the three samples either side of it."""
    if k.size == 0:
        return k, med
    n = y.size
    lo, hi = k.copy(), k.copy()
    for _ in range(MAX_RUN - 1):
        left = (lo > 0) & (hi - lo + 1 < MAX_RUN)
        left[left] = y[lo[left] - 1] == y[k[left]]
        lo -= left
        right = (hi < n - 1) & (hi - lo + 1 < MAX_RUN)
        right[right] = y[hi[right] + 1] == y[k[right]]
        hi += right
        if not (left.any() or right.any()):
            break
    grown = hi > lo
    if not grown.any():
        return k, med
    around = np.concatenate([lo[grown, None] - np.arange(3, 0, -1)[None, :],
                             hi[grown, None] + np.arange(1, 4)[None, :]], axis=1)
    inside = (around >= 0) & (around < n)
    med = med.copy()
    med[grown] = np.nanmedian(np.where(inside, y[np.clip(around, 0, n - 1)], np.nan), axis=1)
    size = hi - lo + 1
    members = np.repeat(lo, size) + (np.arange(size.sum()) - np.repeat(np.cumsum(size) - size,
                                                                      size))
    values = np.repeat(med, size)
    order = np.argsort(members, kind="stable")
    members, values = members[order], values[order]
    first = np.r_[True, members[1:] != members[:-1]]
    return members[first], values[first]


def replaced(stats: RecordStats, at: np.ndarray, value: np.ndarray) -> RecordStats:
    """The statistics of the record with samples ``at`` (sorted) taking ``value``
    (caller's unit) instead: bin and cell sums, the in-bin second differences through
    them and every later read of raw samples (:attr:`RecordStats.replaced`); the samples
    themselves are not modified."""
    if at.size == 0:
        return stats
    y, g = stats.y, stats.group
    change = value - y[at]
    bins = np.searchsorted(stats.bin_first, at, side="right") - 1
    bin_y = stats.bin_y.copy()
    np.add.at(bin_y, bins, change)
    cell_sum = np.array(stats.cell_sum, dtype=float)  # (a copy: it may be y itself)
    np.add.at(cell_sum, at // g, change)
    new = dataclasses.replace(stats, bin_y=bin_y, cell_sum=cell_sum,
                              suspects=stats.suspects[:0], replaced=(at, value))
    # the second differences through a replaced sample, d[j] for j = k-2 .. k, inside
    # their bin's run (first .. first + n - 3)
    j = difference_samples(at - 2, stats.n)
    j = j[j + 2 < stats.n]
    jb = np.searchsorted(stats.bin_first, j, side="right") - 1
    in_run = j + 2 < stats.bin_first[jb] + stats.bin_n[jb].astype(int)
    j, jb = j[in_run], jb[in_run]
    old = (y[j + 2] - y[j + 1]) - (y[j + 1] - y[j])
    v = new.samples(j[:, None] + np.arange(3)[None, :])
    d = (v[:, 2] - v[:, 1]) - (v[:, 1] - v[:, 0])
    bin_d2 = stats.bin_d2.copy()
    np.add.at(bin_d2, jb, d * d - old * old)
    return dataclasses.replace(new, bin_d2=np.maximum(bin_d2, 0.0))

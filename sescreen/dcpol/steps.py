"""Abrupt changes of the current during a hold: a crack, a contact change, a range switch.

A DC-polarization hold describes one material state only if the current changes smoothly.
A crack that opens an electronic path makes I jump up; a lost contact or a delaminating
electrode makes it drop; both are steps on the scale of samples, where every smooth
transient and the slow noise are nearly constant. So the test compares the means of the
``w`` samples before and after every sample (w = max(8, n / 200); on long records every
boundary of the one-pass cells, :mod:`sescreen.dcpol.record`) of the residuals from
the fitted transient, in units of the robust scatter of that difference along the record
(1.4826 median absolute deviation: correlated noise at the scale w is in it, a step moves
only ~2w of the n differences; never below the white noise). A step counts when it is at least
:data:`MIN_FRACTION` of I_ss, two current steps of a quantized record, and :data:`Z_MIN`
standard errors, after the first 10 % of the hold (where the fitted transient may still
misfit). Such a record supports no single I_ss: the interval spans the levels before and
after.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sescreen.dcpol.noise import NoiseModel

__all__ = ["MIN_FRACTION", "Z_MIN", "Step", "find_step"]

MIN_FRACTION = 0.03  #: smallest step that matters, fraction of I_ss
Z_MIN = 6.0  #: standard errors of the difference of the two window means


@dataclass(frozen=True)
class Step:
    """An abrupt level change (levels in scaled units, with the transient removed)."""

    t: float  #: s since the voltage step
    before: float  #: mean level from the first 10 % of the hold up to the step
    after: float  #: mean level from the step to the end
    z: float

    @property
    def fraction(self) -> float:
        """Size of the step relative to the level before it."""
        return (self.after - self.before) / self.before if self.before else math.inf


def find_step(t: np.ndarray, level_sum: np.ndarray, count: np.ndarray, group: int,
              noise: NoiseModel, *, t_hold: float) -> Step | None:
    """The largest abrupt change of the level (data minus the fitted transient part,
    scaled units), or None when there is none that counts.

    Parameters
    ----------
    t : array
        Time of every sample, s.
    level_sum, count : array
        Sum of the level over consecutive cells of ``group`` samples and the samples in
        each (``group`` = 1: the level of every sample).
    group : int
        Samples per cell; windows, the start after the first 10 % of the hold and the
        step itself fall on cell boundaries.
    noise : NoiseModel
    t_hold : float
        Hold length, s.
    """
    n_cells = level_sum.size
    w = max(8, int(count.sum()) // 200) // group  # window, cells
    if w < 1 or n_cells < 4 * w:
        return None
    c = np.concatenate([[0.0], np.cumsum(level_sum)])
    m = np.concatenate([[0.0], np.cumsum(count)])
    k = np.arange(w, n_cells - w + 1)
    diff = (c[k + w] - c[k]) / (m[k + w] - m[k]) - (c[k] - c[k - w]) / (m[k] - m[k - w])
    start = -(-int(np.searchsorted(t, 0.1 * t_hold)) // group)  # first whole cell after
    usable = k >= max(start, w)
    if usable.sum() < 8 * w:
        return None
    # the scatter of the difference itself, robustly (a step moves only ~2w of the
    # differences): the noise model's variance is estimated from residuals that contain
    # the step and would hide it
    d = diff[usable]
    sd = max(1.4826 * float(np.median(np.abs(d - np.median(d)))),
             math.sqrt(2.0 * noise.white_sd**2 / (w * group)))
    if not sd > 0:
        return None
    z = np.where(usable, diff / sd, 0.0)
    j = int(np.argmax(np.abs(z)))
    # the level of the last tenth: the median of the cell means there
    ref = abs(float(np.median((level_sum / count)[-max(w, n_cells // 10):])))
    # a staircase moves by one current step at a time: a level change must exceed two
    if abs(z[j]) < Z_MIN or abs(diff[j]) < max(MIN_FRACTION * ref, 2.0 * noise.resolution):
        return None
    at = int(k[j])
    before = float((c[at] - c[start]) / (m[at] - m[start])) if at > start \
        else float(level_sum[at - 1] / count[at - 1])
    after = float((c[-1] - c[at]) / (m[-1] - m[at]))
    return Step(float(t[at * group]), before, after, float(z[j]))

"""Cut a galvanostatic record into constant-current segments and current-density steps.

A CCD test (METHODS.md section 8; Han et al. 2019, Fig. 2) holds a current density for a
while, then raises it. Two protocols:

``plating``    Li | SE | Cu (or Pt): one current direction, Li plated on the blocking
               electrode, each step one segment (rests between steps allowed).
``symmetric``  Li | SE | Li: each step made of plating/stripping half-cycles +j, -j.

A *segment* is a run of points at one current set-point (the ``control_a`` column when the
file has one, else the measured current); a *step* is the run of non-rest segments at one
current density |j| (rests inside a step do not end it).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

__all__ = ["Segment", "Step", "find_segments", "group_steps", "held", "median_filter"]

#: Relative change of the current that starts a new segment.
SEGMENT_REL_TOL = 0.05
#: |I| below this fraction of the record's largest |I| is a rest.
REST_FRACTION = 1e-3
#: Relative difference of |j| within which segments belong to the same step.
STEP_REL_TOL = 0.03
#: A point "holds" the current when within this fraction of the segment's set-point.
HOLD_REL_TOL = 0.10
#: Width of the running median of a measured current (no set-point column) before it is cut
#: into segments, points.
MEASURED_MEDIAN_POINTS = 9


@dataclass(frozen=True)
class Segment:
    """Points ``start:stop`` of the record at one current set-point ``current_a`` (A)."""

    start: int
    stop: int
    current_a: float

    @property
    def rest(self) -> bool:
        return self.current_a == 0.0


@dataclass(frozen=True)
class Step:
    """One current density of the staircase.

    Attributes
    ----------
    index : int
        0-based position in the staircase.
    density_ma_cm2 : float
        |j| of the step, mA/cm^2.
    segments : tuple of Segment
        Its non-rest segments (half-cycles for a symmetric cell).
    t_start_s, t_end_s : float
        First and last time of its segments, s.
    capacity_mah_cm2 : float
        Areal capacity passed (integral of |I| dt / area), mAh/cm^2.
    """

    index: int
    density_ma_cm2: float
    segments: tuple[Segment, ...]
    t_start_s: float
    t_end_s: float
    capacity_mah_cm2: float

    @property
    def duration_s(self) -> float:
        return self.t_end_s - self.t_start_s

    @property
    def polarity(self) -> str:
        signs = {np.sign(s.current_a) for s in self.segments}
        return "both" if len(signs) > 1 else ("negative" if signs == {-1.0} else "positive")


def find_segments(current_a: np.ndarray, setpoint_a: np.ndarray | None = None,
                  min_points: int = 2) -> list[Segment]:
    """Split a record into runs of constant current.

    Parameters
    ----------
    current_a : ndarray
        Measured current, A.
    setpoint_a : ndarray, optional
        Current set-point, A (EC-Lab ``control/mA``); used in place of the measured current
        where finite, so a current that fails to follow its set-point stays one segment.
        Where there is none, the measured current is first smoothed by a running median of
        ``MEASURED_MEDIAN_POINTS`` points (its scatter is not a change of set-point).
    min_points : int
        Runs shorter than this (a point sampled mid-switch) are dropped; runs of a measured
        current, shorter than half the running median's window (noise, not a set-point).

    Returns
    -------
    list of Segment
        In time order, each with the median current of its run (0.0 for a rest).
    """
    i = np.asarray(current_a, dtype=float)
    measured = np.ones(i.size, dtype=bool)
    if setpoint_a is not None:
        sp = np.asarray(setpoint_a, dtype=float)
        measured = ~np.isfinite(sp)
        i = np.where(measured, i, sp)
    if measured.any() and i.size >= MEASURED_MEDIAN_POINTS:
        # A measured current scatters about its set-point (a cycler's accuracy, ~0.05 % of
        # its range, is several % of the lowest step of a staircase): point-to-point
        # changes of the noise alone crossed SEGMENT_REL_TOL and cut one step into dozens.
        # A running median keeps the steps' edges (to a point) and removes that scatter.
        i = np.where(measured, median_filter(i, MEASURED_MEDIAN_POINTS), i)
    scale = np.nanmax(np.abs(i)) if i.size else 0.0
    rest = np.abs(i) <= REST_FRACTION * scale
    level = np.where(rest, 0.0, i)
    prev = np.concatenate(([level[0]], level[:-1])) if level.size else level
    change = (np.sign(level) != np.sign(prev)) | (
        np.abs(level - prev) > SEGMENT_REL_TOL * np.maximum(np.abs(level), np.abs(prev)))
    edges = np.concatenate(([0], np.flatnonzero(change), [level.size]))
    edges = np.unique(edges)
    out = []
    for a, b in itertools.pairwise(edges):
        # a run of the smoothed measured current shorter than half the median's window is
        # its noise (a rest's scatter crossing REST_FRACTION), not a set-point
        need = max(min_points, MEASURED_MEDIAN_POINTS // 2 + 1) if measured[a] else min_points
        if b - a >= need:
            out.append(Segment(int(a), int(b), float(np.median(level[a:b]))))
    return _merge_same(out)


def _merge_same(segments: list[Segment]) -> list[Segment]:
    """Join neighbours at the same set-point (split only by a dropped switch point)."""
    out: list[Segment] = []
    for s in segments:
        if out and _same(out[-1].current_a, s.current_a, SEGMENT_REL_TOL):
            out[-1] = Segment(out[-1].start, s.stop, out[-1].current_a)
        else:
            out.append(s)
    return out


def _same(a: float, b: float, tol: float) -> bool:
    return np.sign(a) == np.sign(b) and abs(a - b) <= tol * max(abs(a), abs(b))


def group_steps(segments: list[Segment], time_s: np.ndarray, current_a: np.ndarray,
                area_cm2: float) -> list[Step]:
    """Group non-rest segments into steps of one current density.

    Parameters
    ----------
    segments : list of Segment
        From :func:`find_segments`.
    time_s, current_a : ndarray
        The record, s and A.
    area_cm2 : float
        Electrode area, cm^2; j (mA/cm^2) = 1e3 |I| / area.

    Returns
    -------
    list of Step
    """
    groups: list[list[Segment]] = []
    for s in segments:
        if s.rest:
            continue
        if groups and _same(abs(groups[-1][0].current_a), abs(s.current_a), STEP_REL_TOL):
            groups[-1].append(s)
        else:
            groups.append([s])
    steps = []
    for k, segs in enumerate(groups):
        charge = sum(_charge(time_s[s.start:s.stop], current_a[s.start:s.stop]) for s in segs)
        steps.append(Step(
            index=k,
            density_ma_cm2=float(np.median([abs(s.current_a) for s in segs]) * 1e3 / area_cm2),
            segments=tuple(segs),
            t_start_s=float(time_s[segs[0].start]),
            t_end_s=float(time_s[segs[-1].stop - 1]),
            capacity_mah_cm2=charge / 3.6 / area_cm2,  # C -> mAh: / 3.6
        ))
    return steps


def _charge(t: np.ndarray, i: np.ndarray) -> float:
    """Charge passed, C: trapezoid integral of |I| dt."""
    if t.size < 2:
        return 0.0
    a = np.abs(i)
    return float(np.sum(0.5 * (a[1:] + a[:-1]) * np.diff(t)))


def median_filter(p: np.ndarray, width: int) -> np.ndarray:
    """Running median of ``width`` points (at most the record's odd length), the edges
    padded with the nearest value."""
    from scipy import ndimage

    width = max(1, min(width, p.size - (1 - p.size % 2)))
    return ndimage.median_filter(p, size=width, mode="nearest")


def held(seg: Segment, i: np.ndarray) -> np.ndarray:
    """Indices of the segment's points whose current is within HOLD_REL_TOL of its set-point."""
    idx = np.arange(seg.start, seg.stop)
    return idx[np.abs(i[idx] - seg.current_a) <= HOLD_REL_TOL * abs(seg.current_a)]

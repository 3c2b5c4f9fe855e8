"""Where a multi-step record splits into steps (:meth:`Measurement.segments`).

Steps are read from the program: the ``step`` column (EC-Lab ``Ns``) when it changes, else the
set-point (``control_v`` or ``control_a``) and the ``cycle`` column. A sweep (the set-point
moving sample by sample, or in a staircase of at least five equal steps) is one segment per
direction, not one per sample. Everything is linear in the number of points.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

__all__ = ["segment_bounds"]


def segment_bounds(df: pd.DataFrame, by: str | None = None, *,
                   tolerance_v: float = 1e-3) -> list[tuple[int, int]]:
    """Row ranges ``[(start, stop), ...]`` of the steps of a record.

    Parameters
    ----------
    df : DataFrame
        A Measurement's data (canonical columns ``step``, ``control_v``, ``control_a``,
        ``cycle`` when present).
    by : {"step", "control", "cycle", None}
        As :meth:`sescreen.io.Measurement.segments`.
    tolerance_v : float
        Set-point change (V, or A for ``control_a``) that starts a new segment.

    Returns
    -------
    list of (int, int)
        ``[(0, len(df))]`` for a record without steps.
    """
    if by not in (None, "step", "control", "cycle"):
        raise ValueError(f"by must be 'step', 'control', 'cycle' or None, not {by!r}")
    n = len(df)
    starts, by_step = None, False
    if n and by in (None, "step") and "step" in df:
        change = _changes(df["step"].to_numpy())
        if change.size or by == "step":
            starts, by_step = change, True
    setpoint = None
    if not by_step and n and by in (None, "control"):
        col = "control_v" if "control_v" in df else "control_a" if "control_a" in df else None
        if col is not None:
            setpoint = df[col].to_numpy(dtype=float)
            starts = _setpoint_steps(setpoint, tolerance_v)
    if n and "cycle" in df and (by == "cycle" or (by is None and not by_step)):
        cycles = _changes(df["cycle"].to_numpy())
        if setpoint is not None and starts.size and cycles.size:
            # EC-Lab's exported "cycle number" moves one point after the set-point of a
            # loop's new hold: the same boundary, not a one-point segment of its own
            # (review readers-F2, ca.issue_149.mpt: segments of 20, 1, 19, 1, ... points).
            # A sweep's set-point moves at every point: its cycle boundaries stay.
            lag = np.isin(cycles - 1, starts) & (
                np.abs(setpoint[cycles] - setpoint[cycles - 1]) <= tolerance_v)
            cycles = cycles[~lag]
        if by is None and "ox/red" in df and cycles.size:
            cycles = cycles[~_sign_alternance(df["ox/red"].to_numpy(), cycles)]
        starts = cycles if starts is None else np.union1d(starts, cycles)
    if starts is None or not len(starts):
        return [(0, n)]
    edges = [0, *starts.tolist(), n]
    return list(itertools.pairwise(edges))



def _sign_alternance(ox_red: np.ndarray, cycles: np.ndarray) -> np.ndarray:
    """Which ``cycles`` boundaries are EC-Lab counting the current's sign, not a step.

    Under the cycle definition "Charge/Discharge alternance" EC-Lab's exported ``cycle
    number`` also moves where the current turns from reduction to oxidation (``ox/red`` 0
    -> 1) within one hold. Review readers2 (cheminfo/biologic-converter test.mpt, EC-Lab
    11.32: one 75 min chronoamperometry at -0.4 V whose current crosses zero): 328 such
    moves had split the .mpt into 329 "holds" of 2-6 points, the same record's .mpr into
    one. A loop's new pass leaves ``ox/red`` as it was (ca.issue_149.mpt) and stays a
    boundary; a step with a new set-point is found from the set-point or ``step`` anyway.
    """
    return ox_red[cycles] != ox_red[cycles - 1]


def _changes(values: np.ndarray) -> np.ndarray:
    """Indexes where ``values`` differs from the value before."""
    return np.flatnonzero(values[1:] != values[:-1]) + 1


_RAMP_MIN_STEPS = 5  # equal same-sign set-point steps in a row that make a sweep
_HOLD_FACTOR = 10  # a run this many times longer than the ramp's steps is a hold after it


def _setpoint_steps(v: np.ndarray, tolerance: float) -> np.ndarray:
    """Start indexes of the steps of a set-point record (see :meth:`Measurement.segments`).

    Jumps larger than ``tolerance`` split the record, except inside a ramp: a chain of at
    least ``_RAMP_MIN_STEPS`` jumps of the same sign and similar size (within a factor 2)
    is one sweep; a long run after a ramp (a hold at its end) starts a segment of its own.
    """
    jumps = np.flatnonzero(np.abs(np.diff(v)) > tolerance) + 1
    if jumps.size == 0:
        return jumps
    d = v[jumps] - v[jumps - 1]
    runs = np.diff(np.r_[jumps, len(v)])  # length of the run each jump starts
    ratio = np.abs(d[1:]) / np.maximum(np.abs(d[:-1]), 1e-300)
    linked = (np.sign(d[1:]) == np.sign(d[:-1])) & (ratio > 0.5) & (ratio < 2.0)
    chain = np.r_[0, np.cumsum(~linked)]
    size = np.bincount(chain)
    first = np.r_[True, ~linked]
    ramp = size[chain] >= _RAMP_MIN_STEPS
    total = np.bincount(chain, weights=runs)
    # a ramp starts a segment after a hold (a run much longer than its steps) or another
    # ramp (a reversal), not after a step of its own length
    before = np.r_[jumps[0], runs[:-1]]
    after_ramp = np.r_[False, ramp[:-1]]
    short = before < _HOLD_FACTOR * total[chain] / size[chain]
    keep = ~(ramp & ~first) & ~(ramp & first & short & ~after_ramp)
    last = np.r_[~linked, True]
    # mean run of each chain without its last run, compared with that last run
    ends = np.flatnonzero(last)
    inner = (total[chain[ends]] - runs[ends]) / np.maximum(size[chain[ends]] - 1, 1)
    hold = (size[chain[ends]] >= _RAMP_MIN_STEPS) & (runs[ends] >= _HOLD_FACTOR *
                                                       np.maximum(inner, 1.0))
    keep[ends[hold]] = True
    return jumps[keep]

"""sigma_e at the operating temperature from measurements at too few temperatures to fit an
Arrhenius line: the bounds its rise with temperature gives.

Electronic conduction in these electrolytes is thermally activated (Ea > 0; the paper
reports sigma_e rising with temperature [P], METHODS.md section 2). So a 95 % interval
``lo .. hi`` measured at T says at the operating temperature T_op
(:func:`sescreen.criteria.carried_to`):

* T below T_op: sigma_e(T_op) > lo, a lower bound only (it can fail, never pass);
* T above T_op: sigma_e(T_op) < hi, an upper bound only (it can pass, never fail);
* T within :data:`~sescreen.constants.SAME_TEMPERATURE_K` of T_op: the interval itself.

The lower bound comes from the measurements nearest below T_op (or at it) that bound it from
below, the upper one from those nearest above (or at it) that bound it from above: one
statement per side, so each end errs at most as often as one interval's end does (an upper
bound at T_op says nothing below, so the next value below is asked). Several values at that
temperature (two labs, a hold repeated) are all evidence: the envelope of their intervals is
taken, never the first row (an independent review: a verdict that changed with the order of
the rows). Ends that contradict each other (a lower bound above an upper one) leave the
whole range they span.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sescreen.constants import SAME_TEMPERATURE_K
from sescreen.criteria import carried_to

__all__ = ["Bracket", "bracket"]


@dataclass(frozen=True)
class Bracket:
    """sigma_e at the operating temperature from the measurements nearest it (S/cm)."""

    sigma: float  #: the value nearest the operating temperature (median of ties)
    lo: float  #: 0 when nothing at or below the operating temperature bounds it
    hi: float  #: inf when nothing at or above bounds it
    nearest: int  #: index of the measurement nearest the operating temperature
    below_k: float | None  #: temperature of the lower bound's measurements, K
    above_k: float | None  #: temperature of the upper bound's measurements, K
    stated: bool  #: an uncertainty is behind the bounds (else a plain point value)
    warnings: tuple[str, ...]


def _group(temps: np.ndarray, pick: float) -> np.ndarray:
    """Indices of the measurements within the same-temperature tolerance of ``pick``."""
    return np.flatnonzero(np.abs(temps - pick) <= SAME_TEMPERATURE_K)


def bracket(temps_k, sigmas, intervals, operating_k: float) -> Bracket:
    """The bounds of sigma_e at ``operating_k`` (K) from measurements at ``temps_k``.

    Parameters
    ----------
    temps_k, sigmas : array-like
        Temperature (K) and point value (S/cm) of every measurement.
    intervals : list of (float, float) or None
        Each one's 95 % interval (S/cm; ``lo = 0`` for an upper bound only), None for a
        value without an uncertainty (its point value is then both ends).
    operating_k : float
        The temperature judged, K.
    """
    temps = np.asarray(temps_k, dtype=float)
    sig = np.asarray(sigmas, dtype=float)
    stated = np.array([iv is not None for iv in intervals])
    ivs = [(float(s), float(s)) if iv is None else (float(iv[0]), float(iv[1]))
           for s, iv in zip(sig, intervals, strict=True)]
    nearest = int(np.argmin(np.abs(temps - operating_k)))
    ties = _group(temps, float(temps[nearest]))
    warns = []
    if ties.size > 1:
        warns.append(f"{ties.size} values at {temps[nearest] - 273.15:.0f} C: the envelope "
                     "of their intervals is judged")
    carried = [carried_to(*ivs[j], temps[j], operating_k) for j in range(temps.size)]

    def side(candidates: np.ndarray, end: int) -> tuple[float, float | None, list[int]]:
        """The end (0 lower, 1 upper) from the nearest group of ``candidates`` that bounds
        that side (a bound's lower end 0 says nothing below: the next group is asked);
        the lower side is searched downwards from the operating temperature, the upper
        one upwards."""
        picks = np.unique(temps[candidates])
        for pick in (picks[::-1] if end == 0 else picks):
            group = [j for j in _group(temps, float(pick)) if candidates[j]]
            ends = [carried[j][end] for j in group]
            value = min(ends) if end == 0 else max(ends)
            if (value > 0) if end == 0 else math.isfinite(value):
                return value, float(pick), group
        return (0.0 if end == 0 else math.inf), None, []

    lo, below_k, low_group = side(temps <= operating_k + SAME_TEMPERATURE_K, 0)
    hi, above_k, high_group = side(temps >= operating_k - SAME_TEMPERATURE_K, 1)
    used = sorted(set(low_group + high_group)) or [nearest]
    sigma = float(np.median(sig[ties]))
    if lo > hi:
        # the values below and above contradict a sigma_e rising with temperature (or
        # their errors are understated, or a bound contradicts a value): every end they
        # give at the operating temperature is kept (a review: a bound at 25 C below a
        # value measured at 10 C had passed)
        warns.append(f"the value at {below_k - 273.15:.0f} C bounds sigma_e from below above "
                     f"the upper bound from {above_k - 273.15:.0f} C: they contradict a sigma_e "
                     "rising with temperature (or understate their errors); their whole range "
                     "is judged")
        lo = min(carried[j][0] for j in used)
        hi = max(carried[j][1] for j in used)
    else:
        sigma = min(max(sigma, lo), hi)
    return Bracket(sigma, lo, hi, nearest, below_k, above_k, bool(stated[used].any()),
                   tuple(warns))

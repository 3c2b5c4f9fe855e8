"""What the model fits alone do not put into the interval of I_ss: models that describe the
record as well and disagree, and a remaining decay slower than the trend test can see
(METHODS.md section 6); and when the reported transient falls below a fraction of I_ss.
"""

from __future__ import annotations

import math

from sescreen.constants import Z95
from sescreen.dcpol.candidates import ModelFit
from sescreen.dcpol.judgement import Trend
from sescreen.transients import transient_part

__all__ = ["plausible_rivals", "rising_margin", "slow_tail_margin", "time_to_fraction"]

_SLOW_TAIL = 1.46  # bias of a late-half mean per unit of data slope x hold (t^-1/2 tail)


def time_to_fraction(fit: ModelFit, fraction: float) -> float | None:
    """Hold time at which the fitted transient falls to ``fraction`` of I_ss, s."""
    values, target = fit.values, fraction * abs(fit.i_ss)
    if target == 0:
        return None

    def excess(t):
        return abs(transient_part(fit.model, [t], values)[0]) - target

    lo, hi = 1e-6, 1e3
    if excess(lo) <= 0:
        return 0.0
    while excess(hi) > 0:
        hi *= 10
        if hi > 1e12:
            return None
    for _ in range(80):  # bisection in log time
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if excess(mid) > 0 else (lo, mid)
    return hi


def plausible_rivals(fits: dict[str, ModelFit], why: dict[str, str | None],
               c_late: dict[str, float], chosen: str) -> list[str]:
    """Identified candidates that describe the record nearly as well as the chosen one
    (reduced chi-square of the last half within a factor 2, or 4, and of the whole record
    within max(2x, +2)) and whose own 95 % Wald interval stays above 0."""
    limit = max(2.0 * c_late[chosen], 4.0)
    whole = fits[chosen].redchi
    out = []
    for n, f in fits.items():
        se = f.i_ss_stderr
        if (n != chosen and why[n] is None and c_late[n] <= limit and se is not None
                and f.redchi <= max(2.0 * whole, whole + 2.0)
                and f.i_ss - Z95 * se * math.sqrt(c_late[n]) > 0):
            out.append(n)
    return out


def slow_tail_margin(trend: Trend, lo: float, hi: float, mid: float, t_hold: float,
                      tail_hi: float, *, extrapolated: bool,
                      model_trusted: bool) -> tuple[float, float]:
    """Room for a remaining decay the trend test cannot see (METHODS.md section 6).

    A tail that falls as t^-1/2 and gives the data of the last half of the hold the
    straight-line slope beta leaves 1.22 |beta| T above I_ss at the end, and biases a mean
    over the last half by 1.46 |beta| T (the line and the mean of t^-1/2 on log-spaced bins
    of [T/2, T]). Where the fitted transient is over (``extrapolated`` False) and the model
    does not describe the late record (``model_trusted`` False: a plateau mean, or a late
    misfit), the data's own slope is used: a fitted transient that still decays there has
    absorbed part of the tail. Otherwise the model's decay and its rivals' (see
    :func:`plausible_rivals`) are already in the interval, and the residual slope, what no model
    explains, is used. The
    97.5 % bound of a falling slope widens the interval below; for an extrapolation, a
    rising one above (never past the tail level).
    """
    slope = trend.slope if (extrapolated or model_trusted) else trend.data_slope
    falling = max(0.0, -slope + Z95 * trend.stderr)
    lo = min(lo, mid - _SLOW_TAIL * falling * t_hold)
    if extrapolated:
        rising = max(0.0, trend.slope + Z95 * trend.stderr)
        hi = max(hi, min(mid + _SLOW_TAIL * rising * t_hold, tail_hi))
    return lo, hi



def rising_margin(trend: Trend, hi: float, tail_hi: float, t_hold: float) -> float:
    """The upper bound of I_ss of a record whose current still rises at the end.

    A rise is a leak or a reaction on top of a settled current (the tail level then bounds
    I_ss from above), or the current itself still approaching its steady state from below:
    a cell warming to its temperature, a polarization relaxing. The record cannot tell
    them apart, so the bound is the tail level plus what an approach as slow as the t^-1/2
    tail of :func:`slow_tail_margin`, mirrored, still has to rise: :data:`_SLOW_TAIL` times
    the 97.5 % bound of the data's own slope in the last half times the hold. (A third
    break-it review: a cell 4 K cold at the step that ended 7 % below its steady state was
    read as a leak, PASS at 1.03x the threshold; warm-ups covered 50 %, now 100 %.)
    That margin bounds only a residual rise on a level that does not climb itself; a
    climbing one (:func:`sescreen.dcpol.judgement.climbing`) has no upper bound.
    """
    rising = max(trend.data_slope, 0.0) + Z95 * trend.stderr
    return max(hi, tail_hi + _SLOW_TAIL * rising * t_hold)

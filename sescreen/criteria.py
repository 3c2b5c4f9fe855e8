"""The screening criterion: how low must the electronic conductivity be for dendrite-free
plating at a target current density? The piece design workflows import.

>>> from sescreen.criteria import verdict, judge, SIGMA_E_MAX_1MA
>>> verdict(3e-11, interval=(2e-11, 5e-11)).outcome_1ma          # doctest: +SKIP
'pass'
>>> judge(df["sigma_e"], lo=df["lo"], hi=df["hi"])   # vectorized: 1e6 rows < 1 s # doctest: +SKIP

Han et al. 2019 [P]: dendrite-free plating needs sigma_e < 1e-10 S/cm at 1 mA/cm^2 and
< 1e-12 S/cm at 10 mA/cm^2 (room temperature). The thresholds and their sources
(``source=``: ``han2019`` stated, ``construction`` the paper's two-point line, ``fit`` the
censored Bayesian regression over the curated dataset, a distribution) live in
:mod:`sescreen.thresholds` and are re-exported here (:func:`max_sigma_e`,
:func:`predicted_ccd`, :class:`Threshold`, :data:`SIGMA_E_MAX_1MA`, ...).

The rule (METHODS section 6; it can never pass a value its own interval does not support)
-----------------------------------------------------------------------------------------
Every verdict judges the 95 % interval ``lo .. hi`` of sigma_e (S/cm) against the threshold:

- ``"pass"`` iff ``hi`` < threshold (the whole interval is below it);
- ``"fail"`` iff ``lo`` > threshold (the whole interval is above it);
- ``"inconclusive"`` otherwise, with a ``reason``.

A one-sided result is an interval with an open end. ``lo = 0`` (or ``upper_bound_only``)
states only "sigma_e < hi": it can pass, never fail. ``hi = inf`` states only
"sigma_e > lo": it can fail, never pass.

Where the interval comes from: given directly (``interval=(lo, hi)``, or ``lo=``/``hi=``
arrays for :func:`judge`; a DC fit's ``sigma_e_interval`` through :func:`fit_inputs`), or
from a standard error under a log-normal error: ``10**(log10 v +- 1.96 sd_log10)`` with
``sd_log10 = stderr / (v ln 10)``, i.e. ``v exp(+-1.96 stderr / v)``. A point value with no
uncertainty is the interval ``v .. v``: it passes or fails as a plain comparison.

The threshold's own uncertainty (``source="fit"``, whose thresholds are posterior
distributions, :mod:`sescreen.thresholds`): the rule is applied to the margin
log10 T - log10 sigma_e with both uncertain. PASS iff P(pass) = P(sigma_e < T) > 0.975, FAIL
iff P(pass) < 0.025, computed from T's actual (skewed) draws and the two-piece normal of
sigma_e through its interval; this is "the 95 % interval of the margin lies above (below)
zero", and reduces to the plain rule when T is exact. A one-sided result is judged at its
known end (an upper bound can pass when P(T > hi) > 0.975, never fail; a lower bound can
fail when P(T > lo) < 0.025, never pass). The decision interval reported is the sigma_e
interval equivalent to the margin's 95 % interval (median threshold minus the margin's
quantiles). A threshold known only by an interval (:func:`decide` with
``threshold_interval``) is combined **in quadrature**: ``log10 v + sqrt((log10 hi -
log10 v)^2 + h_lo^2)`` at the top, with ``h_lo = log10 T - log10 T_lo``, and ``log10 v -
sqrt((log10 v - log10 lo)^2 + h_hi^2)`` at the bottom (linearly where there is no finite
point value). The stated (``han2019``) and constructed thresholds are exact at 1 and
10 mA/cm^2; at any other current density only the range their two values imply decides
(:attr:`Threshold.bracket`).

Secondary figures, per target:

- the margin in decades, log10 threshold - log10 sigma_e (positive = below). For a
  one-sided result it is taken from the bound that is known (``hi`` for an upper bound,
  ``lo`` for a lower one), so a fit that collapsed to I_ss ~ 0 does not show a margin of
  +10 decades;
- P(pass), the probability that sigma_e is below the threshold, from the interval actually
  reported: a two-piece log-normal through ``lo``, the point value and ``hi`` (each side's sd
  is its half-width / 1.96), against the threshold's draws when it has them (else combined
  in quadrature with the threshold interval's sd on the side that matters), so P(pass) >
  0.975 exactly when the rule says pass. None (NaN in :func:`judge`) for a one-sided result,
  and without any uncertainty at all.

The thresholds are stated at room temperature. A sigma_e measured at another temperature
(``temperature_k``, more than :data:`SAME_TEMPERATURE_K` away) is judged there by what its
rise with temperature alone supports (electronic conduction in these electrolytes is
thermally activated, Ea > 0; the paper reports sigma_e rising with T [P], METHODS.md
section 2), :func:`carried_to`: one measured below room temperature is only a lower bound
at it (it can fail, never pass), one measured above only an upper bound (it can pass, never
fail), with a warning (extrapolate it with :mod:`sescreen.arrhenius` for both bounds).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from sescreen.constants import SAME_TEMPERATURE_K
from sescreen.errors import InputError
from sescreen.thresholds import (
    SIGMA_E_MAX_1MA,
    SIGMA_E_MAX_10MA,
    SOURCES,
    Threshold,
    max_sigma_e,
    predicted_ccd,
)
from sescreen.thresholds import Z95 as _Z95

__all__ = [
    "OUTCOMES",
    "SAME_TEMPERATURE_K",
    "SIGMA_E_MAX_1MA",
    "SIGMA_E_MAX_10MA",
    "SOURCES",
    "Threshold",
    "Verdict",
    "carried_to",
    "decide",
    "fit_inputs",
    "interval_from_stderr",
    "judge",
    "judge_at",
    "max_sigma_e",
    "predicted_ccd",
    "verdict",
]

#: The three outcomes, in the order of their codes (0, 1, 2) and of ranking (best first).
OUTCOMES = ("pass", "fail", "inconclusive")
_RANK_ORDER = {"pass": 0, "inconclusive": 1, "fail": 2}
_ROOM_K = 298.15


def carried_to(lo: float, hi: float, measured_k: float,
               judged_k: float = _ROOM_K) -> tuple[float, float]:
    """The 95 % interval (S/cm) that a sigma_e measured at ``measured_k`` (interval
    ``lo .. hi``) supports at ``judged_k`` (K) from its rise with temperature alone
    (Ea > 0): measured below, only ``lo .. inf``; above, only ``0 .. hi``; within
    :data:`SAME_TEMPERATURE_K`, the interval itself.

    A sigma_e measured at 10 C and judged at 25 C as if it were there passed materials that
    fail (an independent review: truth 1.3x the threshold, PASS, exit code 0).
    """
    if measured_k < judged_k - SAME_TEMPERATURE_K:
        return float(lo), math.inf
    if measured_k > judged_k + SAME_TEMPERATURE_K:
        return 0.0, float(hi)
    return float(lo), float(hi)


def _temperature_warning(temperature_k: float | None, judged_k: float = _ROOM_K) -> list[str]:
    """The warning of a sigma_e judged away from where it was measured (:func:`carried_to`)."""
    if temperature_k is None or abs(temperature_k - judged_k) <= SAME_TEMPERATURE_K:
        return []
    below = temperature_k < judged_k
    return [f"sigma_e was measured at {temperature_k - 273.15:.0f} C, "
            f"{'below' if below else 'above'} the {judged_k - 273.15:.0f} C the thresholds "
            "are stated at: since it rises with temperature, it is only "
            + ("a lower bound there (it can fail, never pass)" if below
               else "an upper bound there (it can pass, never fail)")
            + "; extrapolate it with sescreen arrhenius for both bounds"]


# ---------------------------------------------------------------------------------------
# The rule, vectorized
# ---------------------------------------------------------------------------------------
def interval_from_stderr(sigma_e, stderr=None, sd_log10=None):
    """95 % interval of sigma_e under a log-normal error, S/cm.

    ``lo, hi = 10**(log10 sigma_e -+ 1.96 sd_log10)`` with ``sd_log10 = stderr / (sigma_e
    ln 10)`` (or given directly); without an uncertainty the interval is ``sigma_e ..
    sigma_e``. Arrays broadcast; returns ``(lo, hi)`` as arrays (floats for scalars).
    """
    sig = np.asarray(sigma_e, dtype=float)
    sd = _sd_log10(sig, stderr, sd_log10)
    if sd is None:
        lo = hi = sig
    else:
        with np.errstate(over="ignore", invalid="ignore"):
            k = 10.0 ** (_Z95 * sd)
        lo, hi = sig / k, sig * k
    if np.ndim(lo) == 0:
        return float(lo), float(hi)
    return lo, hi


def _sd_log10(sig, stderr, sd_log10):
    if sd_log10 is not None:
        sd = np.broadcast_to(np.asarray(sd_log10, dtype=float), np.shape(sig))
    elif stderr is not None:
        with np.errstate(divide="ignore", invalid="ignore"):
            sd = np.asarray(stderr, dtype=float) / (sig * math.log(10.0))
    else:
        return None
    if np.any(sd < 0):
        raise InputError("uncertainties must not be negative")
    return sd


def _log10(x):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log10(x)


def decide(lo, hi, threshold, *, sigma_e=None, threshold_interval=None) -> np.ndarray:
    """The three-outcome rule for arrays: codes 0 pass, 1 fail, 2 inconclusive, -1 unknown
    (NaN input); ``OUTCOMES[code]`` names them.

    Parameters
    ----------
    lo, hi : array-like
        The 95 % interval of sigma_e, S/cm; ``lo = 0`` for an upper bound only, ``hi = inf``
        for a lower bound only.
    threshold : float or Threshold
        The threshold, S/cm; a :class:`Threshold` with posterior draws (``max_sigma_e(...,
        source="fit")``) is judged against its distribution (module docstring).
    sigma_e : array-like, optional
        The point values, S/cm (needed with an uncertain threshold).
    threshold_interval : (float, float), optional
        The threshold's own 95 % interval, S/cm, for a plain number: combined in quadrature
        (module docstring).
    """
    if isinstance(threshold, Threshold) and threshold_interval is None:
        thr = threshold
    else:
        thr = Threshold(float(threshold), math.nan, "", "", threshold_interval)
    shape = np.broadcast(np.asarray(lo), np.asarray(hi), np.asarray(
        math.nan if sigma_e is None else sigma_e)).shape
    lo_a, hi_a = (np.broadcast_to(np.asarray(x, dtype=float), shape).reshape(-1)
                  for x in (lo, hi))
    v = np.broadcast_to(np.asarray(math.nan if sigma_e is None else sigma_e, dtype=float),
                        shape).reshape(-1)
    return _decide(v, lo_a, hi_a, thr)[0].reshape(shape)


def _logs(sig, lo, hi):
    """log10 of the point (kept inside its interval: a profile interval need not be centred
    on it), of lo and of hi."""
    llo, lhi, lv = _log10(lo), _log10(hi), _log10(sig)
    with np.errstate(invalid="ignore"):
        lv = np.minimum(np.maximum(lv, llo), lhi)
    return lv, llo, lhi


def _decide(sig, lo, hi, thr: Threshold, stated=True, logs=None, *,
            with_interval: bool = False):
    """Codes, margins (decades), P(pass) and the decision interval in log10 (after the
    threshold's uncertainty; NaN unless ``with_interval`` for a threshold with draws), all
    arrays."""
    if thr.log10_draws is not None:
        return _decide_draws(sig, lo, hi, thr, logs, with_interval)
    from scipy.special import ndtr

    lthr = math.log10(thr.sigma_e_max)
    h_tl, h_tu = thr.half_widths
    lv, llo, lhi = _logs(sig, lo, hi) if logs is None else logs
    centred = np.isfinite(lv)
    with np.errstate(invalid="ignore"):
        if h_tl or h_tu:
            top = np.where(centred, lv + np.hypot(lhi - lv, h_tl), lhi + h_tl)
            bottom = np.where(centred, lv - np.hypot(lv - llo, h_tu), llo - h_tu)
        else:
            top, bottom = lhi, llo
        # a threshold known only to lie in a range (Threshold.bracket): pass below all of
        # it, fail above all of it
        l_pass, l_fail = (lthr, lthr) if thr.bracket is None else (
            _log10(thr.bracket[0]), _log10(thr.bracket[1]))
        passes = top < l_pass
        fails = bottom > l_fail
    codes = np.where(passes, 0, np.where(fails, 1, 2)).astype(np.int8)
    unknown = np.isnan(llo) | np.isnan(lhi)
    codes[unknown] = -1
    margin = _margin(lthr, lv, llo, lhi, unknown)
    # P(pass): two-piece normal through lo, the point and hi, in log10
    m = lthr - lv
    with np.errstate(invalid="ignore", divide="ignore"):
        above = m > 0
        half = np.where(above, lhi - lv, lv - llo)
        if h_tl or h_tu:
            half = np.hypot(half, np.where(above, h_tl, h_tu))
        p = ndtr(m / (half / _Z95))
        p[half == 0] = above[half == 0]
    known_sd = np.asarray(stated) | bool(h_tl or h_tu)
    p[~(known_sd & centred & np.isfinite(llo) & np.isfinite(lhi) & ~unknown)] = np.nan
    if thr.bracket is not None:  # no distribution of the threshold inside its range
        p[:] = np.nan
    return codes, margin, p, (bottom, top)


def _margin(lthr, lv, llo, lhi, unknown):
    """log10 threshold - log10 sigma_e, from the known end of a one-sided interval."""
    upper_only = np.isneginf(llo) & np.isfinite(lhi)
    lower_only = np.isposinf(lhi) & np.isfinite(llo)
    ref = np.where(upper_only, lhi, np.where(lower_only, llo, lv))
    return np.where(unknown, np.nan, lthr - ref)


def _decide_draws(sig, lo, hi, thr: Threshold, logs, with_interval: bool):
    """:func:`_decide` against a threshold distribution (module docstring): PASS iff
    P(pass) > 0.975, FAIL iff P(pass) < 0.025; a one-sided interval judged at its end."""
    lthr = math.log10(thr.sigma_e_max)
    lv, llo, lhi = _logs(sig, lo, hi) if logs is None else logs
    unknown = np.isnan(llo) | np.isnan(lhi)
    upper_only = np.isneginf(llo) & np.isfinite(lhi)
    lower_only = np.isposinf(lhi) & np.isfinite(llo)
    centred = np.isfinite(lv) & np.isfinite(llo) & np.isfinite(lhi)
    # the distribution judged: the two-piece normal, or the known end as a point
    at = np.where(upper_only, lhi, np.where(lower_only, llo, lv))
    judged = centred | upper_only | lower_only
    a_lv = np.where(judged, np.where(centred, lv, at), 0.0)
    a_lo = np.where(centred, llo, a_lv)
    a_hi = np.where(centred, lhi, a_lv)
    p_dec = thr.pass_probability(a_lv, a_lo, a_hi)
    passes = judged & ~lower_only & (p_dec > 0.975)
    fails = judged & ~upper_only & (p_dec < 0.025)
    codes = np.where(passes, 0, np.where(fails, 1, 2)).astype(np.int8)
    codes[unknown] = -1
    margin = _margin(lthr, lv, llo, lhi, unknown)
    p = np.where(centred & ~unknown, p_dec, np.nan)
    bottom = np.full(np.shape(lv), np.nan)
    top = np.full(np.shape(lv), np.nan)
    if with_interval:
        for k in np.flatnonzero(judged & ~unknown):
            args = (a_lv[k:k + 1], a_lo[k:k + 1], a_hi[k:k + 1])
            top[k] = -math.inf if lower_only[k] else lthr - _margin_quantile(thr, args, 0.975)
            bottom[k] = -math.inf if upper_only[k] else lthr - _margin_quantile(thr, args,
                                                                               0.025)
        top[lower_only] = math.inf
    return codes, margin, p, (bottom, top)


def _margin_quantile(thr: Threshold, args, p_target: float) -> float:
    """m with P(log10 T - log10 sigma_e > m) = p_target (bisection; P falls with m)."""
    def excess(m):
        return float(thr.pass_probability(*args, shift=m)[0]) - p_target

    lo, hi = -40.0, 40.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if excess(mid) > 0:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def _intervals(sig, stderr, sd_log10, lo, hi, upper_bound_only):
    """The interval judged per row: given ends where given (NaN falls back), else from the
    standard error, else the point. Also whether an uncertainty was stated."""
    sd = _sd_log10(sig, stderr, sd_log10)
    if sd is None:
        lo_s = hi_s = sig
        stated = np.zeros(sig.shape, dtype=bool)
    else:  # a NaN uncertainty is no uncertainty: that row is judged on its point value;
        # an infinite one bounds nothing (0 .. inf), it is not "no uncertainty"
        stated = ~np.isnan(sd)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            k = np.where(stated, 10.0 ** (_Z95 * np.where(stated, sd, 0.0)), 1.0)
            lo_s = np.where(np.isinf(k), 0.0, sig / k)
            hi_s = np.where(np.isinf(k), np.inf, sig * k)
    if lo is None and hi is None:
        lo_a, hi_a = lo_s, hi_s
    else:
        lo_g = (np.zeros(sig.shape) if lo is None
                else np.broadcast_to(np.asarray(lo, dtype=float), sig.shape))
        hi_g = (np.full(sig.shape, np.inf) if hi is None
                else np.broadcast_to(np.asarray(hi, dtype=float), sig.shape))
        given_lo, given_hi = ~np.isnan(lo_g), ~np.isnan(hi_g)
        # one end given, the other unknown (NaN) and no uncertainty to fill it: that end
        # is open, never the point value (an interval (lo, NaN) is "sigma_e > lo")
        lo_a = np.where(given_lo, lo_g, np.where(given_hi & ~stated, 0.0, lo_s))
        hi_a = np.where(given_hi, hi_g, np.where(given_lo & ~stated, np.inf, hi_s))
        stated = stated | given_lo | given_hi
    if upper_bound_only is not None:
        ub = np.broadcast_to(np.asarray(upper_bound_only, dtype=bool), sig.shape)
        lo_a = np.where(ub, 0.0, lo_a)
    with np.errstate(invalid="ignore"):
        if np.any(lo_a < 0) or np.any(lo_a > hi_a):
            raise InputError("an interval of sigma_e needs 0 <= lo <= hi (S/cm)")
        if np.any((sig <= 0) & ~((lo_a == 0) & (hi_a > 0))):
            raise InputError("sigma_e must be positive (S/cm); 0 only with an upper bound "
                             "(lo = 0 and hi > 0)")
    return lo_a, hi_a, stated


def _sig_array(sigma_e):
    return np.atleast_1d(np.asarray(sigma_e, dtype=float))


def judge(sigma_e, *, stderr=None, sd_log10=None, lo=None, hi=None, upper_bound_only=None,
          source: str = "han2019"):
    """Vectorized verdicts for many candidates (numpy arrays or pandas Series).

    Parameters
    ----------
    sigma_e : array-like
        Electronic conductivities (point values), S/cm (> 0, or 0 with ``lo = 0``; NaN gives
        NaN results).
    stderr : array-like, optional
        Their standard errors, S/cm: the interval is log-normal (module docstring); a NaN
        standard error leaves that row a point value.
    sd_log10 : array-like or float, optional
        Or the uncertainty as the standard deviation of log10 sigma_e.
    lo, hi : array-like, optional
        The 95 % interval directly, S/cm (e.g. a DC fit's ``sigma_e_interval``), taking
        precedence where not NaN. ``lo = 0`` is an upper bound only, ``hi = inf`` a lower
        bound only; giving ``hi`` alone states "sigma_e < hi", ``lo`` alone "sigma_e > lo".
    upper_bound_only : array-like of bool, optional
        Rows whose result supports only an upper bound (their ``lo`` becomes 0).
    source : {"han2019", "construction", "fit"}

    Returns
    -------
    pandas.DataFrame
        ``outcome_1ma``, ``outcome_10ma`` (categorical: pass, fail, inconclusive; NaN for
        NaN input), ``passes_1ma``, ``passes_10ma`` (outcome == pass),
        ``margin_1ma_decades``, ``margin_10ma_decades``, ``p_pass_1ma``, ``p_pass_10ma``
        (NaN without an uncertainty or for a one-sided interval), ``sigma_e_lo``,
        ``sigma_e_hi`` (the interval judged), indexed like the input when it is a Series.
    """
    import pandas as pd

    index = sigma_e.index if isinstance(sigma_e, pd.Series) else None
    sig = np.asarray(sigma_e, dtype=float)
    lo_a, hi_a, stated = _intervals(sig, stderr, sd_log10, lo, hi, upper_bound_only)
    cols: dict[str, Any] = {}
    res = {}
    logs = _logs(sig, lo_a, hi_a)
    for tag, ccd in (("1ma", 1.0), ("10ma", 10.0)):
        res[tag] = _decide(sig, lo_a, hi_a, max_sigma_e(ccd, source=source), stated, logs)
    for tag in res:
        cols[f"outcome_{tag}"] = pd.Categorical.from_codes(res[tag][0], categories=OUTCOMES)
    for tag in res:
        cols[f"passes_{tag}"] = res[tag][0] == 0
    for tag in res:
        cols[f"margin_{tag}_decades"] = res[tag][1]
    for tag in res:
        cols[f"p_pass_{tag}"] = res[tag][2]
    cols["sigma_e_lo"], cols["sigma_e_hi"] = lo_a, hi_a
    return pd.DataFrame(cols, index=index)


# ---------------------------------------------------------------------------------------
# One value: the outcome with its reason
# ---------------------------------------------------------------------------------------
def _duration(seconds: float) -> str:
    s = float(seconds)
    if s < 120:
        return f"{s:.0f} s"
    if s < 7200:
        return f"{s / 60:.0f} min"
    if s < 172800:
        return f"{s / 3600:.2g} h"
    return f"{s / 86400:.2g} days"


def _settle_hint(steady_state_reached, t_steady_estimate, t_hold) -> tuple[str, str]:
    """(long, short) text on how long a hold would settle an unsettled record.

    ``t_steady_estimate`` is when the fitted decay falls to 1 % of I_ss: a lower bound up to
    its own scatter, since a record stopped early fits the fastest decay it is consistent
    with; a slower one the record cannot rule out needs longer. Two-exponential holds (tau
    1-10 h) stopped at 10-50 % of their settling time: the true one median 1.07-1.09x it,
    up to 5x, below 0.9x it in 3 %; with a slow small third term, median 2.7x, up to 47x
    (``tests/benchmarks/settling_time.md``).
    """
    if steady_state_reached is None or steady_state_reached:
        return "", ""
    if t_steady_estimate is not None and math.isfinite(t_steady_estimate) and (
            t_hold is None or t_steady_estimate > t_hold):
        now = f" (this one: {_duration(t_hold)})" if t_hold else ""
        return (f"; the hold had not settled: a hold of at least about "
                f"{_duration(t_steady_estimate)}{now} would settle it and may decide it "
                "(the fitted decay's time; a slower one needs longer)",
                f"; hold >= ~{_duration(t_steady_estimate)}")
    return ("; the hold is not at steady state (see the warnings) and no settling time "
            "could be estimated", "; not settled")


def _near(x: float, ref: float) -> str:
    """x with 3 significant digits, or more (up to 6) until it reads differently from ref."""
    for n in range(3, 7):
        text = f"{x:.{n}g}"
        if x == ref or text != f"{ref:.{n}g}":
            return text
    return text


def _explain(code: int, lo: float, hi: float, sig: float, stated: bool, thr: Threshold,
             decision: tuple[float, float], settle: tuple[str, str]) -> tuple[str, str]:
    """(reason, short text) for one outcome."""
    if code < 0:
        return "sigma_e and its interval are unknown (NaN)", "unknown"
    ref = thr.sigma_e_max
    lo_t, hi_t, sig_t = _near(lo, ref), _near(hi, ref), _near(sig, ref)
    t = f"the {thr.sigma_e_max:.3g} S/cm threshold"
    if thr.bracket is not None:
        return _explain_bracket(code, lo, hi, sig, stated, thr, settle)
    widened = ""
    if thr.interval is not None:
        bottom, top = decision
        how = ("its posterior distribution" if thr.log10_draws is not None
               else "in quadrature")
        widened = (f", widened by the threshold's own uncertainty (95 %: "
                   f"{thr.interval[0]:.2g}..{thr.interval[1]:.2g} S/cm, {how}) to "
                   f"{10 ** bottom:.2g}..{10 ** top:.2g} S/cm,")
    upper_only = lo <= 0 and math.isfinite(hi)
    lower_only = math.isinf(hi) and lo > 0
    point = not stated and lo == hi
    if lo <= 0 and math.isinf(hi):
        what, short = "the record bounds sigma_e on neither side (0..inf)", "no bound"
        return what + settle[0], short + settle[1]
    if upper_only:
        subject = f"the upper bound sigma_e < {hi_t} S/cm{widened}"
    elif lower_only:
        subject = f"the lower bound sigma_e > {lo_t} S/cm{widened}"
    elif point:
        subject = f"sigma_e = {sig_t} S/cm (no uncertainty given){widened}"
    else:
        subject = f"the 95 % interval {lo_t}..{hi_t} S/cm{widened}"
    if code == 0:
        return f"{subject} is below {t}", "bound below threshold" if upper_only else (
            "interval below threshold")
    if code == 1:
        return f"{subject} is above {t}", "bound above threshold" if lower_only else (
            "interval above threshold")
    if upper_only:
        return (f"only an upper bound sigma_e < {hi_t} S/cm is supported: it can pass, "
                f"never fail, and the bound{widened} is not below {t}" + settle[0],
                "upper bound only" + settle[1])
    if lower_only:
        return (f"only a lower bound sigma_e > {lo_t} S/cm is supported: it can fail, "
                f"never pass, and the bound{widened} is not above {t}" + settle[0],
                "lower bound only" + settle[1])
    if point and not widened:
        return f"sigma_e = {sig_t} S/cm equals {t}", "at the threshold"
    return f"{subject} straddles {t}" + settle[0], "interval straddles threshold" + settle[1]


def _explain_bracket(code: int, lo: float, hi: float, sig: float, stated: bool,
                     thr: Threshold, settle: tuple[str, str]) -> tuple[str, str]:
    """(reason, short text) against a threshold known only to lie in ``thr.bracket``."""
    from sescreen.thresholds import bracket_text

    whose = ("which Han et al. do not state and their values" if thr.source == "han2019"
             else f"where the {thr.source} line reproduces no statement and its values")
    rng = (f"the threshold at {thr.ccd_ma_cm2:g} mA/cm^2, {whose} at 1 and 10 mA/cm^2 bound "
           f"to {bracket_text(thr.bracket)} (the log-log line's {thr.sigma_e_max:.3g} S/cm "
           "does not decide)")
    if lo <= 0 and math.isinf(hi):
        return ("the record bounds sigma_e on neither side (0..inf)" + settle[0],
                "no bound" + settle[1])
    if lo <= 0:
        subject = f"the upper bound sigma_e < {hi:.3g} S/cm"
    elif math.isinf(hi):
        subject = f"the lower bound sigma_e > {lo:.3g} S/cm"
    elif not stated and lo == hi:
        subject = f"sigma_e = {sig:.3g} S/cm (no uncertainty given)"
    else:
        subject = f"the 95 % interval {lo:.3g}..{hi:.3g} S/cm"
    if code == 0:
        return f"{subject} is below {rng}", "below the threshold's range"
    if code == 1:
        return f"{subject} is above {rng}", "above the threshold's range"
    return (f"{subject} is not wholly below or above {rng}" + settle[0],
            "threshold not stated here" + settle[1])


def _one(sigma_e, thr: Threshold, *, stderr, sd_log10, interval, upper_bound_only,
         steady_state_reached, t_steady_estimate, t_hold,
         temperature_k: float | None = None) -> dict[str, Any]:
    sig = float(sigma_e) if sigma_e is not None else math.nan
    lo_g = hi_g = None
    if interval is not None:
        lo_g, hi_g = (float(x) if x is not None else math.nan for x in interval)
        if math.isnan(lo_g) and math.isnan(hi_g):
            lo_g = hi_g = None
    if lo_g is None and not (math.isfinite(sig) and sig > 0):
        raise InputError(f"sigma_e {sigma_e!r} S/cm must be a positive number")
    arr = np.array([sig])
    lo_a, hi_a, stated = _intervals(
        arr, None if stderr is None else np.array([float(stderr)]), sd_log10,
        None if lo_g is None else np.array([lo_g]), None if hi_g is None else np.array([hi_g]),
        np.array([bool(upper_bound_only)]))
    if temperature_k is not None:
        if not (math.isfinite(float(temperature_k)) and float(temperature_k) > 0):
            # NaN compared as neither below nor above room temperature and was judged as
            # measured at it (with a warning calling it "above")
            raise InputError(f"temperature_k {temperature_k!r} must be a positive number of "
                             "kelvin, or None when unknown")
        lo_t, hi_t = carried_to(float(lo_a[0]), float(hi_a[0]), float(temperature_k))
        stated = stated | ((lo_t, hi_t) != (float(lo_a[0]), float(hi_a[0])))
        lo_a, hi_a = np.array([lo_t]), np.array([hi_t])
    codes, margin, p, (bottom, top) = _decide(arr, lo_a, hi_a, thr, stated,
                                              with_interval=True)
    code, lo, hi = int(codes[0]), float(lo_a[0]), float(hi_a[0])
    settle = _settle_hint(steady_state_reached, t_steady_estimate, t_hold) if code == 2 \
        else ("", "")
    reason, short = _explain(code, lo, hi, sig, bool(stated[0]), thr,
                             (float(bottom[0]), float(top[0])), settle)
    return {"outcome": OUTCOMES[code] if code >= 0 else "inconclusive", "reason": reason,
            "short_reason": short, "sigma_e_interval": (lo, hi),
            "margin_decades": float(margin[0]),
            "p_pass": None if np.isnan(p[0]) else float(p[0])}


def fit_inputs(fit) -> dict[str, Any]:
    """The keyword arguments of :func:`verdict` / :func:`judge_at` that a DC-polarization
    result carries: its ``sigma_e_interval``, ``upper_bound_only``, ``steady_state_reached``,
    ``t_steady_estimate`` and ``t_hold`` (a result without an interval falls back to its
    standard error).

    >>> verdict(fit.sigma_e, **fit_inputs(fit))              # doctest: +SKIP
    """
    out: dict[str, Any] = {}
    interval = getattr(fit, "sigma_e_interval", None)
    if interval is not None:  # an end the fit could not give is open (conservative)
        lo, hi = (float(x) for x in interval)
        out["interval"] = (0.0 if math.isnan(lo) else lo, math.inf if math.isnan(hi) else hi)
    else:
        out["stderr"] = getattr(fit, "sigma_e_stderr", None)
    out["upper_bound_only"] = bool(getattr(fit, "upper_bound_only", False))
    for key in ("steady_state_reached", "t_steady_estimate", "t_hold"):
        value = getattr(fit, key, None)
        out[key] = value if key == "steady_state_reached" or value is None else float(value)
    return out


def judge_at(sigma_e_s_cm: float, ccd_ma_cm2: float, *, stderr: float | None = None,
             sd_log10: float | None = None, interval: tuple[float, float] | None = None,
             upper_bound_only: bool = False, steady_state_reached: bool | None = None,
             t_steady_estimate: float | None = None, t_hold: float | None = None,
             temperature_k: float | None = None,
             source: str = "han2019") -> dict[str, Any]:
    """The outcome at one target current density (mA/cm^2).

    Parameters
    ----------
    sigma_e_s_cm : float
        sigma_e, S/cm (may be 0 or None with a one-sided ``interval=(0, hi)``).
    ccd_ma_cm2 : float
        Target current density, mA/cm^2.
    stderr, sd_log10 : float, optional
        Uncertainty of sigma_e (S/cm, or of log10 sigma_e): a log-normal 95 % interval.
    interval : (float, float), optional
        The 95 % interval of sigma_e directly, S/cm; takes precedence. ``(0, hi)`` is an
        upper bound only, ``(lo, inf)`` a lower bound only.
    upper_bound_only : bool
        The result supports only ``sigma_e < hi`` (the interval's ``lo`` becomes 0).
    steady_state_reached, t_steady_estimate, t_hold : optional
        The hold's state (s): an inconclusive reason then says how long a hold would
        settle it. :func:`fit_inputs` gives all of these from a DC fit.
    temperature_k : float, optional
        Where sigma_e was measured, K: away from room temperature it is judged as the
        one-sided bound it gives there (:func:`carried_to`).
    source : {"han2019", "construction", "fit"}

    Returns
    -------
    dict
        ``outcome`` ("pass" | "fail" | "inconclusive"), ``reason``, ``short_reason``,
        ``passes`` (outcome == pass), ``sigma_e_interval`` (lo, hi; S/cm),
        ``margin_decades``, ``p_pass`` (None without an uncertainty, for a one-sided
        interval or against a bracketed threshold), ``threshold`` (S/cm),
        ``threshold_interval``, ``threshold_bracket`` ([lo, hi] S/cm where the threshold is
        known only to lie in a range, :attr:`Threshold.bracket`; else None) and
        ``threshold_label``.
    """
    thr = max_sigma_e(ccd_ma_cm2, source=source)
    res = _one(sigma_e_s_cm, thr, stderr=stderr, sd_log10=sd_log10, interval=interval,
               upper_bound_only=upper_bound_only, steady_state_reached=steady_state_reached,
               t_steady_estimate=t_steady_estimate, t_hold=t_hold,
               temperature_k=temperature_k)
    res.update(passes=res["outcome"] == "pass", threshold=thr.sigma_e_max,
               threshold_interval=thr.interval, threshold_label=thr.label,
               threshold_bracket=None if thr.bracket is None else list(thr.bracket))
    return res


@dataclass(frozen=True)
class Verdict:
    """Judgement of one sigma_e against the 1 and 10 mA/cm^2 thresholds.

    ``outcome_*`` is the rule (module docstring); ``passes_*`` is ``outcome_* == "pass"``.
    """

    sigma_e: float
    sd_log10: float | None
    passes_1ma: bool
    passes_10ma: bool
    margin_1ma_decades: float
    margin_10ma_decades: float
    p_pass_1ma: float | None
    p_pass_10ma: float | None
    threshold_1ma: float
    threshold_10ma: float
    source: str
    warnings: tuple[str, ...] = ()
    outcome_1ma: str = ""  #: "pass" | "fail" | "inconclusive"
    outcome_10ma: str = ""
    reason_1ma: str = ""
    reason_10ma: str = ""
    sigma_e_interval: tuple[float, float] | None = None  #: the 95 % interval judged, S/cm
    upper_bound_only: bool = False  #: only "sigma_e < hi" is supported
    short_reason_1ma: str = ""  #: a few words, for badges
    short_reason_10ma: str = ""

    def summary(self) -> dict[str, Any]:
        from sescreen.serialize import json_safe

        return json_safe(dict(self.__dict__, warnings=list(self.warnings)))

    def __str__(self) -> str:
        def row(ma, outcome, reason, margin, p):
            prob = f", P(pass) = {p:.2f}" if p is not None else ""
            return (f"  {ma:>2} mA/cm^2: {outcome.upper()}: {reason} (margin {margin:+.2f} "
                    f"decades{prob})")

        lo, hi = self.sigma_e_interval or (math.nan, math.nan)
        lo_t, hi_t = _near(lo, self.threshold_1ma), _near(hi, self.threshold_1ma)
        if lo <= 0 and math.isfinite(hi):
            what = f"sigma_e < {hi_t} S/cm (upper bound only; point {self.sigma_e:.3g})"
        elif math.isinf(hi):
            what = f"sigma_e > {lo_t} S/cm (lower bound only)"
        elif lo == hi:
            what = f"sigma_e = {self.sigma_e:.3g} S/cm"
        else:
            what = f"sigma_e = {self.sigma_e:.3g} S/cm (95 %: {lo_t} .. {hi_t})"
        lines = [f"{what} ({self.source} thresholds)",
                 row(1, self.outcome_1ma, self.reason_1ma, self.margin_1ma_decades,
                     self.p_pass_1ma),
                 row(10, self.outcome_10ma, self.reason_10ma, self.margin_10ma_decades,
                     self.p_pass_10ma)]
        return "\n".join(lines + [f"  warning: {w}" for w in self.warnings])


def verdict(sigma_e_s_cm: float, *, stderr: float | None = None, sd_log10: float | None = None,
            interval: tuple[float, float] | None = None, upper_bound_only: bool = False,
            steady_state_reached: bool | None = None, t_steady_estimate: float | None = None,
            t_hold: float | None = None, temperature_k: float | None = None,
            source: str = "han2019") -> Verdict:
    """Judge one electronic conductivity against the 1 and 10 mA/cm^2 thresholds.

    Parameters
    ----------
    sigma_e_s_cm : float
        sigma_e, S/cm (may be 0 or None with a one-sided ``interval=(0, hi)``).
    stderr : float, optional
        Its standard error, S/cm (a log-normal 95 % interval).
    sd_log10 : float, optional
        Or its uncertainty as the standard deviation of log10 sigma_e.
    interval : (float, float), optional
        Or its 95 % interval directly, S/cm (precedence); ``(0, hi)`` upper bound only,
        ``(lo, inf)`` lower bound only.
    upper_bound_only : bool
        Only ``sigma_e < hi`` is supported (the interval's ``lo`` becomes 0).
    steady_state_reached, t_steady_estimate, t_hold : optional
        The hold's state (s), for the reason of an inconclusive outcome
        (:func:`fit_inputs` gives them from a DC fit).
    temperature_k : float, optional
        Where sigma_e was measured, K. The thresholds are stated at room temperature:
        more than :data:`SAME_TEMPERATURE_K` away, sigma_e is judged as the one-sided
        bound it gives there (:func:`carried_to`), with a warning.
    source : {"han2019", "construction", "fit"}
    """
    kw = dict(stderr=stderr, sd_log10=sd_log10, interval=interval,
              upper_bound_only=upper_bound_only, steady_state_reached=steady_state_reached,
              t_steady_estimate=t_steady_estimate, t_hold=t_hold, temperature_k=temperature_k)
    t1, t10 = max_sigma_e(1.0, source=source), max_sigma_e(10.0, source=source)
    r1, r10 = _one(sigma_e_s_cm, t1, **kw), _one(sigma_e_s_cm, t10, **kw)
    warns = _temperature_warning(temperature_k)
    sig = math.nan if sigma_e_s_cm is None else float(sigma_e_s_cm)
    if sd_log10 is not None:
        sd = float(sd_log10)
    elif stderr is not None and sig > 0:
        sd = float(stderr) / (sig * math.log(10.0))
    else:
        sd = None
    lo, hi = r1["sigma_e_interval"]
    return Verdict(sig, sd, r1["outcome"] == "pass", r10["outcome"] == "pass",
                   r1["margin_decades"], r10["margin_decades"], r1["p_pass"], r10["p_pass"],
                   t1.sigma_e_max, t10.sigma_e_max, source, tuple(warns),
                   outcome_1ma=r1["outcome"], outcome_10ma=r10["outcome"],
                   reason_1ma=r1["reason"], reason_10ma=r10["reason"],
                   sigma_e_interval=(lo, hi), upper_bound_only=lo <= 0 and math.isfinite(hi),
                   short_reason_1ma=r1["short_reason"], short_reason_10ma=r10["short_reason"])

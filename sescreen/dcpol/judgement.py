"""Whether a hold has settled, and why not: the tail trend, the truncation test and the
steady-state decision, with the warnings written where each judgement is made.

The decision comes last, from everything the analysis found (METHODS.md sections 1, 6):

1. the trend test: after the best identified transient is subtracted, does the current
   still move at the end of the hold? A generalized least-squares line through the
   residuals of the bins in the last half of the hold (covariance from the noise model);
   significant at 99 % *and* large enough to matter (>= 1 % of I_ss over the hold). A
   falling residual means a slower process than any identifiable transient (not settled,
   or drift after the transient ended): a decay whose end no model shape can be trusted to
   say, so only an upper bound of I_ss (at least the tail level, and a drift since the step
   above). A rising residual means drift, a leak or a reaction, and leaves only an upper
   bound of I_ss too; a current that itself still rises has no upper bound at all (an
   approach from below leaves its time constant times its slope to go).
2. the truncation test: the same model refitted to the first 70 % and 85 % of the hold;
   an asymptote that keeps moving the same way (2 standard errors of the nested difference;
   3 for plateau means) towards a limit more than ``max_remaining`` away, if it converges
   as slowly as t^-1/2, has not converged.
3. the remaining transient at the end of the hold, <= ``max_remaining`` of I_ss.

Correlated noise (1/f, AR(1), a daily temperature cycle) is not a failure to settle: its
variance enters the intervals through the noise model and is reported as information.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sescreen.dcpol.binning import Binned
from sescreen.dcpol.candidates import ModelFit, fit_model
from sescreen.dcpol.noise import NoiseModel
from sescreen.transients import MODELS

__all__ = [
    "TRUNCATIONS",
    "SteadyStateCriterion",
    "Trend",
    "Truncation",
    "climbing",
    "decide_steady",
    "moving_asymptote",
    "tail_trend",
    "truncation_test",
]

_TREND_Z = 2.5758293035489004  # 99 %
_MOVING_Z = 2.0  # 95 %, two-sided: a false alarm only widens the interval
TRUNCATIONS = (0.70, 0.85)  # fractions of the hold refitted


@dataclass(frozen=True)
class SteadyStateCriterion:
    """When a hold counts as settled.

    Attributes
    ----------
    max_remaining : float
        Largest fitted transient at the end of the hold, as a fraction of I_ss (0.01).
    tail_fraction : float
        Fraction of the hold averaged for the tail-mean comparison (0.1: the last 10 %).
    tail_tolerance : float
        Relative disagreement between tail mean and asymptote that triggers a warning,
        on top of 3 combined standard errors (0.02).
    max_trend : float
        Smallest residual trend at the end, as a fraction of I_ss per hold length, that
        counts as still moving (0.01).
    """

    max_remaining: float = 0.01
    tail_fraction: float = 0.10
    tail_tolerance: float = 0.02
    max_trend: float = 0.01


@dataclass(frozen=True)
class Trend:
    """Residual slope at the end of the hold (scaled units per s)."""

    slope: float
    stderr: float
    change: float  #: slope * hold length / I_ss
    significant: bool
    level_at_step: float = 0.0  #: the residual line extrapolated back to t = 0
    level_stderr: float = 0.0
    data_slope: float = 0.0  #: slope of the data themselves (residual + model), per s

    @property
    def direction(self) -> str:
        return "rising" if self.slope > 0 else "falling"

    @property
    def data_rising(self) -> bool:
        """The current itself (not only the residual of a fitted decay) rises at 99 % at
        the end of the hold: it approaches a level above its tail at a pace no record of a
        rise tells (an approach of time constant tau leaves tau x its slope to go)."""
        return bool(self.significant and self.slope > 0 and self.stderr > 0
                    and self.data_slope > _TREND_Z * self.stderr)

    @property
    def still_falling(self) -> bool:
        """The residual falls at 99 %, however little over the hold: a decay slower than
        the hold, whose remaining current no record bounds (an exponential of time constant
        tau leaves tau x its slope, so a slow term of tau 3-30x the hold leaves 3-30x its
        fall over the hold)."""
        return bool(self.stderr > 0 and -self.slope > _TREND_Z * self.stderr)


@dataclass(frozen=True)
class Truncation:
    """Asymptotes fitted to the first 70 %, 85 % and 100 % of the hold (scaled units)."""

    estimates: tuple[float, ...]
    moving: bool
    z: float = 0.0  #: (first - last) / the standard error of that difference

    def limit(self, power: float = 0.5) -> float:
        """Where the asymptote converges if it approaches I_ss as (hold length)^-power:
        a(T) = I + c T^-power through the 70 % and 100 % estimates."""
        first, last = self.estimates[0], self.estimates[-1]
        return last - (first - last) / (TRUNCATIONS[0] ** -power - 1.0)


def climbing(trend: Trend | None) -> bool:
    """Whether the level of the hold itself still climbs: the residual rises at the end
    and so does the current itself (:attr:`Trend.data_rising`). An approach from below of
    time constant tau still has tau x its slope to go, unbounded for a tau beyond the hold,
    so such a record has no upper bound of I_ss (a fourth review: holds that dip below
    I_ss and climb back with tau 1-30x the first look, watched, PASSed at the first look
    at 0.3-0.9x the truth). A residual rising on a current that still falls (a decay fitted
    too fast, a t^-1/2 tail) keeps the mirrored margin of
    :func:`sescreen.dcpol.widening.rising_margin`; a rising asymptote as the hold
    lengthens was tried as a sign of a climb too, and took it for one on 13 of 90 t^-1/2
    tails."""
    return bool(trend is not None and trend.significant and trend.slope > 0
                and trend.data_rising)


def tail_trend(fit: ModelFit, b: Binned, noise: NoiseModel, *, t_hold: float,
               crit: SteadyStateCriterion) -> Trend:
    """GLS slope of the residuals of the bins in the last half of the hold."""
    keep = b.t >= 0.5 * b.t[-1]
    if keep.sum() < 4:
        keep = np.zeros(b.t.size, bool)
        keep[-min(4, b.t.size):] = True
    resid = (b.y - b.average(MODELS[fit.model][0], **fit.values))[keep]
    x = b.t[keep] - b.t[keep].mean()
    w = noise.subset(keep).whitener
    design = w @ np.column_stack([np.ones_like(x), x])
    wr = w @ resid
    coef, *_ = np.linalg.lstsq(design, wr, rcond=None)
    # inflated by the line's own misfit only: the drift itself inflates the late misfit
    # of the transient, which must not hide it
    dof = max(int(keep.sum()) - 2, 1)
    chi = wr - design @ coef
    cov = np.linalg.pinv(design.T @ design) * max(float(chi @ chi) / dof, 1.0)
    slope, se = float(coef[1]), float(math.sqrt(max(cov[1, 1], 0.0)))
    change = slope * t_hold / fit.i_ss if fit.i_ss else math.inf
    significant = bool(se > 0 and abs(slope) > _TREND_Z * se and abs(change) >= crit.max_trend)
    c = -float(b.t[keep].mean())  # x at t = 0
    level = float(coef[0] + coef[1] * c)
    level_var = float(cov[0, 0] + c * c * cov[1, 1] + 2 * c * cov[0, 1])
    data_coef, *_ = np.linalg.lstsq(design, w @ b.y[keep], rcond=None)
    return Trend(slope, se, change, significant, level, math.sqrt(max(level_var, 0.0)),
                 float(data_coef[1]))


def truncation_test(fit: ModelFit, b: Binned, noise: NoiseModel, *,
                    c_hat: float, max_remaining: float = 0.01) -> Truncation | None:
    """Refit ``fit``'s model to the bins of the first 70 % and 85 % of the hold."""
    estimates, errors = [], []
    for frac in TRUNCATIONS:
        keep = b.t <= b.t[0] + frac * (b.t[-1] - b.t[0])
        if keep.sum() <= fit.n_params + 3:
            return None
        sub_b = b.subset(keep)
        sub_noise = noise.subset(keep)
        sub = fit_model(fit.model, sub_b, sub_noise, start=fit.result.params)
        if sub is None:
            return None
        estimates.append(sub.i_ss)
        errors.append(sub.i_ss_stderr or math.inf)
    estimates.append(fit.i_ss)
    return moving_asymptote(estimates, errors[0], fit.i_ss_stderr or 0.0, c_hat=c_hat,
                            max_remaining=max_remaining)


def moving_asymptote(estimates, first_se: float, last_se: float, *, c_hat: float = 1.0,
                     max_remaining: float = 0.01, nested: bool = True,
                     z_min: float = _MOVING_Z) -> Truncation:
    """Whether asymptotes from growing parts of one record (70 %, 85 %, 100 %) still move:
    one way, significantly, and converging, if as slowly as t^-1/2, more than
    ``max_remaining`` away. Nested fits (all data up to a time) differ with the variance
    difference; estimates from windows that barely overlap, with the variance sum."""
    steps = np.diff(estimates)
    monotone = bool(np.all(steps < 0) or np.all(steps > 0))
    # (nested: never below a quarter of the first variance, as refits under one noise
    # model can give the shorter record the smaller error)
    var = max(first_se**2 - last_se**2, 0.25 * first_se**2) if nested \
        else first_se**2 + last_se**2
    se_diff = math.sqrt(max(var, 0.0) * max(c_hat, 1.0))
    z = (estimates[0] - estimates[-1]) / se_diff if se_diff > 0 else 0.0
    trunc = Truncation(tuple(estimates), False, float(z))
    last = estimates[-1]
    moving = (monotone and abs(z) > z_min
              and abs(trunc.limit() - last) > max_remaining * abs(last))
    return Truncation(tuple(estimates), moving, float(z))


def decide_steady(*, remaining: float, trend: Trend | None, truncation: Truncation | None,
                  identified: bool, poor_fit: bool, t_steady: float | None,
                  t_hold: float, scale: float, crit: SteadyStateCriterion,
                  correlated: bool, inflation: float) -> tuple[bool, list[str]]:
    """The steady-state flag and the warnings that explain it.

    Returns
    -------
    (bool, list of str)
    """
    warns: list[str] = []
    causes = 0
    unit = abs(scale)
    if not identified:
        causes += 1
        warns.append("no transient the hold can identify describes it: the current is still "
                     "falling on a time scale longer than the hold; only an upper bound of "
                     "I_ss is supported")
    if trend is not None and trend.significant:
        causes += 1
        if climbing(trend):
            warns.append(f"the current still climbs at the end of the hold ({trend.change:+.1%}"
                         " of I_ss per hold length beyond the fitted transient): it approaches "
                         "a higher level (a cell warming, a polarization relaxing, a growing "
                         "electronic path) or carries a leak, and a rise does not tell how far it "
                         "has to go: no upper bound of I_ss; hold until it stops rising")
        elif trend.slope > 0:
            warns.append(f"drift: the current rises at the end of the hold by {trend.change:+.1%}"
                         " of I_ss per hold length beyond the fitted transient (temperature, a "
                         "leak or a reaction); only an upper bound of I_ss is supported")
        elif abs(remaining) <= crit.max_remaining:
            warns.append(f"drift: the fitted transient has ended, but the current still falls "
                         f"by {trend.change:+.1%} of I_ss per hold length (slow drift or a "
                         "process slower than the hold); only an upper bound of I_ss is "
                         "supported, allowing for a drift since the step")
        else:
            warns.append(f"not settled: the current falls at the end of the hold faster than "
                         f"the fitted transient ({trend.change:+.1%} of I_ss per hold length): "
                         "a slower process is still decaying; only an upper bound of I_ss is "
                         "supported")
    if truncation is not None and truncation.moving:
        causes += 1
        est = truncation.estimates
        trend_word = "falling" if est[-1] < est[0] else "rising"
        warns.append("not converged: the fitted asymptote keeps " + trend_word
                     + " as the hold lengthens ("
                     + " -> ".join(f"{e * unit:.3g}" for e in est)
                     + " A for the first 70 %, 85 %, 100 %); the interval is widened on that "
                     "side")
    if abs(remaining) > crit.max_remaining:
        causes += 1
        when = (f"; the fitted decay would be after about {t_steady:.3g} s "
                f"({t_steady / 3600:.3g} h), a slower one later" if t_steady and
                t_steady > t_hold else "")
        left = (f"still {remaining:.1%} of I_ss" if math.isfinite(remaining)
                else "still decaying towards an I_ss of 0")
        warns.append(f"not settled: the fitted transient is {left} at the end of the "
                     f"hold{when}")
    if poor_fit:
        causes += 1
        warns.append("the fit is poor: no candidate describes the record (see the residuals); "
                     "steady state is not claimed")
    if correlated:
        warns.append(f"the noise is correlated (long averages are {inflation:.2g}x as noisy as "
                     "white noise would make them: 1/f, AR(1) or a temperature cycle); the "
                     "interval includes it, and it is not a failure to settle")
    return causes == 0, warns

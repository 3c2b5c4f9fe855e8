"""I_ss from the plateau of a settled hold: the late bins alone, with what the noise model
misses estimated from their scatter (METHODS.md section 6).

Once the fitted transient is below ``max_remaining`` of I_ss, the asymptote no longer needs
the model's early shape: it is the generalized least-squares mean of (bin mean - the
model's small remaining transient) over the late bins. A broad distribution of time
constants misfits a sum of three exponentials early, and the misfit can tilt the fitted
asymptote; the plateau mean does not depend on it.

The late bins can scatter more than the noise model says: a daily temperature cycle or a
slow wander that the residual variogram (blocks up to 1/8 of the window) cannot resolve.
That excess is a variance tau^2 per bin, estimated by the Paule-Mandel equation
chi^2(tau^2) = n - 1 (Paule & Mandel, J. Res. NBS 87, 377 (1982); the random-effects
estimate of meta-analysis), and the interval uses Student's t with n - 1 degrees of
freedom. An unexplained excess is then neither a failure to settle nor a poor fit, but
information the result reports.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq
from scipy.special import stdtrit

from sescreen.constants import Z95
from sescreen.dcpol.binning import Binned
from sescreen.dcpol.candidates import ModelFit
from sescreen.dcpol.judgement import TRUNCATIONS, Truncation, moving_asymptote
from sescreen.dcpol.noise import NoiseModel, whiten_covariance
from sescreen.transients import MODELS

__all__ = ["Plateau", "plateau_mean", "plateau_truncation"]

#: The plateau means of the shorter parts carry the model's misfit of the end of the
#: transient, which their errors do not include: they must move by 3 errors, not 2.
_PLATEAU_Z = 3.0


@dataclass(frozen=True)
class Plateau:
    """The late-record mean (scaled units)."""

    mean: float
    halfwidth: float  #: 95 % half-width
    redchi: float  #: reduced chi-square of the constant under the noise model alone
    excess_sd: float  #: tau, the per-bin scatter beyond the noise model (0: none)
    n_bins: int


def _gls_mean(r: np.ndarray, cov: np.ndarray) -> tuple[float, float, float]:
    """GLS mean, its variance and the chi-square of a constant."""
    _, w = whiten_covariance(cov)
    w1, wr = w @ np.ones(r.size), w @ r
    info = float(w1 @ w1)
    mean = float(w1 @ wr) / info
    chi = wr - mean * w1
    return mean, 1.0 / info, float(chi @ chi)


def plateau_mean(fit: ModelFit, b: Binned, noise: NoiseModel, t_from: float) -> Plateau | None:
    """I_ss from the bins after ``t_from`` (s), or None with fewer than 4 of them."""
    keep = b.t >= t_from
    n = int(keep.sum())
    if n < 4:
        return None
    cov = noise.cov[np.ix_(keep, keep)]
    part = b.average(MODELS[fit.model][0], **fit.values) - fit.i_ss
    r = (b.y - part)[keep]
    mean, var, chi2 = _gls_mean(r, cov)
    dof = n - 1
    redchi = chi2 / dof
    tau = 0.0
    if redchi > 1.0:
        eye = np.eye(n)

        def excess(log_tau2: float) -> float:
            return _gls_mean(r, cov + math.exp(log_tau2) * eye)[2] - dof

        lo_t2 = math.log(1e-12 * max(float(np.mean(np.diag(cov))), 1e-300))
        hi_t2 = math.log(max(float(np.var(r)) * 10.0, 1e-300))
        if excess(lo_t2) > 0 > excess(hi_t2):
            tau = math.sqrt(math.exp(brentq(excess, lo_t2, hi_t2, xtol=1e-3)))
            mean, var, _ = _gls_mean(r, cov + tau**2 * eye)
        else:
            var *= redchi
    z = float(stdtrit(dof, 0.975)) if tau > 0 else Z95
    return Plateau(mean, z * math.sqrt(var), redchi, tau, n)


def plateau_truncation(fit: ModelFit, b: Binned, noise: NoiseModel, full: Plateau,
                       t_steady: float, *, max_remaining: float = 0.01) -> Truncation | None:
    """The plateau mean of the first 70 % and 85 % of the hold (each after ``t_steady``, s,
    and over the last half of its part) beside the full one: a tail still decaying below
    the trend test's reach makes it fall as the hold lengthens."""
    estimates, first_se = [], math.inf
    for frac in TRUNCATIONS:
        keep = b.t <= b.t[0] + frac * (b.t[-1] - b.t[0])
        end = float(b.t[keep][-1])
        sub_b, sub_noise = b.subset(keep), noise.subset(keep)
        # where the model's transient is over, or else the last half of the part
        sub = plateau_mean(fit, sub_b, sub_noise, max(t_steady, 0.5 * end)) \
            or plateau_mean(fit, sub_b, sub_noise, 0.5 * end)
        if sub is None:
            return None
        estimates.append(sub.mean)
        if len(estimates) == 1:
            first_se = sub.halfwidth / Z95
    estimates.append(full.mean)
    return moving_asymptote(estimates, first_se, full.halfwidth / Z95,
                            max_remaining=max_remaining, nested=False, z_min=_PLATEAU_Z)

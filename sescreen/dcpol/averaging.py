"""Model selection and multi-model inference for the asymptote I_ss.

When several transients fit a hold comparably and disagree on I_ss, the choice of one of
them understates the uncertainty of the extrapolation (METHODS.md section 6). sescreen
ranks the identified candidates by QAICc and averages them:

* QAICc = chi^2 / c_hat + 2 k + 2 k (k + 1) / (n - k - 1), c_hat = max(1, the smallest
  reduced chi-square among the candidates): the small-sample Akaike criterion with the
  overdispersion correction (Burnham & Anderson, Model Selection and Multimodel
  Inference, 2nd ed. 2002, sections 2.4 and 6.2);
* Akaike weights w_i = exp(-Delta_i / 2) / sum_j exp(-Delta_j / 2) (ibid., 2.9);
* the model-averaged tail-area (MATA) interval: the bounds L, U solve
  sum_i w_i F_i(L) = 0.025 and sum_i w_i F_i(U) = 0.975, F_i the distribution of I_ss
  under model i (Turek & Fletcher, Comput. Stat. Data Anal. 56, 2809 (2012)); each F_i is a
  split normal through the model's own (profile or Wald) 95 % interval, so one-sided and
  skewed intervals keep their shape. The point value is the mixture's median.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtr

from sescreen.constants import Z95

__all__ = ["akaike_weights", "mata_interval", "qaicc"]



def qaicc(chisqr: float, n: int, k: int, c_hat: float = 1.0) -> float:
    """Quasi-likelihood AICc of a weighted least-squares fit (up to a shared constant)."""
    if n - k - 1 <= 0:
        return math.inf
    return chisqr / max(c_hat, 1.0) + 2 * k + 2 * k * (k + 1) / (n - k - 1)


def akaike_weights(criteria: np.ndarray) -> np.ndarray:
    """Akaike weights of models with the given information criteria."""
    c = np.asarray(criteria, dtype=float)
    finite = np.isfinite(c)
    w = np.zeros_like(c)
    if finite.any():
        d = c[finite] - c[finite].min()
        e = np.exp(-0.5 * d)
        w[finite] = e / e.sum()
    return w


def _mixture_cdf(x: float, est, lo, hi, w) -> float:
    s_lo = np.maximum((est - lo) / Z95, 1e-300)
    s_hi = np.maximum((hi - est) / Z95, 1e-300)
    z = np.where(x < est, (x - est) / s_lo, (x - est) / s_hi)
    return float(np.sum(w * ndtr(z)))


def mata_interval(est, lo, hi, weights, *, level: float = 0.95) -> tuple[float, float, float]:
    """Model-averaged tail-area interval and median of I_ss.

    Parameters
    ----------
    est, lo, hi : array
        Each model's estimate and 95 % interval.
    weights : array
        Akaike weights (summing to 1).
    level : float
        Coverage of the interval returned.

    Returns
    -------
    (lower, median, upper)
    """
    from scipy.optimize import brentq

    est, lo, hi, w = (np.asarray(a, dtype=float) for a in (est, lo, hi, weights))
    keep = w > 1e-6
    est, lo, hi, w = est[keep], lo[keep], hi[keep], w[keep] / w[keep].sum()
    if est.size == 1:
        return float(lo[0]), float(est[0]), float(hi[0])
    span = float(np.max(hi) - np.min(lo)) + 1e-300
    a, b = float(np.min(lo)) - span, float(np.max(hi)) + span
    tail = (1 - level) / 2

    def solve(p):
        return brentq(lambda x: _mixture_cdf(x, est, lo, hi, w) - p, a, b, xtol=span * 1e-9)

    return solve(tail), solve(0.5), solve(1 - tail)

"""Levenberg-Marquardt with box bounds, lean enough for fits of a few parameters.

A transient fit has 2-7 parameters and ~100-160 residuals; scipy's trust-region
reflective method spends most of its time on its own bookkeeping per iteration (an SVD,
norms, scaling vectors), several times what the model costs. This is the textbook
damped Gauss-Newton iteration (Madsen, Nielsen and Tingleff, "Methods for non-linear
least squares problems", 2nd ed., 2004, algorithm 3.16; Marquardt's scaling by the
diagonal of J^T J, More 1978) with bounds by projection: a parameter on a bound whose
gradient points out of the box is held for the step (the active set), every trial point
is clipped into the box. Convergence: the relative decrease of the cost, the relative
step or the projected gradient below their tolerances.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["MarquardtResult", "marquardt"]

_TAU = 1e-3  # initial damping, relative to the diagonal of J^T J (Marquardt's scaling)
_MAX_DAMPING = 1e16  # relative damping beyond which no step can lower the cost


@dataclass(frozen=True)
class MarquardtResult:
    """Solution ``x``, residual ``f`` and Jacobian ``jac`` there, and whether a
    convergence test was met (False when the damping ran away)."""

    x: np.ndarray
    f: np.ndarray
    jac: np.ndarray
    success: bool


def _solve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a x = b, by least squares when a is singular."""
    try:
        return np.linalg.solve(a, b)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(a, b, rcond=None)[0]


def _active(x, g, lo, hi) -> np.ndarray:
    """Parameters on a bound whose descent direction -g leaves the box."""
    return ((x <= lo) & (g > 0)) | ((x >= hi) & (g < 0))


def marquardt(fun: Callable[[np.ndarray], np.ndarray],
              jac: Callable[[np.ndarray, np.ndarray], np.ndarray],
              x0, lo, hi, *, ftol: float = 1e-8, xtol: float = 1e-8, gtol: float = 1e-8,
              max_iter: int = 10000) -> MarquardtResult:
    """Minimize ``0.5 sum(fun(x)**2)`` for ``lo <= x <= hi``.

    Parameters
    ----------
    fun : callable
        x -> residual vector (m,).
    jac : callable
        (x, f) -> Jacobian (m, n) at x, given the residual f there.
    x0, lo, hi : array-like (n,)
        Start (clipped into the box) and bounds (+-inf for none).
    ftol, xtol, gtol : float
        Relative cost decrease of an accepted step, relative step length, and largest
        projected gradient relative to the cost, below which the fit has converged.
    max_iter : int
        A guard; callers limit the work by counting evaluations in ``fun``.
    """
    lo = np.asarray(lo, dtype=float)
    hi = np.asarray(hi, dtype=float)
    if np.any(lo > hi):
        raise ValueError(f"a lower bound exceeds its upper bound: {lo} > {hi}")
    x = np.minimum(np.maximum(np.asarray(x0, dtype=float), lo), hi)
    f = fun(x)
    cost = 0.5 * float(f @ f)
    if not math.isfinite(cost):
        raise ValueError("the residual is not finite (NaN or inf) at the start")
    j = jac(x, f)
    a = j.T @ j
    g = j.T @ f
    scale2 = np.maximum(np.diag(a), 1e-300)  # Marquardt's scaling, never decreasing
    mu = _TAU
    nu = 2.0
    for _ in range(max_iter):
        free = ~_active(x, g, lo, hi)
        if not free.any() or np.max(np.abs(g[free]) * np.maximum(np.abs(x[free]), 1.0)) \
                <= gtol * max(2.0 * cost, 1e-300):
            return MarquardtResult(x, f, j, True)
        if free.all():
            h = _solve(a + np.diag(mu * scale2), -g)
        else:
            h = np.zeros_like(x)
            h[free] = _solve(a[np.ix_(free, free)] + np.diag(mu * scale2[free]), -g[free])
        x_new = np.minimum(np.maximum(x + h, lo), hi)
        step = x_new - x
        if math.sqrt(step @ step) <= xtol * (xtol + math.sqrt(x @ x)):
            return MarquardtResult(x, f, j, True)
        predicted = -float(step @ g) - 0.5 * float(step @ a @ step)
        f_new = fun(x_new)
        cost_new = 0.5 * float(f_new @ f_new)  # NaN or inf: a rejected step
        gain = (cost - cost_new) / predicted if predicted > 0 and math.isfinite(cost_new) \
            else -1.0
        if gain > 0:
            done = cost - cost_new <= ftol * cost
            x, f, cost = x_new, f_new, cost_new
            j = jac(x, f)
            a = j.T @ j
            g = j.T @ f
            scale2 = np.maximum(scale2, np.diag(a))
            if done:
                return MarquardtResult(x, f, j, True)
            mu *= max(1.0 / 3.0, 1.0 - (2.0 * gain - 1.0) ** 3)
            nu = 2.0
        else:
            mu *= nu
            nu *= 2.0
            if mu > _MAX_DAMPING:
                return MarquardtResult(x, f, j, False)
    return MarquardtResult(x, f, j, False)
    return MarquardtResult(x, f, j, False)

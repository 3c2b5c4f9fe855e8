"""Bounded least squares over lmfit Parameters, without lmfit's per-evaluation bookkeeping.

A transient fit evaluates its residual a few hundred times on ~100-160 bins; lmfit's
``minimize(method="least_squares")`` spends most of that time on its own machinery
(updating every Parameter, re-evaluating constraint expressions with asteval, a values
dictionary per call), not on the model. This module runs the very same computation:
the same call of :func:`scipy.optimize.least_squares` (trust-region reflective, 2-point
Jacobian, tolerances 1e-8, the bounds of the varying parameters), the same abort after
``max_nfev`` evaluations (the last evaluated point is kept, without errors), the same
covariance (J^T J)^-1 at the solution without rescaling. The result is a light
:class:`~sescreen.parameters.Params`, which a later fit can start from. Constrained parameters are
products of others (``tau2 = tau1 * r2``, :func:`sescreen.transients.make_model`); they are
clipped to their bounds as lmfit does, and their standard errors follow to first order
with the correlations, as the ``uncertainties`` propagation lmfit uses gives.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sescreen.parameters import Param, Params, clip

__all__ = ["LeastSquaresResult", "least_squares"]


@dataclass(frozen=True)
class LeastSquaresResult:
    """What a fit found (the parts of an lmfit MinimizerResult the analysis reads).

    Attributes
    ----------
    params : Params
        Best-fit values; ``stderr`` from the covariance (None when there is none).
    chisqr : float
        Sum of squared residuals at ``params``.
    success : bool
        The optimizer converged (False when it hit ``max_nfev``).
    nfev : int
        Residual evaluations.
    """

    params: Params
    chisqr: float
    success: bool
    nfev: int


_EPS = np.finfo(np.float64).eps


class _Abort(Exception):
    """More than ``max_nfev`` evaluations."""


def _factors(params) -> dict[str, tuple[str, ...]]:
    """The factors of every constrained parameter (``expr`` a product of names)."""
    out = {}
    for name, p in params.items():
        if p.expr is None:
            continue
        names = tuple(f.strip() for f in p.expr.split("*"))
        if not all(n in params for n in names):
            raise ValueError(f"constraint {name} = {p.expr!r} is not a product of parameters")
        out[name] = names
    return out


def _forward_steps(x0, lb, ub) -> list[float]:
    """The steps of scipy's 2-point Jacobian (``approx_derivative`` with ``rel_step=None``,
    ``_adjust_scheme_to_bounds`` one-sided): sqrt(eps) max(1, |x|) with the sign of x,
    reversed or shortened where it would leave the bounds (the same float arithmetic,
    element by element: a handful of parameters)."""
    out = []
    for x, lo, hi in zip(x0, lb, ub, strict=True):
        h = _EPS**0.5 * (1.0 if x >= 0 else -1.0) * max(1.0, abs(x))
        if lo == -math.inf and hi == math.inf:
            out.append(h)
            continue
        lower, upper = x - lo, hi - x
        fitting = abs(h) <= max(lower, upper)
        if fitting:
            out.append(-h if (x + h < lo or x + h > hi) else h)
        else:
            out.append(upper if upper >= lower else -lower)
    return out


def least_squares(residual: Callable[[dict[str, float]], np.ndarray], params, *,
                  max_nfev: int, rows: Callable[[dict], np.ndarray] | None = None
                  ) -> LeastSquaresResult:
    """Minimize ``sum(residual(values)**2)`` over the varying Parameters.

    Parameters
    ----------
    residual : callable
        Maps the values of all parameters (a dict, fixed and constrained ones included)
        to the residual vector.
    rows : callable, optional
        The same for k points at once: values as arrays of shape (k, 1) (fixed
        parameters as floats) to residuals of shape (k, m), each row equal to
        ``residual`` of that point. The 2-point Jacobian then costs one call instead of
        one per parameter (same steps, same differences, same evaluation count).
    params : lmfit.Parameters or Params
        Start values, bounds, ``vary`` flags and product constraints; not modified.
    max_nfev : int
        Evaluations after which the fit stops (lmfit's abort).

    Returns
    -------
    LeastSquaresResult

    Raises
    ------
    ValueError, FloatingPointError, OverflowError, ZeroDivisionError, LinAlgError
        From the residual or the optimizer, as lmfit would pass them on.
    """
    from scipy.optimize import least_squares as scipy_lsq

    factors = _factors(params)
    var = [n for n, p in params.items() if p.vary and p.expr is None]
    values = {n: float(p.value) for n, p in params.items()}
    bounds = {n: (params[n].min, params[n].max) for n in factors}
    count = [0]
    last = [None]

    def evaluate(x) -> np.ndarray:
        for n, v in zip(var, x, strict=True):
            values[n] = float(v)
        for n, names in factors.items():
            prod = 1.0
            for f in names:
                prod *= values[f]
            values[n] = clip(prod, *bounds[n])
        out = np.asarray(residual(values), dtype=np.float64).ravel()
        with np.errstate(invalid="ignore"):
            if not math.isfinite(float(np.sum(out))):
                raise ValueError("the residual is not finite (NaN or inf)")
        return out

    seen: dict[str, np.ndarray] = {}  # the last point evaluated and its residual

    def fun(x) -> np.ndarray:
        count[0] += 1
        last[0] = x
        if count[0] > max_nfev:
            raise _Abort
        out = evaluate(x)
        seen["x"], seen["f"] = np.array(x, dtype=float), out.copy()
        return out

    x0 = [values[n] for n in var]
    lo = [params[n].min for n in var]
    hi = [params[n].max for n in var]

    def jac(x) -> np.ndarray:
        """scipy's 2-point Jacobian, the k perturbed points evaluated in one call (and
        counted, aborted or refused one by one, as k calls would be)."""
        f0 = seen["f"] if "x" in seen and np.array_equal(seen["x"], x) else fun(x)
        h = np.array(_forward_steps(x.tolist(), lo, hi))
        points = np.tile(x, (x.size, 1))
        points[np.diag_indices(x.size)] += h
        batch = dict(values)
        for j, n in enumerate(var):
            batch[n] = points[:, j:j + 1]
        for n, names in factors.items():
            batch[n] = np.clip(math.prod(batch[f] for f in names), *bounds[n])
        f_rows = np.asarray(rows(batch), dtype=np.float64)
        with np.errstate(invalid="ignore", over="ignore"):
            finite = np.isfinite(f_rows.sum(axis=1))
        bad = int(np.argmin(finite)) if not finite.all() else x.size  # first refused call
        abort = max_nfev - count[0]  # first call beyond max_nfev
        if bad < min(abort, x.size):
            count[0] += bad + 1
            last[0] = points[bad]
            raise ValueError("the residual is not finite (NaN or inf)")
        if abort < x.size:
            count[0] += abort + 1
            last[0] = points[abort]
            raise _Abort
        count[0] += x.size
        return ((f_rows - f0) / ((x + h) - x)[:, None]).T

    covar = None
    try:
        ret = scipy_lsq(fun, x0, bounds=(lo, hi), jac="2-point" if rows is None else jac,
                        method="trf", ftol=1e-8,
                        xtol=1e-8, gtol=1e-8, x_scale=1.0, loss="linear", f_scale=1.0,
                        max_nfev=2 * max_nfev)
    except _Abort:
        nfev, success = count[0] - 1, False
        out = evaluate(last[0])
    else:
        nfev, success = count[0], bool(ret.success)
        out = evaluate(ret.x)
        try:
            covar = np.linalg.inv(ret.jac.T @ ret.jac)
        except np.linalg.LinAlgError:
            covar = None
    chisqr = max(float(out @ out), 1e-250 * out.size)
    return LeastSquaresResult(_fitted(params, values, var, factors, covar), chisqr,
                              success, nfev)


def _fitted(params, values: dict[str, float], var: list[str],
            factors: dict[str, tuple[str, ...]], covar: np.ndarray | None) -> Params:
    """``params`` at ``values`` with the standard errors of ``covar``."""
    zero = None if covar is None else 0.0
    out = Params({n: Param(n, values[n], p.min, p.max, p.vary, p.expr, zero)
                  for n, p in params.items()})
    if covar is None:
        return out
    index = {n: k for k, n in enumerate(var)}
    grad = {n: np.eye(len(var))[index[n]] for n in var}
    for n in var:
        out[n].stderr = float(math.sqrt(covar[index[n], index[n]]))
    # constrained parameters: first order in the varying ones, with their correlations
    for n, names in factors.items():
        g = np.zeros(len(var))
        for j, f in enumerate(names):
            others = math.prod(values[o] for k, o in enumerate(names) if k != j)
            g = g + others * grad.get(f, np.zeros(len(var)))
        grad[n] = g
        out[n].stderr = float(math.sqrt(max(float(g @ covar @ g), 0.0)))
    return out

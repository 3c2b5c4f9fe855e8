"""Bounded least squares over fit parameters with product constraints, fast.

A transient fit evaluates its residual a few hundred times on ~100-160 bins. lmfit's
``minimize`` spends most of that time on its own machinery (updating every Parameter,
re-evaluating constraint expressions with asteval), and scipy's trust-region reflective
method most of the rest on its bookkeeping per iteration. This module fits the same
problem lmfit would set up (the varying parameters within their bounds, constrained
parameters products of others, ``tau2 = tau1 * r2``, clipped to their own bounds) with
the lean Levenberg-Marquardt of :mod:`sescreen.dcpol.marquardt`, forward-difference
Jacobians with scipy's steps (sqrt(eps) max(1, |x|), turned inward at a bound) and the
covariance (J^T J)^-1 at the solution without rescaling; the standard errors of
constrained parameters follow to first order with the correlations (what lmfit's
``uncertainties`` propagation gives). After ``max_nfev`` evaluations the fit stops at the
best point it evaluated, without errors. The result is a light
:class:`~sescreen.parameters.Params`, which a later fit can start from.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import numpy as np

from sescreen.dcpol import core
from sescreen.dcpol.core import Aborted, CompiledProblem
from sescreen.dcpol.marquardt import marquardt_many
from sescreen.parameters import Param, Params, clip

__all__ = ["MODEL_ERRORS", "LeastSquaresResult", "least_squares", "least_squares_many"]


class LeastSquaresResult:
    """What a fit found (the parts of an lmfit MinimizerResult the analysis reads).

    Attributes
    ----------
    params : Params
        Best-fit values; ``stderr`` from the covariance (None when there is none). Built
        on first access: of the several starts of a fit only the best one's is read.
    chisqr : float
        Sum of squared residuals at ``params``.
    success : bool
        The optimizer converged (False when it hit ``max_nfev``).
    nfev : int
        Residual evaluations.
    """

    def __init__(self, params: Params | Callable[[], Params], chisqr: float, success: bool,
                 nfev: int):
        self._params = params
        self.chisqr, self.success, self.nfev = chisqr, success, nfev

    @functools.cached_property
    def params(self) -> Params:
        return self._params() if callable(self._params) else self._params

    def __repr__(self) -> str:
        return (f"LeastSquaresResult(chisqr={self.chisqr!r}, success={self.success!r}, "
                f"nfev={self.nfev!r})")


_EPS = np.finfo(np.float64).eps
_RCOND = 1e-10  # singular values of the scaled Jacobian below this fraction: undetermined
#: What a residual raises where its model breaks down: a start that meets one has failed.
MODEL_ERRORS = (ValueError, FloatingPointError, OverflowError, ZeroDivisionError,
                np.linalg.LinAlgError)


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


def _point(values: dict[str, float], var: list[str], factors: dict[str, tuple[str, ...]],
           bounds: dict[str, tuple[float, float]], x) -> dict[str, float]:
    """``values`` with the varying parameters at x and the constrained ones following."""
    out = dict(values)
    for n, v in zip(var, x, strict=True):
        out[n] = float(v)
    for n, names in factors.items():
        out[n] = clip(math.prod(out[f] for f in names), *bounds[n])
    return out


def _layout(params) -> list[tuple]:
    """What the starts of one batch share: names, flags, bounds, constraints and the
    values of the fixed parameters."""
    return [(n, p.vary, p.expr, p.min, p.max, None if p.vary or p.expr else p.value)
            for n, p in params.items()]


def least_squares_many(residual: Callable[[dict[str, float]], np.ndarray], starts, *,
                       max_nfev: int, rows: Callable[[dict], np.ndarray] | None = None,
                       compiled: CompiledProblem | None = None, errors: bool = True) -> list:
    """Minimize ``sum(residual(values)**2)`` over the varying parameters from several
    starts in lockstep (:func:`~sescreen.dcpol.marquardt.marquardt_many`).

    Every start is the fit :func:`least_squares` makes from it, number for number; with
    ``rows``, the trial points of all running starts are evaluated in one call and so
    are all their Jacobian columns.

    Parameters
    ----------
    residual : callable
        Maps the values of all parameters (a dict, fixed and constrained ones included)
        to the residual vector.
    starts : list of Params or lmfit.Parameters
        Start values, not modified; every start has the same parameters, ``vary`` flags,
        bounds, constraints and fixed values (those of the first are used).
    max_nfev : int
        Evaluations per start after which it stops (Jacobian columns count one each).
    rows : callable, optional
        The same as ``residual`` for k points at once: values as arrays of shape (k, 1)
        (fixed parameters as floats) to residuals of shape (k, m).
    compiled : CompiledProblem, optional
        The same residual as a problem of the compiled core (:mod:`sescreen.dcpol.core`),
        which then runs the iteration when it is built; ``residual`` still gives the
        final chi-square.
    errors : bool
        Compute the covariance and standard errors (False: a fit whose optimum only
        starts another, its ``stderr`` None).

    Returns
    -------
    list
        A :class:`LeastSquaresResult` per start, or the exception its residual raised
        (ValueError for a non-finite residual at the start or in a Jacobian).
    """
    params = starts[0]
    if any(_layout(s) != _layout(params) for s in starts[1:]):
        raise ValueError("starts of one batch must share parameters, flags, bounds, "
                         "constraints and fixed values")
    factors = _factors(params)
    var = [n for n, p in params.items() if p.vary and p.expr is None]
    fixed = {n: float(p.value) for n, p in params.items()}
    bounds = {n: (params[n].min, params[n].max) for n in factors}
    lo = np.array([params[n].min for n in var], dtype=float)
    hi = np.array([params[n].max for n in var], dtype=float)
    count = [0] * len(starts)
    best: list[list] = [[None, math.inf] for _ in starts]  # the lowest-cost point evaluated

    def evaluate(x) -> np.ndarray:
        """The residual at x (values of ``var``), possibly non-finite."""
        return np.asarray(residual(_point(fixed, var, factors, bounds, x)),
                          dtype=np.float64).ravel()

    def spend(i: int, k: int) -> Aborted | None:
        count[i] += k
        return Aborted() if count[i] > max_nfev else None

    def batch_of(xs: list[np.ndarray]) -> dict:
        """The parameter values of points xs as columns (len(xs), 1)."""
        batch = dict(fixed)
        stacked = np.array(xs)
        for k, n in enumerate(var):
            batch[n] = stacked[:, k:k + 1].copy()
        for n, names in factors.items():
            batch[n] = np.clip(math.prod(batch[f] for f in names), *bounds[n])
        return batch

    def rows_or_each(xs: list[np.ndarray], groups: list[list[int]]) -> list:
        """Residuals at xs: one ``rows`` call when there is one, else (or when it raises,
        to tell which group raised) point by point; per group, its rows or the
        exception."""
        if rows is not None:
            try:
                f_rows = np.asarray(rows(batch_of(xs)), dtype=np.float64)
                return [f_rows[g] for g in groups]
            except MODEL_ERRORS:
                pass  # group by group, so only the group that raises fails
        out = []
        for g in groups:
            try:
                out.append(np.array([evaluate(xs[k]) for k in g]) if rows is None
                           else np.asarray(rows(batch_of([xs[k] for k in g])),
                                           dtype=np.float64))
            except MODEL_ERRORS as exc:
                out.append(exc)
        return out

    def fun(idx: list[int], xs: list[np.ndarray]) -> list:
        out: list = [spend(i, 1) for i in idx]
        go = [k for k, e in enumerate(out) if e is None]
        if len(go) == 1 or rows is None:
            for k in go:
                try:
                    out[k] = evaluate(xs[k])
                except MODEL_ERRORS as exc:
                    out[k] = exc
        elif go:
            for k, f in zip(go, rows_or_each([xs[k] for k in go], [[j] for j in
                                                                   range(len(go))]),
                            strict=True):
                out[k] = f if isinstance(f, BaseException) else f[0]
        for k, (i, f) in enumerate(zip(idx, out, strict=True)):
            if isinstance(f, np.ndarray):
                cost = float(f @ f)  # NaN for a non-finite residual (never the best)
                if cost < best[i][1]:
                    best[i] = [np.array(xs[k], dtype=float), cost]
        return out

    def jac(idx: list[int], xs: list[np.ndarray], fs: list[np.ndarray]) -> list:
        steps = [np.array(_forward_steps(x.tolist(), lo, hi)) for x in xs]
        out: list = [spend(i, x.size) for i, x in zip(idx, xs, strict=True)]
        go = [k for k, e in enumerate(out) if e is None]
        points, groups = [], []
        for k in go:
            x, h = xs[k], steps[k]
            group = []
            for c in range(x.size):
                xc = x.copy()
                xc[c] += h[c]
                group.append(len(points))
                points.append(xc)
            groups.append(group)
        for k, f_rows in zip(go, rows_or_each(points, groups) if go else [], strict=True):
            if isinstance(f_rows, BaseException):
                out[k] = f_rows
                continue
            x, h = xs[k], steps[k]
            with np.errstate(invalid="ignore", over="ignore"):
                j = ((f_rows - fs[k]) / ((x + h) - x)[:, None]).T
            out[k] = j if np.isfinite(j).all() else ValueError(
                "the residual is not finite (NaN or inf) near the fit")
        return out

    x0s = [np.array([float(s[n].value) for n in var], dtype=float) for s in starts]
    compiled_run = compiled is not None and core.fits(compiled, len(params), len(var))
    if compiled_run:
        if np.any(lo > hi):
            return [ValueError(f"a lower bound exceeds its upper bound: {lo} > {hi}")
                    for _ in starts]
        found, count, best = core.run(compiled, params, var, factors, lo, hi, x0s, max_nfev)
        n_residuals = compiled.y.size
    else:
        found = marquardt_many(fun, jac, x0s, lo, hi)
        n_residuals = None
    results: list = []
    for i, (params_i, ret) in enumerate(zip(starts, found, strict=True)):
        jac = None
        cost = getattr(ret, "cost", None)  # the core's f.f at the point it returns
        if isinstance(ret, Aborted):
            x, success = (x0s[i] if best[i][0] is None else best[i][0]), False
            cost = best[i][1] if compiled_run and best[i][0] is not None else None
        elif isinstance(ret, BaseException):
            results.append(ret)
            continue
        else:
            x, success, jac = ret.x, ret.success, ret.jac if errors else None
        size = n_residuals
        if cost is None:
            try:
                out = evaluate(x)
            except MODEL_ERRORS as exc:
                results.append(exc)
                continue
            with np.errstate(invalid="ignore", over="ignore"):
                cost, size = float(out @ out), out.size
        chisqr = max(cost, 1e-250 * size) if math.isfinite(cost) else math.inf
        if not math.isfinite(chisqr):
            results.append(ValueError("the residual is not finite (NaN or inf)"))
            continue
        values = _point(fixed, var, factors, bounds, x)
        results.append(LeastSquaresResult(
            functools.partial(_fitted_from_jacobian, params_i, values, var, factors, jac),
            chisqr, success, min(count[i], max_nfev)))
    return results


def _fitted_from_jacobian(params, values: dict[str, float], var: list[str],
                          factors: dict[str, tuple[str, ...]], jac: np.ndarray | None
                          ) -> Params:
    """:func:`_fitted` with the covariance of ``jac`` (None: no standard errors)."""
    return _fitted(params, values, var, factors, None if jac is None else _covariance(jac))


def least_squares(residual: Callable[[dict[str, float]], np.ndarray], params, *,
                  max_nfev: int, rows: Callable[[dict], np.ndarray] | None = None
                  ) -> LeastSquaresResult:
    """Minimize ``sum(residual(values)**2)`` over the varying parameters.

    Parameters
    ----------
    residual : callable
        Maps the values of all parameters (a dict, fixed and constrained ones included)
        to the residual vector.
    params : Params or lmfit.Parameters
        Start values, bounds, ``vary`` flags and product constraints; not modified.
    max_nfev : int
        Evaluations after which the fit stops (Jacobian columns count one each).
    rows : callable, optional
        The same as ``residual`` for k points at once: values as arrays of shape (k, 1)
        (fixed parameters as floats) to residuals of shape (k, m). The Jacobian then
        costs one call instead of one per parameter.

    Returns
    -------
    LeastSquaresResult

    Raises
    ------
    ValueError, FloatingPointError, OverflowError, ZeroDivisionError, LinAlgError
        From the residual (a non-finite residual at the start or in a Jacobian).
    """
    res = least_squares_many(residual, [params], max_nfev=max_nfev, rows=rows)[0]
    if isinstance(res, BaseException):
        raise res
    return res


def _covariance(j: np.ndarray) -> np.ndarray | None:
    """(J^T J)^-1 of the parameters the residual determines, NaN for the others.

    Directions the residual does not feel (singular values of J, columns scaled to unit
    norm, below 1e-10 of the largest: the time constant of an amplitude at 0, or two
    ratios that act only through their product) are undetermined: every parameter with a
    part in them gets NaN rows and columns (no standard error), the others the
    pseudo-inverse covariance. A parameter on its bound is not held: its uncertainty
    stays in the others'. None when nothing is determined.
    """
    norm = np.sqrt(np.einsum("ij,ij->j", j, j))
    if not np.all(np.isfinite(norm)):
        return None
    safe = np.where(norm > 0, norm, 1.0)
    _, sv, vt = np.linalg.svd(j / safe, full_matrices=False)
    keep = sv > _RCOND * sv[0] if sv.size and sv[0] > 0 else np.zeros(sv.size, bool)
    if not keep.any():
        return None
    v = vt[keep].T / sv[keep]
    covar = (v @ v.T) / np.outer(safe, safe)
    vague = (np.abs(vt[~keep]) > 1e-6).any(axis=0) | (norm == 0)
    covar[vague, :] = np.nan
    covar[:, vague] = np.nan
    return covar


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
        out[n].stderr = _stderr(covar[index[n], index[n]])
    # constrained parameters: first order in the varying ones, with their correlations
    for n, names in factors.items():
        g = np.zeros(len(var))
        for j, f in enumerate(names):
            others = math.prod(values[o] for k, o in enumerate(names) if k != j)
            g = g + others * grad.get(f, np.zeros(len(var)))
        grad[n] = g
        used = g != 0  # its factors (an undetermined one, NaN in covar, makes it unknown)
        out[n].stderr = _stderr(float(g[used] @ covar[np.ix_(used, used)] @ g[used]))
    return out


def _stderr(variance: float) -> float | None:
    """sqrt(variance), None for an unknown (NaN) one."""
    return math.sqrt(max(variance, 0.0)) if math.isfinite(variance) else None

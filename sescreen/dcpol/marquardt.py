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

Several starts of one fit run in lockstep (:func:`marquardt_many`): each start is the
same iteration, written once as a generator that asks for residuals and Jacobians, and the
requests of all running starts are answered together, so a model that broadcasts over
parameter sets is called once per step for all of them.

The transient fits run this iteration compiled (``_lmcore.c`` through
:mod:`sescreen.dcpol.core`) where the extension is built; this module is its reference, the
fallback, and what any other residual uses.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.linalg.lapack import dgesv

__all__ = ["MarquardtResult", "marquardt", "marquardt_many"]

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
    """a x = b, by least squares when a is singular.

    LAPACK's dgesv, which ``numpy.linalg.solve`` calls too (the same numbers), without
    numpy's checks around it (a quarter of the time); a singular or non-finite system
    goes the numpy way.
    """
    _, _, x, info = dgesv(a, b)
    if info == 0 and np.isfinite(x).all():
        return x
    try:
        return np.linalg.solve(a, b)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(a, b, rcond=None)[0]


def _damped(a: np.ndarray, d: np.ndarray) -> np.ndarray:
    """a + diag(d), a new array."""
    out = a.copy()
    out.flat[::a.shape[0] + 1] += d
    return out


def _active(x, g, lo, hi) -> np.ndarray:
    """Parameters on a bound whose descent direction -g leaves the box."""
    return ((x <= lo) & (g > 0)) | ((x >= hi) & (g < 0))


def _iterate(x0, lo, hi, ftol: float, xtol: float, gtol: float, max_iter: int):
    """The iteration of one start, as a generator: it yields ``("f", x)`` and is sent the
    residual at x, yields ``("j", x, f)`` and is sent the Jacobian there, and returns
    the :class:`MarquardtResult`."""
    lo = np.asarray(lo, dtype=float)
    hi = np.asarray(hi, dtype=float)
    if np.any(lo > hi):
        raise ValueError(f"a lower bound exceeds its upper bound: {lo} > {hi}")
    x = np.minimum(np.maximum(np.asarray(x0, dtype=float), lo), hi)
    f = yield "f", x
    cost = 0.5 * float(f @ f)
    if not math.isfinite(cost):
        raise ValueError("the residual is not finite (NaN or inf) at the start")
    j = yield "j", x, f
    a = j.T @ j
    g = j.T @ f
    scale2 = np.maximum(a.diagonal(), 1e-300)  # Marquardt's scaling, never decreasing
    mu = _TAU
    nu = 2.0
    for _ in range(max_iter):
        free = ~_active(x, g, lo, hi)
        if not free.any() or np.max(np.abs(g[free]) * np.maximum(np.abs(x[free]), 1.0)) \
                <= gtol * max(2.0 * cost, 1e-300):
            return MarquardtResult(x, f, j, True)
        if free.all():
            h = _solve(_damped(a, mu * scale2), -g)
        else:
            h = np.zeros_like(x)
            h[free] = _solve(_damped(a[np.ix_(free, free)], mu * scale2[free]), -g[free])
        x_new = np.minimum(np.maximum(x + h, lo), hi)
        step = x_new - x
        if math.sqrt(step @ step) <= xtol * (xtol + math.sqrt(x @ x)):
            return MarquardtResult(x, f, j, True)
        predicted = -float(step @ g) - 0.5 * float(step @ a @ step)
        f_new = yield "f", x_new
        cost_new = 0.5 * float(f_new @ f_new)  # NaN or inf: a rejected step
        gain = (cost - cost_new) / predicted if predicted > 0 and math.isfinite(cost_new) \
            else -1.0
        if gain > 0:
            done = cost - cost_new <= ftol * cost
            x, f, cost = x_new, f_new, cost_new
            j = yield "j", x, f
            a = j.T @ j
            g = j.T @ f
            scale2 = np.maximum(scale2, a.diagonal())
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


def marquardt_many(fun: Callable[[list[int], list[np.ndarray]], list],
                   jac: Callable[[list[int], list[np.ndarray], list[np.ndarray]], list],
                   starts, lo, hi, *, ftol: float = 1e-8, xtol: float = 1e-8,
                   gtol: float = 1e-8, max_iter: int = 10000) -> list:
    """Minimize ``0.5 sum(fun(x)**2)`` for ``lo <= x <= hi`` from several starts in
    lockstep: every start runs the iteration of :func:`marquardt`, and the residuals (and
    the Jacobians) all running starts ask for at one step are computed in one call.

    Parameters
    ----------
    fun : callable
        (start indices, points x (n,)) -> a residual (m,) for each, or the exception that
        ends that start (an evaluation budget spent, a model error).
    jac : callable
        (start indices, points, residuals there) -> a Jacobian (m, n) for each, or an
        exception.
    starts : sequence of array-like (n,)
        Starting points (clipped into the box).
    lo, hi, ftol, xtol, gtol, max_iter
        As in :func:`marquardt`.

    Returns
    -------
    list
        A :class:`MarquardtResult` per start, or the exception that ended it.
    """
    runs = [_iterate(x0, lo, hi, ftol, xtol, gtol, max_iter) for x0 in starts]
    out: list = [None] * len(runs)
    pending: dict[int, tuple] = {}

    def advance(i: int, value=None) -> None:
        try:
            pending[i] = runs[i].throw(value) if isinstance(value, BaseException) \
                else runs[i].send(value)
        except StopIteration as stop:
            out[i] = stop.value
        except Exception as exc:  # the caller decides which are failures
            out[i] = exc

    for i in range(len(runs)):
        advance(i)
    while pending:
        asked, pending = pending, {}
        wants_f = [i for i, r in asked.items() if r[0] == "f"]
        wants_j = [i for i, r in asked.items() if r[0] == "j"]
        if wants_f:
            for i, r in zip(wants_f, fun(wants_f, [asked[i][1] for i in wants_f]),
                            strict=True):
                advance(i, r)
        if wants_j:
            for i, r in zip(wants_j, jac(wants_j, [asked[i][1] for i in wants_j],
                                         [asked[i][2] for i in wants_j]), strict=True):
                advance(i, r)
    return out


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

    Raises
    ------
    ValueError
        Crossed bounds, or a non-finite residual at the start; and whatever ``fun`` or
        ``jac`` raise.
    """
    def each(call):
        def batched(_, *columns):
            try:
                return [call(*args) for args in zip(*columns, strict=True)]
            except Exception as exc:  # raised again below
                return [exc]
        return batched

    res = marquardt_many(each(fun), each(jac), [x0], lo, hi, ftol=ftol, xtol=xtol,
                         gtol=gtol, max_iter=max_iter)[0]
    if isinstance(res, BaseException):
        raise res
    return res

"""The compiled core of the DC fits, where it is built (``_lmcore.c``).

A candidate fit is a few hundred Levenberg-Marquardt steps on ~150 bins; in Python each
step is a dozen small numpy calls (~100 us), so the eight candidates of ``model="auto"``
cost ~50 ms whatever the record's length, more than reading 10^6 points. The C extension
runs the same iteration (:mod:`sescreen.dcpol.marquardt`, with the evaluation budget,
best point and Jacobian steps of :mod:`sescreen.dcpol.lsq`, the bin averages of
:class:`~sescreen.dcpol.binning.Binned` and the models of :mod:`sescreen.transients`)
without the interpreter between steps. The Python modules stay the reference and the
fallback: a build without a C compiler, a model the core does not know (``stoich``), or
``SESCREEN_PURE_PYTHON=1`` in the environment use them, with the same results to rounding
(``tests/test_lmcore.py``).

The same extension holds the loops over the raw samples of
:func:`sescreen.dcpol.record.summarize` (:func:`second_difference_sums`,
:func:`segment_sums`, :func:`second_differences_at`) and the grid starts' variable
projection (:func:`project`), each with the numpy code it replaces as its reference
(``tests/test_record_core.py``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

try:
    from sescreen.dcpol import _lmcore
except ImportError:  # no compiler at install time: the Python path
    _lmcore = None

__all__ = [
    "CORE_MODELS",
    "MAX_VARYING",
    "Aborted",
    "CompiledProblem",
    "available",
    "fits",
    "project",
    "run",
    "second_difference_sums",
    "second_differences_at",
    "segment_sums",
]

#: Models the core evaluates, by its ids (``_lmcore.c``; argument order of
#: :mod:`sescreen.transients`).
CORE_MODELS = {"exp1": 0, "exp2": 1, "exp3": 2, "stretched": 3, "stoich_limit": 4,
               "stoich_rc": 5, "power": 6, "exp1_power": 7}
_CONVERGED, _UNCONVERGED, _ABORTED, _NOT_FINITE = 0, 1, 2, 3
_MAX_PARAMS, MAX_VARYING = 16, 8  # MAXP, MAXV of _lmcore.c


class Aborted(Exception):
    """A start spent its evaluation budget."""


def available() -> bool:
    """True when the extension is built and not switched off (``SESCREEN_PURE_PYTHON``)."""
    return _lmcore is not None and os.environ.get("SESCREEN_PURE_PYTHON", "") in ("", "0")


def fits(problem, n_params: int, n_varying: int) -> bool:
    """True when the core is available and can take this problem (its model and sizes)."""
    return (available() and problem.model in CORE_MODELS and n_params <= _MAX_PARAMS
            and 1 <= n_varying <= MAX_VARYING)


@dataclass(frozen=True)
class CompiledProblem:
    """One model against one set of bins under one whitener.

    Attributes
    ----------
    model : str
        A key of :data:`CORE_MODELS`.
    args : tuple of str
        The model function's parameters after t, in order.
    nodes, weights : array (n_bins, NODES)
        :attr:`Binned.nodes`, :attr:`Binned.weights`.
    y : array
        Bin means (scaled units).
    whiten : array
        The whitener's diagonal (n_bins,) or the whole matrix (n_bins, n_bins).
    """

    model: str
    args: tuple[str, ...]
    nodes: np.ndarray
    weights: np.ndarray
    y: np.ndarray
    whiten: np.ndarray


@dataclass(frozen=True)
class Outcome:
    """How one start ended: the point, the Jacobian there, whether it converged, and the
    sum of squared residuals there."""

    x: np.ndarray
    jac: np.ndarray
    success: bool
    cost: float  #: f.f there


def _f64(a) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float64)


def _program(params, var: list[str], factors: dict[str, tuple[str, ...]], args):
    """The parameter layout as arrays: per parameter its kind (0 varying, 1 fixed,
    2 product), varying index, fixed value, clip bounds and factors; the model's arguments
    as parameter indices."""
    names = list(params)
    index = {n: k for k, n in enumerate(names)}
    n = len(names)
    kind = np.ones(n)
    ref = np.zeros(n)
    val = np.array([float(params[k].value) for k in names])
    plo = np.array([float(params[k].min) for k in names])
    phi = np.array([float(params[k].max) for k in names])
    start = np.zeros(n)
    length = np.zeros(n)
    fac: list[int] = []
    for k, name in enumerate(var):
        kind[index[name]], ref[index[name]] = 0, k
    for name, parts in factors.items():
        j = index[name]
        kind[j], start[j], length[j] = 2, len(fac), len(parts)
        fac.extend(index[f] for f in parts)
    as_int = [np.asarray(v, dtype=np.int64) for v in (kind, ref)]
    return (as_int[0], as_int[1], val, plo, phi, start.astype(np.int64),
            length.astype(np.int64), np.asarray(fac, dtype=np.int64),
            np.array([index[a] for a in args], dtype=np.int64))


def run(problem: CompiledProblem, params, var: list[str],
        factors: dict[str, tuple[str, ...]], lo: np.ndarray, hi: np.ndarray,
        x0s: list[np.ndarray], max_nfev: int, *, ftol: float = 1e-8, xtol: float = 1e-8,
        gtol: float = 1e-8, max_iter: int = 10000):
    """Every start through the core.

    Returns
    -------
    found : list
        Per start an :class:`Outcome`, :class:`Aborted` or a ValueError (a non-finite
        residual at the start or in a Jacobian), as
        :func:`~sescreen.dcpol.marquardt.marquardt_many` returns them.
    count : list of int
        Evaluations spent per start (Jacobian columns count one each).
    best : list of [x or None, cost]
        The lowest-cost point each start evaluated and its f.f.
    """
    k, nv, nb = len(x0s), len(var), problem.y.size
    full = 0 if problem.whiten.ndim == 1 else \
        2 if not np.triu(problem.whiten, 1).any() else 1  # 2: lower triangular
    x_out = np.empty(k * nv)
    jac = np.empty(k * nb * nv)
    status = np.empty(k, dtype=np.int64)
    count = np.empty(k, dtype=np.int64)
    best_x = np.empty(k * nv)
    has_best = np.empty(k, dtype=np.int64)
    cost = np.empty(k)
    best_cost = np.empty(k)
    program = _program(params, var, factors, problem.args)
    _lmcore.fit_many(CORE_MODELS[problem.model], full, nb, len(params), nv,
                     len(problem.args), k, int(max_nfev), ftol, xtol, gtol, int(max_iter),
                     _f64(problem.nodes), _f64(problem.weights), _f64(problem.y),
                     _f64(problem.whiten), *program, _f64(lo), _f64(hi),
                     _f64(np.concatenate(x0s)), x_out, jac, status, count, best_x, has_best,
                     cost, best_cost)
    found: list = []
    best: list[list] = []
    for s in range(k):
        code = int(status[s])
        if code in (_CONVERGED, _UNCONVERGED):
            found.append(Outcome(x_out[s * nv:(s + 1) * nv].copy(),
                                 jac[s * nb * nv:(s + 1) * nb * nv].reshape(nb, nv),
                                 code == _CONVERGED, float(cost[s])))
        elif code == _ABORTED:
            found.append(Aborted())
        else:
            found.append(ValueError("the residual is not finite (NaN or inf)"))
        best.append([best_x[s * nv:(s + 1) * nv].copy() if has_best[s] else None,
                     float(best_cost[s])])
    return found, [int(c) for c in count], best


def second_difference_sums(y: np.ndarray, run_lo: np.ndarray, run_hi: np.ndarray,
                           limit2: float) -> tuple[float, np.ndarray, np.ndarray]:
    """The squared second differences of ``y`` (:func:`sescreen.dcpol.record._square_sums`)
    in one compiled pass: their sum (compensated), their sums over the runs
    ``[run_lo, run_hi)`` of second-difference indices, and the indices whose square exceeds
    ``limit2``."""
    in_bin = np.zeros(len(run_lo))
    total, far = _lmcore.second_difference_sums(
        _f64(y), np.ascontiguousarray(run_lo, dtype=np.int64),
        np.ascontiguousarray(run_hi, dtype=np.int64), float(limit2), in_bin)
    return total, in_bin, np.frombuffer(far, dtype=np.int64)


def segment_sums(x: np.ndarray, b1: np.ndarray, b2: np.ndarray) -> list[np.ndarray]:
    """Sums of ``x`` between consecutive boundaries of two strictly increasing index sets
    (the last segment of each to the end), as ``numpy.add.reduceat`` gives them, in one
    compiled pass."""
    out1, out2 = np.empty(len(b1)), np.empty(len(b2))
    _lmcore.segment_sums(_f64(x), np.ascontiguousarray(b1, dtype=np.int64),
                         np.ascontiguousarray(b2, dtype=np.int64), out1, out2)
    return [out1, out2]



def project(gram: np.ndarray, rhs: np.ndarray, scale: np.ndarray, combos: np.ndarray,
            lo: np.ndarray, hi: np.ndarray, yy: float, ridge: float,
            coef: np.ndarray) -> int:
    """The variable projection of :func:`sescreen.dcpol.grid._project` compiled: for every
    row of ``combos`` the clipped least-squares amplitudes from the normalized Gram matrix
    (plus ``ridge``) and their chi-square; the index of the least, its amplitudes written to
    ``coef``."""
    k = combos.shape[1]
    return _lmcore.project(_f64(gram), _f64(rhs), _f64(scale),
                           np.ascontiguousarray(combos, dtype=np.int64), k,
                           _f64(np.broadcast_to(lo, (k,))), _f64(np.broadcast_to(hi, (k,))),
                           yy, ridge, coef)


def second_differences_at(y: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The second differences (y[k+2] - y[k+1]) - (y[k+1] - y[k]) at the indices ``at``
    (each in 0 .. len(y) - 3), compiled: one loop instead of three gathers."""
    out = np.empty(len(at))
    _lmcore.second_differences_at(_f64(y), np.ascontiguousarray(at, dtype=np.int64), out)
    return out


"""Global starting points of the transient fits: variable projection on a grid.

Every candidate of :mod:`sescreen.transients` is linear in its amplitudes (``i_ss``,
``a_k``, ``i_inf``) once its nonlinear parameters (time constants, the stretching and
power exponents, ``tau_D``) are fixed. For a grid of the nonlinear parameters over their
whole bounds, the amplitudes that minimize a weighted chi-square (:func:`grid_weights`)
follow from a small linear least-squares problem (variable projection: Golub and
Pereyra, SIAM J. Numer. Anal. 10, 413 (1973)); all grid points are solved at once from
one Gram matrix of the bin-averaged basis functions. The best grid point starts the nonlinear fit
(:func:`sescreen.dcpol.candidates.fit_model`, beside the model's first guess): a search
over every decade of time constants, whose nonlinear refinement needs a few dozen
evaluations where a guess may need hundreds, and which finds basins a guess misses (a
charging spike far shorter than the slow mode, say).

Amplitudes outside their bounds (a negative exponential amplitude, say) are clipped and the
chi-square of the clipped point is used, so the chosen start is always feasible.
"""

from __future__ import annotations

import math

import numpy as np

from sescreen.dcpol import core
from sescreen.dcpol.binning import Binned
from sescreen.parameters import Params
from sescreen.transients import exp1, power, stoich_limit

__all__ = ["GRID_MODELS", "grid_start"]

_PER_DECADE = 4  # time constants per decade (ratio 1.78: neighbours are valid exp2 pairs)
_EXP3_PER_DECADE = 2.5  # three time constants: a coarser grid (C(n, 3) combinations)
_BETAS = np.linspace(0.2, 1.0, 9)  # stretching exponents (bounds 0.1 .. 1)
_POWERS = np.geomspace(0.05, 3.0, 16)  # power-law exponents (bounds 0.05 .. 3)
_RIDGE = 1e-10  # relative, on the normalized Gram matrix: never singular
_RELATIVE_FLOOR = 0.02  # of the current: no decade (a charging spike) dominates the grid
_MIN_RATIO = 1.5  # tau_j / tau_(j-1) of the exponential sums (start_params' bound r_j)

#: Models with a grid start (the general ``stoich`` series keeps its guesses).
GRID_MODELS = frozenset({"exp1", "exp2", "exp3", "stretched", "power", "exp1_power",
                         "stoich_limit", "stoich_rc"})


def _log_grid(lo: float, hi: float, per_decade: float) -> np.ndarray:
    """Log-spaced values from lo to hi (both > 0), ``per_decade`` per decade."""
    n = max(2, math.ceil(math.log10(hi / lo) * per_decade) + 1)
    return np.geomspace(lo, hi, n)


def _columns(b: Binned, func, **grids) -> np.ndarray:
    """Bin averages of ``func(t, **values)`` for every value of the arrays among
    ``grids`` (a model with its constant at 0 and its amplitude at 1: one basis
    function per grid point): (k, n_bins)."""
    with np.errstate(under="ignore"):
        return b.average(func, **{k: (np.asarray(v)[:, None] if np.ndim(v) else v)
                                  for k, v in grids.items()})


def _stretched_decay(t, tau, beta):
    """exp(-(t / tau)^beta), the decay of :func:`sescreen.transients.stretched`, through
    logarithms: two vectorized exponentials instead of a power (a third of the time for the
    grid's few hundred columns; the same values to rounding)."""
    with np.errstate(divide="ignore", over="ignore"):
        return np.exp(-np.exp(beta * (np.log(np.maximum(t, 0.0)) - np.log(tau))))


def _memo(b: Binned, key: tuple, make):
    """``make()`` once per set of bins and ``key`` (:attr:`Binned.memo`): the candidates
    share their time-constant grids."""
    if key not in b.memo:
        b.memo[key] = make()
    return b.memo[key]


def _decays(b: Binned, tau, per_decade: float = _PER_DECADE):
    """A log grid over the bounds of the time constant ``tau`` (a Param) and the bin
    averages of exp(-t / tau) at each: (taus, columns)."""
    def make():
        taus = _log_grid(tau.min, tau.max, per_decade)
        return taus, _columns(b, exp1, i_ss=0.0, a1=1.0, tau1=taus)

    return _memo(b, ("exp", float(tau.min), float(tau.max), per_decade), make)


def _pairs(first: int, n_first: int, second: int, n_second: int) -> np.ndarray:
    """Every (first + i, second + j), i outer: the combinations of two families."""
    i, j = np.meshgrid(np.arange(n_first), np.arange(n_second), indexing="ij")
    return np.column_stack([first + i.ravel(), second + j.ravel()])


def _ordered_tuples(taus: np.ndarray, k: int, r_hi: float) -> np.ndarray:
    """Indices (n, k) of every k time constants of ``taus`` in increasing order whose
    neighbours differ by a factor from 1.5 to ``r_hi`` (the bounds of r_j)."""
    ratio = taus[None, :] / taus[:, None]
    ok = (ratio >= _MIN_RATIO) & (ratio <= r_hi)  # ok[i, j]: tau_j may follow tau_i
    n = taus.size
    mask = np.ones((n,) * k, bool)
    for j in range(k - 1):
        shape = [1] * k
        shape[j], shape[j + 1] = n, n
        mask &= ok.reshape(shape)
    return np.argwhere(mask)


def _families(name: str, b: Binned, template: Params):
    """The basis columns of a model and the nonlinear value each column stands for.

    Returns
    -------
    columns : array (n_columns, n_bins)
    labels : list of dict
        The nonlinear parameter values of each column (empty for the constant).
    combos : array of int (n_combos, n_linear)
        Column indices of every grid point, in the order of ``amplitudes``.
    amplitudes : tuple of str
        The linear parameters, one per column of a combination.
    """
    ones = np.ones((1, b.t.size))
    if name in ("exp1", "exp2", "exp3"):
        k = int(name[-1])
        taus, decays = _decays(b, template["tau1"], _PER_DECADE if k < 3 else _EXP3_PER_DECADE)
        cols = np.vstack([ones, decays])
        labels = [{}] + [{"tau": float(x)} for x in taus]
        r_hi = template["r2"].max if k > 1 else math.inf
        combos = _ordered_tuples(taus, k, r_hi)
        combos = np.hstack([np.zeros((combos.shape[0], 1), int), 1 + combos])
        return cols, labels, combos, ("i_ss", *(f"a{j}" for j in range(1, k + 1)))
    if name == "stretched":
        p = template["tau"]
        taus = _log_grid(p.min, p.max, _PER_DECADE)
        betas = _BETAS[(_BETAS >= template["beta"].min) & (_BETAS <= template["beta"].max)]
        tt, bb = np.meshgrid(taus, betas, indexing="ij")
        tt, bb = tt.ravel(), bb.ravel()
        cols = np.vstack([ones, _columns(b, _stretched_decay, tau=tt, beta=bb)])
        labels = [{}] + [{"tau": float(a), "beta": float(c)} for a, c in zip(tt, bb, strict=True)]
        return cols, labels, _pairs(0, 1, 1, tt.size), ("i_ss", "a")
    if name in ("power", "exp1_power"):
        t_ref = template["t_ref"].value
        pw = _POWERS[(_POWERS >= template["p"].min) & (_POWERS <= template["p"].max)]
        cols = [ones, _columns(b, power, i_ss=0.0, a=1.0, p=pw, t_ref=t_ref)]
        labels = [{}] + [{"p": float(x)} for x in pw]
        if name == "power":
            return np.vstack(cols), labels, _pairs(0, 1, 1, pw.size), ("i_ss", "a")
        taus, decays = _decays(b, template["tau1"])
        cols.append(decays)
        labels += [{"tau1": float(x)} for x in taus]
        combos = np.hstack([np.zeros((taus.size * pw.size, 1), int),
                            _pairs(1 + pw.size, taus.size, 1, pw.size)])
        return np.vstack(cols), labels, combos, ("i_ss", "a1", "a")
    if name in ("stoich_limit", "stoich_rc"):
        pd_ = template["tau_d"]

        def make():
            grid = _log_grid(pd_.min, pd_.max, _PER_DECADE)
            return grid, _columns(b, stoich_limit, i_inf=1.0, tau_d=grid)

        tds, theta = _memo(b, ("theta", float(pd_.min), float(pd_.max)), make)
        cols = [theta]
        labels = [{"tau_d": float(x)} for x in tds]
        if name == "stoich_limit":
            return cols[0], labels, np.arange(tds.size)[:, None], ("i_inf",)
        taus, decays = _decays(b, template["tau1"])
        cols.append(decays)
        labels += [{"tau1": float(x)} for x in taus]
        return np.vstack(cols), labels, _pairs(0, tds.size, tds.size, taus.size), \
            ("i_inf", "a1")
    raise KeyError(name)


def _project(columns: np.ndarray, y: np.ndarray, weights: np.ndarray, combos: np.ndarray,
             lo: np.ndarray, hi: np.ndarray) -> tuple[int, np.ndarray]:
    """The grid point of least weighted chi-square and its amplitudes.

    Parameters
    ----------
    columns : array (n_columns, n_bins)
        Bin-averaged basis functions.
    y, weights : array (n_bins,)
        Bin means and the weight of each (1 / its standard deviation).
    combos : array of int (n_combos, n_linear)
    lo, hi : array (n_linear,)
        Bounds of the amplitudes.
    """
    cw = columns * weights  # w phi for every column
    yw = y * weights
    scale = np.sqrt(np.maximum(np.einsum("ij,ij->i", cw, cw), 1e-300))
    cn = cw / scale[:, None]
    gram = cn @ cn.T
    rhs = cn @ yw
    if core.available() and combos.shape[1] <= core.MAX_VARYING:  # compiled, same numbers
        coef = np.empty(combos.shape[1])
        best = core.project(gram, rhs, scale, combos, lo, hi, float(yw @ yw), _RIDGE, coef)
        return best, coef
    a = gram[combos[:, :, None], combos[:, None, :]]
    r = rhs[combos]
    ridge = _RIDGE * np.eye(combos.shape[1])
    with np.errstate(all="ignore"):
        coef = np.linalg.solve(a + ridge, r[..., None])[..., 0] / scale[combos]
        coef = np.clip(np.nan_to_num(coef, nan=0.0), lo, hi)
        c = coef * scale[combos]
        chi2 = yw @ yw - 2.0 * np.einsum("gi,gi->g", c, r) \
            + np.einsum("gi,gij,gj->g", c, a, c)
    chi2 = np.where(np.isfinite(chi2), chi2, np.inf)
    best = int(np.argmin(chi2))
    return best, coef[best]


def grid_weights(b: Binned) -> np.ndarray:
    """The grid's weights: 1 / sqrt(sem^2 + (0.02 y)^2) per bin.

    The white standard errors alone would let the most precise decade (a charging spike
    of 10^4 I_ss) decide the grid point; a floor of 2 % of the current makes every decade
    count, so the start has each component where it belongs (the fit then weighs them
    properly).
    """
    return 1.0 / np.sqrt(b.sem**2 + (_RELATIVE_FLOOR * b.y) ** 2)


def grid_start(name: str, b: Binned, template: Params) -> Params | None:
    """The best grid point of a model as a starting point (None for a model without a
    grid, or when no grid point is finite).

    Parameters
    ----------
    name : str
        A model of :data:`GRID_MODELS`.
    b : Binned
        The bins (scaled units).
    template : Params
        Bounds, fixed values and constraints (:func:`sescreen.transients.start_params`);
        not modified.
    """
    if name not in GRID_MODELS or b.t.size < 3:
        return None
    columns, labels, combos, amps = _families(name, b, template)
    if combos.size == 0:
        return None
    lo = np.array([template[n].min for n in amps])
    hi = np.array([template[n].max for n in amps])
    best, coef = _project(columns, b.y, grid_weights(b), combos, lo, hi)
    if not np.all(np.isfinite(coef)):
        return None
    out = template.copy()
    for n, v in zip(amps, coef, strict=True):
        out[n].set(value=float(v))
    nonlinear = [labels[j] for j in combos[best] if labels[j]]
    if name in ("exp1", "exp2", "exp3"):
        taus = [d["tau"] for d in nonlinear]
        out["tau1"].set(value=taus[0])
        for j in range(2, len(taus) + 1):
            out[f"r{j}"].set(value=taus[j - 1] / taus[j - 2])
    else:
        for d in nonlinear:
            for k, v in d.items():
                out[k].set(value=v)
    return out

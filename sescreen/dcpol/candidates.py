"""Fitting one candidate transient to the log-time bins by generalized least squares, and
what the hold can identify of it.

Each model of :mod:`sescreen.transients` is fitted to the bin means against its bin
averages, with the residuals whitened by the noise model (:mod:`sescreen.dcpol.noise`),
from several starting points. A fit whose slowest time constant exceeds the hold, or
whose power-law exponent sits at its lower bound, does not identify I_ss: the data then
constrain I_ss + a (the level) and a / tau (the slope) but not I_ss itself
(METHODS.md section 6). Such a candidate is kept for the record but not allowed to move
I_ss.
"""

from __future__ import annotations

import math
import warnings as _warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from sescreen.dcpol.binning import Binned
from sescreen.dcpol.core import CORE_MODELS, CompiledProblem
from sescreen.dcpol.grid import grid_start
from sescreen.dcpol.lsq import MODEL_ERRORS, least_squares_many
from sescreen.dcpol.noise import NoiseModel
from sescreen.serialize import json_safe
from sescreen.transients import (
    BROADCAST,
    FIXED,
    MODELS,
    arg_names,
    start_params,
    transient_part,
)

__all__ = ["Candidate", "ModelFit", "fit_model", "late_redchi", "profile_interval"]

_MAX_NFEV = 1500  # per start: a degenerate over-parameterized fit stops instead of crawling
_PROFILE_NFEV = 300  # per round of a profile refit (it starts from a neighbouring point)
_PROFILE_ROUNDS = 10  # rounds before an unconverged profile refit is taken as it stands
_GRID_GAIN = 1.0  # chi-square by which a grid start must beat the guess to replace it
_STOICH_IDENTIFIABLE = 3.0  # rigid shape: the slowest mode may exceed the hold this much


def is_current(name: str) -> bool:
    """True for parameters in current units (scaled by the fit's current scale)."""
    return name in {"i_ss", "i_inf", "a", "a1", "a2", "a3"}


@dataclass(frozen=True)
class ModelFit:
    """One model fitted to one record, in scaled units."""

    model: str
    result: Any  #: :class:`~sescreen.dcpol.lsq.LeastSquaresResult`
    n_params: int  #: free parameters
    n_bins: int

    @property
    def values(self) -> dict[str, float]:
        v = self.result.params.valuesdict()
        return {k: v[k] for k in arg_names(self.model)}

    @property
    def i_ss(self) -> float:
        return float(self.result.params[MODELS[self.model][1]].value)

    @property
    def i_ss_stderr(self) -> float | None:
        e = self.result.params[MODELS[self.model][1]].stderr
        return None if e is None or not np.isfinite(e) else float(e)

    @property
    def chisqr(self) -> float:
        return float(self.result.chisqr)

    @property
    def redchi(self) -> float:
        dof = self.n_bins - self.n_params
        return self.chisqr / dof if dof > 0 else math.inf

    def predict(self, t) -> np.ndarray:
        """Model current at times t (s since the step), scaled units."""
        return MODELS[self.model][0](np.asarray(t, dtype=float), **self.values)

    def remaining(self, t: float) -> float:
        """Fitted transient left at time t as a fraction of I_ss."""
        if self.i_ss == 0:
            return math.inf
        return float(transient_part(self.model, [t], self.values)[0]) / self.i_ss

    def slowest_time(self) -> float | None:
        """The slowest time constant of the model, s (None for a power law)."""
        v = self.values
        if self.model in ("exp1", "exp2", "exp3"):
            return max(v[f"tau{j}"] for j in range(1, int(self.model[-1]) + 1))
        if self.model == "stretched":
            return v["tau"]
        if self.model in ("stoich", "stoich_limit", "stoich_rc"):
            return v["tau_d"] / (4 * math.pi**2)
        return None

    def fastest_time(self) -> float | None:
        v = self.values
        if self.model in ("exp1", "exp2", "exp3", "exp1_power", "stoich_rc"):
            if self.model in ("exp1_power", "stoich_rc"):
                return v["tau1"]
            return min(v[f"tau{j}"] for j in range(1, int(self.model[-1]) + 1))
        return None

    def unidentified(self, t_hold: float) -> str | None:
        """Why this fit cannot pin I_ss down, or None when it can."""
        slow = self.slowest_time()
        if self.model in ("stoich", "stoich_limit", "stoich_rc"):
            if slow is not None and slow > _STOICH_IDENTIFIABLE * t_hold:
                return (f"its slowest mode ({slow:.3g} s) is far longer than the hold "
                        f"({t_hold:.3g} s)")
        elif slow is not None and slow > t_hold:
            return f"its slowest time constant ({slow:.3g} s) exceeds the hold ({t_hold:.3g} s)"
        if self.model.endswith("power"):
            p = self.result.params["p"]
            if p.value <= p.min * 1.01:
                return "its power-law exponent sits at the lower bound (a tail slower than " \
                    "any power law)"
        return None


@dataclass(frozen=True)
class Candidate:
    """One model's fit, for model comparison and averaging (currents in A)."""

    model: str
    aicc: float  #: QAICc (chi-square divided by the overdispersion c-hat), up to a constant
    bic: float
    chisqr: float
    redchi: float
    n_params: int
    i_ss: float
    i_ss_stderr: float | None
    success: bool
    identified: bool = True
    why_unidentified: str | None = None
    weight: float = 0.0  #: Akaike weight among the identified candidates
    interval: tuple[float, float] | None = None  #: 95 % interval of I_ss, A

    def to_dict(self) -> dict[str, Any]:
        return json_safe(dict(self.__dict__))


def minimize_many(name: str, b: Binned, noise: NoiseModel, starts, *,
                  max_nfev: int = _MAX_NFEV, errors: bool = True) -> list:
    """Generalized least squares of the bin means against the model's bin averages, from
    each of ``starts`` (:class:`~sescreen.parameters.Params` of one layout, in lockstep):
    a :class:`~sescreen.dcpol.lsq.LeastSquaresResult` per start, None where the optimizer
    failed."""
    func = MODELS[name][0]
    args = arg_names(name)
    whiten = noise.whitener
    scale = np.diagonal(whiten)
    correlated = np.count_nonzero(whiten) > scale.size
    if correlated:  # correlated noise: a triangular whitener
        def residual(v):
            return whiten @ (b.average(func, **{k: v[k] for k in args}) - b.y)

        def rows(v):
            return (b.average(func, **{k: v[k] for k in args}) - b.y) @ whiten.T
    else:  # white noise: a diagonal one, the same numbers without the matrix product
        def residual(v):
            return (b.average(func, **{k: v[k] for k in args}) - b.y) * scale

        rows = residual
    compiled = None if name not in CORE_MODELS else CompiledProblem(
        name, args, b.nodes, b.weights, b.y, whiten if correlated else scale)
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")
        found = least_squares_many(residual, starts, max_nfev=max_nfev,
                                   rows=rows if name in BROADCAST else None,
                                   compiled=compiled, errors=errors)
    out = []
    for res in found:
        if isinstance(res, MODEL_ERRORS):
            res = None
        elif isinstance(res, BaseException):
            raise res
        out.append(res if res is not None and np.isfinite(res.chisqr) else None)
    return out


def minimize(name: str, b: Binned, noise: NoiseModel, params, *, max_nfev: int = _MAX_NFEV):
    """:func:`minimize_many` from one start."""
    return minimize_many(name, b, noise, [params], max_nfev=max_nfev)[0]


def n_free(params) -> int:
    """Free parameters: varying and not tied by an expression."""
    return sum(1 for p in params.values() if p.vary and p.expr is None
               and p.name not in FIXED)


def fit_model(name: str, b: Binned, noise: NoiseModel, *, start=None,
              polish: bool = False, max_nfev: int = _MAX_NFEV,
              errors: bool = True) -> ModelFit | None:
    """Best of several starting points for one model (or one given start).

    Parameters
    ----------
    name : str
        A model of :data:`sescreen.transients.MODELS`.
    b, noise : Binned, NoiseModel
        The bins and their covariance.
    start : Params, optional
        Start from these (a refit under a new noise model) instead of the guesses.
    polish : bool
        Continue a fit that stopped at the evaluation cap or gave no covariance.
    max_nfev : int
        Evaluation cap per start (a first, white-noise pass needs only a rough optimum).
    errors : bool
        Standard errors of the parameters (False for a pass that only finds starts).
    """
    if start is not None:
        starts = [(start, 0.0)]
    else:
        guesses = start_params(name, b.t, b.y)
        grid = grid_start(name, b, guesses[0])
        # the grid start replaces the first guess's fit only when it fits significantly
        # better: along a flat valley of the likelihood (tau_D of a hold in the t^-1/2
        # regime) either optimum is as good, and the guess's is the tested behaviour
        starts = [(g, 0.0) for g in guesses] + ([] if grid is None else [(grid, _GRID_GAIN)])
    best = None
    found = minimize_many(name, b, noise, [p for p, _ in starts], max_nfev=max_nfev,
                          errors=errors)
    for res, (_, gain) in zip(found, starts, strict=True):
        if res is not None and (best is None or res.chisqr < best.chisqr - gain):
            best = res
    if best is None:
        return None
    if polish and not (best.success and best.params[MODELS[name][1]].stderr is not None):
        more = minimize(name, b, noise, best.params, max_nfev=20 * _MAX_NFEV)
        if more is not None and more.chisqr <= best.chisqr * (1 + 1e-9):
            best = more
    k = n_free(best.params)
    if len(b.t) - k - 1 <= 0:
        return None
    return ModelFit(name, best, k, len(b.t))


def late_redchi(fit: ModelFit, b: Binned, noise: NoiseModel) -> float:
    """Reduced chi-square of the bins in the last half of the hold (at least 4).

    The asymptote rests on the late record: a model that misfits the early, fast part of a
    broad decay but describes the late part is not penalised in the interval of I_ss for
    it (the misfit still counts in the model comparison), while a late misfit inflates it.
    """
    keep = b.t >= 0.5 * b.t[-1]
    if keep.sum() < 4:
        keep = np.zeros(b.t.size, bool)
        keep[-min(4, b.t.size):] = True
    r = (b.y - b.average(MODELS[fit.model][0], **fit.values))[keep]
    w = noise.subset(keep).whitener @ r
    return float(w @ w) / max(int(keep.sum()) - 2, 1)


def profile_interval(fit: ModelFit, b: Binned, noise: NoiseModel, *, c_hat: float = 1.0,
                     level: float = 0.95) -> tuple[float, float, bool]:
    """Profile-likelihood interval of the asymptote (scaled units).

    I_ss is fixed on a bracket and the other parameters refitted; the interval is where
    chi-square rises by less than the ``level`` point of chi-square(1) times the
    overdispersion ``c_hat``. It follows the real, often one-sided, shape of the
    likelihood of an extrapolation.

    Returns
    -------
    (lo, hi, lower_open)
        ``lower_open`` is True when the interval reaches I_ss = 0 (an upper bound only).
    """
    from scipy.special import chdtri

    res = fit.result
    ss = MODELS[fit.model][1]
    est = float(res.params[ss].value)
    crit = float(chdtri(1, 1.0 - level)) * max(1.0, c_hat)

    profiled = {est: res.params}  # I_ss -> the refitted parameters there

    def excess(v: float) -> float:
        """Chi-square rise at I_ss = v minus the critical value. The refit starts from
        the nearest point already profiled (continuation) and goes on until it
        converges (up to _PROFILE_ROUNDS caps): an unconverged refit overstates the rise
        and would make the interval too narrow."""
        p = profiled[min(profiled, key=lambda u: abs(u - v))].copy()
        p[ss].set(value=v, min=-np.inf, max=np.inf, vary=False)
        r = minimize(fit.model, b, noise, p, max_nfev=_PROFILE_NFEV)
        for _ in range(_PROFILE_ROUNDS - 1):
            if r is None or r.success:
                break
            more = minimize(fit.model, b, noise, r.params, max_nfev=_PROFILE_NFEV)
            if more is None or more.chisqr >= r.chisqr:
                break
            r = more
        if r is None:
            return math.inf
        profiled[v] = r.params
        return r.chisqr - res.chisqr - crit

    def crossing(inside: float, outside: float) -> float:
        for _ in range(10):  # bracket / 1024
            mid = 0.5 * (inside + outside)
            inside, outside = (mid, outside) if excess(mid) < 0 else (inside, mid)
        return 0.5 * (inside + outside)

    lower_open = excess(0.0) < 0
    lo = 0.0 if lower_open else crossing(est, 0.0)
    step = max(abs(est) * 0.05, (res.params[ss].stderr or abs(est) * 0.05))
    hi_out = est + step
    for _ in range(40):
        if excess(hi_out) >= 0:
            break
        step *= 2
        hi_out = est + step
    hi = crossing(est, hi_out)
    return lo, hi, lower_open

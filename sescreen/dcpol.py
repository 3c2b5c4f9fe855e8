"""DC polarization on an ion-blocking cell: current decay -> steady state -> sigma_e.

A constant voltage V on Cu | SE | Cu (or Au, Mo, Pt) drives a current that decays to a
steady state carried by electrons only (Han et al. 2019; METHODS.md section 1):

    sigma_e = I_ss * L / (V * A)        S/cm, I in A, L in cm, A in cm^2, V in V     (1)

Holds last hours to days and are often stopped before steady state, so I_ss is the
asymptote of a fitted transient (:mod:`sescreen.transients`), with its standard error,
rather than the mean of the last points. The fit:

1. drops the charging spike: the sample taken at the step and any leading sample more than
   10x above the next (an RC discontinuity no diffusion transient produces at this
   sampling), or everything before ``skip_s``;
2. resamples in log-time: bin means with per-bin standard errors (noise from second
   differences, so the trend inside a bin does not inflate it), so 10^6 points fit in
   milliseconds and every decade of time weighs alike;
3. fits each candidate model by weighted least squares (lmfit, bounded, several starts;
   errors inflated by sqrt(reduced chi-square) when it exceeds 1, never shrunk) and picks
   the lowest AICc (``model="auto"``), reporting the runners-up;
4. reports the remaining transient at the end of the hold as a fraction of I_ss, whether
   steady state was reached (remaining transient <= 1 % of I_ss), and when it would be.

A two-blocking-electrode value is an upper bound of sigma_e, not the Hebb-Wagner value
(:mod:`sescreen.hebb_wagner`); the cell type is stored with every sigma_e.
"""

from __future__ import annotations

import functools
import math
import warnings as _warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sescreen.errors import FitError, InputError
from sescreen.io.measurement import Measurement, Technique
from sescreen.serialize import json_safe
from sescreen.transients import MODELS, make_model, transient_part

__all__ = [
    "AUTO_MODELS",
    "MODEL_CHOICES",
    "Binned",
    "Candidate",
    "DCPolarizationResult",
    "SteadyStateCriterion",
    "VoltageSeriesResult",
    "fit_dcpol",
    "fit_dcpol_series",
    "fit_transient",
    "fit_voltage_series",
    "holds",
    "log_bin",
    "noise_sigma",
    "sigma_from_current",
]

#: Candidates of ``model="auto"``.
AUTO_MODELS = ("exp1", "exp2", "exp3", "stretched", "stoich_limit")
#: User-facing model names (``stoich`` is the general sigma_e/sigma_i series).
MODEL_CHOICES = ("auto", *MODELS)


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
    """

    max_remaining: float = 0.01
    tail_fraction: float = 0.10
    tail_tolerance: float = 0.02


# ---------------------------------------------------------------------------------------
# Log-time resampling
# ---------------------------------------------------------------------------------------
_NOISE_PRIOR = 30
_MAX_NFEV = 1500  # per start: a degenerate over-parameterized fit stops instead of crawling
_POOR_FIT_REDCHI = 25.0  # beyond this the model does not describe the record
_PROFILE_NFEV = 300  # refits of the profile start at the optimum: a few steps suffice


_GL_X = np.array([-math.sqrt(0.6), 0.0, math.sqrt(0.6)])  # 3-point Gauss-Legendre
_GL_W = np.array([5.0, 8.0, 5.0]) / 18.0


@dataclass(frozen=True)
class Binned:
    """Log-time bin means of a record: t (s), y (A), sem (A), n per bin, and the interval
    [lo, hi] (s) each bin's samples cover (each sample standing for dt around it)."""

    t: np.ndarray
    y: np.ndarray
    sem: np.ndarray
    n: np.ndarray
    noise: float  #: white-noise standard deviation of one raw sample, A
    lo: np.ndarray
    hi: np.ndarray

    @functools.cached_property
    def nodes(self) -> np.ndarray:
        """Gauss-Legendre nodes in every bin, shape (n_bins, 3), s."""
        half, mid = (self.hi - self.lo) / 2.0, (self.hi + self.lo) / 2.0
        return mid[:, None] + half[:, None] * _GL_X[None, :]

    def average(self, func, **params) -> np.ndarray:
        """Bin averages of ``func(t, **params)``: what each bin mean should equal.

        Comparing a bin mean with the model at the bin's mean time would bias a fit: a
        convex decay averaged over a bin lies above its value at the mean time (Jensen),
        by about half a standard error per late bin on stopped holds.
        """
        nodes = self.nodes
        return func(nodes.ravel(), **params).reshape(nodes.shape) @ _GL_W


def noise_sigma(y: np.ndarray) -> float:
    """Standard deviation of the sample noise from second differences.

    The second difference y[k+1] - 2 y[k] + y[k-1] cancels a locally linear trend (a
    steep early decay inflates first differences), and has variance 6 sigma^2 for white
    noise. It is clipped at 8 robust standard deviations (1.4826 MAD), so an isolated
    glitch does not dominate, but the heavy tails real potentiostat noise has are kept (a
    MAD estimate alone underestimates them by ~2x on ``ca.mpr``).
    """
    y = np.asarray(y, dtype=float)
    if y.size < 4:
        return float(np.std(np.diff(y)) / math.sqrt(2.0)) if y.size > 1 else 0.0
    d = y[2:] - 2.0 * y[1:-1] + y[:-2]
    center = np.median(d)
    robust = 1.4826 * np.median(np.abs(d - center))
    if robust > 0:
        d = np.clip(d, center - 8 * robust, center + 8 * robust)
    return float(np.std(d) / math.sqrt(6.0))


def log_bin(t: np.ndarray, y: np.ndarray, *, per_decade: int = 20,
            max_bins: int = 160) -> Binned:
    """Resample a record into log-spaced time bins.

    Parameters
    ----------
    t : array
        Time since the step, s, increasing, > 0.
    y : array
        Current, A.
    per_decade : int
        Bins per decade of time.
    max_bins : int
        Upper bound on the number of bins.

    Returns
    -------
    Binned
        Mean time and current of every non-empty bin, the standard error of each mean
        (sigma / sqrt(n), sigma from the second differences inside the bin pooled with
        those of the whole record), and the count.
    """
    t = np.asarray(t, dtype=float)
    y = np.asarray(y, dtype=float)
    sigma = noise_sigma(y)
    decades = max(math.log10(t[-1] / t[0]), 1e-9) if t[0] > 0 else 1.0
    nb = int(np.clip(math.ceil(decades * per_decade), 8, max_bins))
    edges = np.geomspace(t[0], t[-1] * (1 + 1e-12), nb + 1)
    idx = np.clip(np.searchsorted(edges, t, side="right") - 1, 0, nb - 1)
    n = np.bincount(idx, minlength=nb).astype(float)
    keep = n > 0
    tm = np.bincount(idx, t, nb)[keep] / n[keep]
    ym = np.bincount(idx, y, nb)[keep] / n[keep]
    # Local noise from second differences inside each bin (all three samples in the bin).
    d = y[2:] - 2.0 * y[1:-1] + y[:-2] if len(y) > 2 else np.zeros(0)
    same = (idx[2:] == idx[1:-1]) & (idx[1:-1] == idx[:-2])
    mid = idx[1:-1][same]
    nd = np.bincount(mid, minlength=nb).astype(float)
    var_local = np.bincount(mid, d[same] ** 2, nb) / np.maximum(nd, 1) / 6.0
    # The record's noise: median of the local estimates of well-filled bins (a few early
    # bins where the decay curves within three samples do not bias it), else all samples.
    filled = nd >= 8
    if filled.sum() >= 3:
        sigma = float(np.sqrt(np.median(var_local[filled])))
    # Shrink toward the record's noise: a bin's own estimate counts as much as
    # _NOISE_PRIOR differences of the whole record (stable for small bins, and still
    # follows real changes of noise, e.g. current-range switches, in large ones).
    local = np.sqrt((nd * var_local + _NOISE_PRIOR * sigma**2) / (nd + _NOISE_PRIOR))[keep]
    floor = 1e-7 * np.maximum(np.abs(ym), np.abs(ym).max() * 1e-3) + 1e-30
    sem = np.maximum(local / np.sqrt(n[keep]), floor)
    # Interval covered by each bin's samples (bins hold contiguous samples: t is sorted).
    first = np.flatnonzero(np.r_[True, idx[1:] != idx[:-1]])
    last = np.r_[first[1:], len(t)] - 1
    cnt = last - first + 1
    step = np.where(cnt > 1, (t[last] - t[first]) / np.maximum(cnt - 1, 1), 0.0)
    lo = np.maximum(t[first] - step / 2, t[first] * 0.5)
    hi = t[last] + step / 2
    return Binned(tm, ym, sem, n[keep], sigma, lo, hi)


# ---------------------------------------------------------------------------------------
# Fitting one transient
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Candidate:
    """One model's fit, for model comparison."""

    model: str
    aicc: float
    bic: float
    chisqr: float
    redchi: float
    n_params: int
    i_ss: float
    i_ss_stderr: float | None
    success: bool

    def to_dict(self) -> dict[str, Any]:
        return json_safe(dict(self.__dict__))


def _aicc(chisqr: float, n: int, k: int) -> float:
    """Akaike criterion with the small-sample correction (weighted chi-square)."""
    aic = chisqr + 2 * k  # up to a constant shared by all models on the same data
    return aic + (2 * k * (k + 1) / (n - k - 1) if n - k - 1 > 0 else math.inf)


def _minimize(name: str, binned: Binned, params, *, max_nfev: int = _MAX_NFEV):
    """Weighted least squares of the bin means against the model's bin averages, from
    ``params`` (lmfit Parameters); None when the optimizer fails outright."""
    import lmfit

    func = MODELS[name][0]
    args = _arg_names(name)
    weights = 1.0 / binned.sem

    def residual(p):
        v = p.valuesdict()
        return (binned.average(func, **{k: v[k] for k in args}) - binned.y) * weights

    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")
        try:
            res = lmfit.minimize(residual, params, method="least_squares", max_nfev=max_nfev,
                                 scale_covar=False)
        except (ValueError, FloatingPointError, OverflowError, ZeroDivisionError):
            return None
    return res if np.isfinite(res.chisqr) else None


def _inflate(res):
    """The weights are absolute standard errors: a misfit (reduced chi-square > 1) inflates
    the parameter errors by its square root; a good fit never shrinks them."""
    if res is not None and res.redchi > 1:
        for p in res.params.values():
            if p.stderr is not None:
                p.stderr *= math.sqrt(res.redchi)
    return res


def _fit_one(name: str, binned: Binned):
    """Best of several starting points for one model."""
    _, starts = make_model(name, binned.t, binned.y)
    best = None
    for params in starts:
        res = _minimize(name, binned, params)
        if res is not None and (best is None or res.chisqr < best.chisqr):
            best = res
    return best


def _polish(name: str, binned: Binned, res):
    """A fit that stopped at the evaluation cap, or gave no covariance, continued from
    where it stopped (done for the chosen model only: it is the one reported)."""
    if res.success and res.params[MODELS[name][1]].stderr is not None:
        return res
    polished = _minimize(name, binned, res.params, max_nfev=20 * _MAX_NFEV)
    return polished if polished is not None and polished.chisqr <= res.chisqr * (1 + 1e-9) \
        else res


def _profile_interval(tf: TransientFit, level: float = 0.95) -> tuple[float, float, bool]:
    """Profile-likelihood interval of the asymptote (scaled units).

    I_ss is fixed on a bracket and the other parameters refitted; the interval is where
    chi-square rises by less than the ``level`` point of chi-square(1) (times the reduced
    chi-square when above 1). Unlike the covariance (Wald) interval it follows the real,
    often one-sided, shape of the likelihood of an extrapolation: when a hold ends in the
    t^(-1/2) regime, only an upper bound is supported.

    Returns
    -------
    (lo, hi, lower_open)
        ``lower_open`` is True when the interval reaches I_ss = 0 (an upper bound only).
    """
    from scipy import stats

    name, res, b = tf.model, tf.result, tf.binned
    ss = MODELS[name][1]
    est = float(res.params[ss].value)
    crit = float(stats.chi2.ppf(level, 1)) * max(1.0, float(res.redchi))

    def excess(v: float) -> float:
        p = res.params.copy()
        p[ss].set(value=v, min=-np.inf, max=np.inf, vary=False)
        r = _minimize(name, b, p, max_nfev=_PROFILE_NFEV)
        return (math.inf if r is None else r.chisqr - res.chisqr) - crit

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


@dataclass(frozen=True)
class TransientFit:
    """Fit of one transient in scaled units, with everything needed downstream."""

    model: str
    result: Any  # lmfit MinimizerResult (scaled units)
    scale: float  # A per scaled unit (includes the sign)
    candidates: tuple[Candidate, ...]
    binned: Binned

    @property
    def values(self) -> dict[str, float]:
        """The model's parameter values in scaled units."""
        v = self.result.params.valuesdict()
        return {k: v[k] for k in _arg_names(self.model)}

    def predict(self, t) -> np.ndarray:
        """Model current at times t (s since the step), A."""
        return MODELS[self.model][0](np.asarray(t, dtype=float), **self.values) * self.scale

    def bin_residuals(self) -> np.ndarray:
        """(bin mean - bin-averaged model) / standard error."""
        b = self.binned
        return (b.y - b.average(MODELS[self.model][0], **self.values)) / b.sem


def fit_transient(t: np.ndarray, current: np.ndarray, model: str = "auto") -> TransientFit:
    """Fit a decay I(t) (t since the step, s; current in A) with one or all models.

    Raises
    ------
    FitError
        Too few points, a flat record, or no model converged.
    """
    if model not in MODEL_CHOICES:
        raise InputError(f"unknown model {model!r}; choose one of {', '.join(MODEL_CHOICES)}")
    t = np.asarray(t, dtype=float)
    current = np.asarray(current, dtype=float)
    sign = 1.0 if np.median(current) >= 0 else -1.0
    scale = sign * max(float(np.median(np.abs(current[-max(3, len(current) // 10):]))), 1e-300)
    y = current / scale
    binned = log_bin(t, y)
    names = AUTO_MODELS if model == "auto" else (model,)
    n = len(binned.t)
    fits, cands = {}, []
    for name in names:
        k = _n_varying(name)
        if n - k - 1 <= 0:
            continue
        res = _fit_one(name, binned)
        if res is None:
            continue
        if len(names) == 1:
            res = _polish(name, binned, res)
        res = _inflate(res)
        ss = MODELS[name][1]
        p = res.params[ss]
        fits[name] = res
        cands.append(Candidate(
            name, _aicc(res.chisqr, n, k), res.chisqr + k * math.log(n), res.chisqr,
            res.redchi, k, p.value * scale,
            None if p.stderr is None else abs(p.stderr * scale), bool(res.success)))
    if not cands:
        raise FitError(f"no transient model could be fitted to {n} log-time bins "
                       f"({len(t)} points); the record is too short or too noisy")
    # AICc alone ranks the models; a fit without an error estimate is not pushed down (its
    # error is then taken from the profile likelihood or the tail, with a warning).
    cands.sort(key=lambda c: c.aicc)
    chosen = cands[0].model
    polished = _polish(chosen, binned, fits[chosen]) if len(names) > 1 else fits[chosen]
    if polished is not fits[chosen]:
        fits[chosen] = _inflate(polished)
        p = fits[chosen].params[MODELS[chosen][1]]
        cands[0] = Candidate(chosen, cands[0].aicc, cands[0].bic, cands[0].chisqr,
                             cands[0].redchi, cands[0].n_params, p.value * scale,
                             None if p.stderr is None else abs(p.stderr * scale),
                             bool(fits[chosen].success))
    return TransientFit(chosen, fits[chosen], scale, tuple(cands), binned)


def _n_varying(name: str) -> int:
    """Free parameters of a model: its arguments (tied ones such as tau2 = tau1 * r2 are
    replaced by their ratio, one for one)."""
    return len(_arg_names(name))


# ---------------------------------------------------------------------------------------
# sigma_e from a steady-state current
# ---------------------------------------------------------------------------------------
def sigma_from_current(i_ss_a: float, voltage_v: float, thickness_cm: float,
                       area_cm2: float) -> float:
    """Electronic conductivity from a steady-state current, METHODS eq. (1).

    Parameters
    ----------
    i_ss_a : float
        Steady-state current, A.
    voltage_v : float
        Applied voltage, V (sign ignored: sigma is |I| L / (|V| A)).
    thickness_cm : float
        Electrolyte thickness L, cm.
    area_cm2 : float
        Electrode area A, cm^2.

    Returns
    -------
    float
        sigma_e, S/cm.

    Examples
    --------
    >>> sigma_from_current(5.5e-9, 0.1, 0.1, 1.0)   # METHODS.md check value
    5.5e-09
    """
    if voltage_v == 0:
        raise InputError("the applied voltage is 0 V: sigma_e = I L / (V A) needs V != 0")
    if thickness_cm <= 0 or area_cm2 <= 0:
        raise InputError("thickness and area must be positive")
    return abs(i_ss_a) * thickness_cm / (abs(voltage_v) * area_cm2)


# ---------------------------------------------------------------------------------------
# The result
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DCPolarizationResult:
    """Steady-state current and electronic conductivity from one constant-voltage hold.

    Currents in A, times in s from the voltage step, sigma in S/cm.
    """

    source: str
    model: str
    cell: str
    voltage_v: float
    thickness_cm: float
    area_cm2: float
    temperature_k: float | None
    i_ss: float
    i_ss_stderr: float  #: total: fit error, plus the non-convergence drift when detected
    i_ss_stderr_fit: float  #: from the fit's covariance alone
    i_ss_ci: tuple[float, float]  #: 95 % interval, A (profile likelihood when unsettled)
    upper_bound_only: bool  #: the data bound I_ss from one side only
    sigma_e: float
    sigma_e_stderr: float
    geometry_rel_tol: float  #: relative standard uncertainty of L/A included in sigma_e
    params: dict[str, tuple[float, float | None]]
    candidates: tuple[Candidate, ...]
    t_hold: float
    t_skip: float
    remaining_fraction: float
    steady_state_reached: bool
    t_steady_estimate: float | None
    tail_mean_i: float
    tail_mean_stderr: float
    redchi: float
    n_points: int
    warnings: tuple[str, ...] = ()
    criterion: SteadyStateCriterion = field(default_factory=SteadyStateCriterion)
    _fit: TransientFit | None = field(default=None, repr=False, compare=False)
    _raw: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False, compare=False)

    @property
    def i_ss_interval(self) -> tuple[float, float]:
        """95 % interval of I_ss, A: normal; for an unsettled hold widened to the profile-
        likelihood interval; cut at 0 (the fit keeps I_ss on the side of the decay)."""
        return self.i_ss_ci

    @property
    def sigma_e_interval(self) -> tuple[float, float]:
        """95 % interval of sigma_e, S/cm (from the I_ss interval; geometry not included)."""
        lo, hi = sorted(abs(v) for v in self.i_ss_ci)
        k = self.thickness_cm / (abs(self.voltage_v) * self.area_cm2)
        return (lo * k, hi * k)

    def predict(self, t: np.ndarray) -> np.ndarray:
        """Fitted current at times t since the step, A."""
        if self._fit is None:
            raise FitError("this result carries no fit to evaluate")
        return self._fit.predict(t)

    def summary(self) -> dict[str, Any]:
        """JSON-safe dict; the keys of the ``sescreen dcpol --json`` contract first."""
        out = {
            "sigma_e": self.sigma_e, "sigma_e_stderr": self.sigma_e_stderr,
            "i_ss": self.i_ss, "i_ss_stderr": self.i_ss_stderr, "voltage": self.voltage_v,
            "model": self.model, "steady_state_reached": self.steady_state_reached,
            "t_hold": self.t_hold, "t_steady_estimate": self.t_steady_estimate,
            "tail_mean_i": self.tail_mean_i, "warnings": list(self.warnings),
            "source": self.source, "cell": self.cell, "thickness_cm": self.thickness_cm,
            "area_cm2": self.area_cm2, "temperature_k": self.temperature_k,
            "i_ss_interval": list(self.i_ss_interval),
            "sigma_e_interval": list(self.sigma_e_interval),
            "upper_bound_only": self.upper_bound_only,
            "remaining_fraction": self.remaining_fraction,
            "i_ss_stderr_fit": self.i_ss_stderr_fit,
            "tail_mean_stderr": self.tail_mean_stderr, "t_skip": self.t_skip,
            "redchi": self.redchi, "n_points": self.n_points,
            "params": {k: {"value": v, "stderr": e} for k, (v, e) in self.params.items()},
            "candidates": [c.to_dict() for c in self.candidates],
            "criterion": self.criterion.__dict__,
        }
        return json_safe(out)

    def __str__(self) -> str:
        lo, hi = self.i_ss_interval
        state = ("reached" if self.steady_state_reached else "NOT reached"
                 if abs(self.remaining_fraction) > self.criterion.max_remaining
                 else "NOT claimed (see the warnings)")
        lines = [
            f"{self.source}: DC polarization ({self.cell} cell), {self.voltage_v:+.4g} V, "
            f"model {self.model}",
            f"  I_ss     = {self.i_ss:.4g} +/- {self.i_ss_stderr:.2g} A "
            f"(95 %: {lo:.4g} .. {hi:.4g})",
            f"  sigma_e  = {self.sigma_e:.4g} +/- {self.sigma_e_stderr:.2g} S/cm "
            f"(L = {self.thickness_cm:.4g} cm, A = {self.area_cm2:.4g} cm^2)",
            f"  tail mean (last {self.criterion.tail_fraction:.0%}) = {self.tail_mean_i:.4g} A",
            f"  steady state {state}: remaining transient {self.remaining_fraction:.2%} of "
            f"I_ss after {self.t_hold:.6g} s",
        ]
        if self.t_steady_estimate is not None:
            lines.append(f"  transient < {self.criterion.max_remaining:.0%} of I_ss at "
                         f"t = {self.t_steady_estimate:.4g} s "
                         f"({self.t_steady_estimate / 3600:.3g} h)")
        if len(self.candidates) > 1:
            best = self.candidates[0].aicc
            lines.append("  models (dAICc, I_ss): " + ", ".join(
                f"{c.model} {c.aicc - best:.1f} {c.i_ss:.3g}" for c in self.candidates))
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def plot(self, ax=None):
        """Data, fit, asymptote and residuals on a log-time axis; returns the main Axes."""
        from sescreen.plot import plot_dcpol

        return plot_dcpol(self, ax=ax)


# ---------------------------------------------------------------------------------------
# Whole analysis of one measurement
# ---------------------------------------------------------------------------------------
def _charging_cut(t: np.ndarray, y: np.ndarray) -> int:
    """Index of the first sample kept: after the step sample and any RC discontinuity."""
    k = 1 if len(t) > 1 else 0
    while k < min(len(y) - 8, 6) and abs(y[k]) > 10 * abs(y[k + 1]):
        k += 1
    return k


def fit_dcpol(
    m: Measurement,
    *,
    thickness_cm: float,
    area_cm2: float | None = None,
    voltage_v: float | None = None,
    temperature_k: float | None = None,
    model: str = "auto",
    skip_s: float | None = None,
    cell: str = "blocking",
    thickness_rel_tol: float = 0.0,
    area_rel_tol: float = 0.0,
    criterion: SteadyStateCriterion | None = None,
) -> DCPolarizationResult:
    """Fit the current decay of a constant-voltage hold and derive sigma_e.

    Parameters
    ----------
    m : Measurement
        A constant-voltage hold (one segment; see :meth:`Measurement.segments`).
    thickness_cm : float
        Electrolyte thickness L, cm.
    area_cm2 : float, optional
        Electrode area, cm^2; defaults to the file's.
    voltage_v : float, optional
        Applied voltage, V; defaults to the file's set-point.
    temperature_k : float, optional
        Stored with the result; defaults to the file's.
    model : {"auto", "exp1", "exp2", "exp3", "stretched", "stoich", "stoich_limit"}
        Transient model; ``auto`` picks the lowest AICc among :data:`AUTO_MODELS`.
    skip_s : float, optional
        Ignore the first ``skip_s`` seconds after the step (charging). Default: the
        automatic cut described in the module docstring.
    cell : {"blocking", "hebb-wagner"}
        Cell type, stored with sigma_e.
    thickness_rel_tol, area_rel_tol : float
        Relative standard uncertainties of L and A, propagated into sigma_e.
    criterion : SteadyStateCriterion, optional
        Steady-state thresholds.

    Returns
    -------
    DCPolarizationResult

    Raises
    ------
    TechniqueError
        The record is not a constant-voltage hold.
    InputError
        Missing voltage, area or thickness.
    FitError
        Too few points, a flat or pure-noise record, or a hold shorter than its fastest term.
    """
    crit = criterion or SteadyStateCriterion()
    warns: list[str] = list(m.warnings)
    if m.technique is Technique.UNKNOWN and (voltage_v is not None
                                             or m.applied_voltage_v is not None):
        warns.append("the file does not say it is a constant-voltage hold: analysed as one "
                     "because it has an applied voltage")
    else:
        m.require(Technique.CONSTANT_VOLTAGE, purpose="DC-polarization analysis")
    found = holds(m)
    if len(found) > 1:
        volts = sorted({round(h.applied_voltage_v or 0.0, 4) for h in found})
        raise InputError(f"the record holds {len(found)} separate holds (at {volts} V): "
                         "split it with holds() and fit each, or fit_dcpol_series() for a "
                         "voltage series (CLI: sescreen dcpol picks them up; --segment N "
                         "chooses one)", path=m.source)
    m = found[0]
    voltage = voltage_v if voltage_v is not None else m.applied_voltage_v
    if voltage is None:
        raise InputError("the applied voltage is unknown: give it (voltage_v=, CLI --voltage)",
                         path=m.source)
    if voltage == 0:
        raise InputError("the applied voltage is 0 V (a set-point versus Eoc?): give the cell "
                         "voltage (voltage_v=, CLI --voltage)", path=m.source)
    area = area_cm2 if area_cm2 is not None else m.area_cm2
    if area is None:
        raise InputError("the electrode area is unknown: give it (area_cm2=, CLI --area)",
                         path=m.source)
    if thickness_cm is None or not thickness_cm > 0:
        raise InputError("the electrolyte thickness must be a positive length (CLI --thickness)")
    temperature = temperature_k if temperature_k is not None else m.temperature_k

    t_all = m.time_s - m.time_s[0]
    i_all = m.current_a
    if len(t_all) < 12:
        raise FitError(f"only {len(t_all)} points: a transient fit needs at least 12",
                       path=m.source)
    if skip_s is None:
        k0 = _charging_cut(t_all, i_all)
    else:
        k0 = int(np.searchsorted(t_all, skip_s, side="left"))
        k0 = max(k0, 1)
    t, i = t_all[k0:], i_all[k0:]
    if len(t) < 12:
        raise FitError(f"only {len(t)} points after the first {t_all[k0 - 1]:.3g} s: too few "
                       "to fit", path=m.source)
    if np.sign(np.median(i)) != np.sign(voltage) and np.median(i) != 0:
        warns.append("the current and the applied voltage have opposite signs: check the "
                     "polarity (sigma_e uses |I| / |V|)")
    sigma = noise_sigma(i)
    n10 = max(3, len(i) // 10)
    head_mean, tail_mean10 = float(np.mean(i[:n10])), float(np.mean(i[-n10:]))
    rising = abs(tail_mean10) - abs(head_mean) > 3 * sigma / math.sqrt(n10)
    if rising:
        warns.append(f"the current rises during the hold ({head_mean:.3g} -> "
                     f"{tail_mean10:.3g} A): not a polarization decay (a reaction, a leak or "
                     "a short?); the fitted value is not an electronic steady state")
    elif abs(head_mean - tail_mean10) < 3 * sigma / math.sqrt(n10):
        warns.append("the record shows no decay above the noise: I_ss is about the mean "
                     "current")
    tf = fit_transient(t, i, model)
    res = tf.result
    ss_name = MODELS[tf.model][1]
    p_ss = res.params[ss_name]
    i_ss = p_ss.value * tf.scale
    no_covariance = p_ss.stderr is None or not np.isfinite(p_ss.stderr)
    i_ss_err = sigma / math.sqrt(max(len(i) // 10, 1)) if no_covariance \
        else abs(p_ss.stderr * tf.scale)
    values = {k: p.value for k, p in res.params.items() if k in _arg_names(tf.model)}
    t_hold = float(t_all[-1])
    remaining = float(transient_part(tf.model, [t[-1]], values)[0]) / values[ss_name]
    t_steady = _time_to_fraction(tf.model, values, crit.max_remaining, ss_name)
    if t_steady is not None and t_steady > 1e9:
        t_steady = None
    poor_fit = not res.success or res.redchi > _POOR_FIT_REDCHI
    reached = abs(remaining) <= crit.max_remaining and not rising and not poor_fit
    if poor_fit:
        warns.append(f"the fit is poor (reduced chi-square {res.redchi:.3g}"
                     + ("" if res.success else ", not converged")
                     + "): steady state is not claimed; inspect the residuals or choose "
                     "another model")
    fastest = _fastest_time(tf.model, values)
    if fastest is not None and fastest > t_hold:
        raise FitError(f"the hold ({t_hold:.3g} s) is shorter than the fastest fitted term "
                       f"({fastest:.3g} s): the record cannot constrain the transient",
                       path=m.source)
    n_tail = max(2, math.ceil(crit.tail_fraction * len(t)))
    tail = i[-n_tail:]
    tail_mean = float(tail.mean())
    tail_err = float(max(noise_sigma(tail), tail.std(ddof=1) if n_tail > 1 else 0) /
                     math.sqrt(n_tail))
    diff = abs(tail_mean - i_ss)
    if diff > 3 * math.hypot(tail_err, i_ss_err) and diff > crit.tail_tolerance * abs(i_ss):
        warns.append(f"the tail mean of the last {crit.tail_fraction:.0%} "
                     f"({tail_mean:.4g} A) differs from the fitted asymptote ({i_ss:.4g} A) by "
                     f"{diff / abs(i_ss):.0%}: the hold was too short for the tail to settle"
                     if not reached else
                     f"the tail mean ({tail_mean:.4g} A) disagrees with the asymptote "
                     f"({i_ss:.4g} A) by {diff / abs(i_ss):.0%}: check for drift")
    if abs(remaining) > crit.max_remaining:
        when = (f"; the fit says it would be after about {t_steady:.3g} s "
                f"({t_steady / 3600:.3g} h)" if t_steady and t_steady > t_hold else "")
        warns.append(f"steady state not reached: the transient is still "
                     f"{remaining:.1%} of I_ss at the end of the hold{when}")
    i_ss_fit_err = i_ss_err
    drift, drift_step = _truncation_drift(t, i, tf.model, i_ss, i_ss_err)
    if drift is not None:
        warns.append(drift)
        i_ss_err = math.hypot(i_ss_err, drift_step)
    # 95 % interval: the normal one, and for a hold that has not settled (an
    # extrapolation) the union with the profile-likelihood interval, which follows the
    # likelihood's real, often one-sided, shape.
    interval = (i_ss - 1.96 * i_ss_err, i_ss + 1.96 * i_ss_err)
    upper_bound_only = False
    if not reached or no_covariance:
        # the profile interval replaces the covariance one (which a degenerate, strongly
        # correlated extrapolation can make meaningless), widened by any detected drift
        p_lo, p_hi, upper_bound_only = _profile_interval(tf)
        p_lo, p_hi = sorted((p_lo * tf.scale, p_hi * tf.scale))
        interval = (p_lo - 1.96 * drift_step, p_hi + 1.96 * drift_step)
        i_ss_err = (interval[1] - interval[0]) / (2 * 1.96)
        if upper_bound_only:
            warns.append(f"the data bound I_ss from one side only: |I_ss| < "
                         f"{max(abs(p_lo), abs(p_hi)):.3g} A (95 %); treat sigma_e as an "
                         "upper bound")
    elif no_covariance:
        warns.append("the fit gave no standard error for I_ss: the uncertainty shown is the "
                     "tail noise")
    if i_ss >= 0:
        interval = (max(interval[0], 0.0), interval[1])
    else:
        interval = (interval[0], min(interval[1], 0.0))
    if res.redchi > 4:
        warns.append(f"the model leaves structure in the residuals (reduced chi-square "
                     f"{res.redchi:.1f}); the standard errors are scaled up by "
                     f"{math.sqrt(res.redchi):.1f}")
    if len(tf.candidates) > 1:
        close = [c for c in tf.candidates[1:] if c.aicc - tf.candidates[0].aicc < 2
                 and c.i_ss_stderr is not None
                 and abs(c.i_ss - i_ss) > 2 * math.hypot(c.i_ss_stderr, i_ss_err)]
        if close:
            warns.append("models that fit about equally well disagree on I_ss ("
                         + ", ".join(f"{c.model}: {c.i_ss:.3g} A" for c in close)
                         + "): the extrapolation depends on the model")
    sig = sigma_from_current(i_ss, voltage, thickness_cm, area)
    geometry_rel = math.hypot(thickness_rel_tol, area_rel_tol)
    rel = math.hypot(i_ss_err / i_ss, geometry_rel) if i_ss != 0 else math.inf
    params = {k: (p.value * (tf.scale if _is_current(k) else 1.0),
                  None if p.stderr is None else abs(p.stderr) * (
                      abs(tf.scale) if _is_current(k) else 1.0))
              for k, p in res.params.items()}
    return DCPolarizationResult(
        source=m.name, model=tf.model, cell=cell, voltage_v=float(voltage),
        thickness_cm=float(thickness_cm), area_cm2=float(area), temperature_k=temperature,
        i_ss=i_ss, i_ss_stderr=i_ss_err, i_ss_stderr_fit=i_ss_fit_err,
        i_ss_ci=(float(interval[0]), float(interval[1])), upper_bound_only=upper_bound_only,
        sigma_e=sig, sigma_e_stderr=sig * rel, geometry_rel_tol=geometry_rel,
        params=params, candidates=tf.candidates, t_hold=t_hold, t_skip=float(t[0]),
        remaining_fraction=remaining, steady_state_reached=reached,
        t_steady_estimate=t_steady, tail_mean_i=tail_mean, tail_mean_stderr=tail_err,
        redchi=float(res.redchi), n_points=len(t), warnings=tuple(dict.fromkeys(warns)),
        criterion=crit, _fit=tf, _raw=(t, i))


def _truncation_drift(t: np.ndarray, i: np.ndarray, model: str, i_ss: float,
                      i_ss_err: float) -> tuple[str | None, float]:
    """Refit the chosen model on the first 70 % and 85 % of the hold.

    An asymptote that keeps moving the same way as the hold lengthens (by more than its
    standard error at each step) has not converged: the data do not yet pin I_ss down.

    Returns
    -------
    (str or None, float)
        A warning (None when the asymptote is stable) and the last change of the
        asymptote, A, which the caller adds in quadrature to the standard error of I_ss.
    """
    estimates = []
    for frac in (0.70, 0.85):
        keep = t <= t[0] + frac * (t[-1] - t[0])
        if keep.sum() < 12:
            return None, 0.0
        try:
            sub = fit_transient(t[keep], i[keep], model)
        except FitError:
            return None, 0.0
        p = sub.result.params[MODELS[model][1]]
        estimates.append(p.value * sub.scale)
    estimates.append(i_ss)
    steps = np.diff(estimates)
    if np.all(steps < -i_ss_err) or np.all(steps > i_ss_err):
        trend = "falling" if steps[0] < 0 else "rising"
        return (f"the fitted asymptote keeps {trend} as the hold lengthens ("
                + " -> ".join(f"{e:.3g}" for e in estimates)
                + " A for the first 70 %, 85 %, 100 %): I_ss is not converged; its last "
                f"change ({abs(steps[-1]):.2g} A) is added to its standard error"
                + (" (an upper bound)" if trend == "falling" else "")), abs(float(steps[-1]))
    return None, 0.0


def holds(m: Measurement, *, min_points: int = 12) -> list[Measurement]:
    """The constant-voltage holds of a record, one Measurement each.

    0 V segments (rests, a Gamry pre-step) are dropped when other segments are polarized,
    and then segments with fewer than ``min_points`` points when longer ones remain.
    """
    segs = m.segments()
    if len(segs) == 1:
        return segs
    polarized = [s for s in segs if s.applied_voltage_v not in (None, 0.0)] or segs
    return [s for s in polarized if len(s) >= min_points] or polarized


def fit_dcpol_series(measurements: list[Measurement], **kwargs) -> list[DCPolarizationResult]:
    """Fit every hold of one or several records (keyword arguments as :func:`fit_dcpol`)."""
    return [fit_dcpol(h, **kwargs) for m in measurements for h in holds(m)]


def _arg_names(model: str) -> tuple[str, ...]:
    import inspect

    return tuple(inspect.signature(MODELS[model][0]).parameters)[1:]


def _is_current(name: str) -> bool:
    return name in {"i_ss", "i_inf", "a", "a1", "a2", "a3"}


def _time_to_fraction(model: str, values: dict, fraction: float, ss: str) -> float | None:
    """Hold time at which the fitted transient falls to ``fraction`` of I_ss, s."""
    target = fraction * abs(values[ss])
    if target == 0:
        return None

    def excess(t):
        return abs(transient_part(model, [t], values)[0]) - target

    lo, hi = 1e-6, 1e3
    if excess(lo) <= 0:
        return 0.0
    while excess(hi) > 0:
        hi *= 10
        if hi > 1e12:
            return None
    for _ in range(80):  # bisection in log time
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if excess(mid) > 0 else (lo, mid)
    return hi


def _fastest_time(model: str, values: dict) -> float | None:
    if model.startswith("exp"):
        return min(values[f"tau{j}"] for j in range(1, int(model[-1]) + 1))
    return None


# ---------------------------------------------------------------------------------------
# Several voltages: I_ss per step, sigma_e from the slope
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class VoltageSeriesResult:
    """sigma_e = (L / A) dI_ss/dV over several holds, with a linearity check."""

    steps: tuple[DCPolarizationResult, ...]
    slope: float  #: dI_ss/dV, A/V
    slope_stderr: float
    intercept: float  #: A
    intercept_stderr: float
    sigma_e: float  #: S/cm
    sigma_e_stderr: float
    linear: bool
    chi2_red: float
    warnings: tuple[str, ...]

    def summary(self) -> dict[str, Any]:
        first = self.steps[0]
        out = {
            "sigma_e": self.sigma_e, "sigma_e_stderr": self.sigma_e_stderr,
            "i_ss": None, "i_ss_stderr": None, "voltage": None, "model": "slope",
            "steady_state_reached": all(s.steady_state_reached for s in self.steps),
            "t_hold": max(s.t_hold for s in self.steps),
            "t_steady_estimate": max((s.t_steady_estimate or 0.0) for s in self.steps),
            "tail_mean_i": None, "warnings": list(self.warnings),
            "slope_a_per_v": self.slope, "slope_stderr": self.slope_stderr,
            "intercept_a": self.intercept, "intercept_stderr": self.intercept_stderr,
            "linear": self.linear, "chi2_red": self.chi2_red, "cell": first.cell,
            "thickness_cm": first.thickness_cm, "area_cm2": first.area_cm2,
            "steps": [s.summary() for s in self.steps],
        }
        return json_safe(out)

    def __str__(self) -> str:
        lines = [f"sigma_e from {len(self.steps)} voltages: {self.sigma_e:.4g} +/- "
                 f"{self.sigma_e_stderr:.2g} S/cm (slope {self.slope:.4g} A/V, intercept "
                 f"{self.intercept:.3g} +/- {self.intercept_stderr:.2g} A, "
                 f"{'linear' if self.linear else 'NOT linear'})"]
        for s in self.steps:
            lines.append(f"  {s.voltage_v:+.4g} V: I_ss = {s.i_ss:.4g} +/- {s.i_ss_stderr:.2g} A"
                         f" ({s.model}, {'steady' if s.steady_state_reached else 'not steady'})")
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def plot(self, ax=None):
        from sescreen.plot import plot_voltage_series

        return plot_voltage_series(self, ax=ax)


def fit_voltage_series(steps: list[DCPolarizationResult]) -> VoltageSeriesResult:
    """Weighted straight line I_ss = slope V + intercept over several holds.

    sigma_e = (L / A) slope. Linear when the reduced chi-square of the line is below the
    99 % point of its distribution and the intercept is within 3 standard errors of zero;
    three voltages at least are needed to test it.
    """
    from scipy import stats

    if len(steps) < 2:
        raise InputError("a voltage series needs at least two holds at different voltages")
    v = np.array([s.voltage_v for s in steps])
    if np.unique(np.round(v, 6)).size < 2:
        raise InputError("all holds are at the same voltage: no slope to fit")
    i = np.array([s.i_ss for s in steps])
    e = np.array([max(s.i_ss_stderr, 1e-30) for s in steps])
    geo = {(round(s.thickness_cm, 9), round(s.area_cm2, 9)) for s in steps}
    if len(geo) > 1:
        raise InputError("the holds have different thickness or area: not one cell")
    w = 1 / e**2
    a = np.vstack([v, np.ones_like(v)]).T
    cov = np.linalg.inv(a.T @ (a * w[:, None]))
    slope, intercept = cov @ (a.T @ (w * i))
    resid = (i - (slope * v + intercept)) / e
    dof = len(v) - 2
    chi2_red = float(resid @ resid / dof) if dof > 0 else float("nan")
    scale = math.sqrt(max(chi2_red, 1.0)) if dof > 0 else 1.0
    s_err, i_err = math.sqrt(cov[0, 0]) * scale, math.sqrt(cov[1, 1]) * scale
    warns = []
    if dof <= 0:
        linear = True
        warns.append("two voltages only: linearity cannot be tested (use >= 3)")
    else:
        linear = bool(chi2_red < stats.chi2.ppf(0.99, dof) / dof and
                      abs(intercept) < 3 * i_err)
        if not linear:
            warns.append(f"I_ss is not linear in V (reduced chi-square {chi2_red:.1f}, "
                         f"intercept {intercept:.3g} +/- {i_err:.2g} A): ionic leakage, "
                         "interface reactions or a non-blocking electrode")
    first = steps[0]
    sig = abs(slope) * first.thickness_cm / first.area_cm2
    for s in steps:
        if not s.steady_state_reached:
            warns.append(f"the hold at {s.voltage_v:+.3g} V did not reach steady state")
    rel = math.hypot(s_err / abs(slope), first.geometry_rel_tol) if slope else math.inf
    return VoltageSeriesResult(tuple(steps), float(slope), s_err, float(intercept), i_err,
                               sig, sig * rel, linear, chi2_red, tuple(warns))



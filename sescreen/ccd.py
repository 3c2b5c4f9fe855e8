"""Critical current density (CCD) vs electronic conductivity, and the thresholds it implies
(METHODS.md section 4).

Two lines, each labelled:

``construction`` (Han et al. 2019, as reconstructed [D])
    The straight line in log10 CCD vs log10 sigma_e through LLZO (5.5e-8 S/cm,
    0.05 mA/cm^2) and LiPON (1e-12 S/cm, 10 mA/cm^2): slope -0.485 (CCD ~ sigma_e^-1/2),
    1.15e-10 S/cm at 1 mA/cm^2 and 1.0e-12 S/cm at 10 mA/cm^2, the paper's thresholds.
    It reads LiPON's "> 10" as 10 and has no uncertainty.

``fit`` (this package)
    A censored (Tobit) regression of log10 CCD = a + b log10 sigma_e + e, e ~ N(0, s^2),
    by maximum likelihood over the same-study pairs of the curated dataset
    (:func:`sescreen.literature.fit_pairs`). A lower bound ("> 10") contributes
    P(CCD >= bound), not a point. Intervals come from a parametric bootstrap that simulates
    new data, censoring included (a measured CCD at or above a bound is reported as the
    bound), and refits: with three pairs, they are wide, and that is the honest answer.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sescreen.errors import FitError, InputError

__all__ = [
    "CONSTRUCTION_POINTS",
    "CCDLine",
    "fit_ccd",
    "paper_construction",
]

#: The two (sigma_e S/cm, CCD mA/cm^2) points of the paper's construction (METHODS [D]).
CONSTRUCTION_POINTS = ((5.5e-8, 0.05), (1e-12, 10.0))
_MIN_SCATTER = 0.02  # decades: keeps the likelihood bounded when points are collinear


@dataclass(frozen=True)
class CCDLine:
    """log10 CCD = intercept + slope * log10 sigma_e (CCD in mA/cm^2, sigma_e in S/cm).

    Attributes
    ----------
    source : {"construction", "fit"}
    intercept, slope : float
    scatter : float
        Residual standard deviation in decades (0 for the construction).
    n_points, n_censored : int
    boot : ndarray or None
        Bootstrap replicates of (intercept, slope, scatter), shape (n, 3).
    """

    source: str
    label: str
    intercept: float
    slope: float
    scatter: float
    n_points: int
    n_censored: int
    ids: tuple[str, ...] = ()
    boot: np.ndarray | None = field(default=None, repr=False)
    warnings: tuple[str, ...] = ()

    def max_sigma_e(self, ccd_ma_cm2, level: float = 0.95):
        """sigma_e (S/cm) at which the line reaches ``ccd_ma_cm2``, with an interval.

        Returns
        -------
        (float or ndarray, (lo, hi) or None)
            The threshold and its ``level`` bootstrap interval (None for the construction).
        """
        y = np.log10(_positive(ccd_ma_cm2, "CCD"))
        value = 10 ** ((y - self.intercept) / self.slope)
        if self.boot is None:
            return value, None
        a, b = self.boot[:, :1], self.boot[:, 1:2]
        reps = (np.atleast_1d(y)[None, :] - a) / b
        lo, hi = np.nanpercentile(reps, [50 * (1 - level), 50 * (1 + level)], axis=0)
        interval = (10**lo, 10**hi)
        if np.ndim(ccd_ma_cm2) == 0:
            interval = (float(interval[0][0]), float(interval[1][0]))
        return value, interval

    def predicted_ccd(self, sigma_e_s_cm, level: float = 0.95):
        """Predicted CCD (mA/cm^2) for sigma_e, with a prediction interval for a new
        material (line uncertainty and scatter; None for the construction)."""
        x = np.log10(_positive(sigma_e_s_cm, "sigma_e"))
        value = 10 ** (self.intercept + self.slope * x)
        if self.boot is None:
            return value, None
        rng = np.random.default_rng(0)
        a, b, s = (self.boot[:, k:k + 1] for k in range(3))
        reps = a + b * np.atleast_1d(x)[None, :] + s * rng.standard_normal((len(a), 1))
        lo, hi = np.nanpercentile(reps, [50 * (1 - level), 50 * (1 + level)], axis=0)
        interval = (10**lo, 10**hi)
        if np.ndim(sigma_e_s_cm) == 0:
            interval = (float(interval[0][0]), float(interval[1][0]))
        return value, interval

    def summary(self) -> dict[str, Any]:
        out = {"source": self.source, "label": self.label, "intercept": self.intercept,
               "slope": self.slope, "scatter_decades": self.scatter,
               "n_points": self.n_points, "n_censored": self.n_censored,
               "ids": list(self.ids), "warnings": list(self.warnings)}
        for ccd in (1.0, 10.0):
            v, iv = self.max_sigma_e(ccd)
            out[f"max_sigma_e_at_{ccd:g}_ma_cm2"] = float(v)
            out[f"max_sigma_e_at_{ccd:g}_ma_cm2_interval"] = None if iv is None else list(iv)
        if self.boot is not None:
            for k, name in enumerate(("intercept", "slope", "scatter")):
                out[f"{name}_interval"] = [float(np.nanpercentile(self.boot[:, k], 2.5)),
                                           float(np.nanpercentile(self.boot[:, k], 97.5))]
        return out

    def __str__(self) -> str:
        lines = [f"CCD line ({self.source}: {self.label})",
                 f"  log10 CCD = {self.intercept:.3f} + {self.slope:.3f} log10 sigma_e"
                 + (f", scatter {self.scatter:.2f} decades" if self.scatter else "")]
        for ccd in (1.0, 10.0):
            v, iv = self.max_sigma_e(ccd)
            extra = f" (95 %: {iv[0]:.2g} .. {iv[1]:.2g})" if iv else ""
            lines.append(f"  sigma_e < {float(v):.3g} S/cm for {ccd:g} mA/cm^2{extra}")
        return "\n".join(lines + [f"  warning: {w}" for w in self.warnings])


def _positive(value, what: str):
    arr = np.asarray(value, dtype=float)
    if np.any(~np.isfinite(arr)) or np.any(arr <= 0):
        raise InputError(f"{what} must be a positive number")
    return arr if arr.ndim else float(arr)


def paper_construction() -> CCDLine:
    """The paper's two-point line (METHODS [D]): 1.15e-10 S/cm at 1, 1.0e-12 at 10 mA/cm^2."""
    (s1, c1), (s2, c2) = CONSTRUCTION_POINTS
    slope = (math.log10(c2) - math.log10(c1)) / (math.log10(s2) - math.log10(s1))
    intercept = math.log10(c1) - slope * math.log10(s1)
    return CCDLine("construction",
                   "Han et al. 2019 construction through LLZO (5.5e-8, 0.05) and LiPON "
                   "(1e-12, 10); LiPON's '> 10' read as 10", intercept, slope, 0.0, 2, 0,
                   ("han2019-llzo", "han2019-lipon"))


def _negloglik(params, x, y, censored):
    """Negative log-likelihood of the censored line and its gradient in (a, b, ln s).

    Measured points: normal density of z = (y - a - b x) / s. Lower bounds: ln P(CCD >= y)
    = ln Phi(-z), whose derivative brings the inverse Mills ratio phi(z) / Phi(-z).
    """
    from scipy.special import log_ndtr

    a, b, log_s = params
    s = math.exp(log_s)
    z = (y - (a + b * x)) / s
    log_tail = log_ndtr(-z)
    ll = np.where(censored, log_tail, -0.5 * z * z - log_s - 0.9189385332046727)
    mills = np.exp(-0.5 * z * z - 0.9189385332046727 - log_tail)
    d_mu = np.where(censored, mills, z) / s  # d ll / d (a + b x)
    d_log_s = np.where(censored, mills * z, z * z - 1.0)
    grad = np.array([d_mu.sum(), (d_mu * x).sum(), d_log_s.sum()])
    return -float(ll.sum()), -grad


_BOUNDS = [(None, None), (-10.0, 10.0), (math.log(_MIN_SCATTER), math.log(5.0))]


_EXTRA_STARTS = (math.log(0.1), math.log(1.0))  # ln scatter starting values


def _mle(x, y, censored, start=None, *, starts=_EXTRA_STARTS):
    from scipy.optimize import minimize

    if start is None:
        b0 = np.polyfit(x[~censored], y[~censored], 1)[0] if (~censored).sum() >= 2 else -0.5
        start = [float(np.mean(y) - b0 * np.mean(x)), float(b0), math.log(0.3)]
    best = None
    for log_s in (start[2], *starts):
        res = minimize(_negloglik, [start[0], start[1], log_s], args=(x, y, censored),
                       jac=True, method="L-BFGS-B", bounds=_BOUNDS)
        if best is None or res.fun < best.fun:
            best = res
    return best


def fit_ccd(pairs=None, *, n_boot: int = 400, seed: int = 2019) -> CCDLine:
    """Censored regression of log10 CCD on log10 sigma_e over same-study pairs.

    Parameters
    ----------
    pairs : DataFrame, optional
        Rows with ``sigma_e_s_cm``, ``ccd_ma_cm2``, ``ccd_censor`` and ``id`` (default:
        :func:`sescreen.literature.fit_pairs` of the bundled dataset).
    n_boot : int
        Parametric bootstrap replicates for the intervals.
    seed : int
        Seed of the bootstrap (results are reproducible).

    Raises
    ------
    FitError
        Fewer than two uncensored pairs.
    """
    if pairs is None:
        return _default_fit(n_boot, seed)
    x = np.log10(pairs["sigma_e_s_cm"].to_numpy(dtype=float))
    y = np.log10(pairs["ccd_ma_cm2"].to_numpy(dtype=float))
    censored = (pairs["ccd_censor"] == "lower").to_numpy()
    if "upper" in set(pairs["ccd_censor"]):
        raise InputError("upper-bound CCDs are not supported in the fit")
    if (~censored).sum() < 2:
        raise FitError("the CCD fit needs at least two pairs with a measured (uncensored) CCD")
    res = _mle(x, y, censored)
    a, b, log_s = res.x
    s = math.exp(log_s)
    rng = np.random.default_rng(seed)
    reps = []
    bound = np.where(censored, y, np.inf)
    for _ in range(n_boot):
        latent = a + b * x + s * rng.standard_normal(x.size)
        cens_b = latent >= bound  # a test that stops at the bound reports the bound
        yb = np.where(cens_b, bound, latent)
        if (~cens_b).sum() < 2:
            continue
        rb = _mle(x, yb, cens_b, start=[a, b, log_s], starts=())
        reps.append([*rb.x[:2].tolist(), math.exp(rb.x[2])])
    boot = np.array(reps) if reps else None
    warns = []
    if len(x) - 3 < 3:
        warns.append(f"only {len(x)} same-study pairs ({int(censored.sum())} censored) for 3 "
                     "parameters: the scatter is poorly determined and the intervals are wide")
    if s <= _MIN_SCATTER * 1.01:
        warns.append("the scatter hit its lower limit (the points lie on a line)")
    return CCDLine("fit", "censored maximum-likelihood regression over same-study pairs "
                   "(this package)", float(a), float(b), float(s), len(x),
                   int(censored.sum()), tuple(pairs["id"]), boot, tuple(warns))


@functools.lru_cache(maxsize=4)
def _default_fit(n_boot: int, seed: int) -> CCDLine:
    from sescreen.literature import fit_pairs

    return fit_ccd(fit_pairs(), n_boot=n_boot, seed=seed)

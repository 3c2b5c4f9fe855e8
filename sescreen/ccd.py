"""Critical current density (CCD) vs electronic conductivity, and the thresholds it implies
(METHODS.md section 4).

Two lines, each labelled:

``construction`` (Han et al. 2019, as reconstructed [D])
    The straight line in log10 CCD vs log10 sigma_e through LLZO (5.5e-8 S/cm,
    0.05 mA/cm^2) and LiPON (1e-12 S/cm, 10 mA/cm^2): slope -0.485 (CCD ~ sigma_e^-1/2),
    1.15e-10 S/cm at 1 mA/cm^2 and 1.0e-12 S/cm at 10 mA/cm^2, the paper's thresholds.
    It reads LiPON's "> 10" as 10 and has no uncertainty.

``fit`` (this package)
    A censored regression log10 CCD = a + b log10 sigma_e + e, e ~ N(0, s^2), over the
    same-study pairs of the curated dataset (:func:`sescreen.literature.fit_pairs`), as a
    Bayesian posterior. The data enter as they are stated:

    - a measured pair: the normal density;
    - a CCD lower bound ("> 10"): P(CCD >= bound) = Phi((a + b x - y_b) / s) (an upper bound
      likewise), never the bound as a value;
    - a sigma_e given as a range (LiPON: 1e-15..1e-12): interval-censored, the likelihood
      averaged over log10 sigma_e uniform in the range (12-node Gauss-Legendre), never one
      end of it.

    Priors, stated because three pairs cannot overrule them: flat on the intercept; flat on
    the slope for b < 0 (the hypothesis: CCD falls with sigma_e; draws with b >= 0 have no
    threshold and are excluded, their share reported); half-normal on the scatter s with
    scale :data:`SCATTER_PRIOR_DECADES` = 0.5 decade (weak: 95 % of it lies below
    1.96 x 0.5 = 0.98 decade). With two measured pairs
    the data do not constrain s at all and its posterior is essentially this prior:
    that is what the intervals then honestly reflect.

    Computation (no optimizer, no bootstrap): given s, the measured pairs make (a, b)
    Gaussian (least squares); s is drawn on a 600-point log grid from its marginal, (a, b)
    from that Gaussian, and each draw is weighted by the likelihood of the censored and
    interval-censored points, then resampled to equal weights. 40,000 draws take ~30 ms
    (vectorised, seeded, reproducible) and the default fit is cached.

    Thresholds are posterior draws of sigma_e,max = 10**((log10 CCD - a) / b); their median is
    the value, the 2.5-97.5 % percentiles the interval, and :mod:`sescreen.criteria` uses the
    whole (skewed) distribution for P(pass). Coverage in simulations of the curated design
    (``tests/benchmarks/ccd_coverage.py``; figures in the README).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sescreen.constants import SAME_TEMPERATURE_K
from sescreen.errors import FitError, InputError

__all__ = [
    "CONSTRUCTION_POINTS",
    "SCATTER_PRIOR_DECADES",
    "CCDLine",
    "fit_ccd",
    "paper_construction",
]

#: The two (sigma_e S/cm, CCD mA/cm^2) points of the paper's construction (METHODS [D]).
CONSTRUCTION_POINTS = ((5.5e-8, 0.05), (1e-12, 10.0))
#: Scale of the half-normal prior on the scatter of log10 CCD about the line, decades.
SCATTER_PRIOR_DECADES = 0.5
_LOG_S_GRID = np.linspace(math.log(0.005), math.log(5.0), 600)  # ln(scatter / decade)
_GL_X, _GL_W = np.polynomial.legendre.leggauss(12)  # nodes for a sigma_e range
_PRIOR_TEXT = ("Bayesian posterior: flat priors on intercept and on slope < 0, half-normal "
               f"prior on the scatter (scale {SCATTER_PRIOR_DECADES:g} decade)")


@dataclass(frozen=True)
class CCDLine:
    """log10 CCD = intercept + slope * log10 sigma_e (CCD in mA/cm^2, sigma_e in S/cm).

    Attributes
    ----------
    source : {"construction", "fit"}
    intercept, slope : float
        The line (posterior medians for the fit).
    scatter : float
        Standard deviation of log10 CCD about the line, decades (posterior median; 0 for
        the construction).
    n_points, n_censored : int
        Pairs used, and how many of them have a bounded CCD or a sigma_e range.
    draws : ndarray or None
        Equally weighted posterior draws of (intercept, slope, scatter), shape (n, 3).
    """

    source: str
    label: str
    intercept: float
    slope: float
    scatter: float
    n_points: int
    n_censored: int
    ids: tuple[str, ...] = ()
    draws: np.ndarray | None = field(default=None, repr=False, compare=False)
    warnings: tuple[str, ...] = ()

    def _scatter(self, n: int, new_material: bool) -> np.ndarray:
        """The scatter of a new material about the line in every draw, log10 mA/cm^2 (s
        times a seeded standard normal), or 0 for the line itself."""
        if not new_material:
            return np.zeros((n, 1))
        return self.draws[:, 2:3] * np.random.default_rng(0).standard_normal((n, 1))

    def threshold_draws(self, ccd_ma_cm2: float, *, new_material: bool = True
                        ) -> np.ndarray | None:
        """Sorted posterior draws of log10 sigma_e,max (S/cm) at ``ccd_ma_cm2`` (mA/cm^2).

        With ``new_material`` (the default, what a verdict on a candidate needs): the
        sigma_e at which a new material's CCD, the line plus its scatter s, reaches that
        CCD, so the threshold's uncertainty includes the 0.45-decade scatter the fit
        estimates, as :meth:`predicted_ccd` does (an independent review: without it,
        ``criteria --sigma-e 1e-12 --source fit`` passed at 1 mA/cm^2 while its own 95 %
        prediction of the CCD reached down to 0.68 mA/cm^2). Without: where the mean
        line does (the correlation's threshold, as the paper derives one). None for the
        construction.
        """
        if self.draws is None:
            return None
        y = math.log10(_positive(ccd_ma_cm2, "CCD"))
        a, b = self.draws[:, 0], self.draws[:, 1]
        return np.sort((y - a - self._scatter(len(a), new_material)[:, 0]) / b)

    def max_sigma_e(self, ccd_ma_cm2, level: float = 0.95, *, new_material: bool = False):
        """sigma_e (S/cm) at which the line reaches ``ccd_ma_cm2``, with an interval.

        Parameters
        ----------
        ccd_ma_cm2 : float or array
            Current density, mA/cm^2.
        level : float
            Interval level.
        new_material : bool
            The threshold of a new material, the line's scatter included
            (:meth:`threshold_draws`); default: the mean line's.

        Returns
        -------
        (float or ndarray, (lo, hi) or None)
            The threshold (posterior median for the fit) and its ``level`` equal-tailed
            posterior interval (None for the construction).
        """
        y = np.log10(_positive(ccd_ma_cm2, "CCD"))
        if self.draws is None:
            return 10 ** ((y - self.intercept) / self.slope), None
        a, b = self.draws[:, :1], self.draws[:, 1:2]
        reps = (np.atleast_1d(y)[None, :] - a - self._scatter(len(a), new_material)) / b
        mid, lo, hi = np.clip(np.percentile(reps, [50, 50 * (1 - level), 50 * (1 + level)],
                                            axis=0), -300.0, 300.0)  # 1e-300: unbounded
        if np.ndim(ccd_ma_cm2) == 0:
            return float(10 ** mid[0]), (float(10 ** lo[0]), float(10 ** hi[0]))
        return 10**mid, (10**lo, 10**hi)

    def predicted_ccd(self, sigma_e_s_cm, level: float = 0.95):
        """Predicted CCD (mA/cm^2) for sigma_e: the posterior-predictive median and ``level``
        interval for a new material (line uncertainty and scatter; None for the
        construction)."""
        x = np.log10(_positive(sigma_e_s_cm, "sigma_e"))
        if self.draws is None:
            return 10 ** (self.intercept + self.slope * x), None
        rng = np.random.default_rng(0)
        a, b, s = (self.draws[:, k:k + 1] for k in range(3))
        reps = a + b * np.atleast_1d(x)[None, :] + s * rng.standard_normal((len(a), 1))
        mid, lo, hi = np.percentile(reps, [50, 50 * (1 - level), 50 * (1 + level)], axis=0)
        if np.ndim(sigma_e_s_cm) == 0:
            return float(10 ** mid[0]), (float(10 ** lo[0]), float(10 ** hi[0]))
        return 10**mid, (10**lo, 10**hi)

    def summary(self) -> dict[str, Any]:
        out = {"source": self.source, "label": self.label, "intercept": self.intercept,
               "slope": self.slope, "scatter_decades": self.scatter,
               "n_points": self.n_points, "n_censored": self.n_censored,
               "ids": list(self.ids), "warnings": list(self.warnings)}
        for ccd in (1.0, 10.0):
            v, iv = self.max_sigma_e(ccd)
            out[f"max_sigma_e_at_{ccd:g}_ma_cm2"] = float(v)
            out[f"max_sigma_e_at_{ccd:g}_ma_cm2_interval"] = None if iv is None else list(iv)
        if self.draws is not None:
            out["prior"] = _PRIOR_TEXT
            for k, name in enumerate(("intercept", "slope", "scatter")):
                out[f"{name}_interval"] = [float(v) for v in
                                           np.percentile(self.draws[:, k], [2.5, 97.5])]
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


def _column(pairs, name: str) -> np.ndarray:
    if name not in pairs:
        return np.full(len(pairs), np.nan)
    return pairs[name].to_numpy(dtype=float)


def _log_lik_bounded(a, b, s, x_lo, x_hi, y, kind: str) -> np.ndarray:
    """Log-likelihood per draw of one point whose sigma_e lies in [x_lo, x_hi] (log10;
    equal ends: known) and whose log10 CCD is measured (``kind`` "") or a bound ("lower",
    "upper"). A range is averaged over log10 sigma_e uniform in it."""
    from scipy.special import log_ndtr, ndtr

    xs = np.array([x_lo]) if x_hi == x_lo else (x_lo + x_hi) / 2 + (x_hi - x_lo) / 2 * _GL_X
    wts = np.array([1.0]) if x_hi == x_lo else _GL_W / 2
    z = (y - (a[:, None] + b[:, None] * xs[None, :])) / s[:, None]
    if xs.size == 1 and kind:
        return log_ndtr(-z[:, 0] if kind == "lower" else z[:, 0])
    if kind == "lower":
        lik = ndtr(-z) @ wts
    elif kind == "upper":
        lik = ndtr(z) @ wts
    else:
        lik = (np.exp(-0.5 * z * z) / (s[:, None] * math.sqrt(2 * math.pi))) @ wts
    with np.errstate(divide="ignore"):
        return np.log(lik)


def _posterior(x, y, x_lo, x_hi, kind, n_draws: int, rng) -> tuple[np.ndarray, float, float]:
    """Equally weighted draws (a, b, s), the effective sample size before resampling and
    the share of draws dropped for a slope >= 0 (module docstring)."""
    exact = (x_lo == x_hi) & (kind == "")
    xe, ye = x[exact], y[exact]
    n_e = xe.size
    xc = float(xe.mean())
    design = np.column_stack([np.ones(n_e), xe - xc])
    inv = np.linalg.inv(design.T @ design)
    beta = inv @ design.T @ ye
    rss = float(np.sum((ye - design @ beta) ** 2))
    scale = SCATTER_PRIOR_DECADES
    s_grid = np.exp(_LOG_S_GRID)
    # log density of ln s: half-normal prior (with the Jacobian s) times the measured pairs'
    # marginal likelihood s^-(n_e - 2) exp(-RSS / 2 s^2) after integrating a and b
    log_p = (-0.5 * (s_grid / scale) ** 2 + _LOG_S_GRID - (n_e - 2) * _LOG_S_GRID
             - rss / (2 * s_grid**2))
    cdf = np.cumsum(np.exp(log_p - log_p.max()))
    cdf /= cdf[-1]
    step = _LOG_S_GRID[1] - _LOG_S_GRID[0]
    log_s = _LOG_S_GRID[np.searchsorted(cdf, rng.random(n_draws))] + \
        (rng.random(n_draws) - 0.5) * step
    sd = np.exp(log_s)
    cb = beta + (rng.standard_normal((n_draws, 2)) @ np.linalg.cholesky(inv).T) * sd[:, None]
    a, b = cb[:, 0] - cb[:, 1] * xc, cb[:, 1]
    log_w = np.zeros(n_draws)
    for k in np.flatnonzero(~exact):
        log_w += _log_lik_bounded(a, b, sd, x_lo[k], x_hi[k], y[k], kind[k])
    negative = b < 0
    dropped = 1.0 - float(negative.mean())
    log_w[~negative] = -np.inf
    if not np.isfinite(log_w).any():
        raise FitError("no line with a negative slope is consistent with the pairs and "
                       "their bounds")
    w = np.exp(log_w - log_w.max())
    w /= w.sum()
    ess = float(1.0 / np.sum(w**2))
    # systematic resampling to equal weights
    idx = np.searchsorted(np.cumsum(w), (rng.random() + np.arange(n_draws)) / n_draws)
    idx = np.minimum(idx, n_draws - 1)
    return np.column_stack([a[idx], b[idx], sd[idx]]), ess, dropped


def fit_ccd(pairs=None, *, n_draws: int = 40_000, seed: int = 2019) -> CCDLine:
    """Censored Bayesian regression of log10 CCD on log10 sigma_e over same-study pairs.

    Parameters
    ----------
    pairs : DataFrame, optional
        Rows with ``sigma_e_s_cm``, ``ccd_ma_cm2``, ``ccd_censor`` ("", "lower" or
        "upper") and ``id``; optionally ``sigma_e_lo_s_cm`` and ``sigma_e_hi_s_cm`` (S/cm)
        for a sigma_e known only as a range, and ``sigma_e_bound`` ("upper": sigma_e is
        only an upper bound; such rows are left out, with a warning) (default:
        :func:`sescreen.literature.fit_pairs` of the bundled dataset).
    n_draws : int
        Posterior draws.
    seed : int
        Seed of the draws (results are reproducible).

    Raises
    ------
    FitError
        Fewer than two pairs with a measured CCD and a sigma_e value (not a range).
    """
    if pairs is None:
        return _default_fit(n_draws, seed)
    # a sigma_e that is only an upper bound (the dataset's sigma_e_bound) places no pair on
    # the line: left out, as fit_pairs leaves it out of the bundled dataset's fit
    bound = np.asarray(pairs["sigma_e_bound"].fillna("").astype(str).str.strip()) \
        if "sigma_e_bound" in pairs else np.full(len(pairs), "")
    if not set(bound) <= {"", "upper"}:
        raise InputError(f"sigma_e_bound must be '' or 'upper', not {sorted(set(bound))}")
    n_bound = int((bound == "upper").sum())
    pairs = pairs[bound != "upper"]
    x = np.log10(pairs["sigma_e_s_cm"].to_numpy(dtype=float))
    y = np.log10(pairs["ccd_ma_cm2"].to_numpy(dtype=float))
    kind = pairs["ccd_censor"].fillna("").astype(str).to_numpy()
    if not set(kind) <= {"", "lower", "upper"}:
        raise InputError(f"ccd_censor must be '', 'lower' or 'upper', not {sorted(set(kind))}")
    lo_col, hi_col = _column(pairs, "sigma_e_lo_s_cm"), _column(pairs, "sigma_e_hi_s_cm")
    ranged = np.isfinite(lo_col) & np.isfinite(hi_col)
    x_lo = np.where(ranged, np.log10(np.where(ranged, lo_col, 1.0)), x)
    x_hi = np.where(ranged, np.log10(np.where(ranged, hi_col, 1.0)), x)
    if np.any(x_lo > x_hi):
        raise InputError("a sigma_e range needs sigma_e_lo <= sigma_e_hi")
    exact = (x_lo == x_hi) & (kind == "")
    if exact.sum() < 2:
        raise FitError("the CCD fit needs at least two pairs with a measured CCD and a "
                       "sigma_e value (not a bound or a range)")
    draws, ess, dropped = _posterior(x, y, x_lo, x_hi, kind, n_draws,
                                     np.random.default_rng(seed))
    a, b, s = (float(v) for v in np.median(draws, axis=0))
    n_cens = int((~exact).sum())
    warns = []
    if n_bound:
        warns.append(f"{n_bound} row(s) whose sigma_e is only an upper bound "
                     "(sigma_e_bound = upper) left out: a bound on sigma_e places no pair "
                     "on the line")
    if exact.sum() <= 3:
        warns.append(f"only {int(exact.sum())} measured same-study pairs ({n_cens} more with "
                     "a bound or a range): the scatter is set by its prior, not the data, "
                     "and the intervals are wide")
    if ess < 0.05 * n_draws:
        warns.append(f"the bounds and ranges are in tension with the measured pairs "
                     f"(effective sample {ess:.0f} of {n_draws} draws)")
    if dropped > 0.05:
        warns.append(f"{dropped:.0%} of the lines allowed by the measured pairs rise with "
                     "sigma_e (slope >= 0) and were excluded by the prior")
    t_sig, t_ccd = _column(pairs, "sigma_e_temp_c"), _column(pairs, "ccd_temp_c")
    apart = np.abs(t_sig - t_ccd) > SAME_TEMPERATURE_K  # NaN (not stated): not flagged
    if apart.any():
        # sigma_e rises with T (Ea > 0): one measured warmer than its CCD overstates the
        # sigma_e of the pair, and the thresholds with it (Han 2019: 30 C vs 25 C, about
        # 0.1 decade at Ea 0.45 eV)
        which = ", ".join(f"{i} ({a:g} C vs {c:g} C)" for i, a, c in
                          zip(np.asarray(pairs["id"])[apart], t_sig[apart], t_ccd[apart],
                              strict=True))
        warns.append(f"sigma_e and CCD measured at different temperatures in {which}: the "
                     "pairs are used as stated; where sigma_e was measured warmer than the "
                     "CCD, the thresholds come out too high (not conservative), since "
                     "sigma_e rises with temperature")
    unstated = np.isnan(t_sig) | np.isnan(t_ccd)
    if unstated.any():  # an empty temperature is "not stated", never taken as 25 C
        warns.append("the source states no temperature for the sigma_e or the CCD of "
                     f"{', '.join(np.asarray(pairs['id'])[unstated])}: used as stated, "
                     "without a check that both were measured at one temperature")
    return CCDLine("fit", "censored Bayesian regression over same-study pairs (this "
                   "package; " + _PRIOR_TEXT + ")", a, b, s, len(x), n_cens,
                   tuple(pairs["id"]), draws, tuple(warns))


@functools.lru_cache(maxsize=4)
def _default_fit(n_draws: int, seed: int) -> CCDLine:
    from sescreen.literature import fit_pairs

    return fit_ccd(fit_pairs(), n_draws=n_draws, seed=seed)

"""Arrhenius fits of many materials at once: the estimator of :mod:`sescreen.arrhenius`
(weighted line in ln y vs 1 / (k_B T), Paule-Mandel excess scatter, Hartung-Knapp scale,
Student t(n - 2) intervals, studentized outliers, the curvature F-test) on the normal
equations of every material stacked in numpy arrays; :func:`sescreen.arrhenius.fit_arrhenius`
is this with one material.

Materials of different point counts share one padded (materials x points) array whose padding
has weight 0. Each material's line is solved in its own weighted-centred coordinates
(dx = x - sum(w x) / sum(w)), so the 2x2 normal equations are diagonal; the Paule-Mandel
root is found by safeguarded Newton steps (the derivative of the weighted chi-square in
tau^2 is -sum(w^2 r^2)), bisection where a step leaves the bracket, all materials together.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from sescreen.arrhenius import (
    _MIN_PLAUSIBLE_K,
    CONVENTIONS,
    ArrheniusFit,
    _offset_half,
    checked_points,
    collapse_repeats,
    fit_warnings,
    offset_response,
    on_the_line,
    outlier_limit,
    repeats_warning,
)
from sescreen.constants import BOLTZMANN_EV, REPEAT_TEMPERATURE_K
from sescreen.errors import InputError

__all__ = ["ArrheniusBatch", "fit_arrhenius_many"]

_PM_STEPS = 100  #: at most this many Newton/bisection steps (converges in 5-15)


@dataclass(frozen=True)
class ArrheniusBatch:
    """Arrhenius lines of many materials; arrays indexed by material, NaN where
    ``errors[i]`` says why that material could not be fitted.

    Attributes
    ----------
    ea_ev, ea_stderr, ea_lo, ea_hi : ndarray
        Activation energy, its standard error and 95 % interval (t, n - 2, widened by a
        stated temperature offset), eV.
    ln_prefactor, ln_prefactor_stderr : ndarray
        ln A (A in S/cm, or S K/cm for sigmaT).
    covariance : ndarray, shape (m, 2, 2)
        Covariance of (ln A, Ea).
    chi2_red, excess_scatter_ln, residual_var, curvature_p : ndarray
        As in :class:`sescreen.arrhenius.ArrheniusFit` (NaN where it is None).
    dof : ndarray of int
        n - 2.
    errors : tuple of (str or None)
        The :class:`InputError` message of a material that cannot be fitted.
    """

    convention: str
    materials: tuple[Any, ...]
    ea_ev: np.ndarray
    ea_stderr: np.ndarray
    ea_lo: np.ndarray
    ea_hi: np.ndarray
    ln_prefactor: np.ndarray
    ln_prefactor_stderr: np.ndarray
    covariance: np.ndarray
    chi2_red: np.ndarray
    excess_scatter_ln: np.ndarray
    residual_var: np.ndarray
    curvature_p: np.ndarray
    dof: np.ndarray
    errors: tuple[str | None, ...]
    points: tuple[tuple[np.ndarray, np.ndarray, np.ndarray | None], ...]
    outliers: tuple[tuple[int, ...], ...]
    student: np.ndarray  #: studentized residuals (materials x points, NaN padding)
    merged: np.ndarray  #: repeated points merged into their temperature's mean, per material
    #: change of (ln A, Ea) per kelvin of an offset common to a material's temperatures
    offset_sensitivity: np.ndarray  # shape (m, 2)
    temperature_uncertainty_k: float  #: standard uncertainty of that offset, K

    def __len__(self) -> int:
        return len(self.materials)

    def fit(self, i: int) -> ArrheniusFit:
        """Material ``i`` as an :class:`ArrheniusFit` (raises its InputError if it failed)."""
        if self.errors[i] is not None:
            raise InputError(self.errors[i])
        t, s, e = self.points[i]
        cov = self.covariance[i]
        curv = None if np.isnan(self.curvature_p[i]) else float(self.curvature_p[i])
        tau2 = float(self.excess_scatter_ln[i]) ** 2
        return ArrheniusFit(
            material=self.materials[i], convention=self.convention,
            ea_ev=float(self.ea_ev[i]), ea_stderr=float(self.ea_stderr[i]),
            ea_interval=(float(self.ea_lo[i]), float(self.ea_hi[i])),
            ln_prefactor=float(self.ln_prefactor[i]),
            ln_prefactor_stderr=float(self.ln_prefactor_stderr[i]),
            covariance=((float(cov[0, 0]), float(cov[0, 1])), (float(cov[1, 0]), float(cov[1, 1]))),
            temperature_k=tuple(map(float, t)), sigma=tuple(map(float, s)),
            sigma_stderr=None if e is None else tuple(map(float, e)),
            chi2_red=float(self.chi2_red[i]), dof_t=int(self.dof[i]),
            residual_var=float(self.residual_var[i]), curvature_p=curv,
            outliers=self.outliers[i],
            warnings=(*((repeats_warning(int(self.merged[i]), t.size),)
                        if self.merged[i] else ()),
                      *fit_warnings(t, s, self.outliers[i], self.student[i], curv, tau2,
                                    float(self.chi2_red[i]))),
            excess_scatter_ln=float(self.excess_scatter_ln[i]),
            temperature_uncertainty_k=self.temperature_uncertainty_k,
            offset_sensitivity=(float(self.offset_sensitivity[i, 0]),
                                float(self.offset_sensitivity[i, 1])))

    def sigma_at(self, temperature_k: float, level: float = 0.95) -> dict[str, np.ndarray]:
        """sigma (S/cm) of every material at ``temperature_k`` (K) with the confidence
        interval of the line (``ci_lo``, ``ci_hi``) and the prediction interval of a new
        measurement (``pi_lo``, ``pi_hi``), as :meth:`ArrheniusFit.sigma_at` gives them."""
        from scipy import stats

        if not temperature_k > 0:
            raise InputError(f"temperature {temperature_k!r} K is not positive")
        x = 1.0 / (BOLTZMANN_EV * temperature_k)
        cov = self.covariance
        var_mean = cov[:, 0, 0] - 2 * x * cov[:, 0, 1] + x * x * cov[:, 1, 1]
        ln_y = self.ln_prefactor - self.ea_ev * x
        with np.errstate(invalid="ignore"):
            q = stats.t.ppf(0.5 + level / 2, np.where(self.dof > 0, self.dof, 1))
        shift = math.log(temperature_k) if self.convention == "sigmaT" else 0.0
        offset = _offset_half(1.0, self.temperature_uncertainty_k, level) * np.abs(
            self.offset_sensitivity[:, 0] - x * self.offset_sensitivity[:, 1])
        with np.errstate(over="ignore"):  # an interval beyond the float range is open: inf
            out = {"sigma": np.exp(ln_y - shift)}
            for key, var in (("ci", var_mean), ("pi", var_mean + self.residual_var)):
                half = np.hypot(q * np.sqrt(var), offset)
                out[f"{key}_lo"] = np.exp(ln_y - half - shift)
                out[f"{key}_hi"] = np.exp(ln_y + half - shift)
        return out


def fit_arrhenius_many(temperature_k, sigma, sigma_stderr=None, *, convention: str = "sigma",
                       materials=None,
                       temperature_uncertainty_k: float = 0.0) -> ArrheniusBatch:
    """Fit sigma(T) of many materials with one Arrhenius line each.

    Parameters
    ----------
    temperature_k, sigma : sequence of array-like
        Per material, its temperatures (K) and conductivities (S/cm), as for
        :func:`sescreen.arrhenius.fit_arrhenius`; materials may have different point counts.
    sigma_stderr : sequence of (array-like or None), optional
        Per material, the standard errors of sigma (S/cm), or None for an ordinary least
        squares line (the scatter sets the errors).
    convention : {"sigma", "sigmaT"}
    materials : sequence, optional
        Names stored with the fits and named in the error messages.
    temperature_uncertainty_k : float
        Standard uncertainty of an offset common to each material's temperatures, K, as
        for :func:`~sescreen.arrhenius.fit_arrhenius`.

    Returns
    -------
    ArrheniusBatch
        The numbers of :func:`~sescreen.arrhenius.fit_arrhenius` for every material;
        a material it would refuse has NaN numbers and its message in ``errors``.
    """
    if convention not in CONVENTIONS:
        raise InputError(f"unknown convention {convention!r}; use 'sigma' or 'sigmaT'")
    if not (math.isfinite(temperature_uncertainty_k) and temperature_uncertainty_k >= 0):
        raise InputError(f"temperature uncertainty {temperature_uncertainty_k!r} K must be a "
                         "finite number >= 0")
    m = len(temperature_k)
    names = tuple(materials) if materials is not None else (None,) * m
    errs_in = list(sigma_stderr) if sigma_stderr is not None else [None] * m
    if not len(sigma) == len(errs_in) == len(names) == m:
        raise InputError("one list of temperatures, conductivities (and errors, names) per "
                         "material")
    points = [(np.asarray(t, dtype=float), np.asarray(s, dtype=float),
               None if e is None else np.asarray(e, dtype=float))
              for t, s, e in zip(temperature_k, sigma, errs_in, strict=True)]
    padded = _padded(points)
    errors: list[str | None] = [None] * m
    refused = _refused(points, *padded)
    for i in np.flatnonzero(refused):
        t, s, e = points[i]
        try:  # the message of the first check that fails, exactly as fit_arrhenius words it
            checked_points(t, s, e, label=f"{names[i]}: " if names[i] else "")
        except InputError as exc:
            errors[i] = str(exc)
    # repeats at one temperature are one point, as fit_arrhenius takes them
    t_pad, mask = padded[0], padded[3]
    ordered = np.sort(np.where(mask, t_pad, np.inf), axis=1)
    with np.errstate(invalid="ignore"):  # inf - inf on the padding
        repeated = ((np.diff(ordered, axis=1) <= REPEAT_TEMPERATURE_K)
                    & mask[:, 1:]).any(axis=1) & ~refused
    merged = np.zeros(m, dtype=int)
    for i in np.flatnonzero(repeated):
        try:
            *collapsed, merged[i] = collapse_repeats(
                *points[i], label=f"{names[i]}: " if names[i] else "")
        except InputError as exc:  # fewer than 3 temperatures once merged
            errors[i] = str(exc)
            continue
        points[i] = tuple(collapsed)
    if repeated.any():
        padded = _padded(points)
    return _fit(convention, names, points, padded, tuple(errors), merged,
                float(temperature_uncertainty_k))


def _padded(points):
    """(t, sigma, stderr, mask, n) as (materials x n_max) arrays (mask False on padding),
    and whether each material's arrays have matching 1-d shapes."""
    shaped = [p[0].ndim == 1 and p[0].shape == p[1].shape
              and (p[2] is None or p[2].shape == p[1].shape) for p in points]
    n = np.array([p[0].size if ok else 0 for p, ok in zip(points, shaped, strict=True)],
                 dtype=int)
    mask = np.arange(max(int(n.max(initial=0)), 1)) < n[:, None]
    t, s, e = (np.ones(mask.shape) for _ in range(3))
    e[:] = np.nan
    good = [p for p, ok in zip(points, shaped, strict=True) if ok]
    if good:
        t[mask] = np.concatenate([p[0] for p in good])
        s[mask] = np.concatenate([p[1] for p in good])
        e[mask] = np.concatenate([np.full(p[0].size, np.nan) if p[2] is None else p[2]
                                  for p in good])
    return t, s, e, mask, n, np.array(shaped, dtype=bool)


def _refused(points, t, s, e, mask, n, shaped) -> np.ndarray:
    """Materials :func:`checked_points` refuses (its checks, vectorized)."""
    stated = np.array([p[2] is not None for p in points], dtype=bool)
    with np.errstate(invalid="ignore"):
        bad = ~(np.isfinite(s) & (s > 0) & np.isfinite(t) & (t >= _MIN_PLAUSIBLE_K))
        bad |= stated[:, None] & ~(np.isfinite(e) & (e > 0))
    ordered = np.sort(np.where(mask, t, np.inf), axis=1)
    with np.errstate(invalid="ignore"):  # inf - inf on the padding
        distinct = (np.diff(ordered, axis=1) > 0) & mask[:, 1:]
    return ~shaped | (bad & mask).any(axis=1) | (1 + distinct.sum(axis=1) < 3)


def _fit(convention, names, points, padded, errors, merged, u_k) -> ArrheniusBatch:
    from scipy import stats

    t, s, e, mask, n, _ = padded
    m = len(points)
    failed = np.array([err is not None for err in errors], dtype=bool)
    mask = mask & ~failed[:, None]
    t, s = np.where(mask, t, 1.0), np.where(mask, s, 1.0)
    stated = np.array([p[2] is not None for p in points], dtype=bool) & ~failed
    var_ln = np.where(mask & stated[:, None], (e / s) ** 2, np.nan)
    x = 1.0 / (BOLTZMANN_EV * t)
    y = np.log(s * t) if convention == "sigmaT" else np.log(s)
    dof = n - 2
    ones = mask.astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        w_stated = np.where(mask & stated[:, None], 1.0 / var_ln, ones)
        chi2_stated = np.where(stated, _wls(x, y, w_stated)["chi2"], np.nan)
        chi2_red = chi2_stated / dof
        tau2 = _paule_mandel(x, y, var_ln, mask, dof, chi2_stated)
        w = np.where(mask & stated[:, None], 1.0 / (var_ln + tau2[:, None]), ones)
        fit = _wls(x, y, w)
        scale = fit["chi2"] / dof  # Hartung-Knapp, or the residual variance without errors
        residual_var = scale * np.where(stated, _row_median(var_ln, mask, n) + tau2, 1.0)
        var_ea = scale / fit["sxx"]
        cov = np.empty((m, 2, 2))
        cov[:, 0, 0] = scale * (1.0 / fit["s0"] + fit["xm"] ** 2 / fit["sxx"])
        cov[:, 0, 1] = cov[:, 1, 0] = scale * fit["xm"] / fit["sxx"]
        cov[:, 1, 1] = var_ea
        q = stats.t.ppf(0.975, np.maximum(dof, 1))
        ea, ea_se = -fit["b"], np.sqrt(var_ea)
        # an offset of all temperatures moves the points by offset_response: (ln A, Ea)
        # move by the weighted line through those moves
        dy = np.where(mask, offset_response(t, ea[:, None], convention), 0.0)
        d_b = (w * fit["dx"] * dy).sum(axis=1) / fit["sxx"]
        sens = np.stack([(w * dy).sum(axis=1) / fit["s0"] - d_b * fit["xm"], -d_b], axis=1)
        ea_half = np.hypot(q * ea_se, _offset_half(1.0, u_k) * np.abs(sens[:, 1]))
        student = _studentized(fit, w, dof)
        exact = on_the_line(fit["r"], y, mask)
        student = np.where(exact[:, None], 0.0, student)
        curvature = _curvature_p(w, fit, n, stats)

    def nan_if_failed(a):
        return np.where(failed, np.nan, a)

    flagged = (np.abs(student) > outlier_limit(n, dof)[:, None]) & mask & (dof > 1)[:, None]
    outliers = [()] * m
    for i in np.flatnonzero(flagged.any(axis=1)):
        outliers[i] = tuple(int(j) for j in np.flatnonzero(flagged[i]))
    return ArrheniusBatch(
        convention=convention, materials=names, ea_ev=nan_if_failed(ea),
        ea_stderr=nan_if_failed(ea_se), ea_lo=nan_if_failed(ea - ea_half),
        ea_hi=nan_if_failed(ea + ea_half),
        ln_prefactor=nan_if_failed(fit["c"] - fit["b"] * fit["xm"]),
        ln_prefactor_stderr=nan_if_failed(np.sqrt(cov[:, 0, 0])),
        covariance=np.where(failed[:, None, None], np.nan, cov),
        chi2_red=nan_if_failed(chi2_red), excess_scatter_ln=nan_if_failed(np.sqrt(tau2)),
        residual_var=nan_if_failed(residual_var), curvature_p=nan_if_failed(curvature),
        dof=dof, errors=errors, points=tuple(points), outliers=tuple(outliers),
        student=np.where(mask, student, np.nan), merged=merged,
        offset_sensitivity=np.where(failed[:, None], np.nan, sens), temperature_uncertainty_k=u_k)


def _row_median(values, mask, n) -> np.ndarray:
    """Median of each row's first n values (np.median's, mean of the middle two)."""
    ordered = np.sort(np.where(mask, values, np.inf), axis=1)
    rows = np.arange(len(n))
    lo, hi = np.maximum((n - 1) // 2, 0), np.maximum(n // 2, 0)
    return 0.5 * (ordered[rows, lo] + ordered[rows, hi])


def _wls(x, y, w) -> dict[str, np.ndarray]:
    """Weighted least-squares lines y = c + b (x - xm) of every row (w = 0: no point):
    sums s0 = sum(w), sxx = sum(w dx^2), the line (c, b), residuals r, chi2 = sum(w r^2)."""
    s0 = w.sum(axis=1)
    xm = (w * x).sum(axis=1) / s0
    dx = x - xm[:, None]
    sxx = (w * dx * dx).sum(axis=1)
    c = (w * y).sum(axis=1) / s0
    b = (w * dx * y).sum(axis=1) / sxx
    r = y - c[:, None] - b[:, None] * dx
    return {"s0": s0, "xm": xm, "dx": dx, "sxx": sxx, "c": c, "b": b, "r": r,
            "chi2": (w * r * r).sum(axis=1)}


def _paule_mandel(x, y, var, mask, dof, chi2_stated) -> np.ndarray:
    """tau^2 of every row: the root of chi2(w = 1 / (var + tau^2)) = dof where the chi-square
    against the stated variances (``chi2_stated``, NaN for rows without them) exceeds dof,
    else 0 (Paule & Mandel 1982). chi2 falls monotonically in tau^2 and is at most
    RSS_OLS / tau^2, so [0, RSS_OLS / dof] brackets the root; each step is Newton's
    (d chi2 / d tau^2 = -sum(w^2 r^2)) where it stays inside the bracket, else bisection."""
    tau2 = np.zeros(len(x))
    rows = np.flatnonzero((dof > 0) & (chi2_stated > dof))
    if not rows.size:
        return tau2
    x, y, var, mask, dof = x[rows], y[rows], var[rows], mask[rows], dof[rows]
    lo, t2 = np.zeros(rows.size), np.zeros(rows.size)
    hi = _wls(x, y, mask.astype(float))["chi2"] / dof
    tol = 1e-13 * hi + 1e-300
    for _ in range(_PM_STEPS):
        w = np.where(mask, 1.0 / (var + t2[:, None]), 0.0)
        fit = _wls(x, y, w)
        excess = fit["chi2"] - dof
        lo, hi = np.where(excess > 0, t2, lo), np.where(excess > 0, hi, t2)
        step = t2 + excess / (w * w * fit["r"] ** 2).sum(axis=1)
        new = np.where((step > lo) & (step < hi), step, 0.5 * (lo + hi))
        new = np.where(excess == 0, t2, new)
        converged = np.abs(new - t2) <= tol
        t2 = new
        if converged.all():
            break
    tau2[rows] = t2
    return tau2


def _studentized(fit, w, dof) -> np.ndarray:
    """Externally studentized, leverage-corrected residuals (rows x points)."""
    hat = w * (1.0 / fit["s0"][:, None] + fit["dx"] ** 2 / fit["sxx"][:, None])
    r_w = fit["r"] * np.sqrt(w) / np.sqrt(np.clip(1 - hat, 1e-12, None))
    s2_del = (fit["chi2"][:, None] - r_w**2) / np.maximum(dof - 1, 1)[:, None]
    return r_w / np.sqrt(np.clip(s2_del, 1e-300, None))


def _curvature_p(w, fit, n, stats) -> np.ndarray:
    """p-value of a quadratic term in 1/T (F-test, NaN with fewer than 4 points): the drop
    of chi2 from adding z = dx^2, (sum w z' r)^2 / sum w z'^2 with z' = z made orthogonal to
    the line, against the quadratic fit's own scatter."""
    z = fit["dx"] ** 2
    z = z - (w * z).sum(axis=1)[:, None] / fit["s0"][:, None] \
        - ((w * fit["dx"] * z).sum(axis=1) / fit["sxx"])[:, None] * fit["dx"]
    drop = (w * z * fit["r"]).sum(axis=1) ** 2 / (w * z * z).sum(axis=1)
    chi_lin = fit["chi2"]
    chi_quad = chi_lin - drop
    big = n >= 4
    f = (chi_lin - chi_quad) / (chi_quad / np.where(big, n - 3, 1))
    p = np.where(chi_quad > 0, stats.f.sf(f, 1, np.where(big, n - 3, 1)),
                 np.where(chi_lin > 0, 0.0, 1.0))
    return np.where(big, p, np.nan)

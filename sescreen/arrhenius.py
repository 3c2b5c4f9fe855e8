"""Arrhenius fits of conductivity vs temperature, and extrapolation to another temperature.

Two conventions are in use (METHODS.md section 2); the one used is stored with every fit:

    "sigma"  : sigma   = A exp(-Ea / (k_B T))
    "sigmaT" : sigma T = A exp(-Ea / (k_B T))

They differ by about k_B T_mean in Ea (0.024 eV near 280 K): the exact conversion refits
the same data (:meth:`ArrheniusFit.in_convention`), the approximate one is
:func:`convert_ea`.

The fit is a straight line ln y = ln A - Ea x with x = 1 / (k_B T) (1/eV), y = sigma or
sigma T, weighted by each point's relative uncertainty (the standard error of ln sigma is
stderr / sigma). With uncertainties given, they are taken as absolute and the parameter
errors are inflated by sqrt(reduced chi-square) when the scatter exceeds them (never
shrunk); without them, the scatter sets the errors and intervals use Student's t with n - 2
degrees of freedom.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sescreen.constants import BOLTZMANN_EV
from sescreen.errors import InputError
from sescreen.serialize import json_safe

__all__ = [
    "CONVENTIONS",
    "ArrheniusFit",
    "Extrapolation",
    "convert_ea",
    "fit_arrhenius",
]

CONVENTIONS = ("sigma", "sigmaT")
_MIN_PLAUSIBLE_K = 150.0  # below this, a "K" column most likely holds degrees Celsius


def convert_ea(ea_ev: float, *, from_convention: str, to_convention: str,
               t_mean_k: float) -> float:
    """Approximate conversion of Ea between conventions: Ea(sigma T) = Ea(sigma) + k_B T_mean.

    Parameters
    ----------
    ea_ev : float
        Activation energy in the ``from_convention``, eV.
    from_convention, to_convention : {"sigma", "sigmaT"}
    t_mean_k : float
        Mean temperature of the data, K (use the harmonic mean for the best agreement
        with a refit).

    Returns
    -------
    float
        Ea in ``to_convention``, eV.
    """
    for c in (from_convention, to_convention):
        if c not in CONVENTIONS:
            raise InputError(f"unknown convention {c!r}; use 'sigma' or 'sigmaT'")
    if from_convention == to_convention:
        return ea_ev
    shift = BOLTZMANN_EV * t_mean_k
    return ea_ev + shift if to_convention == "sigmaT" else ea_ev - shift


@dataclass(frozen=True)
class Extrapolation:
    """sigma at one temperature with a confidence interval of the mean line and a
    prediction interval of a new measurement (both 95 % unless stated), S/cm."""

    temperature_k: float
    sigma: float
    ci: tuple[float, float]
    pi: tuple[float, float]
    level: float
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class ArrheniusFit:
    """A weighted Arrhenius line in one convention.

    Attributes
    ----------
    ea_ev, ea_stderr : float
        Activation energy and its standard error, eV.
    ea_interval : tuple
        95 % confidence interval of Ea, eV.
    ln_prefactor, ln_prefactor_stderr : float
        ln A (A in S/cm, or S K/cm for sigmaT) and its standard error.
    convention : {"sigma", "sigmaT"}
    """

    material: str | None
    convention: str
    ea_ev: float
    ea_stderr: float
    ea_interval: tuple[float, float]
    ln_prefactor: float
    ln_prefactor_stderr: float
    covariance: tuple[tuple[float, float], tuple[float, float]]
    temperature_k: tuple[float, ...]
    sigma: tuple[float, ...]
    sigma_stderr: tuple[float, ...] | None
    chi2_red: float
    dof_t: int | None  #: Student-t degrees of freedom, None when the errors are absolute
    residual_var: float  #: variance of a new point in ln y (for prediction intervals)
    curvature_p: float | None
    outliers: tuple[int, ...]
    warnings: tuple[str, ...] = field(default=())

    @property
    def n_points(self) -> int:
        return len(self.temperature_k)

    @property
    def prefactor(self) -> float:
        """A, S/cm (sigma) or S K/cm (sigmaT)."""
        return math.exp(self.ln_prefactor)

    @property
    def t_mean_k(self) -> float:
        """Harmonic mean temperature of the data, K."""
        return 1.0 / float(np.mean(1.0 / np.asarray(self.temperature_k)))

    def _quantile(self, level: float) -> float:
        from scipy import stats

        if self.dof_t is None:
            return float(stats.norm.ppf(0.5 + level / 2))
        return float(stats.t.ppf(0.5 + level / 2, self.dof_t))

    def sigma_at(self, temperature_k: float, level: float = 0.95) -> Extrapolation:
        """sigma at ``temperature_k`` (K), with confidence and prediction intervals."""
        if not temperature_k > 0:
            raise InputError(f"temperature {temperature_k!r} K is not positive")
        x = 1.0 / (BOLTZMANN_EV * temperature_k)
        g = np.array([1.0, -x])
        cov = np.asarray(self.covariance)
        ln_y = self.ln_prefactor - self.ea_ev * x
        var_mean = float(g @ cov @ g)
        q = self._quantile(level)
        to_sigma = 1.0 / temperature_k if self.convention == "sigmaT" else 1.0

        def band(var):
            half = q * math.sqrt(var)
            return (math.exp(ln_y - half) * to_sigma, math.exp(ln_y + half) * to_sigma)

        warns = []
        inv = 1.0 / np.asarray(self.temperature_k)
        span = inv.max() - inv.min()
        outside = max(inv.min() - 1.0 / temperature_k, 1.0 / temperature_k - inv.max(), 0.0)
        if outside > 0.5 * span:
            warns.append(f"extrapolating to {temperature_k:.1f} K, far outside the measured "
                         f"{min(self.temperature_k):.1f}-{max(self.temperature_k):.1f} K "
                         f"({outside / span:.1f}x the measured range in 1/T): the interval "
                         "assumes one straight line all the way")
        return Extrapolation(float(temperature_k), math.exp(ln_y) * to_sigma,
                             band(var_mean), band(var_mean + self.residual_var), level,
                             tuple(warns))

    def in_convention(self, convention: str) -> ArrheniusFit:
        """The exact conversion: refit the same data in the other convention."""
        if convention == self.convention:
            return self
        return fit_arrhenius(self.temperature_k, self.sigma, self.sigma_stderr,
                             convention=convention, material=self.material)

    def summary(self, at_k: float | None = None) -> dict[str, Any]:
        """JSON-safe dict (the ``sescreen arrhenius --json`` keys first)."""
        out: dict[str, Any] = {
            "ea_ev": self.ea_ev, "ea_stderr": self.ea_stderr, "prefactor": self.prefactor,
            "convention": self.convention, "n_points": self.n_points,
            "sigma_at": None, "sigma_at_interval": None,
            "material": self.material, "ea_interval": list(self.ea_interval),
            "ln_prefactor": self.ln_prefactor, "ln_prefactor_stderr": self.ln_prefactor_stderr,
            "prefactor_unit": "S/cm" if self.convention == "sigma" else "S K/cm",
            "t_min_k": min(self.temperature_k), "t_max_k": max(self.temperature_k),
            "chi2_red": self.chi2_red, "curvature_p": self.curvature_p,
            "outliers": [self.temperature_k[i] for i in self.outliers],
            "warnings": list(self.warnings),
        }
        if at_k is not None:
            ex = self.sigma_at(at_k)
            out.update(sigma_at=ex.sigma, sigma_at_interval=list(ex.ci),
                       sigma_at_prediction_interval=list(ex.pi), at_k=at_k,
                       warnings=list(self.warnings) + list(ex.warnings))
        return json_safe(out)

    def __str__(self) -> str:
        lo, hi = self.ea_interval
        unit = "S/cm" if self.convention == "sigma" else "S K/cm"
        name = f"{self.material}: " if self.material else ""
        lines = [f"{name}Arrhenius ({self.convention} = A exp(-Ea/kT)), {self.n_points} points, "
                 f"{min(self.temperature_k):.1f}-{max(self.temperature_k):.1f} K",
                 f"  Ea = {self.ea_ev:.4f} +/- {self.ea_stderr:.4f} eV (95 %: {lo:.4f} .. "
                 f"{hi:.4f}), A = {self.prefactor:.3g} {unit}"]
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def plot(self, ax=None, *, at_k: float | None = None, color=None):
        """log10 sigma vs 1000/T with the fit, both bands and a top axis in deg C."""
        from sescreen.plot import plot_arrhenius

        return plot_arrhenius([self], ax=ax, at_k=at_k, colors=[color] if color else None)


def fit_arrhenius(
    temperature_k,
    sigma,
    sigma_stderr=None,
    *,
    convention: str = "sigma",
    material: str | None = None,
) -> ArrheniusFit:
    """Fit sigma(T) with an Arrhenius law.

    Parameters
    ----------
    temperature_k : array-like
        Temperatures, K (at least 3 different ones).
    sigma : array-like
        Conductivities, S/cm (> 0).
    sigma_stderr : array-like, optional
        Standard errors of sigma, S/cm; they weight the fit in log space.
    convention : {"sigma", "sigmaT"}
        Which quantity is Arrhenius-activated.
    material : str, optional
        Name stored with the fit.

    Returns
    -------
    ArrheniusFit

    Raises
    ------
    InputError
        Fewer than 3 temperatures, a temperature that is not positive or is implausibly
        low (below 150 K: degrees Celsius in a kelvin column?), sigma <= 0 or not finite.
    """
    if convention not in CONVENTIONS:
        raise InputError(f"unknown convention {convention!r}; use 'sigma' or 'sigmaT'")
    t = np.asarray(temperature_k, dtype=float)
    s = np.asarray(sigma, dtype=float)
    label = f"{material}: " if material else ""
    if t.shape != s.shape or t.ndim != 1:
        raise InputError(f"{label}temperatures and conductivities must be equal-length lists")
    bad = np.flatnonzero(~np.isfinite(s) | (s <= 0))
    if bad.size:
        raise InputError(f"{label}conductivity {float(s[bad[0]]):g} at point {bad[0] + 1} "
                         "(a blank cell reads as nan) is not a positive number: an Arrhenius "
                         "fit needs sigma > 0")
    bad = np.flatnonzero(~np.isfinite(t) | (t <= 0))
    if bad.size:
        raise InputError(f"{label}temperature {float(t[bad[0]]):g} K at point {bad[0] + 1} "
                         "is not positive")
    low = np.flatnonzero(t < _MIN_PLAUSIBLE_K)
    if low.size:
        raise InputError(f"{label}temperature {t[low[0]]:g} K at point {low[0] + 1} is "
                         "implausible for a conductivity measurement: is it in degrees "
                         f"Celsius ({t[low[0]] + 273.15:g} K)? Label the column 'T (C)'")
    if np.unique(t).size < 3:
        raise InputError(f"{label}an Arrhenius fit needs at least 3 different temperatures "
                         f"(got {np.unique(t).size}: {', '.join(f'{v:g} K' for v in np.unique(t))}"
                         "); with fewer the line has no error estimate")
    if sigma_stderr is not None:
        e = np.asarray(sigma_stderr, dtype=float)
        if e.shape != s.shape or np.any(~np.isfinite(e)) or np.any(e <= 0):
            raise InputError(f"{label}standard errors must be positive numbers, one per point")
        sd_ln = e / s
    else:
        sd_ln = np.ones_like(s)
    x = 1.0 / (BOLTZMANN_EV * t)
    y = np.log(s * t) if convention == "sigmaT" else np.log(s)
    w = 1.0 / sd_ln**2
    design = np.column_stack([np.ones_like(x), -x])  # params: ln A, Ea
    xtwx = design.T @ (design * w[:, None])
    cov0 = np.linalg.inv(xtwx)
    beta = cov0 @ (design.T @ (w * y))
    resid = y - design @ beta
    n = t.size
    dof = n - 2
    chi2 = float(resid @ (w * resid))
    chi2_red = chi2 / dof if dof > 0 else float("nan")
    if sigma_stderr is None:
        s2 = chi2_red  # residual variance in ln y (weights = 1)
        cov = cov0 * s2
        dof_t: int | None = dof
        residual_var = s2
    else:
        inflate = max(1.0, chi2_red) if np.isfinite(chi2_red) else 1.0
        cov = cov0 * inflate
        dof_t = None
        residual_var = float(np.median(sd_ln**2)) * inflate
    from scipy import stats

    # Student's t whenever the scatter sets the errors (no stated errors, or stated errors
    # inflated because the scatter exceeds them); normal for trusted absolute errors
    overdispersed = sigma_stderr is not None and dof > 0 and chi2_red > 1
    q = float(stats.t.ppf(0.975, dof)) if (dof_t is not None or overdispersed) and dof > 0 \
        else 1.959963984540054
    ea, ea_se = float(beta[1]), float(math.sqrt(cov[1, 1]))
    warns: list[str] = []
    # Outliers: residuals beyond 3 standard errors, flagged, not dropped. Leverage-corrected;
    # with stated errors against those, without them externally studentized (the point's
    # own residual left out of the scale, else a single outlier can never exceed
    # sqrt(n - 2)).
    hat = np.einsum("ij,jk,ik->i", design * np.sqrt(w)[:, None], cov0,
                    design * np.sqrt(w)[:, None])
    r_w = resid * np.sqrt(w) / np.sqrt(np.clip(1 - hat, 1e-12, None))
    if sigma_stderr is None:
        s2_del = (chi2 - r_w**2) / max(dof - 1, 1)
        student = r_w / np.sqrt(np.clip(s2_del, 1e-300, None))
    else:
        student = r_w
    outliers = tuple(int(i) for i in np.flatnonzero(np.abs(student) > 3)) if dof > 1 else ()
    for i in outliers:
        warns.append(f"point at {t[i]:.1f} K (sigma {s[i]:.3g} S/cm) lies "
                     f"{abs(student[i]):.1f} standard errors off the line: check it (kept in "
                     "the fit)")
    curvature_p = _curvature_test(x, y, w,
                                  absolute=sigma_stderr is not None and not overdispersed)
    if curvature_p is not None and curvature_p < 0.05:
        warns.append(f"a quadratic term in 1/T improves the fit significantly (p = "
                     f"{curvature_p:.2g}): the conduction mechanism may change over the "
                     "range; extrapolate with care")
    if sigma_stderr is not None and dof > 0 and chi2_red > 3:
        warns.append(f"the scatter exceeds the stated uncertainties (reduced chi-square "
                     f"{chi2_red:.1f}); errors are scaled up by {math.sqrt(chi2_red):.1f}")
    return ArrheniusFit(
        material=material, convention=convention, ea_ev=ea, ea_stderr=ea_se,
        ea_interval=(ea - q * ea_se, ea + q * ea_se), ln_prefactor=float(beta[0]),
        ln_prefactor_stderr=float(math.sqrt(cov[0, 0])),
        covariance=((float(cov[0, 0]), float(cov[0, 1])), (float(cov[1, 0]), float(cov[1, 1]))),
        temperature_k=tuple(map(float, t)), sigma=tuple(map(float, s)),
        sigma_stderr=None if sigma_stderr is None else tuple(map(float, sigma_stderr)),
        chi2_red=chi2_red, dof_t=dof_t, residual_var=float(residual_var),
        curvature_p=curvature_p, outliers=outliers, warnings=tuple(warns))


def _curvature_test(x, y, w, *, absolute: bool) -> float | None:
    """p-value that a quadratic term in 1/T is needed: a chi-square test of the chi-square
    drop when the errors are absolute and trusted, else an F-test (the scatter sets the
    scale). None with fewer than 4 points."""
    from scipy import stats

    n = x.size
    if n < 4:
        return None
    xc = x - np.average(x, weights=w)
    chis = []
    for k in (2, 3):
        design = np.vander(xc, k, increasing=True)
        coef, *_ = np.linalg.lstsq(design * np.sqrt(w)[:, None], y * np.sqrt(w), rcond=None)
        r = y - design @ coef
        chis.append(float(r @ (w * r)))
    chi_lin, chi_quad = chis
    if absolute:
        return float(stats.chi2.sf(max(chi_lin - chi_quad, 0.0), 1))
    if chi_quad <= 0:
        return 0.0 if chi_lin > 0 else 1.0
    f = (chi_lin - chi_quad) / (chi_quad / (n - 3))
    return float(stats.f.sf(f, 1, n - 3))

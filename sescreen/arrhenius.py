"""Arrhenius fits of conductivity vs temperature, and extrapolation to another temperature.

Two conventions are in use (METHODS.md section 2); the one used is stored with every fit:

    "sigma"  : sigma   = A exp(-Ea / (k_B T))
    "sigmaT" : sigma T = A exp(-Ea / (k_B T))

They differ by about k_B T_mean in Ea (0.024 eV near 280 K): the exact conversion refits
the same data (:meth:`ArrheniusFit.in_convention`), the approximate one is
:func:`convert_ea`.

The fit is a straight line ln y = ln A - Ea x with x = 1 / (k_B T) (1/eV), y = sigma or
sigma T. Every interval (Ea, ln A, sigma at any T, a new measurement) uses Student's t with
n - 2 degrees of freedom and the same covariance, so they are consistent with each other,
and each spans an offset common to all temperatures when its standard uncertainty is given
(``temperature_uncertainty_k``: one thermocouple's calibration, propagated to first order
and added in quadrature to the half-width at the normal quantile). The scatter cannot
reveal such an offset: all temperatures read 2 K high under 1-3 % errors, 6 points at
60-120 C, the 95 % interval of sigma(25 C) covered 9 % and passed 14 % of materials over
the threshold; with 1 K given (a type K class 1 thermocouple's +-1.5 K, IEC 60584-1, as a
uniform distribution, 0.87 K, rounded up) 71 % and 1 % (an independent review):

- without stated uncertainties, ordinary least squares; the scatter sets the errors;
- with them (the standard error of ln sigma is stderr / sigma), a random-effects line:
  each point's variance is its stated one plus a common excess tau^2 (sample-to-sample
  scatter the stated errors do not contain), tau^2 from the Paule-Mandel equation
  (weighted chi-square = n - 2; tau^2 = 0 when the scatter does not exceed the stated
  errors), and the covariance scaled by the weighted chi-square / (n - 2): the
  Hartung-Knapp-Sidik-Jonkman interval (Paule & Mandel, J. Res. NBS 87, 377 (1982);
  Hartung & Knapp, Stat. Med. 20, 3875 (2001); IntHout, Ioannidis & Borm, BMC Med. Res.
  Methodol. 14, 25 (2014)). It keeps its coverage whether the stated errors are right,
  too small by a factor, or miss an additive scatter; trusting them as exact (a normal
  quantile) covered 81 % at n = 4 with 3x over-dispersion (issue 13). When the points
  scatter less than their stated errors the scale is below 1 and the interval narrows:
  that is what keeps the coverage exact; the "modified" rule max(1, chi-square / (n - 2))
  never narrows but over-covers (99-100 % at n = 3).

Repeated measurements at one temperature (holds repeated, cells made twice) are one point
of the line, not several (:func:`collapse_repeats`): their mean, with the error of a mean
(the stated errors combined, inflated by the repeats' own scatter beyond them; without
stated errors, the pooled scatter of the repeats). Counted as independent points they share
whatever a temperature shares (its thermocouple, its cell), and the line's n - 2 degrees of
freedom and its scatter overstate what the data know: 3 temperatures x 3 repeats with a
shared error of 0.3 in ln sigma covered 56 % (an independent review).

Measured coverage of the 95 % interval of sigma(25 C) (``tests/benchmarks/arrhenius_coverage.py``,
a generator that does not share this code; figures in the README): 94-96 % at n = 3, 4, 6, 10
with stated errors right, 3x too small, an additive 0.2 scatter, or t(3) heavy tails. A
curved ln sigma(1/T) is not covered by any straight-line interval: the curvature warning is
the guard (its hit rate is in the same benchmark).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sescreen.constants import BOLTZMANN_EV, REPEAT_TEMPERATURE_K
from sescreen.errors import InputError
from sescreen.serialize import json_safe

__all__ = [
    "CONVENTIONS",
    "ArrheniusFit",
    "Extrapolation",
    "checked_points",
    "collapse_repeats",
    "convert_ea",
    "curved_interval",
    "fit_arrhenius",
    "fit_warnings",
    "kelvin_as_celsius_warning",
    "offset_response",
    "on_the_line",
    "outlier_limit",
    "repeats_warning",
    "temperature_groups",
]


def _exp(x: float) -> float:
    """exp(x), inf beyond the float range instead of OverflowError."""
    return math.exp(x) if x < 709.0 else math.inf

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
        95 % confidence interval of Ea, eV (Student t, n - 2 degrees of freedom, like
        every interval of :meth:`sigma_at`, widened by a stated temperature offset).
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
    chi2_red: float  #: reduced chi-square against the stated errors (NaN without them)
    dof_t: int  #: Student-t degrees of freedom of every interval (n - 2)
    residual_var: float  #: variance of a new point in ln y (for prediction intervals)
    curvature_p: float | None
    outliers: tuple[int, ...]
    warnings: tuple[str, ...] = field(default=())
    excess_scatter_ln: float = 0.0  #: tau, the scatter beyond the stated errors, ln units
    temperature_uncertainty_k: float = 0.0  #: standard uncertainty of a common offset, K
    #: change of (ln A, Ea) per kelvin of an offset common to all temperatures (1/K, eV/K)
    offset_sensitivity: tuple[float, float] = (0.0, 0.0)

    @property
    def n_points(self) -> int:
        return len(self.temperature_k)

    @property
    def prefactor(self) -> float:
        """A, S/cm (sigma) or S K/cm (sigmaT)."""
        return _exp(self.ln_prefactor)

    @property
    def t_mean_k(self) -> float:
        """Harmonic mean temperature of the data, K."""
        return 1.0 / float(np.mean(1.0 / np.asarray(self.temperature_k)))

    def _quantile(self, level: float) -> float:
        """Student's t quantile with the fit's n - 2 degrees of freedom (as for Ea)."""
        from scipy import stats

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
        offset = _offset_half(float(g @ np.asarray(self.offset_sensitivity)),
                              self.temperature_uncertainty_k, level)

        def band(var):  # an interval too wide for a float is open (0 or inf) at that end
            half = math.hypot(q * math.sqrt(var), offset)
            return (_exp(ln_y - half) * to_sigma, _exp(ln_y + half) * to_sigma)

        warns = []
        inv = 1.0 / np.asarray(self.temperature_k)
        span = inv.max() - inv.min()
        outside = max(inv.min() - 1.0 / temperature_k, 1.0 / temperature_k - inv.max(), 0.0)
        if outside > 0.5 * span:
            warns.append(f"extrapolating to {temperature_k:.1f} K, far outside the measured "
                         f"{min(self.temperature_k):.1f}-{max(self.temperature_k):.1f} K "
                         f"({outside / span:.1f}x the measured range in 1/T): the interval "
                         "assumes one straight line all the way")
        return Extrapolation(float(temperature_k), _exp(ln_y) * to_sigma,
                             band(var_mean), band(var_mean + self.residual_var), level,
                             tuple(warns))

    def in_convention(self, convention: str) -> ArrheniusFit:
        """The exact conversion: refit the same data in the other convention."""
        if convention == self.convention:
            return self
        return fit_arrhenius(self.temperature_k, self.sigma, self.sigma_stderr,
                             convention=convention, material=self.material,
                             temperature_uncertainty_k=self.temperature_uncertainty_k)

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
            "excess_scatter_ln": self.excess_scatter_ln, "dof": self.dof_t,
            "temperature_uncertainty_k": self.temperature_uncertainty_k,
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
    temperature_uncertainty_k: float = 0.0,
) -> ArrheniusFit:
    """Fit sigma(T) with an Arrhenius law.

    Parameters
    ----------
    temperature_k : array-like
        Temperatures, K (at least 3 different ones).
    sigma : array-like
        Conductivities, S/cm (> 0).
    sigma_stderr : array-like, optional
        Standard errors of sigma, S/cm; in log space each point's variance is
        (stderr / sigma)^2 plus the excess scatter tau^2 the data demand (module docstring).
    convention : {"sigma", "sigmaT"}
        Which quantity is Arrhenius-activated.
    material : str, optional
        Name stored with the fit.
    temperature_uncertainty_k : float
        Standard uncertainty of an offset common to all temperatures, K (a thermocouple's
        calibration, e.g. 1 for type K class 1; 0: the temperatures are exact): every
        interval spans it (module docstring).

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
    if not (math.isfinite(temperature_uncertainty_k) and temperature_uncertainty_k >= 0):
        raise InputError(f"temperature uncertainty {temperature_uncertainty_k!r} K must be a "
                         "finite number >= 0")
    t, s, var_ln, e = checked_points(temperature_k, sigma, sigma_stderr,
                                     label=f"{material}: " if material else "")
    t, s, e, merged = collapse_repeats(t, s, e, label=f"{material}: " if material else "")
    if merged:
        var_ln = None if e is None else (e / s) ** 2
        sigma_stderr = e
    x = 1.0 / (BOLTZMANN_EV * t)
    y = np.log(s * t) if convention == "sigmaT" else np.log(s)
    design = np.column_stack([np.ones_like(x), -x])  # params: ln A, Ea
    n = t.size
    dof = n - 2
    if var_ln is None:
        tau2 = 0.0
        w = np.ones_like(x)
        chi2_red = float("nan")
    else:
        chi2_red = _wls(design, y, 1.0 / var_ln)[2] / dof
        tau2 = _paule_mandel(design, y, var_ln, dof)
        w = 1.0 / (var_ln + tau2)
    beta, cov0, chi2, resid = _wls(design, y, w)
    scale = chi2 / dof  # Hartung-Knapp (or, without stated errors, the residual variance)
    cov = cov0 * scale
    residual_var = scale * (1.0 if var_ln is None else float(np.median(var_ln)) + tau2)
    from scipy import stats

    q = float(stats.t.ppf(0.975, dof))
    ea, ea_se = float(beta[1]), float(math.sqrt(cov[1, 1]))
    sens = cov0 @ (design.T @ (w * offset_response(t, ea, convention)))
    ea_half = math.hypot(q * ea_se, _offset_half(float(sens[1]), temperature_uncertainty_k))
    # Outliers: externally studentized residuals beyond outlier_limit, flagged, not dropped (the
    # point's own residual left out of the scale, else a single outlier can never exceed
    # sqrt(n - 2)); leverage-corrected.
    hat = np.einsum("ij,jk,ik->i", design * np.sqrt(w)[:, None], cov0,
                    design * np.sqrt(w)[:, None])
    r_w = resid * np.sqrt(w) / np.sqrt(np.clip(1 - hat, 1e-12, None))
    s2_del = (chi2 - r_w**2) / max(dof - 1, 1)
    student = r_w / np.sqrt(np.clip(s2_del, 1e-300, None))
    if on_the_line(resid, y):
        student = np.zeros_like(student)
    outliers = tuple(int(i) for i in np.flatnonzero(np.abs(student) > outlier_limit(n, dof))
                     ) if dof > 1 else ()
    curvature_p = _curvature_test(x, y, w)
    warns = fit_warnings(t, s, outliers, student, curvature_p, tau2, chi2_red)
    if merged:
        warns = (repeats_warning(merged, t.size), *warns)
    return ArrheniusFit(
        material=material, convention=convention, ea_ev=ea, ea_stderr=ea_se,
        ea_interval=(ea - ea_half, ea + ea_half), ln_prefactor=float(beta[0]),
        ln_prefactor_stderr=float(math.sqrt(cov[0, 0])),
        covariance=((float(cov[0, 0]), float(cov[0, 1])), (float(cov[1, 0]), float(cov[1, 1]))),
        temperature_k=tuple(map(float, t)), sigma=tuple(map(float, s)),
        sigma_stderr=None if sigma_stderr is None else tuple(map(float, sigma_stderr)),
        chi2_red=chi2_red, dof_t=dof, residual_var=float(residual_var),
        curvature_p=curvature_p, outliers=outliers, warnings=warns,
        excess_scatter_ln=math.sqrt(tau2),
        temperature_uncertainty_k=float(temperature_uncertainty_k),
        offset_sensitivity=(float(sens[0]), float(sens[1])))


#: Celsius readings that are lab temperatures if they were kelvin (-40..200 C) and that
#: few DC holds reach as Celsius: a material with all of its there is warned of
KELVIN_LOOKING_C = (233.0, 473.0)


def kelvin_as_celsius_warning(temperature_k) -> str | None:
    """A warning when every temperature (K), in Celsius, reads like a kelvin value: 333,
    363, 393 under 'temperature (C)' are 606-666 K, and sigma_e extrapolated from them
    11.5x the measured range to 25 C had passed at both thresholds with only the
    extrapolation warning (an independent review). None otherwise."""
    t_c = np.asarray(temperature_k, dtype=float) - 273.15
    lo, hi = KELVIN_LOOKING_C
    if not (t_c.size and np.all((t_c >= lo) & (t_c <= hi))):
        return None
    return (f"every temperature lies at {t_c.min():.0f}-{t_c.max():.0f} C: kelvin written in "
            f"a Celsius column? As kelvin they would be {t_c.min() - 273.15:.0f}-"
            f"{t_c.max() - 273.15:.0f} C; check the column's unit")


def offset_response(t, ea_ev, convention: str):
    """d y_i / d delta (1/K) of every point for an offset delta (K) of all its recorded
    temperatures ``t`` (K): the points of a line of ``ea_ev`` (eV) read at T + delta lie
    off it by Ea dx, dx = -k_B x^2 delta (x = 1 / (k_B T)), and ln(sigma T) also moves by
    delta / T in the sigmaT convention."""
    t = np.asarray(t, dtype=float)
    x = 1.0 / (BOLTZMANN_EV * t)
    return -ea_ev * BOLTZMANN_EV * x * x + (1.0 / t if convention == "sigmaT" else 0.0)


def _offset_half(per_k: float, u_k: float, level: float = 0.95) -> float:
    """Half-width (ln units, or eV for Ea) of an offset of standard uncertainty ``u_k`` (K)
    whose effect is ``per_k`` per kelvin, at the normal quantile of ``level``."""
    from scipy.special import ndtri

    return abs(per_k) * u_k * float(ndtri(0.5 + level / 2)) if u_k else 0.0


def temperature_groups(t: np.ndarray) -> np.ndarray:
    """The group of every temperature (K): sorted, a group holds the temperatures within
    :data:`~sescreen.constants.REPEAT_TEMPERATURE_K` of its lowest (repeats logged +-1 K
    apart are one temperature; counted as several, 3 x 3 repeats sharing an error covered
    51-72 %, independent reviews). Group numbers follow the temperatures' order."""
    order = np.argsort(t, kind="stable")
    group = np.empty(t.size, dtype=int)
    k, start = -1, -math.inf
    for i in order:
        if t[i] - start > REPEAT_TEMPERATURE_K:
            k, start = k + 1, float(t[i])
        group[i] = k
    return group


def collapse_repeats(t: np.ndarray, s: np.ndarray, e: np.ndarray | None, *, label: str = ""
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, int]:
    """Points at one temperature (:func:`temperature_groups`) as one (module docstring):
    the temperatures (K, the mean of each group, in order), the geometric means of sigma
    (S/cm), their standard errors (S/cm, first order in ln sigma; None when no errors were
    stated and the repeats agree exactly), and how many points were merged (0: ``t, s, e``
    returned as given).

    The mean of ln sigma is weighted by the stated errors (equal weights without them). Its
    variance is 1 / sum of the weights times the repeats' Birge ratio when they scatter
    beyond their errors (chi-square / (k - 1), at least 1); without stated errors, the
    pooled variance of the repeats about their means, over k.

    Raises
    ------
    InputError
        Fewer than 3 temperatures once the repeats are merged (``label`` starts it).
    """
    inv = temperature_groups(t)
    n_groups = int(inv.max()) + 1 if inv.size else 0
    if n_groups == t.size:
        return t, s, e, 0
    if n_groups < 3:
        raise InputError(f"{label}an Arrhenius fit needs at least 3 different temperatures "
                         f"(got {n_groups} once temperatures within {REPEAT_TEMPERATURE_K:g} K "
                         "of each other are taken as one); with fewer the line has no error "
                         "estimate")
    k = np.bincount(inv)
    u = np.bincount(inv, t) / k
    y = np.log(s)
    w = np.ones_like(y) if e is None else (s / e) ** 2  # 1 / variance of ln sigma
    sw = np.bincount(inv, w)
    ym = np.bincount(inv, w * y) / sw
    dev = np.bincount(inv, w * (y - ym[inv]) ** 2)
    merged = int(t.size - n_groups)
    if e is None:
        pooled = float(dev.sum()) / max(int((k - 1).sum()), 1)
        if not pooled > 0:  # repeats that agree exactly say nothing of the scatter
            return u, np.exp(ym), None, merged
        var = pooled / k
    else:
        var = np.maximum(1.0, dev / np.maximum(k - 1, 1)) / sw
    mean = np.exp(ym)
    return u, mean, mean * np.sqrt(var), merged


def repeats_warning(merged: int, n_temperatures: int) -> str:
    """What :func:`collapse_repeats` did, for the fit's warnings."""
    return (f"{merged} repeated point{'s' if merged > 1 else ''} at a temperature already "
            f"measured: each temperature is one point of the line, the mean of its repeats "
            f"({n_temperatures} points, n - 2 = {n_temperatures - 2} degrees of freedom)")


def checked_points(temperature_k, sigma, sigma_stderr=None, *, label: str = ""):
    """The points of one material as float arrays, refused as :func:`fit_arrhenius`
    documents (``label`` starts each message, e.g. ``"LLZO: "``).

    Returns
    -------
    tuple
        ``(t, sigma, var_ln, sigma_stderr)``: K, S/cm, the variance of ln sigma from the
        stated errors ((stderr / sigma)^2; None without them), S/cm (or None).
    """
    t = np.asarray(temperature_k, dtype=float)
    s = np.asarray(sigma, dtype=float)
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
    if sigma_stderr is None:
        return t, s, None, None
    e = np.asarray(sigma_stderr, dtype=float)
    if e.shape != s.shape or np.any(~np.isfinite(e)) or np.any(e <= 0):
        raise InputError(f"{label}standard errors must be positive numbers, one per point")
    return t, s, (e / s) ** 2, e


def on_the_line(resid, y, mask=None) -> np.ndarray:
    """Residuals (points along the last axis; ``mask`` False on padding) at the rounding of
    the line's values: no point is off it, whatever round-off divided by round-off gives
    (the single and the vectorized fit had flagged different points of an exact line, one
    at 1e137 standard errors: an independent review)."""
    resid, y = np.asarray(resid, dtype=float), np.asarray(y, dtype=float)
    mask = np.ones(resid.shape, dtype=bool) if mask is None else mask
    n = np.maximum(mask.sum(axis=-1), 1)
    rms = np.sqrt(np.where(mask, resid * resid, 0.0).sum(axis=-1) / n)
    return rms <= 1e-9 * np.maximum(np.where(mask, np.abs(y), 0.0).max(axis=-1), 1.0)


def outlier_limit(n, dof):
    """|Externally studentized residual| beyond which a point is flagged as off the line:
    Student's t with ``dof - 1`` degrees of freedom at a 5 % family-wise level over the
    ``n`` points (Bonferroni), and at least 3. A flat 3 flagged 74 % of clean 4-point fits
    (t with one degree of freedom, every point tested; an independent review)."""
    from scipy import stats

    n = np.maximum(np.asarray(n, dtype=float), 1.0)
    return np.maximum(3.0, stats.t.ppf(1.0 - 0.025 / n, np.maximum(np.asarray(dof) - 1, 1)))


def fit_warnings(t, s, outliers, student, curvature_p, tau2, chi2_red) -> tuple[str, ...]:
    """The warnings of a fit: points off the line (kept), curvature, excess scatter."""
    warns = [f"point at {t[i]:.1f} K (sigma {s[i]:.3g} S/cm) lies {abs(student[i]):.1f} "
             "standard errors off the line: check it (kept in the fit)" for i in outliers]
    if curvature_p is not None and curvature_p < 0.05:
        warns.append(f"a quadratic term in 1/T improves the fit significantly (p = "
                     f"{curvature_p:.2g}): the conduction mechanism may change over the "
                     "range; extrapolate with care")
    if tau2 > 0 and chi2_red > 3:
        warns.append(f"the scatter exceeds the stated uncertainties (reduced chi-square "
                     f"{chi2_red:.1f}): an excess scatter of {math.sqrt(tau2):.2g} in ln "
                     "sigma is added to every point's error")
    return tuple(warns)


def _wls(design, y, w):
    """Weighted least squares: (beta, (X'WX)^-1, weighted chi-square, residuals)."""
    xtwx = design.T @ (design * w[:, None])
    cov0 = np.linalg.inv(xtwx)
    beta = cov0 @ (design.T @ (w * y))
    resid = y - design @ beta
    return beta, cov0, float(resid @ (w * resid)), resid


def _paule_mandel(design, y, var, dof: int) -> float:
    """The excess variance tau^2 (ln units squared) at which the weighted chi-square with
    weights 1 / (var + tau^2) equals ``dof`` (Paule & Mandel 1982); 0 when the stated
    variances already explain the scatter. The weighted chi-square falls monotonically in
    tau^2 and is at most RSS_OLS / tau^2, so RSS_OLS / dof brackets the root."""
    from scipy.optimize import brentq

    def excess(tau2):
        return _wls(design, y, 1.0 / (var + tau2))[2] - dof

    if dof <= 0 or excess(0.0) <= 0:
        return 0.0
    upper = _wls(design, y, np.ones_like(y))[2] / dof
    return float(brentq(excess, 0.0, upper, xtol=1e-12 * upper + 1e-300, rtol=1e-10))


def curved_interval(fit: ArrheniusFit, temperature_k: float,
                    level: float = 0.95) -> tuple[float, float] | None:
    """The interval of sigma (S/cm) at ``temperature_k`` (K) from a quadratic in 1/T
    through the fit's points: the same weights (stated errors plus the excess scatter, or
    none), the Hartung-Knapp scale and Student's t on n - 3 degrees of freedom, and the
    fit's common temperature offset (``temperature_uncertainty_k``) propagated as for the
    line, with the quadratic's local slope in each point's response. None with fewer than
    4 points.

    Where the curvature test rejects the line, the line's interval is no promise: a second
    mechanism taking over below the measured range (an extrinsic branch of low Ea) bends
    ln sigma(1/T) upward, and the line extrapolated to room temperature passed materials
    1.05-1.5x over the threshold (an independent review: coverage 81 %).
    """
    from scipy import stats

    t = np.asarray(fit.temperature_k, dtype=float)
    s = np.asarray(fit.sigma, dtype=float)
    n = t.size
    if n < 4:
        return None
    x = 1.0 / (BOLTZMANN_EV * t)
    y = np.log(s * t) if fit.convention == "sigmaT" else np.log(s)
    if fit.sigma_stderr is None:
        w = np.ones(n)
    else:
        w = 1.0 / ((np.asarray(fit.sigma_stderr) / s) ** 2 + fit.excess_scatter_ln ** 2)
    xm = float(np.average(x, weights=w))
    design = np.vander(x - xm, 3, increasing=True)
    beta, cov0, chi2, _ = _wls(design, y, w)
    cov = cov0 * chi2 / (n - 3)
    g = np.vander([1.0 / (BOLTZMANN_EV * temperature_k) - xm], 3, increasing=True)[0]
    # an offset of the recorded temperatures moves each point along the curve's own slope
    slope = beta[1] + 2.0 * beta[2] * (x - xm)  # d ln / dx; -Ea for a line
    response = offset_response(t, -slope, fit.convention)
    offset = _offset_half(float(g @ (cov0 @ (design.T @ (w * response)))),
                          fit.temperature_uncertainty_k, level)
    half = math.hypot(float(stats.t.ppf(0.5 + level / 2, n - 3))
                      * math.sqrt(max(float(g @ cov @ g), 0.0)), offset)
    ln_y = float(g @ beta) - (math.log(temperature_k) if fit.convention == "sigmaT" else 0.0)
    return _exp(ln_y - half), _exp(ln_y + half)


def _curvature_test(x, y, w) -> float | None:
    """p-value that a quadratic term in 1/T is needed: an F-test of the chi-square drop
    against the quadratic fit's own scatter (the scatter sets the scale, so understated
    errors do not raise false alarms). None with fewer than 4 points."""
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
    if chi_quad <= 0:
        return 0.0 if chi_lin > 0 else 1.0
    f = (chi_lin - chi_quad) / (chi_quad / (n - 3))
    return float(stats.f.sf(f, 1, n - 3))

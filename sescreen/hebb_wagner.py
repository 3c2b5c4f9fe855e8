"""Hebb-Wagner polarization: Li | SE | blocking electrode, steady currents at several
potentials E of the blocking electrode versus Li -> electron and hole conductivities.

METHODS.md eq. (2) (Hebb 1952; Wagner 1956), with sigma_n0, sigma_p0 the partial
conductivities at the Li/SE equilibrium (E = 0):

    I(E) = (R T A) / (F L) * [ sigma_n0 (1 - exp(-F E / R T)) + sigma_p0 (exp(F E / R T) - 1) ]

E is positive: the cell is polarised with the blocking electrode positive versus Li (a
negative E would plate lithium on it). Eq. (2) is odd under E -> -E with sigma_n0 and
sigma_p0 exchanged, so holds given with the sign flipped (Li versus the blocking electrode)
fit just as well with the two conductivities swapped: :func:`fit_hebb_wagner` refuses
E <= 0 rather than return them.

I is linear in (sigma_n0, sigma_p0), so the fit is an exact weighted linear least-squares
problem with their covariance. T enters eq. (2) in the prefactor and in the exponent
F E / R T: an error dT in the temperature moves sigma_p0 by about (1 - F E / R T) dT / T
(19 % per K at 1.5 V and 298 K) and sigma_n0 by about dT / T. A temperature known to a
standard uncertainty u (``temperature_uncertainty_k``) is propagated to first order: the
covariance gains u^2 s s^T, s the change of (sigma_n0, sigma_p0) per kelvin (the law of
propagation of uncertainty, JCGM 100:2008 (GUM) section 5.1), as the Arrhenius intervals
span a common temperature offset (:mod:`sescreen.arrhenius`).

It needs an electrolyte stable against lithium, which LLZO and Li3PS4 are not: that is why
Han et al. used two blocking electrodes instead (:mod:`sescreen.dcpol`), whose value is an
upper bound of sigma_e, not this one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from sescreen.constants import FARADAY, GAS_CONSTANT
from sescreen.errors import InputError

__all__ = ["HebbWagnerResult", "fit_hebb_wagner", "hebb_wagner_current"]


def hebb_wagner_current(e_v, sigma_n0, sigma_p0, *, temperature_k, thickness_cm, area_cm2):
    """Steady-state current of a Hebb-Wagner cell, METHODS eq. (2).

    Parameters
    ----------
    e_v : array-like
        Potential of the blocking electrode versus Li/Li+, V.
    sigma_n0, sigma_p0 : float
        Electron and hole conductivities at E = 0, S/cm.
    temperature_k : float
        K.
    thickness_cm, area_cm2 : float
        Electrolyte thickness (cm) and electrode area (cm^2).

    Returns
    -------
    ndarray
        Current, A.
    """
    x = FARADAY * np.asarray(e_v, dtype=float) / (GAS_CONSTANT * temperature_k)
    pre = GAS_CONSTANT * temperature_k * area_cm2 / (FARADAY * thickness_cm)
    return pre * (sigma_n0 * -np.expm1(-x) + sigma_p0 * np.expm1(x))


@dataclass(frozen=True)
class HebbWagnerResult:
    """Electron and hole conductivities (S/cm) with standard errors and covariance."""

    sigma_n0: float
    sigma_n0_stderr: float
    sigma_p0: float
    sigma_p0_stderr: float
    covariance: tuple[tuple[float, float], tuple[float, float]]
    temperature_k: float
    thickness_cm: float
    area_cm2: float
    chi2_red: float
    n_points: int
    e_v: tuple[float, ...]
    i_a: tuple[float, ...]
    i_err_a: tuple[float, ...]
    cell: str = "hebb-wagner"
    warnings: tuple[str, ...] = ()
    temperature_uncertainty_k: float = 0.0  #: standard uncertainty of T, in the errors, K

    def sigma_e_at(self, e_v: float) -> float:
        """Total electronic conductivity at potential E versus Li, S/cm."""
        x = FARADAY * e_v / (GAS_CONSTANT * self.temperature_k)
        return self.sigma_n0 * math.exp(-x) + self.sigma_p0 * math.exp(x)

    def summary(self) -> dict[str, Any]:
        return {"cell": self.cell, "sigma_n0": self.sigma_n0,
                "sigma_n0_stderr": self.sigma_n0_stderr, "sigma_p0": self.sigma_p0,
                "sigma_p0_stderr": self.sigma_p0_stderr,
                "covariance": [list(r) for r in self.covariance],
                "temperature_k": self.temperature_k,
                "temperature_uncertainty_k": self.temperature_uncertainty_k,
                "thickness_cm": self.thickness_cm,
                "area_cm2": self.area_cm2, "chi2_red": self.chi2_red,
                "n_points": self.n_points, "warnings": list(self.warnings)}

    def __str__(self) -> str:
        dt = (f" +/- {self.temperature_uncertainty_k:.2g}" if self.temperature_uncertainty_k
              else "")
        return (f"Hebb-Wagner ({self.n_points} potentials, {self.temperature_k:.1f}{dt} K): "
                f"sigma_n0 = {self.sigma_n0:.3g} +/- {self.sigma_n0_stderr:.2g} S/cm, "
                f"sigma_p0 = {self.sigma_p0:.3g} +/- {self.sigma_p0_stderr:.2g} S/cm "
                f"(reduced chi-square {self.chi2_red:.2g})"
                + "".join(f"\n  warning: {w}" for w in self.warnings))

    def plot(self, ax=None):
        from sescreen.plot import _pyplot

        plt = _pyplot()
        if ax is None:
            _, ax = plt.subplots(figsize=(5, 4))
        e = np.asarray(self.e_v)
        ax.errorbar(e, np.abs(self.i_a), yerr=self.i_err_a, fmt="o", label="I_ss")
        ee = np.linspace(e.min(), e.max(), 200)
        ax.plot(ee, np.abs(hebb_wagner_current(ee, self.sigma_n0, self.sigma_p0,
                                               temperature_k=self.temperature_k,
                                               thickness_cm=self.thickness_cm,
                                               area_cm2=self.area_cm2)), label="eq. (2)")
        ax.set_yscale("log")
        ax.set_xlabel("E vs Li/Li+ (V)")
        ax.set_ylabel("|I| (A)")
        ax.legend(fontsize=8)
        return ax


def _solve(e, i, err, temperature_k, thickness_cm, area_cm2):
    """Weighted least squares of eq. (2): (coefficients, unscaled covariance, weighted
    residuals, rank of the column-normalized design)."""
    x = FARADAY * e / (GAS_CONSTANT * temperature_k)
    pre = GAS_CONSTANT * temperature_k * area_cm2 / (FARADAY * thickness_cm)
    design = pre * np.column_stack([-np.expm1(-x), np.expm1(x)]) / err[:, None]
    # The two columns differ by up to exp(2 F E / R T) (1e37 at 2.5 V): solve with
    # unit-norm columns, then undo the scaling.
    norms = np.linalg.norm(design, axis=0)
    if np.any(norms == 0) or np.linalg.matrix_rank(design / norms) < 2:
        raise InputError("the potentials cannot separate electron and hole conduction: "
                         "spread them over at least ~0.1 V")
    scaled = design / norms
    coef_s, *_ = np.linalg.lstsq(scaled, i / err, rcond=None)
    cov = np.linalg.inv(scaled.T @ scaled) / np.outer(norms, norms)
    return coef_s / norms, cov, i / err - scaled @ coef_s


#: step of the central difference for d(sigma_n0, sigma_p0)/dT, K
_DT_K = 0.01


def fit_hebb_wagner(e_v, i_a, *, temperature_k: float, thickness_cm: float, area_cm2: float,
                    i_err_a=None, hold_warnings=(), labels=None,
                    temperature_uncertainty_k: float = 0.0) -> HebbWagnerResult:
    """Fit METHODS.md eq. (2) (Hebb 1952; Wagner 1956) to steady-state currents at several
    potentials of the blocking electrode versus Li.

    Parameters
    ----------
    e_v, i_a : array-like
        Blocking-electrode potential versus Li (V, > 0: the blocking electrode positive)
        and steady-state current (A) pairs.
    temperature_k : float
        K.
    thickness_cm, area_cm2 : float
        cm and cm^2.
    i_err_a : array-like, optional
        Standard errors of the currents, A (e.g. ``i_ss_stderr`` of DC fits); equal
        weights when absent, with the errors then scaled by the residual scatter.
    hold_warnings : sequence of str
        Warnings of the holds behind the currents, carried into the result.
    labels : sequence of str, optional
        A name for each pair (its file and hold), used in errors; default "potential k".
    temperature_uncertainty_k : float
        Standard uncertainty of ``temperature_k``, K (0: exact). Propagated to first order
        into the standard errors and covariance (module docstring): eq. (2) fitted at a
        temperature 1 K off moves sigma_p0 by about (F E / R T - 1) / T per K.

    Raises
    ------
    InputError
        Fewer than 3 potentials, a potential <= 0 (the sign convention: eq. (2) would
        return sigma_n0 and sigma_p0 swapped), or potentials that cannot separate electrons
        from holes.
    """
    e = np.asarray(e_v, dtype=float)
    i = np.asarray(i_a, dtype=float)
    if e.shape != i.shape or e.size < 3:
        raise InputError("Hebb-Wagner needs at least 3 (E, I) pairs of equal length")
    if not all(math.isfinite(v) and v > 0 for v in (temperature_k, thickness_cm, area_cm2)):
        raise InputError("temperature, thickness and area must be finite and positive")
    u_k = float(temperature_uncertainty_k)
    if not (math.isfinite(u_k) and 0 <= u_k < temperature_k):
        raise InputError(f"temperature uncertainty {temperature_uncertainty_k!r} K must be a "
                         "finite number >= 0 and below the temperature")
    if not (np.all(np.isfinite(e)) and np.all(np.isfinite(i))):
        raise InputError("Hebb-Wagner needs finite potentials and currents (a NaN or inf "
                         "steady-state current: that hold has no I_ss to fit)")
    wrong = np.flatnonzero(e <= 0)
    if wrong.size:
        k = int(wrong[0])
        where = labels[k] if labels is not None else f"potential {k + 1} of {e.size}"
        raise InputError(f"{where}: E = {e[k]:+.4g} V vs Li is not positive; the Hebb-Wagner "
                         "cell is polarised with the blocking electrode positive (eq. (2) with "
                         "E <= 0 swaps sigma_n0 and sigma_p0): give E as a positive magnitude "
                         "(a record of Li versus the blocking electrode: flip the voltage and "
                         "current signs) or check the sign convention")
    err = np.ones_like(i) if i_err_a is None else np.asarray(i_err_a, dtype=float)
    if not np.all(np.isfinite(err) & (err > 0)):  # NaN passed "err <= 0" to an SVD error
        raise InputError("current standard errors must be finite and positive (a hold "
                         "without a standard error of I_ss cannot be weighted)")
    geometry = (thickness_cm, area_cm2)
    coef, cov, resid = _solve(e, i, err, temperature_k, *geometry)
    dof = e.size - 2
    chi2_red = float(resid @ resid / dof) if dof > 0 else float("nan")
    if i_err_a is None or chi2_red > 1:
        cov = cov * (chi2_red if np.isfinite(chi2_red) else 1.0)
    if u_k:
        per_k = (_solve(e, i, err, temperature_k + _DT_K, *geometry)[0]
                 - _solve(e, i, err, temperature_k - _DT_K, *geometry)[0]) / (2 * _DT_K)
        cov = cov + u_k**2 * np.outer(per_k, per_k)
    warns = tuple(
        f"{name} fitted negative ({value:.3g} +/- {np.sqrt(var):.2g} S/cm): "
        + ("consistent with zero" if value > -2 * np.sqrt(var) else
           "the data do not follow eq. (2); check the potentials and the cell")
        for name, value, var in (("sigma_n0", coef[0], cov[0, 0]),
                                 ("sigma_p0", coef[1], cov[1, 1])) if value < 0)
    if np.isfinite(chi2_red) and chi2_red > 3:
        warns += (f"eq. (2) fits the currents poorly (reduced chi-square {chi2_red:.3g}): "
                  "not a Hebb-Wagner cell, or holds not at steady state; errors scaled up",)
    warns += tuple(hold_warnings)
    return HebbWagnerResult(
        float(coef[0]), float(math.sqrt(cov[0, 0])), float(coef[1]), float(math.sqrt(cov[1, 1])),
        ((float(cov[0, 0]), float(cov[0, 1])), (float(cov[1, 0]), float(cov[1, 1]))),
        float(temperature_k), float(thickness_cm), float(area_cm2), chi2_red, int(e.size),
        tuple(map(float, e)), tuple(map(float, i)), tuple(map(float, err)), warnings=warns,
        temperature_uncertainty_k=u_k)

"""Several voltages on one cell: I_ss per hold and sigma_e = (L / A) dI_ss/dV, with a
linearity test (METHODS.md section 1, better practice)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from sescreen.dcpol.result import DCPolarizationResult
from sescreen.errors import InputError
from sescreen.serialize import json_safe

__all__ = ["VoltageSeriesResult", "fit_voltage_series"]


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
    from scipy.special import chdtri

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
        linear = bool(chi2_red < chdtri(dof, 0.01) / dof and
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



"""The result of one DC-polarization hold: sigma_e with the interval the verdicts use."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from sescreen.constants import Z95
from sescreen.dcpol.candidates import Candidate
from sescreen.dcpol.judgement import SteadyStateCriterion
from sescreen.errors import FitError
from sescreen.serialize import json_safe

if TYPE_CHECKING:
    from sescreen.dcpol.estimate import TransientEstimate

__all__ = ["DCPolarizationResult"]


@dataclass(frozen=True)
class DCPolarizationResult:
    """Steady-state current and electronic conductivity from one constant-voltage hold.

    Currents in A, times in s from the voltage step, sigma in S/cm. ``i_ss`` is the
    model-averaged median, ``i_ss_ci`` its 95 % interval ((0, U) when the record supports
    only an upper bound, ``upper_bound_only``); ``sigma_e`` and ``sigma_e_interval`` follow
    from them by eq. (1). These are the numbers every verdict uses.
    """

    source: str
    model: str
    cell: str
    voltage_v: float
    thickness_cm: float
    area_cm2: float
    temperature_k: float | None
    i_ss: float
    i_ss_stderr: float  #: half the 95 % interval / 1.96 (a summary, not the interval)
    i_ss_stderr_fit: float | None  #: the reported model's own covariance error
    i_ss_ci: tuple[float, float]  #: 95 % interval, A
    upper_bound_only: bool  #: the data bound I_ss from above only
    sigma_e: float
    sigma_e_stderr: float
    geometry_rel_tol: float  #: relative standard uncertainty of L/A included in sigma_e
    params: dict[str, tuple[float, float | None]]
    candidates: tuple[Candidate, ...]
    t_hold: float
    t_skip: float
    remaining_fraction: float
    steady_state_reached: bool
    #: s since the step when the fitted transient is <= 1 % of I_ss; on a hold stopped
    #: early a lower bound (the fastest decay the record is consistent with)
    t_steady_estimate: float | None
    tail_mean_i: float
    tail_mean_stderr: float
    redchi: float  #: overdispersion c-hat of the generalized least-squares fits
    n_points: int
    noise_inflation: float = 1.0  #: variance of long averages / white-noise expectation
    resolution_a: float = 0.0  #: current step seen in the record, A (0: none)
    accuracy_a: float = 0.0  #: instrument accuracy included in the interval, A (0: none)
    warnings: tuple[str, ...] = ()
    criterion: SteadyStateCriterion = field(default_factory=SteadyStateCriterion)
    _fit: TransientEstimate | None = field(default=None, repr=False, compare=False)
    _raw: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False, compare=False)

    @property
    def i_ss_interval(self) -> tuple[float, float]:
        """95 % interval of I_ss, A."""
        return self.i_ss_ci

    @property
    def sigma_e_interval(self) -> tuple[float, float]:
        """95 % interval of sigma_e, S/cm, from the I_ss interval and eq. (1), widened by the
        geometry tolerances (1.96 relative standard uncertainties); (0, U) for an upper
        bound only."""
        lo, hi = sorted(abs(v) for v in self.i_ss_ci)
        if self.upper_bound_only:
            lo = 0.0
        k = self.thickness_cm / (abs(self.voltage_v) * self.area_cm2)
        g = Z95 * self.geometry_rel_tol
        return (lo * k * max(1.0 - g, 0.0), hi * k * (1.0 + g))

    def predict(self, t: np.ndarray) -> np.ndarray:
        """Fitted current at times t since the step, A."""
        if self._fit is None:
            raise FitError("this result carries no fit to evaluate")
        return self._fit.predict(t)

    @property
    def statement(self) -> str:
        """One sentence: what the record supports."""
        lo, hi = self.sigma_e_interval
        d = 3  # enough significant digits to tell the ends of a narrow interval apart
        while d < 6 and f"{lo:.{d}g}" == f"{hi:.{d}g}":
            d += 1
        if self.upper_bound_only:
            s = f"sigma_e < {hi:.3g} S/cm (95 %, an upper bound only)"
        else:
            s = (f"sigma_e = {self.sigma_e:.{d}g} S/cm (95 %: {lo:.{d}g} .. {hi:.{d}g})")
        if self.steady_state_reached:
            return s + ", at steady state"
        if self.t_steady_estimate and self.t_steady_estimate > self.t_hold:
            return (s + f"; not at steady state: a hold of at least about "
                    f"{self.t_steady_estimate / 3600:.3g} h would settle it (the fitted "
                    "decay's time; a slower one needs longer)")
        return s + "; not at steady state"

    def summary(self) -> dict[str, Any]:
        """JSON-safe dict; the keys of the ``sescreen dcpol --json`` contract first."""
        out = {
            "sigma_e": self.sigma_e, "sigma_e_stderr": self.sigma_e_stderr,
            "i_ss": self.i_ss, "i_ss_stderr": self.i_ss_stderr, "voltage": self.voltage_v,
            "model": self.model, "steady_state_reached": self.steady_state_reached,
            "t_hold": self.t_hold, "t_steady_estimate": self.t_steady_estimate,
            "tail_mean_i": self.tail_mean_i, "warnings": list(self.warnings),
            "statement": self.statement,
            "sigma_e_interval": list(self.sigma_e_interval),
            "i_ss_interval": list(self.i_ss_interval),
            "upper_bound_only": self.upper_bound_only,
            "source": self.source, "cell": self.cell, "thickness_cm": self.thickness_cm,
            "area_cm2": self.area_cm2, "temperature_k": self.temperature_k,
            "remaining_fraction": self.remaining_fraction,
            "i_ss_stderr_fit": self.i_ss_stderr_fit,
            "tail_mean_stderr": self.tail_mean_stderr, "t_skip": self.t_skip,
            "redchi": self.redchi, "n_points": self.n_points,
            "noise_inflation": self.noise_inflation, "resolution_a": self.resolution_a,
            "accuracy_a": self.accuracy_a,
            "params": {k: {"value": v, "stderr": e} for k, (v, e) in self.params.items()},
            "candidates": [c.to_dict() for c in self.candidates],
            "criterion": self.criterion.__dict__,
        }
        return json_safe(out)

    def __str__(self) -> str:
        lo, hi = self.i_ss_interval
        state = "reached" if self.steady_state_reached else "NOT reached"
        bound = " (upper bound only)" if self.upper_bound_only else ""
        lines = [
            f"{self.source}: DC polarization ({self.cell} cell), {self.voltage_v:+.4g} V, "
            f"model {self.model}",
            f"  {self.statement}",
            f"  I_ss     = {self.i_ss:.4g} A (95 %: {lo:.4g} .. {hi:.4g}){bound}",
            f"  sigma_e  = {self.sigma_e:.4g} S/cm "
            f"(L = {self.thickness_cm:.4g} cm, A = {self.area_cm2:.4g} cm^2)",
            f"  tail mean (last {self.criterion.tail_fraction:.0%}) = {self.tail_mean_i:.4g} A",
            f"  steady state {state}: remaining transient {self.remaining_fraction:.2%} of "
            f"I_ss after {self.t_hold:.6g} s",
        ]
        if self.t_steady_estimate is not None:
            later = ("; a slower decay needs longer" if self.t_steady_estimate > self.t_hold
                     else "")
            lines.append(f"  fitted transient < {self.criterion.max_remaining:.0%} of I_ss "
                         f"at t = {self.t_steady_estimate:.4g} s "
                         f"({self.t_steady_estimate / 3600:.3g} h{later})")
        if len(self.candidates) > 1:
            lines.append("  models (dQAICc, weight, I_ss): " + ", ".join(
                f"{c.model} {c.aicc - self.candidates[0].aicc:.1f} "
                f"{c.weight:.2f} {c.i_ss:.3g}" + ("" if c.identified else "*")
                for c in self.candidates))
            if any(not c.identified for c in self.candidates):
                lines.append("  (* cannot identify I_ss: not averaged)")
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def plot(self, ax=None):
        """Data, fit, asymptote and residuals on a log-time axis; returns the main Axes."""
        from sescreen.plot import plot_dcpol

        return plot_dcpol(self, ax=ax)

"""The electronic-conductivity thresholds for dendrite-free plating, and their uncertainty
(METHODS.md section 4). :mod:`sescreen.criteria` judges measurements against them and
re-exports everything here.

Han et al. 2019 [P]: dendrite-free plating needs sigma_e < 1e-10 S/cm at 1 mA/cm^2 and
< 1e-12 S/cm at 10 mA/cm^2 (room temperature). Sources of a threshold (``source=``):

``han2019``
    The paper's stated values, exact at 1 and 10 mA/cm^2. At any other current density the
    paper states no number: the log-log line through the two stated points (slope -1/2:
    CCD ~ sigma_e^-1/2) is shown as the value, labelled interpolated or extrapolated, but
    the verdict uses only what the two statements imply there, :attr:`Threshold.bracket`
    (a threshold does not rise with the current density: 1e-12..1e-10 S/cm between 1 and
    10 mA/cm^2, at least 1e-10 below 1 mA/cm^2, at most 1e-12 above 10 mA/cm^2). The line
    itself is contradicted by the paper's own Li3PS4 below 1 mA/cm^2: sigma_e 2.2e-9 S/cm
    (30 C) is under the line's 6.9e-9 S/cm at 0.12 mA/cm^2, where that cell shorted (25 C).
``construction``
    The two-point line through LLZO and LiPON that reproduces them (1.15e-10, 1.0e-12;
    :func:`sescreen.ccd.paper_construction`). Exact at 1 and 10 mA/cm^2, the densities where
    it reproduces the paper's statements. Elsewhere the line is shown as the value but, as
    for ``han2019``, only what its two values imply decides (:attr:`Threshold.bracket`):
    the line is no better supported there than the stated one, and is contradicted by the
    paper's Li3PS4 in the same way (2.2e-9 S/cm under the line's 9.1e-9 S/cm at
    0.12 mA/cm^2, where that cell shorted).
``fit``
    The censored Bayesian regression over the curated dataset (:func:`sescreen.ccd.fit_ccd`):
    the threshold is a distribution, carried as its posterior draws of log10 sigma_e,max
    (:attr:`Threshold.log10_draws`), skewed and heavy-tailed with three pairs. Its median is
    the value, its 2.5-97.5 % percentiles the interval. It is a new material's threshold:
    where its CCD, the line plus the scatter s the fit estimates, reaches the current
    density (:meth:`sescreen.ccd.CCDLine.threshold_draws`); the mean line's own threshold,
    which the reproduction report derives, is narrower by that scatter.

With a threshold distribution T (log10) and a measured log10 sigma_e L, the probability of
passing is P(pass) = P(L < T) = E[S_T(L)], with S_T the survival function of the draws and L
distributed as the two-piece normal through the 95 % interval ``lo``, the point value and
``hi`` (each side's sd its half-width / 1.96; a point value is L itself). It is computed by
32 equal-probability nodes of L against a 2049-point table of S_T: no symmetric summary of T
enters, so a skewed threshold gives the P(pass) it implies.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sescreen.constants import Z95
from sescreen.errors import InputError

__all__ = [
    "SIGMA_E_MAX_1MA",
    "SIGMA_E_MAX_10MA",
    "SOURCES",
    "Threshold",
    "bracket_text",
    "max_sigma_e",
    "predicted_ccd",
]

SOURCES = ("han2019", "construction", "fit")
HAN = "Han et al., Nature Energy 4, 187 (2019), doi:10.1038/s41560-018-0312-z"
_N_TABLE = 2049
_Z_NODES_N = 32
_CHUNK = 16384


@functools.lru_cache(maxsize=1)
def _z_nodes() -> np.ndarray:
    """Equal-probability nodes of the standard normal (midpoint quantiles)."""
    from scipy.special import ndtri

    return ndtri((np.arange(_Z_NODES_N) + 0.5) / _Z_NODES_N)


@dataclass(frozen=True)
class Threshold:
    """A maximum electronic conductivity for a target current density.

    Attributes
    ----------
    sigma_e_max : float
        The threshold, S/cm (the posterior median for ``source="fit"``).
    ccd_ma_cm2 : float
        The target current density, mA/cm^2.
    interval : (float, float) or None
        Its 95 % interval, S/cm (None: exact).
    log10_draws : ndarray or None
        Sorted posterior draws of log10 sigma_e,max (None: exact or only an interval known).
    bracket : (float, float) or None
        The range the threshold is known to lie in (S/cm; 0 and inf for an open end) when
        ``sigma_e_max`` is only a construction between stated values (module docstring):
        a verdict then passes only below ``bracket[0]`` and fails only above
        ``bracket[1]``. None: ``sigma_e_max`` itself decides.
    """

    sigma_e_max: float  #: S/cm
    ccd_ma_cm2: float  #: mA/cm^2
    source: str
    label: str
    interval: tuple[float, float] | None = None  #: 95 % interval of sigma_e_max, S/cm
    log10_draws: np.ndarray | None = field(default=None, repr=False, compare=False)
    bracket: tuple[float, float] | None = None  #: known range of the threshold, S/cm

    def __float__(self) -> float:
        return self.sigma_e_max

    @property
    def half_widths(self) -> tuple[float, float]:
        """Distances in log10 from the threshold down and up to its 95 % interval's ends
        (0, 0 for an exact threshold)."""
        if self.interval is None:
            return 0.0, 0.0
        lt = math.log10(self.sigma_e_max)
        return (max(lt - math.log10(self.interval[0]), 0.0),
                max(math.log10(self.interval[1]) - lt, 0.0))

    @functools.cached_property
    def _table(self) -> tuple[float, float, np.ndarray]:
        """(t0, dt, S) with S the survival function of the draws on a uniform grid."""
        t = self.log10_draws
        grid = np.linspace(t[0], t[-1], _N_TABLE)
        surv = 1.0 - np.searchsorted(t, grid, side="right") / t.size
        return float(grid[0]), float(grid[1] - grid[0]) or 1.0, surv

    def survival(self, log10_sigma) -> np.ndarray:
        """P(log10 threshold > ``log10_sigma``), from the draws (linear in the table)."""
        t0, dt, surv = self._table
        u = (np.asarray(log10_sigma, dtype=float) - t0) * (1.0 / dt)
        np.clip(u, 0.0, _N_TABLE - 1.0, out=u)
        i = np.minimum(u.astype(np.intp), _N_TABLE - 2)
        u -= i
        lo = surv[i]
        return lo + (surv[i + 1] - lo) * u

    def pass_probability(self, lv, llo, lhi, shift=0.0) -> np.ndarray:
        """P(log10 sigma_e + shift < log10 threshold) for the two-piece normal through
        ``llo``, ``lv``, ``lhi`` (log10 S/cm, 1-D arrays; equal ends: a point), from the
        draws. One-sided rows must be passed as points. Rows go in chunks (memory)."""
        lv, llo, lhi = (np.atleast_1d(np.asarray(v, dtype=float)) for v in (lv, llo, lhi))
        z = _z_nodes()
        zp, zn = np.where(z > 0, z / Z95, 0.0), np.where(z < 0, z / Z95, 0.0)
        out = np.empty(lv.shape)
        point = (llo == lhi) | ~np.isfinite(llo) | ~np.isfinite(lhi)
        out[point] = self.survival(lv[point] + shift)
        rows = np.flatnonzero(~point)
        for start in range(0, rows.size, _CHUNK):
            k = rows[start:start + _CHUNK]
            v = lv[k, None]
            nodes = v + shift + (lhi[k, None] - v) * zp + (v - llo[k, None]) * zn
            out[k] = self.survival(nodes).mean(axis=1)
        return out


#: sigma_e must stay below this for dendrite-free plating at 1 mA/cm^2 (Han 2019, stated).
SIGMA_E_MAX_1MA = Threshold(1e-10, 1.0, "han2019", f"stated in {HAN}")
#: ... and below this at 10 mA/cm^2 (Han 2019, stated).
SIGMA_E_MAX_10MA = Threshold(1e-12, 10.0, "han2019", f"stated in {HAN}")


def _line(source: str):
    from sescreen import ccd

    if source == "construction":
        return ccd.paper_construction()
    if source == "fit":
        return ccd.fit_ccd()
    raise InputError(f"unknown source {source!r}; choose one of {', '.join(SOURCES)}")


def _han_sigma_max(ccd_ma_cm2):
    """On the log-log line through the two stated thresholds: sigma = 1e-10 ccd^-2."""
    return 1e-10 * np.asarray(ccd_ma_cm2, dtype=float) ** -2.0


def _han_bracket(ccd_ma_cm2: float, stated=None) -> tuple[float, float]:
    """What two thresholds known at other current densities (``stated``: (mA/cm^2, S/cm)
    pairs; default the two Han et al. state) alone imply at ``ccd_ma_cm2`` (mA/cm^2), S/cm:
    a material dendrite-free at a current density is so at any lower one, so the threshold
    does not rise with it (module docstring)."""
    if stated is None:
        stated = [(t.ccd_ma_cm2, t.sigma_e_max) for t in (SIGMA_E_MAX_1MA, SIGMA_E_MAX_10MA)]
    # at most the value at the nearest stated density below, at least the one above
    above = [t for j, t in stated if j >= ccd_ma_cm2]
    below = [t for j, t in stated if j <= ccd_ma_cm2]
    return (max(above) if above else 0.0, min(below) if below else math.inf)


def bracket_text(bracket: tuple[float, float]) -> str:
    lo, hi = bracket
    if lo > 0 and math.isfinite(hi):
        return f"{lo:.3g}..{hi:.3g} S/cm"
    return f"at least {lo:.3g} S/cm" if lo > 0 else f"at most {hi:.3g} S/cm"


@functools.lru_cache(maxsize=64)
def _from_line(ccd: float, source: str) -> Threshold:
    line = _line(source)
    value, interval = line.max_sigma_e(ccd, new_material=line.draws is not None)
    label = line.label + ("; for a new material: the line's uncertainty and its scatter"
                          if line.draws is not None else "")
    bracket = None
    densities = (SIGMA_E_MAX_1MA.ccd_ma_cm2, SIGMA_E_MAX_10MA.ccd_ma_cm2)
    if source == "construction" and ccd not in densities:
        # the line's own values at the two densities where it reproduces the paper
        bracket = _han_bracket(ccd, [(j, float(line.max_sigma_e(j)[0])) for j in densities])
        label += (f"; it reproduces the paper's thresholds at 1 and 10 mA/cm^2 only: at "
                  f"{ccd:g} mA/cm^2 those two values bound it to {bracket_text(bracket)}, "
                  "which decides")
    return Threshold(float(value), ccd, source, label, interval, line.threshold_draws(ccd),
                     bracket)


def max_sigma_e(ccd_ma_cm2: float, *, source: str = "han2019") -> Threshold:
    """The largest electronic conductivity (S/cm) allowing dendrite-free plating at
    ``ccd_ma_cm2`` (mA/cm^2), from ``source`` (module docstring)."""
    ccd = float(ccd_ma_cm2)
    if not (math.isfinite(ccd) and ccd > 0):
        raise InputError(f"current density {ccd_ma_cm2!r} mA/cm2 must be positive")
    if source == "han2019":
        stated = {1.0: SIGMA_E_MAX_1MA, 10.0: SIGMA_E_MAX_10MA}
        if ccd in stated:
            return stated[ccd]
        how = "interpolated" if 1.0 < ccd < 10.0 else "extrapolated"
        bracket = _han_bracket(ccd)
        return Threshold(float(_han_sigma_max(ccd)), ccd, "han2019",
                         f"{how} on the log-log line through the two values stated by "
                         f"{HAN} (slope -1/2); not stated at {ccd:g} mA/cm^2, where the two "
                         f"statements only bound it to {bracket_text(bracket)}, which "
                         "decides", bracket=bracket)
    if source not in SOURCES:
        raise InputError(f"unknown source {source!r}; choose one of {', '.join(SOURCES)}")
    return _from_line(ccd, source)


def predicted_ccd(sigma_e_s_cm: float, *, source: str = "fit") -> dict[str, Any]:
    """Predicted critical current density for a sigma_e, mA/cm^2.

    Returns
    -------
    dict
        ``predicted_ccd`` (mA/cm^2; the posterior-predictive median for ``fit``),
        ``interval`` (95 % prediction interval for a new material, or None), ``source``
        and ``label``.
    """
    sig = float(sigma_e_s_cm)
    if not (math.isfinite(sig) and sig > 0):
        raise InputError(f"sigma_e {sigma_e_s_cm!r} S/cm must be positive")
    warnings = []
    if not 1e-16 <= sig <= 1e-5:
        warnings.append(f"sigma_e {sig:.3g} S/cm is far outside the literature data "
                        "(1e-15..1e-7 S/cm): the predicted CCD is an extrapolation of a line")
    if source == "han2019":
        return {"predicted_ccd": float((1e-10 / sig) ** 0.5), "interval": None,
                "source": source, "label": "the line through the two stated thresholds",
                "warnings": warnings}
    line = _line(source)
    value, interval = line.predicted_ccd(sig)
    return {"predicted_ccd": float(value), "interval": None if interval is None
            else list(interval), "source": source, "label": line.label,
            "warnings": warnings}

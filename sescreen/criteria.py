"""The screening criterion: how low must the electronic conductivity be for dendrite-free
plating at a target current density? The piece design workflows import.

>>> from sescreen.criteria import verdict, judge, SIGMA_E_MAX_1MA
>>> verdict(3e-11).passes_1ma                              # doctest: +SKIP
True
>>> judge(df["sigma_e"], stderr=df["sigma_e_err"])  # vectorized: 1e6 rows < 1 s # doctest: +SKIP

Han et al. 2019 [P]: dendrite-free plating needs sigma_e < 1e-10 S/cm at 1 mA/cm^2 and
< 1e-12 S/cm at 10 mA/cm^2 (room temperature). Sources of a threshold (``source=``):

``han2019``
    The paper's stated values; other current densities on the log-log line through the
    two stated points (slope -1/2: CCD ~ sigma_e^-1/2), labelled as interpolated.
``construction``
    The two-point line through LLZO and LiPON that reproduces them (1.15e-10, 1.0e-12;
    :func:`sescreen.ccd.paper_construction`).
``fit``
    The censored regression over the curated dataset, with intervals
    (:func:`sescreen.ccd.fit_ccd`).

A verdict reports, for each target: pass or fail, the margin in decades
(log10 threshold - log10 sigma_e, positive = passes), and, when sigma_e has an uncertainty,
the probability of passing under a log-normal error (sd of log10 sigma_e =
stderr / (sigma_e ln 10), or given directly; with ``source="fit"`` the threshold's own
bootstrap uncertainty is added in quadrature). The thresholds are stated at room
temperature: a sigma_e at another temperature is judged as given, with a warning
(extrapolate it first with :mod:`sescreen.arrhenius`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from sescreen.errors import InputError

__all__ = [
    "SIGMA_E_MAX_1MA",
    "SIGMA_E_MAX_10MA",
    "SOURCES",
    "Threshold",
    "Verdict",
    "judge",
    "judge_at",
    "max_sigma_e",
    "predicted_ccd",
    "verdict",
]

SOURCES = ("han2019", "construction", "fit")
_HAN = "Han et al., Nature Energy 4, 187 (2019), doi:10.1038/s41560-018-0312-z"
_ROOM_K = 298.15


@dataclass(frozen=True)
class Threshold:
    """A maximum electronic conductivity for a target current density."""

    sigma_e_max: float  #: S/cm
    ccd_ma_cm2: float  #: mA/cm^2
    source: str
    label: str
    interval: tuple[float, float] | None = None  #: 95 % interval of sigma_e_max, S/cm

    def __float__(self) -> float:
        return self.sigma_e_max


#: sigma_e must stay below this for dendrite-free plating at 1 mA/cm^2 (Han 2019, stated).
SIGMA_E_MAX_1MA = Threshold(1e-10, 1.0, "han2019", f"stated in {_HAN}")
#: ... and below this at 10 mA/cm^2 (Han 2019, stated).
SIGMA_E_MAX_10MA = Threshold(1e-12, 10.0, "han2019", f"stated in {_HAN}")


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


def max_sigma_e(ccd_ma_cm2: float, *, source: str = "han2019") -> Threshold:
    """The largest electronic conductivity (S/cm) allowing dendrite-free plating at
    ``ccd_ma_cm2`` (mA/cm^2), from ``source``."""
    ccd = float(ccd_ma_cm2)
    if not (math.isfinite(ccd) and ccd > 0):
        raise InputError(f"current density {ccd_ma_cm2!r} mA/cm2 must be positive")
    if source == "han2019":
        stated = {1.0: SIGMA_E_MAX_1MA, 10.0: SIGMA_E_MAX_10MA}
        if ccd in stated:
            return stated[ccd]
        how = "interpolated" if 1.0 < ccd < 10.0 else "extrapolated"
        return Threshold(float(_han_sigma_max(ccd)), ccd, "han2019",
                         f"{how} on the log-log line through the two values stated by "
                         f"{_HAN} (slope -1/2)")
    line = _line(source)
    value, interval = line.max_sigma_e(ccd)
    return Threshold(float(value), ccd, source, line.label, interval)


def predicted_ccd(sigma_e_s_cm: float, *, source: str = "fit") -> dict[str, Any]:
    """Predicted critical current density for a sigma_e, mA/cm^2.

    Returns
    -------
    dict
        ``predicted_ccd`` (mA/cm^2), ``interval`` (95 % prediction interval for a new
        material, or None), ``source`` and ``label``.
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


@dataclass(frozen=True)
class Verdict:
    """Judgement of one sigma_e against the 1 and 10 mA/cm^2 thresholds."""

    sigma_e: float
    sd_log10: float | None
    passes_1ma: bool
    passes_10ma: bool
    margin_1ma_decades: float
    margin_10ma_decades: float
    p_pass_1ma: float | None
    p_pass_10ma: float | None
    threshold_1ma: float
    threshold_10ma: float
    source: str
    warnings: tuple[str, ...] = ()

    def summary(self) -> dict[str, Any]:
        return dict(self.__dict__, warnings=list(self.warnings))

    def __str__(self) -> str:
        def row(ma, ok, margin, p, thr):
            prob = f", P(pass) = {p:.2f}" if p is not None else ""
            return (f"  {ma:>2} mA/cm^2: {'PASS' if ok else 'FAIL'} (sigma_e < {thr:.3g} S/cm; "
                    f"margin {margin:+.2f} decades{prob})")

        lines = [f"sigma_e = {self.sigma_e:.3g} S/cm ({self.source} thresholds)",
                 row(1, self.passes_1ma, self.margin_1ma_decades, self.p_pass_1ma,
                     self.threshold_1ma),
                 row(10, self.passes_10ma, self.margin_10ma_decades, self.p_pass_10ma,
                     self.threshold_10ma)]
        return "\n".join(lines + [f"  warning: {w}" for w in self.warnings])


def _thresholds(source: str) -> tuple[float, float]:
    return (max_sigma_e(1.0, source=source).sigma_e_max,
            max_sigma_e(10.0, source=source).sigma_e_max)


def _threshold_sd(source: str, ccd_ma_cm2: float) -> float:
    """Standard deviation of log10 of the threshold itself (0 for the stated and the
    constructed thresholds; from the bootstrap for the fitted one)."""
    if source != "fit":
        return 0.0
    from sescreen.ccd import fit_ccd

    line = fit_ccd()
    if line.boot is None:
        return 0.0
    a, b = line.boot[:, 0], line.boot[:, 1]
    return float(np.nanstd((math.log10(ccd_ma_cm2) - a) / b))


def judge(sigma_e, *, stderr=None, sd_log10=None, source: str = "han2019"):
    """Vectorized verdicts for many candidates (numpy arrays or pandas Series).

    Parameters
    ----------
    sigma_e : array-like
        Electronic conductivities, S/cm (> 0; NaN gives NaN results).
    stderr : array-like, optional
        Their standard errors, S/cm (log-normal: sd_log10 = stderr / (sigma_e ln 10)).
    sd_log10 : array-like or float, optional
        Uncertainty given directly as the standard deviation of log10 sigma_e.
    source : {"han2019", "construction", "fit"}

    Returns
    -------
    pandas.DataFrame
        ``passes_1ma``, ``passes_10ma``, ``margin_1ma_decades``, ``margin_10ma_decades``,
        ``p_pass_1ma``, ``p_pass_10ma`` (NaN without an uncertainty), indexed like the
        input when it is a Series.
    """
    import pandas as pd

    index = sigma_e.index if isinstance(sigma_e, pd.Series) else None
    sig, sd = _sigma_and_sd(sigma_e, stderr, sd_log10)
    t1, t10 = _thresholds(source)
    m1, p1 = _margin_and_probability(sig, _total_sd(sd, _threshold_sd(source, 1.0)), t1)
    m10, p10 = _margin_and_probability(sig, _total_sd(sd, _threshold_sd(source, 10.0)), t10)
    return pd.DataFrame({"passes_1ma": m1 > 0, "passes_10ma": m10 > 0,
                         "margin_1ma_decades": m1, "margin_10ma_decades": m10,
                         "p_pass_1ma": p1, "p_pass_10ma": p10}, index=index)


def _sigma_and_sd(sigma_e, stderr, sd_log10):
    """sigma_e as an array and its log10 standard deviation (None without uncertainty)."""
    sig = np.asarray(sigma_e, dtype=float)
    if np.any(sig <= 0):
        raise InputError("sigma_e must be positive (S/cm)")
    if sd_log10 is not None:
        sd = np.broadcast_to(np.asarray(sd_log10, dtype=float), sig.shape)
    elif stderr is not None:
        sd = np.asarray(stderr, dtype=float) / (sig * math.log(10.0))
    else:
        return sig, None
    if np.any(sd < 0):
        raise InputError("uncertainties must not be negative")
    return sig, sd


def _total_sd(sd, threshold_sd: float):
    """Uncertainty of the margin: sigma_e's and the threshold's, in quadrature (log10)."""
    if threshold_sd == 0:
        return sd
    return np.hypot(0.0 if sd is None else sd, threshold_sd)


def _margin_and_probability(sig, sd, threshold):
    """Margin log10(threshold / sigma_e), decades, and P(sigma_e < threshold) under a
    log-normal error (NaN without an uncertainty; 0 or 1 for an exact value)."""
    from scipy.special import ndtr

    margin = math.log10(threshold) - np.log10(sig)
    if sd is None:
        return margin, np.full(np.shape(sig), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        return margin, np.where(sd > 0, ndtr(margin / sd), (margin > 0).astype(float))


def judge_at(sigma_e_s_cm: float, ccd_ma_cm2: float, *, stderr: float | None = None,
             sd_log10: float | None = None, source: str = "han2019") -> dict[str, Any]:
    """Pass or fail at one target current density (mA/cm^2).

    Returns
    -------
    dict
        ``passes``, ``margin_decades``, ``p_pass`` (None without an uncertainty),
        ``threshold`` (S/cm) and ``threshold_label``.
    """
    thr = max_sigma_e(ccd_ma_cm2, source=source)
    sig, sd = _sigma_and_sd(float(sigma_e_s_cm), stderr, sd_log10)
    sd = _total_sd(sd, _threshold_sd(source, float(ccd_ma_cm2)))
    margin, p = _margin_and_probability(sig, sd, thr.sigma_e_max)
    return {"passes": bool(margin > 0), "margin_decades": float(margin),
            "p_pass": None if np.isnan(p) else float(p), "threshold": thr.sigma_e_max,
            "threshold_label": thr.label}


def verdict(sigma_e_s_cm: float, *, stderr: float | None = None, sd_log10: float | None = None,
            temperature_k: float | None = None, source: str = "han2019") -> Verdict:
    """Judge one electronic conductivity against the 1 and 10 mA/cm^2 thresholds.

    Parameters
    ----------
    sigma_e_s_cm : float
        sigma_e, S/cm.
    stderr : float, optional
        Its standard error, S/cm.
    sd_log10 : float, optional
        Or its uncertainty as the standard deviation of log10 sigma_e.
    temperature_k : float, optional
        The temperature sigma_e refers to, K; the thresholds are stated at room
        temperature, and a sigma_e more than 10 K away gets a warning.
    source : {"han2019", "construction", "fit"}
    """
    sig = float(sigma_e_s_cm)
    if not (math.isfinite(sig) and sig > 0):
        raise InputError(f"sigma_e {sigma_e_s_cm!r} S/cm must be a positive number")
    row = judge(np.array([sig]), stderr=None if stderr is None else np.array([stderr]),
                sd_log10=sd_log10, source=source).iloc[0]
    t1, t10 = _thresholds(source)
    warns = []
    if temperature_k is not None and abs(temperature_k - _ROOM_K) > 10:
        warns.append(f"sigma_e is at {temperature_k - 273.15:.0f} C but the thresholds are "
                     "stated at room temperature: extrapolate sigma_e to 25 C first "
                     "(sescreen arrhenius)")
    sd = sd_log10 if sd_log10 is not None else (
        None if stderr is None else stderr / (sig * math.log(10.0)))

    def prob(p):
        return None if math.isnan(p) else float(p)

    return Verdict(sig, sd, bool(row.passes_1ma), bool(row.passes_10ma),
                   float(row.margin_1ma_decades), float(row.margin_10ma_decades),
                   prob(row.p_pass_1ma), prob(row.p_pass_10ma), t1, t10, source, tuple(warns))

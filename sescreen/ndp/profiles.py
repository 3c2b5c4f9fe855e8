"""From NDP spectra to lithium depth profiles and the dendrite content inside the
electrolyte (METHODS.md section 5; Han et al. 2019).

Corrections, in this order (the order of the NIST ``ndp`` package):

1. dead time: counts * real / live;
2. monitor normalization: counts * (monitor_ref / monitor) (flux);
3. background: minus a background spectrum treated the same way (optional);
4. 10B-standard scaling, METHODS eq. (4): areal density per channel

       D_Li = (C_6Li / C_10B) * (sigma_10B / sigma_6Li) * D_10B / A_6Li     atoms/cm^2   (4)

   with C_10B the standard's counts per unit monitor (same geometry, same corrections).
   Paper values (defaults, overridable): D_10B = 1.094e16 atoms/cm^2, sigma_10B = 3841.79 b,
   sigma_6Li = 938.47 b, A_6Li = 0.075 (the paper's, not periodictable's 4.85 %). Eq. (4)
   holds when both 10B alpha groups are counted; counting only the 1472 keV alpha_1 group
   needs its branching (~0.94): ``alpha1_only=True``.

Counting uncertainties are Poisson, propagated through every step. Channels are grouped (the
paper: 10 channels for density, 60-80 for profiles); a group's volumetric density is its
areal density over the depth it spans. A group with N raw counts gets the variance N + 1
counts^2, not N: with a flat prior on the Poisson mean its posterior is Gamma(N + 1, 1),
whose variance is N + 1 (the same variance as Mighell's chi-square-gamma statistic, Mighell,
ApJ 518, 380 (1999)). An empty group thus keeps an error of one count (the 84 % upper limit
of a zero count is 1.84, Gehrels, ApJ 303, 336 (1986)) instead of zero, which would weigh
it infinitely in every fit downstream; for N >= 100 the change is below 0.5 %.

Regions: the surface region (current collector, plated Li, near-surface electrolyte) up to
where the surface peak's tail ends, and the bulk region beyond (electrolyte only). The tail's
end is taken from the plated layer's edge, a step broadened by the resolution measured on the
SE's front: 3 resolution widths past its half-maximum
(:func:`sescreen.ndp.boundary.surface_boundary`), and the depth bins are laid from there.
The dendrite content is the bulk lithium minus its initial value. A direct deposition inside
the electrolyte raises lithium uniformly with depth; growth from the anode leaves a gradient
falling with distance: a weighted slope test separates the two, calls the increase uniform
only when it excludes a decline as large as its mean, and says so when the verdict changes
with the bulk region starting elsewhere within the boundary's uncertainty
(:func:`sescreen.ndp.growth.uniformity_test`, :func:`analyse`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from sescreen.constants import AVOGADRO, ELEMENTARY_CHARGE
from sescreen.errors import InputError
from sescreen.ndp.boundary import edge_at_or_after, fallback_boundary, surface_boundary
from sescreen.ndp.calibration import (
    HAN2019_ENERGY,
    DepthCalibration,
    EnergyCalibration,
    electrolyte_layer,
    stopping_layer,
)
from sescreen.ndp.charge import charge_warning, log_charge, plating_shift
from sescreen.ndp.growth import BOUNDARY_SENSITIVE, combine_verdicts, shape_test, uniformity_test
from sescreen.ndp.host_shift import plated_host_shift
from sescreen.ndp.onset import detect_onset
from sescreen.ndp.spectra import SpectrumSeries
from sescreen.ndp.surface_layer import surface_layer

__all__ = [
    "HAN2019_STANDARD",
    "DepthProfiles",
    "NDPAnalysis",
    "Standard",
    "analyse",
    "areal_density",
    "bin_profiles",
    "count_unit",
    "detect_onset",
    "host_lithium_density",
    "surface_boundary",
    "uniformity_test",
]



@dataclass(frozen=True)
class Standard:
    """The 10B reference standard and the cross sections of eq. (4).

    Attributes
    ----------
    counts_per_monitor : float
        C_10B: the standard's corrected counts per unit monitor (same geometry).
    areal_density : float
        D_10B, atoms/cm^2.
    sigma_10b_barn, sigma_6li_barn : float
        Thermal cross sections, barn.
    abundance_6li : float
        A_6Li, atomic fraction of 6Li in the sample's lithium.
    alpha1_branching : float
        Branching of the 1472 keV alpha_1 group, used with ``alpha1_only``.
    """

    counts_per_monitor: float
    areal_density: float = 1.094e16
    sigma_10b_barn: float = 3841.79
    sigma_6li_barn: float = 938.47
    abundance_6li: float = 0.075
    alpha1_branching: float = 0.94

    def __post_init__(self):
        for name in ("counts_per_monitor", "areal_density", "sigma_10b_barn",
                     "sigma_6li_barn"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float, np.floating)) \
                    or not (math.isfinite(v) and v > 0):
                raise InputError(f"the 10B standard's {name} = {v!r} must be a finite "
                                 "positive number")
        if not 1e-12 <= self.counts_per_monitor <= 1e12:
            raise InputError(f"the 10B standard's counts per monitor ({self.counts_per_monitor:g}"
                             ") is outside 1e-12 .. 1e12: check the value")
        for name in ("abundance_6li", "alpha1_branching"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float, np.floating)) and 0 < v <= 1):
                raise InputError(f"the 10B standard's {name} = {v!r} must be a fraction 0 .. 1")

    def factor(self, *, alpha1_only: bool = False) -> float:
        """Atoms of Li per cm^2 per (count per monitor), eq. (4)."""
        if not self.counts_per_monitor > 0:
            raise InputError("the 10B standard's counts per monitor must be positive")
        c10 = self.counts_per_monitor / (self.alpha1_branching if alpha1_only else 1.0)
        return (self.sigma_10b_barn / self.sigma_6li_barn) * self.areal_density / (
            self.abundance_6li * c10)


#: The paper's constants; C_10B = 1 count per monitor unit (set it for real data).
HAN2019_STANDARD = Standard(counts_per_monitor=1.0)


def areal_density(series: SpectrumSeries, standard: Standard, *, background=None,
                  alpha1_only: bool = False, monitor_ref: float = 1.0):
    """Corrected areal density per channel and its counting error, atoms/cm^2.

    Returns
    -------
    (ndarray, ndarray)
        Shape (n_frames, n_channels) each.
    """
    raw = series.counts.astype(float)
    scale = _count_scale(series, monitor_ref)
    rate = raw * scale[:, None]
    var = raw * scale[:, None] ** 2
    if background is not None:
        bg, bg_scale = background
        bg = np.asarray(bg, dtype=float)
        if bg.shape != raw.shape[1:]:
            raise InputError("the background spectrum has a different number of channels")
        rate = rate - bg * bg_scale
        var = var + bg * bg_scale**2
    k = standard.factor(alpha1_only=alpha1_only) / monitor_ref
    return rate * k, np.sqrt(var) * k


def _count_scale(series: SpectrumSeries, monitor_ref: float = 1.0) -> np.ndarray:
    """Dead-time and monitor factor per frame: corrected counts per raw count."""
    return (series.real_time_s / series.live_time_s) * (monitor_ref / series.monitor)


def count_unit(series: SpectrumSeries, standard: Standard, *, alpha1_only: bool = False,
               monitor_ref: float = 1.0) -> np.ndarray:
    """Areal density of one raw count per frame, atoms/cm^2 (the scale of the N + 1
    counting variance of :func:`bin_profiles`)."""
    return _count_scale(series, monitor_ref) * standard.factor(alpha1_only=alpha1_only) / (
        monitor_ref)


def host_lithium_density(formula: str, density_g_cm3: float) -> float:
    """Lithium atoms per cm^3 of a host from its composition (pymatgen) and density."""
    import math

    from pymatgen.core import Composition

    from sescreen.ndp.calibration import formula_problem

    why = formula_problem(formula)
    if why is not None:
        raise InputError(f"host formula {str(formula)[:60]!r} is not a chemical composition "
                         f"({why}): write e.g. 'Li7La3Zr2O12:5.1'")
    comp = Composition(formula)
    n_li = comp.get_el_amt_dict().get("Li", 0.0)
    if n_li <= 0:
        raise InputError(f"host formula {formula[:60]!r} holds no lithium")
    try:
        density = float(density_g_cm3)
    except (TypeError, ValueError):
        raise InputError(f"host density {density_g_cm3!r} is not a number") from None
    if not (math.isfinite(density) and 0.1 <= density <= 25):
        raise InputError(f"host density {density!r} g/cm^3 is outside 0.1 .. 25 g/cm^3")
    return n_li * density / comp.weight.real * AVOGADRO


@dataclass(frozen=True)
class DepthProfiles:
    """Volumetric lithium density per depth bin and frame, atoms/cm^3."""

    depth_um: np.ndarray  #: bin centres
    depth_edges_um: np.ndarray
    density: np.ndarray  #: (n_frames, n_bins)
    density_err: np.ndarray
    areal: np.ndarray  #: (n_frames, n_bins) atoms/cm^2 per bin
    areal_err: np.ndarray


def bin_profiles(areal, areal_err, energy_kev, depth_cal: DepthCalibration, *,
                 channels_per_bin: int, depth_window_um: tuple[float, float],
                 unit=None, align_um: float | None = None) -> DepthProfiles:
    """Group channels into depth bins inside the window (counting errors added in
    quadrature) and divide by the depth each bin spans.

    Parameters
    ----------
    unit : array-like, optional
        Areal density of one raw count per frame, atoms/cm^2 (:func:`count_unit`): each
        bin's variance gains one count, N -> N + 1 (module docstring), so an empty bin
        is not weighted infinitely. Without it, the plain sqrt(N) errors.
    align_um : float, optional
        A depth where a bin edge must fall (the surface/bulk boundary): the bins deeper than
        it start at the first channel edge at or beyond it, and the bins shallower are
        counted from it towards the surface, the last (shallowest) one holding what is left
        (fewer channels). Without it, the bins are counted from the shallow end.
    """
    depth_cal.check_window(*depth_window_um)
    lo_e, hi_e = depth_cal.energy_range_kev
    e = np.asarray(energy_kev)
    inside = (e >= lo_e) & (e <= hi_e)
    depth = depth_cal.depth(e)
    inside &= (depth >= depth_window_um[0]) & (depth <= depth_window_um[1])
    idx = np.flatnonzero(inside)
    if idx.size < channels_per_bin:
        raise InputError("fewer channels inside the depth window than one bin")
    gain = float(np.median(np.diff(e)))
    if align_um is None:
        # channels run from deep (low energy) to shallow: leftover channels are dropped at
        # the deep end, never at the surface where the plated lithium is
        idx = idx[idx.size % channels_per_bin:]
        groups = list(idx.reshape(-1, channels_per_bin))
    else:
        # bulk channels: their shallow edge (higher energy) at or beyond align_um
        m = int(np.sum(depth_cal.depth(e[idx] + gain / 2) >= align_um - 1e-9))
        deep, shallow = idx[:m], idx[m:]
        deep = deep[deep.size % channels_per_bin:]
        groups = list(deep.reshape(-1, channels_per_bin)) if deep.size else []
        groups += [shallow[i:i + channels_per_bin]
                   for i in range(0, shallow.size, channels_per_bin)]
    a = np.stack([areal[:, g].sum(axis=1) for g in groups], axis=1)
    a_var = np.stack([(areal_err[:, g] ** 2).sum(axis=1) for g in groups], axis=1)
    if unit is not None:
        a_var = a_var + np.asarray(unit, dtype=float).reshape(-1, 1) ** 2
    a_err = np.sqrt(a_var)
    e_lo = np.array([e[g[0]] for g in groups]) - gain / 2
    e_hi = np.array([e[g[-1]] for g in groups]) + gain / 2
    d_a, d_b = depth_cal.depth(e_lo), depth_cal.depth(e_hi)
    thick_cm = np.abs(d_a - d_b) * 1e-4
    order = np.argsort((d_a + d_b) / 2)
    edges = np.sort(np.concatenate([np.minimum(d_a, d_b)[order][:1],
                                    np.maximum(d_a, d_b)[order]]))
    return DepthProfiles(((d_a + d_b) / 2)[order], edges, (a / thick_cm)[:, order],
                         (a_err / thick_cm)[:, order], a[:, order], a_err[:, order])


@dataclass(frozen=True)
class NDPAnalysis:
    """Everything derived from one operando NDP series."""

    profiles: DepthProfiles
    time_s: np.ndarray
    boundary_um: float
    total: np.ndarray  #: total-region Li minus the pre-current frame, atoms/cm^2
    total_err: np.ndarray
    bulk: np.ndarray  #: bulk-region Li minus its initial value (dendrite content), atoms/cm^2
    bulk_err: np.ndarray
    charge_atoms: np.ndarray | None  #: cumulative Q/e, atoms/cm^2
    onset: dict[str, Any]
    uniformity: dict[str, Any]
    host_density: float | None  #: host Li atoms/cm^3
    calibration: str
    warnings: tuple[str, ...] = field(default=())
    #: no 10B standard (C_10B = 1 per monitor): amounts in relative units, so no fraction
    #: of the host's lithium (atoms/cm^3) and no charge ratio can be formed from them
    relative_units: bool = False
    #: how the boundary was set: ``automatic`` and, if so, the fitted surface edge
    #: (:func:`sescreen.ndp.boundary.surface_boundary`)
    boundary: dict[str, Any] = field(default_factory=dict)
    #: the host lithium plating alone pushes out of the window (:func:`plating_shift`);
    #: None when the electrolyte or CATIMA is not available
    plating_shift: dict[str, Any] | None = None
    #: the plated thickness at the last frame and the bulk region's host lithium it pushed
    #: deeper, removed from the dendrite content, the onset and the growth test
    #: (:mod:`sescreen.ndp.host_shift`); None when the electrolyte is not known
    host_shift: dict[str, float] | None = None
    #: the reference's surface layer carried into the bulk region with the host shift
    #: (:mod:`sescreen.ndp.surface_layer`): ``weight`` 0 .. 1; None without a host shift
    surface_layer: dict[str, Any] | None = None

    @property
    def t0_s(self) -> float:
        return float(self.time_s[-1])

    def summary(self) -> dict[str, Any]:
        bulk_end, bulk_end_err = float(self.bulk[-1]), float(self.bulk_err[-1])
        bulk_depth_cm = (self.profiles.depth_edges_um[-1] - self.boundary_um) * 1e-4
        out = {
            "calibration": self.calibration, "n_frames": len(self.time_s),
            "boundary_um": self.boundary_um,
            "boundary": {k: v for k, v in self.boundary.items() if k != "warnings"},
            "depth_range_um": [float(self.profiles.depth_edges_um[0]),
                               float(self.profiles.depth_edges_um[-1])],
            "dendrite_content_atoms_cm2": bulk_end,
            "dendrite_content_err_atoms_cm2": bulk_end_err,
            "transported_atoms_cm2": float(self.total[-1]),
            "transported_err_atoms_cm2": float(self.total_err[-1]),
            "charge_atoms_cm2": None if self.charge_atoms is None
            else float(self.charge_atoms[-1]),
            "onset_s": self.onset["onset_s"],
            "onset_interval_s": None if self.onset["onset_interval_s"] is None
            else list(self.onset["onset_interval_s"]),
            "onset_t_over_t0": None if self.onset["onset_s"] is None
            else self.onset["onset_s"] / self.t0_s,
            "onset_delta_chi2": self.onset["delta_chi2"],
            "growth": self.uniformity["verdict"], "uniformity": self.uniformity,
            "host_shift": self.host_shift,
            "surface_weight": None if self.surface_layer is None
            else self.surface_layer["weight"],
            "surface_layer": None if self.surface_layer is None
            else {k: v for k, v in self.surface_layer.items() if k != "cumulative"},
            "warnings": list(self.warnings),
        }
        if self.charge_atoms is not None and self.charge_atoms[-1] > 0 \
                and not self.relative_units:
            out["transported_fraction_of_charge"] = float(self.total[-1] / self.charge_atoms[-1])
            # what plating alone would show within the window (host Li pushed out deep)
            out["expected_fraction_of_charge"] = None if self.plating_shift is None \
                else self.plating_shift["expected_fraction"]
            out["expected_fraction_err"] = None if self.plating_shift is None \
                else self.plating_shift["expected_fraction_err"]
        if self.host_density is not None and bulk_depth_cm > 0 and not self.relative_units:
            out["dendrite_fraction_of_host_li"] = bulk_end / (self.host_density * bulk_depth_cm)
        return out

    def __str__(self) -> str:
        s = self.summary()
        onset = "none detected"
        if s["onset_s"] is not None:
            lo, hi = s["onset_interval_s"]
            onset = (f"{s['onset_s']:.0f} s (95 % {lo:.0f}-{hi:.0f} s; t/t0 = "
                     f"{s['onset_t_over_t0']:.2f})")
        b = self.boundary
        how = ""
        if b.get("automatic") and b.get("edge_um") is not None:
            how = (f" (automatic: surface edge {b['edge_um']:.2f} um + {b['k']:.1f} x "
                   f"{b['edge_sigma_um']:.2f} um)")
        elif b.get("automatic"):
            how = f" (automatic: {b.get('method')})"
        lines = [f"NDP: {s['n_frames']} frames, {self.calibration}, boundary "
                 f"{self.boundary_um:.2f} um{how}",
                 f"  dendrite content (bulk Li increase) = {s['dendrite_content_atoms_cm2']:.3g}"
                 f" +/- {s['dendrite_content_err_atoms_cm2']:.2g} atoms/cm^2",
                 f"  onset: {onset}",
                 f"  growth: {s['growth']} (slope {self.uniformity['slope_per_um']:.3g} +/- "
                 f"{self.uniformity['slope_err']:.2g} per um)"]
        if s["charge_atoms_cm2"] is not None:
            lines.append(f"  Li transported {s['transported_atoms_cm2']:.3g} vs charge Q/e "
                         f"{s['charge_atoms_cm2']:.3g} atoms/cm^2")
            if s.get("expected_fraction_of_charge") is not None:
                lines.append(f"  = {s['transported_fraction_of_charge']:.0%} of Q/e; plating "
                             f"alone would show {s['expected_fraction_of_charge']:.0%} +/- "
                             f"{s['expected_fraction_err']:.0%} (host Li pushed out of the "
                             "window's deep end)")
        hs = self.host_shift
        if hs is not None and hs["li_um"] > 0:
            lines.append(f"  plated {hs['li_um']:.2g} um of Li: the bulk region's host lithium "
                         f"pushed deeper ({hs['bulk_change_fraction']:+.2%} of it) is added "
                         "back")
        if s["surface_weight"]:
            sl = s["surface_layer"]
            lines.append(f"  a surface layer ({sl['deviation']:+.3g} +/- "
                         f"{sl['deviation_err']:.2g} atoms/cm^2 beyond the host at "
                         f"{sl['depth_um'][0]:.2f}-{sl['depth_um'][1]:.2f} um) pushed into the "
                         f"bulk region is added back (weight {s['surface_weight']:.2f})")
        if "dendrite_fraction_of_host_li" in s:
            lines.append(f"  = {s['dendrite_fraction_of_host_li']:.2%} of the host's lithium "
                         "in the bulk region")
        return "\n".join(lines + [f"  warning: {w}" for w in self.warnings])

    def plot(self, axes=None):
        """Profiles vs depth over time, bulk Li vs time with the charge line, uniformity."""
        from sescreen.plot import plot_ndp

        return plot_ndp(self, axes=axes)


def analyse(series: SpectrumSeries, depth_cal: DepthCalibration, *,
            energy_cal: EnergyCalibration = HAN2019_ENERGY,
            standard: Standard = HAN2019_STANDARD, channels_per_bin: int = 60,
            depth_window_um: tuple[float, float] | None = None,
            boundary_um: float | None = None, current_ma_cm2: float | None = None,
            current_log=None, background=None, alpha1_only: bool = False,
            host: tuple[str, float] | None = None, reference_frame: int = 0) -> NDPAnalysis:
    """The whole NDP analysis of an operando series.

    Parameters
    ----------
    series : SpectrumSeries
    depth_cal : DepthCalibration
    energy_cal : EnergyCalibration
    standard : Standard
        10B standard and constants of eq. (4).
    channels_per_bin : int
        Channels per depth bin (the paper: 60-80 for profiles).
    depth_window_um : (lo, hi), optional
        Depth range analysed (default: the calibration's).
    boundary_um : float, optional
        Surface/bulk boundary, um (default: 3 resolution widths past the plated layer's
        edge, :func:`surface_boundary`). The depth bins are laid from it, so the bulk region
        starts there. The growth verdict is also tested with the bulk region starting 2
        resolution widths deeper (automatic; and from the resolution's edge when the
        plated edge is broader than the resolution) or one bin deeper (given); a verdict
        that changes between directional growth and not is reported as
        ``directional or internal (boundary-sensitive)``.
    current_ma_cm2 : float, optional
        Constant current density for the charge line (or the series' own column).
    current_log : (t_s, j_ma_cm2) arrays, optional
        Current-density log, integrated for the charge line.
    background : (counts, scale), optional
        Background spectrum and its dead-time/monitor scale.
    alpha1_only : bool
        The standard's counts are of the alpha_1 group only.
    host : (formula, density g/cm^3), optional
        The electrolyte, to express the dendrite content as a fraction of its lithium.
    reference_frame : int
        The pre-current frame.
    """
    window = depth_window_um or depth_cal.depth_range_um
    try:
        lo_w, hi_w = (float(x) for x in window)
    except (TypeError, ValueError):
        raise InputError(f"depth window {window!r}: give (lo, hi) in um") from None
    if not (math.isfinite(lo_w) and math.isfinite(hi_w) and -1e3 <= lo_w < hi_w <= 1e4):
        raise InputError(f"depth window {lo_w:g}:{hi_w:g} um must satisfy lo < hi, both "
                         "finite (um)")
    if boundary_um is not None and not (math.isfinite(boundary_um)
                                        and lo_w <= boundary_um < hi_w):
        raise InputError(f"boundary {boundary_um:g} um must lie inside the depth window "
                         f"{lo_w:g} .. {hi_w:g} um")
    if current_ma_cm2 is not None and not (math.isfinite(current_ma_cm2)
                                           and current_ma_cm2 > 0):
        raise InputError(f"plating current {current_ma_cm2!r} mA/cm^2 must be finite and "
                         "positive")
    if not (isinstance(channels_per_bin, (int, np.integer)) and channels_per_bin >= 1):
        raise InputError(f"channels per bin {channels_per_bin!r} must be a whole number >= 1")
    if series.n_frames < 2:
        raise InputError("one frame: the lithium increase needs a pre-current reference "
                         "frame and at least one frame during plating")
    if not 0 <= reference_frame < series.n_frames:
        raise InputError(f"reference frame {reference_frame} is not one of the "
                         f"{series.n_frames} frames")
    if reference_frame == series.n_frames - 1:
        # the increase is the last frame's over the reference: zero, and t0 = 0 (division
        # by zero in the summary's onset t/t0)
        raise InputError(f"reference frame {reference_frame} is the last frame: the "
                         "pre-current reference must precede a frame during plating")
    if host is not None:
        host_lithium_density(*host)  # refuse a bad formula before the analysis
    energy = energy_cal.energy(series.channels)
    warns: list[str] = [f"calibration {depth_cal.name}: {f}" for f in depth_cal.flags
                        if "impossible" in f or "as printed" in f]
    if standard is HAN2019_STANDARD:
        warns.append("no 10B standard given (C_10B = 1 count per monitor): the lithium "
                      "amounts are in relative units and the charge comparison is not "
                      "meaningful; give the standard's counts")
    areal, err = areal_density(series, standard, background=background, alpha1_only=alpha1_only)
    prof = bin_profiles(areal, err, energy, depth_cal, channels_per_bin=channels_per_bin,
                        depth_window_um=window,
                        unit=count_unit(series, standard, alpha1_only=alpha1_only))
    inc = prof.density - prof.density[reference_frame]
    inc_err = np.sqrt(prof.density_err**2 + prof.density_err[reference_frame] ** 2)
    unit = count_unit(series, standard, alpha1_only=alpha1_only)
    align = boundary_um
    if boundary_um is None:
        # fine bins of a tenth of the analysis bins; coarser when too few counts in them to
        # find the SE's front or the surface peak
        for fine_cpb in dict.fromkeys((max(1, channels_per_bin // 10),
                                       max(1, channels_per_bin // 3), channels_per_bin)):
            fine = bin_profiles(areal, err, energy, depth_cal, channels_per_bin=fine_cpb,
                                depth_window_um=window, unit=unit)
            boundary = surface_boundary(fine, reference_frame, prof.depth_edges_um,
                                        inc_err[-1])
            if boundary["b_um"] is not None:
                break
        boundary["fine_channels"] = fine_cpb
        warns.extend(boundary["warnings"])
        align = boundary["b_um"]
        if align is None:
            boundary_um = fallback_boundary(prof.depth_um, inc[-1], inc_err[-1])
        boundary["automatic"] = True
    else:
        boundary = {"automatic": False, "method": "given"}
    if align is not None:
        # the bins are laid from the boundary, so the bulk region starts there and not up to
        # half a bin before or a whole bin after it
        prof = bin_profiles(areal, err, energy, depth_cal, channels_per_bin=channels_per_bin,
                            depth_window_um=window, unit=unit, align_um=align)
        inc = prof.density - prof.density[reference_frame]
        inc_err = np.sqrt(prof.density_err**2 + prof.density_err[reference_frame] ** 2)
        boundary_um = edge_at_or_after(prof.depth_edges_um, align)
    boundary["boundary_um"] = float(boundary_um)
    bulk_mask = prof.depth_um > boundary_um
    if bulk_mask.sum() < 3:
        raise InputError(f"fewer than 3 depth bins beyond the boundary {boundary_um:.3g} um: "
                         "use fewer channels per bin or a deeper window")
    a_inc = prof.areal - prof.areal[reference_frame]
    a_err = np.sqrt(prof.areal_err**2 + prof.areal_err[reference_frame] ** 2)
    a_err[reference_frame] = 0.0
    total = a_inc.sum(axis=1)
    total_err = np.sqrt((a_err**2).sum(axis=1))
    # the bulk region's lithium without the host the plated lithium pushes deeper
    # (host_shift): the dendrite content, the onset and the growth shape are formed on it
    host_shift = _host_shift(prof, reference_frame, boundary_um, bulk_mask, depth_cal, host,
                             warns)
    layer = None
    if host_shift is not None:
        # a surface layer of the reference frame that the plated lithium pushes past the
        # boundary: in the host shift's reference when it deviates (surface_layer)
        fine_ref = bin_profiles(areal, err, energy, depth_cal,
                                channels_per_bin=max(1, channels_per_bin // 10),
                                depth_window_um=window, unit=unit, align_um=boundary_um)
        layer = surface_layer(fine_ref, reference_frame, host_shift, boundary_um)
        with_layer = None if layer["cumulative"] is None else _host_shift(
            prof, reference_frame, boundary_um, bulk_mask, depth_cal, host, warns,
            layer=layer["cumulative"])
        if with_layer is not None:
            host_shift = with_layer
        else:
            layer["weight"] = 0.0
    bprof = prof if host_shift is None else host_shift.corrected(prof, bulk_mask)
    bulk = (bprof.areal - bprof.areal[reference_frame])[:, bulk_mask].sum(axis=1)
    bulk_err = np.sqrt((a_err[:, bulk_mask] ** 2).sum(axis=1))
    t = series.time_s - series.time_s[reference_frame]
    charge = None
    if current_log is not None:
        charge = log_charge(current_log, t, warns)
    elif current_ma_cm2 is not None or series.current_ma_cm2 is not None:
        j = current_ma_cm2 if current_ma_cm2 is not None else series.current_ma_cm2
        j = np.broadcast_to(np.asarray(j, dtype=float), t.shape)
        q = np.concatenate([[0.0], np.cumsum(np.diff(t) * (j[1:] + j[:-1]) / 2)])
        charge = q * 1e-3 / ELEMENTARY_CHARGE
    shift = None
    if charge is not None and charge[-1] > 0 and standard is not HAN2019_STANDARD:
        shift = plating_shift(depth_cal, host, float(prof.depth_edges_um[-1]),
                               float(charge[-1]))
        warn = charge_warning(float(total[-1]), float(total_err[-1]), float(charge[-1]),
                               shift)
        if warn:
            warns.append(warn)
    # The onset is fitted on each frame's own bulk content and counting error: the
    # reference frame's error is common to every difference and the hinge's constant
    # absorbs it (fitting the differences would overstate the errors by ~sqrt(2)).
    own = bprof.areal[:, bulk_mask]
    onset = detect_onset(t, own.sum(axis=1),
                         np.sqrt((prof.areal_err[:, bulk_mask] ** 2).sum(axis=1)))
    # Frames scattering beyond their counting errors (the monitor's own Poisson noise is
    # not in them): the dendrite content's error grows by the sqrt(scatter ratio) the onset
    # test uses (detect_onset; up to 1 + 3 s_r is chance).
    if onset["scatter_excess"]:
        bulk_err = bulk_err * math.sqrt(onset["scatter_ratio"])
        warns.append(f"the bulk lithium scatters from frame to frame {onset['scatter_ratio']:.2g}"
                     " times more (in variance) than counting allows (neutron monitor counts, "
                     "flux or gain jitter): the dendrite content's error and the onset test "
                     "are scaled up accordingly")
    # The shape test compares the last frame with the mean of the frames before the onset
    # (the flat part of the hinge, the reference frame among them): the bulk does not change
    # before the onset, and averaging n frames cuts the reference's counting error by
    # sqrt(n), which otherwise equals the last frame's own.
    pre = [reference_frame]
    if onset["onset_index"] is not None and reference_frame <= onset["onset_index"]:
        pre = list(range(reference_frame, onset["onset_index"] + 1))
    uni = shape_test(bprof, pre, bulk_mask)
    uni["reference_frames"] = len(pre)
    # the same test with the bulk region starting elsewhere within the boundary's
    # uncertainty (automatic) or one bin deeper (given): a verdict that changes between
    # directional and not rests on the first part of the bulk region (combine_verdicts)
    if boundary["automatic"] and boundary.get("checks_um"):
        checks = [(d, True) for d in boundary["checks_um"]]
    else:
        deeper = prof.depth_edges_um[prof.depth_edges_um > boundary_um + 1e-9]
        checks = [(float(deeper[0]), False)] if deeper.size else []
    v0 = uni["verdict"]
    others = []
    for d_um, rebin in checks:
        prof1 = prof if not rebin else bin_profiles(
            areal, err, energy, depth_cal, channels_per_bin=channels_per_bin,
            depth_window_um=window, unit=unit, align_um=d_um)
        d_um = edge_at_or_after(prof1.depth_edges_um, d_um)
        mask1 = prof1.depth_um > d_um
        if mask1.sum() >= 3:
            if host_shift is not None:
                prof1 = host_shift.corrected(prof1, mask1)
            others.append((d_um, shape_test(prof1, pre, mask1)["verdict"]))
    uni["verdict_at_boundary"] = v0
    uni["verdicts_elsewhere"] = [{"boundary_um": d, "verdict": v} for d, v in others]
    uni["verdict"] = combine_verdicts(v0, [v for _, v in others])
    uni["boundary_sensitive"] = any(v != v0 for _, v in others)
    changed = ", ".join(f"'{v}' from {d:.2f} um" for d, v in others if v != v0)
    if uni["verdict"] == BOUNDARY_SENSITIVE:
        warns.append(f"growth verdict depends on the boundary: '{v0}' with the bulk region "
                     f"from {boundary_um:.2f} um, {changed}; the bulk region's first part "
                     "decides between growth from the interface and the surface peak's tail "
                     "or a uniform deposit")
    elif changed:
        warns.append(f"growth verdict '{v0}' with the bulk region from {boundary_um:.2f} um "
                     f"becomes {changed}")
    host_density = host_lithium_density(*host) if host is not None else None
    return NDPAnalysis(prof, t, float(boundary_um), total, total_err, bulk, bulk_err, charge,
                       onset, uni, host_density, depth_cal.name, tuple(warns),
                       relative_units=standard is HAN2019_STANDARD, boundary=boundary,
                       plating_shift=shift,
                       host_shift=None if host_shift is None
                       else host_shift.summary(prof, bprof, reference_frame, bulk_mask),
                       surface_layer=layer)


def _host_shift(prof, reference_frame, boundary_um, bulk_mask, depth_cal, host, warns,
                layer=None):
    """The plated lithium's host shift (:func:`~sescreen.ndp.host_shift.plated_host_shift`,
    with the reference's surface ``layer`` if given) when the electrolyte's stopping is
    known and it holds lithium; else None (with a warning when only CATIMA is missing)."""
    stack = stopping_layer(depth_cal, host)
    scale = electrolyte_layer(depth_cal)
    if stack is None:
        if host is not None or scale is not None:
            warns.append("the electrolyte's lithium that plated lithium pushes deeper (0.3-0.4 "
                         "% of the bulk region's at 7 um of lithium) is not removed from the "
                         "dendrite content and the onset: CATIMA is not installed (pip "
                         "install 'sescreen[stopping]')")
        return None
    if scale is not None:
        # the apparent depths are um of the calibration's electrolyte: a porous host given
        # at its own density has that density's areal density per apparent um (with the
        # host's 80 %, 7 um of lithium had been read as a dendrite content of -1.8 errors)
        stack = replace(stack, density_g_cm3=scale.density_g_cm3)
    try:
        n_host = host_lithium_density(stack.formula, stack.density_g_cm3)
    except InputError:  # no lithium in the electrolyte: nothing is pushed
        return None
    return plated_host_shift(prof, reference_frame, boundary_um, bulk_mask, stack,
                             depth_cal.particle, n_host, layer)

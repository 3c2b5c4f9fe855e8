"""NDP surface/bulk boundary and growth verdict (a second review, N9): the boundary from
the surface peak's edge (a resolution-broadened step) and a verdict that does not call a
gradient from the interface "internal deposition" with confidence.

The spectra here are drawn with their own forward model (not :mod:`sescreen.ndp.forward`):
each channel's lithium through the depth calibration, a Gaussian detector resolution of
``fwhm_kev`` applied to the expected counts, then Poisson counts.
"""

from __future__ import annotations

import numpy as np
import pytest

from sescreen.ndp import HAN2019_ENERGY, Standard, analyse, depth_preset, host_lithium_density
from sescreen.ndp.profiles import uniformity_test
from sescreen.ndp.spectra import SpectrumSeries

CAL = depth_preset("han2019-llzo-x10")
HOST = host_lithium_density("Li6.4La3Zr1.4Ta0.6O12", 5.1)
LI_METAL = 4.6e22  # atoms/cm^3
STD = Standard(counts_per_monitor=850.0)  # ~1500 counts per 60-channel host bin
TIMES = np.arange(40) * 180.0
T_ON = TIMES[15]
NOT_RESOLVED = "internal or directional (slope not resolved)"
BOUNDARY_SENSITIVE = "directional or internal (boundary-sensitive)"


def _smeared_series(profile, *, fwhm_kev, seed, times=TIMES):
    """Poisson frames of ``profile(t, depth_um)`` (atoms/cm^3) seen with a Gaussian
    detector resolution of ``fwhm_kev`` (FWHM)."""
    rng = np.random.default_rng(seed)
    ch = np.arange(4000.0)
    e = HAN2019_ENERGY.energy(ch)
    gain = HAN2019_ENERGY.gain_kev
    lo_e, hi_e = CAL.energy_range_kev
    sub = (np.arange(8) + 0.5) / 8 - 0.5  # 8 sub-channel nodes
    ee = (e[:, None] + sub[None, :] * gain).ravel()
    inside = (ee >= lo_e) & (ee <= hi_e)
    dd = np.where(inside, CAL.depth(np.clip(ee, lo_e, hi_e)), np.nan)
    span_um = np.abs(np.gradient(CAL.depth(np.clip(e, lo_e, hi_e))))  # um per channel
    sig_ch = fwhm_kev / 2.3548 / gain
    x = np.arange(-int(6 * sig_ch) - 1, int(6 * sig_ch) + 2)
    kernel = np.exp(-0.5 * (x / sig_ch) ** 2)
    kernel /= kernel.sum()
    counts = []
    for t in times:
        dens = np.nan_to_num(profile(float(t), np.nan_to_num(dd, nan=-99.0)) * inside)
        areal = dens.reshape(4000, 8).mean(axis=1) * span_um * 1e-4  # atoms/cm^2 per channel
        expected = np.convolve(areal / STD.factor() * 0.95, kernel, "same")
        counts.append(rng.poisson(expected))
    n = len(times)
    return SpectrumSeries(ch, np.vstack(counts).astype(float), np.full(n, 171.0),
                          np.full(n, 180.0), np.ones(n), np.asarray(times, dtype=float))


#: Li metal's triton stopping over the SE's (LLZO ~0.22 at 2.4 MeV, CATIMA): a plated layer
#: of thickness l appears l * STOPPING_RATIO thick in SE depth, at LI_METAL / STOPPING_RATIO
STOPPING_RATIO = 0.22


def _profile(kind, thickness_um, amount=0.08, length_um=4.0):
    """Apparent Li density vs SE-equivalent depth: a plated Li layer growing to
    ``thickness_um`` (Li metal) between the collector and the SE, which it pushes deeper,
    and in the SE its host plus, from T_ON on, a uniform increase or a gradient from the
    interface, both growing linearly in time."""
    def profile(t, d):
        grow = np.clip((t - T_ON) / (TIMES[-1] - T_ON), 0, None)
        shift = thickness_um * STOPPING_RATIO * t / TIMES[-1]
        x = d - shift  # depth in the SE
        if kind == "gradient":
            extra = amount * 3.0 * HOST * np.exp(-np.maximum(x, 0) / length_um)
        else:
            extra = amount * HOST * np.ones_like(d)
        se = np.where(x >= 0, HOST + extra * grow, 0.0)
        return se + np.where((d >= 0) & (x < 0), LI_METAL / STOPPING_RATIO, 0.0)
    return profile


# -- the boundary from the surface peak's edge ------------------------------------------------
@pytest.mark.parametrize(("thickness_um", "fwhm_kev", "seed"),
                         [(1.0, 18.0, 0), (0.2, 45.0, 1), (5.0, 45.0, 2), (5.0, 18.0, 3)])
def test_gradient_from_the_interface_is_called_directional(thickness_um, fwhm_kev, seed):
    """A gradient 3 x 8 % host x exp(-d / 4 um) from the interface under thin and thick
    plated layers: the boundary stays at the plated layer's edge (a few resolution widths
    past its half-maximum), not past the gradient (the former rule followed the gradient
    down into the noise and tested the flat remainder: internal deposition or no change)."""
    s = _smeared_series(_profile("gradient", thickness_um), fwhm_kev=fwhm_kev, seed=seed)
    a = analyse(s, CAL, standard=STD)
    edge = thickness_um * STOPPING_RATIO  # the last frame's plated edge, um
    sigma = fwhm_kev / 2.3548 * abs(CAL.depth(2300.0) - CAL.depth(2301.0))  # um
    assert a.uniformity["verdict"] == "directional growth"
    assert a.boundary_um < edge + 5 * sigma + 0.3
    assert a.boundary["automatic"] and a.boundary["edge_um"] is not None
    assert a.boundary["front_sigma_um"] == pytest.approx(sigma, rel=0.35)


@pytest.mark.parametrize(("thickness_um", "fwhm_kev", "seed"),
                         [(1.0, 18.0, 4), (0.2, 45.0, 5), (5.0, 45.0, 6)])
def test_uniform_deposit_is_still_internal_deposition(thickness_um, fwhm_kev, seed):
    """A uniform 8 % increase under the same plated layers: no spill of the plated edge
    into the bulk region makes it look directional."""
    s = _smeared_series(_profile("uniform", thickness_um), fwhm_kev=fwhm_kev, seed=seed)
    a = analyse(s, CAL, standard=STD)
    assert a.uniformity["verdict"] == "internal deposition"
    assert not a.uniformity["boundary_sensitive"]
    # every bulk bin lies beyond the edge's 3-sigma point
    assert a.boundary_um >= a.boundary["edge_um"] + 3 * a.boundary["edge_sigma_um"] - 1e-6


def test_gradient_without_plated_layer_uses_the_electrolyte_front():
    """No plated layer in the window: the bulk region starts 3 resolution widths past the
    SE's front in the reference frame (the former rule put it at 4-6 um)."""
    s = _smeared_series(_profile("gradient", 0.0), fwhm_kev=18.0, seed=7)
    a = analyse(s, CAL, standard=STD)
    assert a.boundary_um < 0.6
    assert "front" in a.boundary["method"]
    assert a.uniformity["verdict"] == "directional growth"


def test_automatic_boundary_is_marked_in_summary_and_text():
    s = _smeared_series(_profile("uniform", 1.0), fwhm_kev=18.0, seed=8)
    a = analyse(s, CAL, standard=STD)
    summary = a.summary()
    assert summary["boundary"]["automatic"] is True
    assert summary["boundary"]["edge_um"] == pytest.approx(1.0 * STOPPING_RATIO, abs=0.15)
    assert "automatic: surface edge" in str(a)
    given = analyse(s, CAL, standard=STD, boundary_um=1.0)
    assert given.summary()["boundary"] == {"automatic": False, "method": "given",
                                           "boundary_um": pytest.approx(given.boundary_um)}
    assert given.boundary_um == pytest.approx(1.0, abs=0.02)  # bins laid from the boundary


# -- the verdict -------------------------------------------------------------------------------
def test_slope_within_errors_is_not_proof_of_uniformity():
    """A falling increase whose slope is only 2 standard errors from zero: the data do not
    exclude a gradient from the interface (a decline across the region as large as the
    mean), so it is not called internal deposition (it was, by default)."""
    d = np.linspace(0.5, 15.5, 27)
    err = np.full(d.size, 1.0)
    sxx = np.sum((d - d.mean()) ** 2)
    slope = -2.0 / np.sqrt(sxx)  # 2 standard errors below zero
    y = 1.0 + slope * (d - d.mean())  # mean at 5 standard errors
    u = uniformity_test(d, y, err)
    assert u["slope_err"] == pytest.approx(1 / np.sqrt(sxx))
    assert u["verdict"] == NOT_RESOLVED
    assert u["relative_change_over_region"] - 2 * u["relative_change_err"] < -1
    flat = uniformity_test(d, np.full(d.size, 6.0), err)  # well measured and flat
    assert flat["verdict"] == "internal deposition"


def test_verdicts_that_differ_one_bin_deeper_are_boundary_sensitive():
    from sescreen.ndp.profiles import combine_verdicts

    assert combine_verdicts("directional growth", "internal deposition") == BOUNDARY_SENSITIVE
    assert combine_verdicts("directional growth", "no detectable change") == \
        BOUNDARY_SENSITIVE
    assert combine_verdicts("internal deposition", "directional growth") == BOUNDARY_SENSITIVE
    assert combine_verdicts("directional growth", "directional growth") == \
        "directional growth"
    assert combine_verdicts("internal deposition", NOT_RESOLVED) == "internal deposition"


def test_window_starting_inside_the_electrolyte_is_all_bulk():
    """A depth window that starts inside the SE holds neither the plated layer nor the
    SE's front: the whole window is the bulk region (the former rule put the boundary at
    4-7 um, discarding a third of the window)."""
    s = _smeared_series(_profile("uniform", 1.0), fwhm_kev=18.0, seed=9)
    a = analyse(s, CAL, standard=STD, depth_window_um=(1.5, 16.0))
    assert a.boundary_um == pytest.approx(1.5, abs=0.05)
    assert "inside the SE" in a.boundary["method"]
    assert a.uniformity["verdict"] == "internal deposition"

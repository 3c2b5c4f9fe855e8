"""A thin surface layer of the electrolyte that plated lithium pushes into the bulk region
(sescreen.ndp.surface_layer): no dendrite onset when no lithium enters the bulk, a true
one still found and dated, the weight in the summary. Series from tests/ndp_layers.py
(CATIMA plating, a Gaussian resolution, Poisson counts). Before the change a Li-rich layer
decaying over 0.5 um gave a false onset in 19 of 20 series, one over 0.3 um in 10 of 20, a
graded Li2CO3 film in 12 of 20."""

from __future__ import annotations

import numpy as np
import pytest
from ndp_layers import CAL, HOST, STD, T_ON, TIMES, layer_series

import sescreen.ndp.profiles as profiles
from sescreen.constants import ELEMENTARY_CHARGE
from sescreen.ndp import analyse, synthesize_series
from sescreen.ndp.stopping import LI_METAL_ATOMS_CM3
from sescreen.ndp.surface_layer import LAYER_Z, layer_weight

pytest.importorskip("pycatima")


def _no_layer(fine, reference_frame, shift, boundary_um):
    return {"weight": 0.0, "deviation": 0.0, "deviation_err": 0.0, "depth_um": None,
            "cumulative": None}


@pytest.mark.parametrize("name", ["li-rich deep exp", "li-rich exp", "li2co3 graded",
                                  "li-rich step"])
def test_a_surface_layer_pushed_into_the_bulk_is_no_dendrite(name):
    onsets, weights = 0, []
    for seed in range(5):
        s = analyse(layer_series(name, seed), CAL, standard=STD).summary()
        onsets += s["onset_s"] is not None
        weights.append(s["surface_weight"])
        assert abs(s["dendrite_content_atoms_cm2"]) < 4 * s["dendrite_content_err_atoms_cm2"]
    assert onsets == 0
    assert max(weights) == 1.0  # the layer is seen and used


def test_without_the_layer_in_the_reference_the_false_onsets_return(monkeypatch):
    # the same series with the layer left out of the host shift (the analysis before the
    # change): the test above would fail
    monkeypatch.setattr(profiles, "surface_layer", _no_layer)
    onsets = sum(analyse(layer_series("li-rich deep exp", seed), CAL, standard=STD)
                 .summary()["onset_s"] is not None for seed in range(5))
    assert onsets >= 4


@pytest.mark.parametrize("name", ["li-rich deep exp", "li-poor exp", "li2co3 graded"])
def test_a_dendrite_under_a_surface_layer_is_found_and_dated(name):
    deposit = 0.01  # uniform, 1 % of the host at the last frame, from T_ON
    for seed in range(3):
        s = analyse(layer_series(name, 100 + seed, deposit=deposit), CAL,
                    standard=STD).summary()
        assert s["onset_s"] is not None
        lo, hi = s["onset_interval_s"]
        assert lo - 360.0 <= T_ON <= hi + 360.0
        bulk_cm = (s["depth_range_um"][1] - s["boundary_um"]) * 1e-4
        assert s["dendrite_content_atoms_cm2"] == pytest.approx(
            deposit * HOST * bulk_cm, abs=4 * s["dendrite_content_err_atoms_cm2"])


def test_the_layer_is_reported_in_the_summary_and_the_text():
    a = analyse(layer_series("li-rich deep exp", 0), CAL, standard=STD)
    layer = a.summary()["surface_layer"]
    assert abs(layer["deviation"]) > LAYER_Z[1] * layer["deviation_err"] > 0
    assert layer["weight"] == a.summary()["surface_weight"] == 1.0
    assert layer["depth_um"][1] == pytest.approx(a.boundary_um)
    assert 0 < layer["depth_um"][0] < layer["depth_um"][1]
    assert "surface layer" in str(a) and "weight 1.00" in str(a)


def test_the_weight_rises_smoothly_from_2_to_4_standard_errors():
    z = np.linspace(0.0, 6.0, 601)
    w = np.array([layer_weight(v) for v in z])
    assert np.all(w[z <= 2.0] == 0.0) and np.all(w[z >= 4.0] == 1.0)
    assert layer_weight(3.0) == pytest.approx(0.5) and layer_weight(-3.0) == layer_weight(3.0)
    assert np.all(np.diff(w) >= 0) and np.max(np.diff(w)) < 0.02  # no jump


def test_a_plain_electrolyte_is_analysed_nearly_as_before(monkeypatch):
    # no layer: the weight stays near 0 (here the front's resolution tail in x(b) .. b
    # reaches 2 standard errors) and the numbers move by a small fraction of their errors
    j = 0.2  # mA/cm^2
    series = synthesize_series(
        lambda t, x: np.full_like(x, HOST), TIMES, CAL, rng=np.random.default_rng(3),
        standard=STD, frame_s=360.0, current_ma_cm2=j, resolution_fwhm_kev=30.0,
        plated_um=lambda t: j * 1e-3 * t / ELEMENTARY_CHARGE / LI_METAL_ATOMS_CM3 * 1e4)
    s = analyse(series, CAL, standard=STD).summary()
    assert s["surface_weight"] < 0.05
    monkeypatch.setattr(profiles, "surface_layer", _no_layer)
    before = analyse(series, CAL, standard=STD).summary()
    assert s["onset_s"] is before["onset_s"] is None
    assert abs(before["dendrite_content_atoms_cm2"] - s["dendrite_content_atoms_cm2"]) < \
        0.1 * s["dendrite_content_err_atoms_cm2"]


def test_the_resolution_broadens_a_step_as_its_fwhm_says():
    # the forward model's resolution (synthesize_series): the host's step at the front,
    # its 12-88 % width is 2.35 sigma = the FWHM
    sharp, broad = (synthesize_series(lambda t, x: np.where(x >= 2.0, HOST, 0.0), [0.0], CAL,
                                      rng=np.random.default_rng(0), standard=STD,
                                      monitor=1e3, resolution_fwhm_kev=f) for f in (0.0, 40.0))
    e = profiles.HAN2019_ENERGY.energy(sharp.channels)
    edge = e[np.flatnonzero(sharp.counts[0] > 0).max()]  # the step, at 2 um
    near = (e > edge - 200) & (e < edge + 100)
    top = np.median(sharp.counts[0][(e > edge - 300) & (e < edge - 150)])

    def width_kev(c):
        f = np.convolve(c[near], np.ones(5) / 5, "same") / top
        return abs(e[near][np.argmin(np.abs(f - 0.12))] - e[near][np.argmin(np.abs(f - 0.88))])

    assert width_kev(sharp.counts[0]) < 5.0
    assert width_kev(broad.counts[0]) == pytest.approx(40.0, rel=0.15)

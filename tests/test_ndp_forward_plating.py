"""The forward model's plated lithium (:func:`sescreen.ndp.synthesize_series` with
``plated_um``): the metal appears at the front, the electrolyte's own lithium is pushed
deeper, and an analysis of plating alone sees the charge less the host lithium pushed out
of the window (the example's NDP series had shown 104 % of Q/e against 90 % expected),
with no dendrite onset."""

from __future__ import annotations

import numpy as np
import pytest

from sescreen.constants import ELEMENTARY_CHARGE
from sescreen.ndp import Standard, analyse, depth_preset, host_lithium_density, synthesize_series
from sescreen.ndp.calibration import LI_METAL_ATOMS_CM3, electrolyte_layer, plated_depths

pytest.importorskip("pycatima")

CAL = depth_preset("han2019-llzo-x10")
HOST = host_lithium_density("Li6.4La3Zr1.4Ta0.6O12", 5.1)
STD = Standard(counts_per_monitor=850.0)
TIMES = np.arange(30) * 360.0
J = 0.1  # mA/cm^2


def _plated_um(t):
    return J * 1e-3 * t / ELEMENTARY_CHARGE / LI_METAL_ATOMS_CM3 * 1e4


def test_plated_depths_map_the_metal_to_the_front_and_shift_the_electrolyte():
    el = electrolyte_layer(CAL)
    u, x = plated_depths(el, CAL.particle, [0.05, 0.5, 8.0], 1.0)
    # 1 um of lithium spans ~0.2 um of LLZO-equivalent depth (S_Li / S_SE ~ 0.21)
    assert u[0] == pytest.approx(0.05 / 0.206, rel=0.05) and np.isnan(x[0])
    assert np.isnan(u[1:]).all()
    assert x[1:] == pytest.approx(np.array([0.5, 8.0]) - 0.206, abs=0.01)
    u0, x0 = plated_depths(el, CAL.particle, [3.0], 0.0)
    assert x0[0] == pytest.approx(3.0) and np.isnan(u0[0])


@pytest.mark.parametrize("seed", [1, 2])
def test_plating_alone_shows_the_charge_less_the_host_pushed_out(seed):
    series = synthesize_series(lambda t, x: np.full_like(x, HOST), TIMES, CAL,
                               rng=np.random.default_rng(seed), standard=STD, frame_s=360.0,
                               current_ma_cm2=J, plated_um=_plated_um)
    a = analyse(series, CAL, standard=STD)
    s = a.summary()
    assert s["onset_s"] is None  # plating is no dendrite
    assert abs(s["dendrite_content_atoms_cm2"]) < 3 * s["dendrite_content_err_atoms_cm2"]
    expected, err = s["expected_fraction_of_charge"], s["expected_fraction_err"]
    assert expected == pytest.approx(0.90, abs=0.02)
    seen_err = s["transported_err_atoms_cm2"] / s["charge_atoms_cm2"]
    assert abs(s["transported_fraction_of_charge"] - expected) < 3 * np.hypot(err, seen_err)
    assert not any("NDP cannot see" in w for w in s["warnings"])


def test_without_a_known_electrolyte_a_plated_layer_is_refused_clearly():
    from sescreen.ndp.calibration import DepthCalibration

    bare = DepthCalibration("mine", "triton", (-2.08e-6, -0.00487, 22.013), (900.0, 2400.0),
                            "a user polynomial", "user", None)
    with pytest.raises(ValueError, match="no electrolyte known"):
        synthesize_series(lambda t, x: np.full_like(x, HOST), TIMES[:2], bare,
                          rng=np.random.default_rng(0), standard=STD, plated_um=_plated_um)

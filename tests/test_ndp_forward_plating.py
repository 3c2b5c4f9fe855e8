"""The forward model's plated lithium (:func:`sescreen.ndp.synthesize_series` with
``plated_um``): the metal appears at the front, the electrolyte's own lithium is pushed
deeper, and an analysis of plating alone sees the charge less the host lithium pushed out
of the window (the example's NDP series had shown 104 % of Q/e against 90 % expected),
with no dendrite onset."""

from __future__ import annotations

import numpy as np
import pytest

from sescreen.constants import ELEMENTARY_CHARGE
from sescreen.ndp import (
    Standard,
    analyse,
    calibration,
    depth_preset,
    host_lithium_density,
    stopping,
    synthesize_series,
)
from sescreen.ndp.calibration import electrolyte_layer
from sescreen.ndp.stopping import LI_METAL_ATOMS_CM3, plated_depths

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


# Long runs: 7.2 um of lithium (20 h at 0.1 mA/cm^2) pushes 0.3-0.4 % of the bulk region's
# host deeper, 5 counting errors at 100x the counts above (sescreen.ndp.host_shift)
RICH = Standard(counts_per_monitor=85000.0)
LONG = np.array([0.0, 299 * 180.0])


def _long_series(seed, profile=None, standard=RICH):
    profile = profile or (lambda t, x: np.full_like(x, HOST))
    return synthesize_series(profile, LONG, CAL, rng=np.random.default_rng(seed),
                             standard=standard, frame_s=180.0, current_ma_cm2=J,
                             plated_um=_plated_um)


def test_the_host_shift_grows_with_depth_as_pycatima_stopping_says():
    """The shift x -> a of the electrolyte behind 4 um of lithium, from the range tables
    (plated_depths), against an independent integration of dE/dx = -S(E) (pycatima's
    stopping powers, no range table): the bulk region's host loss is the difference of the
    shifts at its two ends, 0.03 um, so it must be right to a few per cent."""
    import pycatima
    from scipy.integrate import solve_ivp
    from scipy.optimize import brentq

    from sescreen.ndp.stopping import LI_METAL, PARTICLES, catima_material

    el = electrolyte_layer(CAL)
    mass, charge, e0 = PARTICLES[CAL.particle]

    def cross(e, layer, um):
        mat = catima_material(layer)

        def slope(_, y):
            p = pycatima.Projectile(mass, charge, charge, y[0] / 1e3 / mass)
            return [-pycatima.dedx(p, mat) * layer.density_g_cm3 * 0.1]  # keV/um
        return solve_ivp(slope, (0, um), [e], rtol=1e-10, atol=1e-8).y[0, -1]

    def shift(x, li_um):  # apparent minus true depth
        seen = cross(cross(e0, el, x), LI_METAL, li_um)
        return brentq(lambda y: cross(e0, el, y) - seen, x, x + 0.3 * li_um, xtol=1e-7) - x

    def table_shift(x, li_um):
        a = np.linspace(x + 0.15 * li_um, x + 0.25 * li_um, 20001)
        return a[np.nanargmin(np.abs(plated_depths(el, CAL.particle, a, li_um)[1] - x))] - x

    near, deep = shift(2.7, 4.0), shift(16.0, 4.0)
    assert table_shift(2.7, 4.0) == pytest.approx(near, abs=2e-4)
    assert table_shift(16.0, 4.0) == pytest.approx(deep, abs=2e-4)
    assert table_shift(16.0, 4.0) - table_shift(2.7, 4.0) == pytest.approx(deep - near,
                                                                           rel=0.03)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_long_plating_run_leaves_no_dendrite_content(seed):
    s = analyse(_long_series(seed), CAL, standard=RICH).summary()
    hs = s["host_shift"]
    assert hs["li_um"] == pytest.approx(_plated_um(LONG[-1]), rel=0.02)
    assert -0.006 < hs["bulk_change_fraction"] < -0.002
    # the host pushed deeper had read as a dendrite content of about -5 errors
    assert abs(s["dendrite_content_atoms_cm2"]) < 3 * s["dendrite_content_err_atoms_cm2"]


def test_a_dendrite_content_under_long_plating_is_recovered():
    deposit = 3e21  # atoms/cm^3 over 4-12 um at the last frame: 2.4e18 atoms/cm^2

    def profile(t, x):
        return HOST + np.where((x > 4) & (x < 12) & (t > 0), deposit, 0.0)

    s = analyse(_long_series(3, profile), CAL, standard=RICH).summary()
    assert s["dendrite_content_atoms_cm2"] == pytest.approx(
        deposit * 8e-4, abs=3 * s["dendrite_content_err_atoms_cm2"])


def test_the_plated_thickness_needs_no_10b_standard():
    # relative units: the scale comes from the reference bulk and the host's composition
    s = analyse(_long_series(4), CAL).summary()
    assert s["host_shift"]["li_um"] == pytest.approx(_plated_um(LONG[-1]), rel=0.02)


def test_no_host_shift_when_the_window_starts_inside_the_electrolyte():
    # the plated lithium is outside the window: its thickness cannot be read there
    s = analyse(_long_series(5), CAL, standard=RICH, depth_window_um=(2.0, 15.0),
                boundary_um=3.0).summary()
    assert s["host_shift"] is None


def test_without_catima_a_preset_shifts_from_its_shipped_table(monkeypatch):
    # a core install (no pycatima) gives a preset's numbers exactly; a host of its own
    # has no table, and its shift is said to be left in
    series = _long_series(6)
    host = ("Li6.4La3Zr1.4Ta0.6O12", 0.8 * 5.1)
    with_catima = analyse(series, CAL, standard=RICH).summary()
    monkeypatch.setitem(__import__("sys").modules, "pycatima", None)  # import fails
    stopping.range_table.cache_clear()
    without = analyse(series, CAL, standard=RICH).summary()
    assert without["host_shift"] == with_catima["host_shift"] is not None
    assert without["dendrite_content_atoms_cm2"] == with_catima["dendrite_content_atoms_cm2"]
    s = analyse(series, CAL, standard=RICH, host=host).summary()
    assert s["host_shift"] is None
    assert any("sescreen[stopping]" in w and "pushes deeper" in w for w in s["warnings"])


def test_the_shipped_range_tables_are_catimas():
    # a pycatima release that changes its stopping powers fails here: regenerate the
    # tables (stopping.write_range_tables) and the committed example report
    for (formula, density, particle), shipped in stopping._shipped().items():
        layer = stopping.Layer("x", formula, density, 1.0)
        fresh = stopping._catima_stopping(layer, particle, stopping._table_energies(particle))
        np.testing.assert_allclose(shipped, fresh, rtol=1e-12, err_msg=formula)
    presets = {calibration._preset_electrolyte(n) for n in calibration.DEPTH_PRESETS}
    assert {(ly.formula, ly.density_g_cm3) for ly in presets if ly} <= \
        {(f, d) for f, d, _ in stopping._shipped()}


def test_a_porous_host_shifts_as_its_areal_density_says():
    # apparent depths are um of the stack's LLZO (5.1 g/cm^3): a host given at 80 % of it
    # is seen with the same lithium and stopping per apparent um (the plated thickness had
    # read 0.8x and the bulk's host change 0.65x)
    series = _long_series(7)
    full = analyse(series, CAL, standard=RICH).summary()["host_shift"]
    porous = analyse(series, CAL, standard=RICH,
                     host=("Li6.4La3Zr1.4Ta0.6O12", 0.8 * 5.1)).summary()["host_shift"]
    assert porous["li_um"] == pytest.approx(full["li_um"], rel=1e-3)
    assert porous["bulk_change_fraction"] == pytest.approx(full["bulk_change_fraction"],
                                                           rel=1e-3)

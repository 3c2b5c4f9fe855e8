"""Neutron depth profiling: calibrations, eq. (4), forward-model round trips, inputs, CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import write_wide_table

from sescreen.cli import main
from sescreen.errors import FormatError, InputError
from sescreen.io.writers import write_table
from sescreen.ndp import (
    HAN2019_ENERGY,
    EnergyCalibration,
    Standard,
    analyse,
    depth_preset,
    host_lithium_density,
    load_stack,
    read_spectra,
    synthesize_series,
)
from sescreen.ndp.calibration import compare_with_preset, stopping_calibration
from sescreen.ndp.profiles import areal_density, bin_profiles, count_unit, detect_onset
from sescreen.ndp.spectra import SpectrumSeries, write_spectra

LLZO = ("Li6.4La3Zr1.4Ta0.6O12", 5.1)
CAL = depth_preset("han2019-llzo-x10")
HOST = host_lithium_density(*LLZO)
STD = Standard(counts_per_monitor=850.0)  # ~1500 counts per 60-channel host bin: ~2.5 %
TIMES = np.arange(40) * 180.0


# -- calibrations ---------------------------------------------------------------------------
def test_energy_calibration_preset_and_fit():
    assert HAN2019_ENERGY.energy(1000) == pytest.approx(734.267)
    fit = EnergyCalibration.fit([100, 2000, 3000], [107.867, 1430.267, 2126.267])
    assert fit.gain_kev == pytest.approx(0.696) and fit.offset_kev == pytest.approx(38.267)
    with pytest.raises(InputError):
        EnergyCalibration.fit([10], [100])


def test_presets_and_flags():
    lipon = depth_preset("han2019-lipon")
    assert lipon.coefficients == (-3.654e-7, -0.00207, 4.302)
    assert lipon.depth_range_um[1] == pytest.approx(3.2, abs=0.01)
    printed = depth_preset("han2019-llzo")
    assert any("impossible" in f for f in printed.flags)
    assert any("x10" in f for f in depth_preset("han2019-llzo-x10").flags)
    assert depth_preset("han2019-llzo-x10").depth_range_um[1] == pytest.approx(16, abs=0.01)
    with pytest.raises(InputError, match="unknown depth preset"):
        depth_preset("nope")


def test_stopping_calibration_reproduces_lipon_polynomial():
    pytest.importorskip("pycatima")
    calc = stopping_calibration(load_stack("han2019-lipon"))
    cmp = compare_with_preset(calc, depth_preset("han2019-lipon"))
    assert cmp["max_abs_after_offset_um"] < 0.1
    assert calc.rms_um < 0.02
    # the triton stacks support the x10 reading, not the printed one
    llzo = stopping_calibration(load_stack("han2019-llzo"))
    x10 = compare_with_preset(llzo, depth_preset("han2019-llzo-x10"))
    printed = compare_with_preset(llzo, depth_preset("han2019-llzo"))
    assert x10["max_abs_after_offset_um"] < 1.0 < printed["max_abs_after_offset_um"]


def test_stack_toml_errors(tmp_path):
    bad = tmp_path / "s.toml"
    bad.write_text("particle = 'alpha'\n[[layers]]\nformula = 'Cu'\n")
    with pytest.raises(FormatError, match="missing key"):
        load_stack(bad)
    bad.write_text("particle = 'proton'\n")
    with pytest.raises(FormatError, match="particle"):
        load_stack(bad)
    bad.write_text("particle = [\n")
    with pytest.raises(FormatError, match="TOML"):
        load_stack(bad)
    with pytest.raises(InputError, match="unknown stack"):
        load_stack("han2030-foo")


# -- eq. (4) ------------------------------------------------------------------------------
def test_concentration_matches_hand_calculation():
    """One channel, 1000 counts, live 90 of real 100 s, monitor 2e5, C_10B 5 per monitor."""
    counts = np.zeros((1, 8))
    counts[0, 3] = 1000.0
    s = SpectrumSeries(np.arange(8.0), counts, np.array([90.0]), np.array([100.0]),
                       np.array([2e5]), np.array([0.0]))
    std = Standard(counts_per_monitor=5.0)
    areal, err = areal_density(s, std)
    c6 = 1000.0 * (100.0 / 90.0) / 2e5  # dead time, then per monitor unit
    hand = (c6 / 5.0) * (3841.79 / 938.47) * 1.094e16 / 0.075
    assert areal[0, 3] == pytest.approx(hand, rel=1e-12)
    assert err[0, 3] == pytest.approx(hand / np.sqrt(1000.0), rel=1e-12)
    a1, _ = areal_density(s, std, alpha1_only=True)
    assert a1[0, 3] == pytest.approx(hand * 0.94)


def test_empty_bins_keep_a_counting_error():
    """A bin with N raw counts has the variance N + 1 counts^2 (flat-prior Poisson posterior),
    so an empty bin keeps one count of error instead of zero (issue 13)."""
    n_ch = 4000
    counts = np.zeros((2, n_ch))
    counts[:, 2000:2600] = 3.0  # 60-channel bins with 180 counts; the rest empty
    s = SpectrumSeries(np.arange(float(n_ch)), counts, np.array([90.0, 90.0]),
                       np.array([100.0, 100.0]), np.array([2e5, 1e5]), np.array([0.0, 180.0]))
    std = Standard(counts_per_monitor=5.0)
    areal, err = areal_density(s, std)
    unit = count_unit(s, std)
    assert unit[1] == pytest.approx(2 * unit[0])  # half the monitor: twice per count
    prof = bin_profiles(areal, err, HAN2019_ENERGY.energy(s.channels), CAL,
                        channels_per_bin=60, depth_window_um=CAL.depth_range_um, unit=unit)
    raw = np.rint(prof.areal / unit[:, None])
    assert raw.min() == 0 and raw.max() == 180
    assert np.all(prof.areal_err > 0)
    assert prof.areal_err == pytest.approx(np.sqrt(raw + 1) * unit[:, None], rel=1e-9)
    plain = bin_profiles(areal, err, HAN2019_ENERGY.energy(s.channels), CAL,
                         channels_per_bin=60, depth_window_um=CAL.depth_range_um)
    assert np.any(plain.areal_err == 0)  # what a fit would have weighted infinitely


def test_sparse_spectra_fit_with_finite_weights():
    """Low counts (most bins empty or near it): every fit downstream stays finite and a
    series without change is not called growth."""
    sparse = Standard(counts_per_monitor=850.0 / 1000)  # ~1 count per 20-channel bin
    verdicts = []
    for seed in range(6):
        s = synthesize_series(lambda t, d: np.where(d >= 0, HOST, 0.0), TIMES[:12], CAL,
                              rng=np.random.default_rng(seed), standard=sparse)
        a = analyse(s, CAL, standard=sparse, boundary_um=1.0, channels_per_bin=20)
        assert (a.profiles.areal == 0).mean() > 0.2  # empty bins in the fit
        assert np.all(a.profiles.density_err > 0)
        u = a.uniformity
        assert np.isfinite([u["mean_increase_err"], u["slope_err"], u["chi2_red"]]).all()
        verdicts.append(u["verdict"])
    assert verdicts.count("no detectable change") >= 5, verdicts


def test_host_density():
    assert HOST == pytest.approx(2.21e22, rel=0.01)
    with pytest.raises(InputError):
        host_lithium_density("La2O3", 6.5)


# -- forward-model round trips --------------------------------------------------------------
LI_METAL = 4.6e22  # atoms/cm^3


def _plated(t, d, thickness_um=1.0):
    """Li metal plated at the interface (negative depth), growing linearly in time."""
    return np.where((d < 0) & (d > -thickness_um * t / TIMES[-1]), LI_METAL, 0.0)


def _internal(t_on, amount=0.08):
    def profile(t, d):
        grow = np.clip((t - t_on) / (TIMES[-1] - t_on), 0, None)
        return np.where(d >= 0, HOST * (1 + amount * grow), _plated(t, d))
    return profile


def _directional(t_on, amount=0.08):
    def profile(t, d):
        grow = np.clip((t - t_on) / (TIMES[-1] - t_on), 0, None)
        return np.where(d >= 0, HOST + amount * HOST * grow * 3.0 * np.exp(-d / 4.0), 0.0)
    return profile


def _truth_bulk(profile, boundary, t):
    d = np.linspace(boundary, CAL.depth_range_um[1], 4001)
    inc = profile(t, d) - profile(0.0, d)
    return np.trapezoid(inc, d) * 1e-4


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_internal_deposit_recovered(seed):
    t_on = TIMES[15]
    profile = _internal(t_on)
    s = synthesize_series(profile, TIMES, CAL, rng=np.random.default_rng(seed), standard=STD,
                          current_ma_cm2=0.1)
    a = analyse(s, CAL, standard=STD, host=LLZO)
    assert a.uniformity["verdict"] == "internal deposition"
    truth = _truth_bulk(profile, a.boundary_um, TIMES[-1])
    assert abs(a.bulk[-1] - truth) < 3 * a.bulk_err[-1]
    assert abs(a.onset["onset_s"] - t_on) <= 180.0
    summary = a.summary()
    assert 0.05 < summary["dendrite_fraction_of_host_li"] < 0.11
    assert summary["charge_atoms_cm2"] == pytest.approx(0.1e-3 * TIMES[-1] / 1.602176634e-19)


@pytest.mark.parametrize("seed", [4, 5])
def test_directional_growth_is_told_apart(seed):
    s = synthesize_series(_directional(TIMES[10]), TIMES, CAL, rng=np.random.default_rng(seed),
                          standard=STD)
    a = analyse(s, CAL, standard=STD, boundary_um=1.0)
    assert a.uniformity["verdict"] == "directional growth"


def test_no_change_is_reported_as_such():
    s = synthesize_series(lambda t, d: np.where(d >= 0, HOST, 0.0), TIMES[:12], CAL,
                          rng=np.random.default_rng(6), standard=STD)
    a = analyse(s, CAL, standard=STD, boundary_um=1.0)
    assert a.uniformity["verdict"] == "no detectable change"
    assert a.onset["onset_s"] is None


def test_onset_hinge_on_exact_data():
    t = np.arange(20.0)
    y = np.where(t > 7, (t - 7) * 3.0, 0.0)
    out = detect_onset(t, y, np.ones_like(t))
    assert out["onset_s"] == 7.0 and out["slope"] == pytest.approx(3.0)


# -- reading and bad inputs -----------------------------------------------------------------
def _series(n=5):
    return synthesize_series(_internal(TIMES[2]), TIMES[:n], CAL,
                             rng=np.random.default_rng(7), standard=STD, current_ma_cm2=0.1)


def test_frames_round_trip_through_files(tmp_path):
    s = _series()
    write_spectra(s, tmp_path / "frames")
    r = read_spectra(tmp_path / "frames")
    np.testing.assert_array_equal(r.counts, s.counts)
    np.testing.assert_allclose(r.time_s, s.time_s)
    np.testing.assert_allclose(r.monitor, s.monitor)
    np.testing.assert_allclose(r.current_ma_cm2, 0.1)


def test_wide_table(tmp_path):
    s = _series(3)
    path = write_wide_table(s, tmp_path / "wide.csv")
    r = read_spectra(path)
    np.testing.assert_array_equal(r.counts, s.counts)
    np.testing.assert_allclose(r.time_s, s.time_s)


def test_bad_spectra(tmp_path):
    s = _series(3)
    paths = write_spectra(s, tmp_path / "f")
    text = paths[1].read_text().splitlines()
    paths[1].write_text("\n".join(text[:-10]) + "\n")  # fewer channels
    with pytest.raises(FormatError, match="same channels"):
        read_spectra(tmp_path / "f")
    paths = write_spectra(s, tmp_path / "g")
    paths[0].write_text("\n".join(ln for ln in paths[0].read_text().splitlines()
                                  if "monitor" not in ln) + "\n")
    with pytest.raises(InputError, match="monitor"):
        read_spectra(tmp_path / "g")
    paths = write_spectra(s, tmp_path / "h")
    head = [ln for ln in paths[2].read_text().splitlines() if ln.startswith("#")]
    paths[2].write_text("\n".join(head + [f"{k} 0" for k in range(len(s.channels))]) + "\n")
    with pytest.raises(InputError, match="zero counts"):
        read_spectra(tmp_path / "h")
    with pytest.raises(InputError, match="outside the calibration"):
        analyse(s, CAL, standard=STD, depth_window_um=(0.0, 40.0))


# -- CLI ------------------------------------------------------------------------------------
def test_cli_calibrate_contract():
    r = CliRunner().invoke(main, ["ndp", "calibrate", "han2019-lipon", "--json"])
    data = json.loads(r.output)
    assert data["coefficients"] == [-3.654e-7, -0.00207, 4.302]
    assert len(data["energy_range_kev"]) == 2 and data["rms_um"] is None
    pytest.importorskip("pycatima")
    r = CliRunner().invoke(main, ["ndp", "calibrate", "han2019-lipon", "--method", "stopping",
                                  "--json"])
    data = json.loads(r.output)
    assert data["rms_um"] < 0.02 and data["method"] == "stopping"
    assert data["compared_with_presets"]["han2019-lipon"]["max_abs_after_offset_um"] < 0.1


def test_cli_analyse(tmp_path):
    s = synthesize_series(_internal(TIMES[15]), TIMES, CAL, rng=np.random.default_rng(8),
                          standard=STD, current_ma_cm2=0.1)
    write_spectra(s, tmp_path / "frames")
    out = tmp_path / "ndp.png"
    r = CliRunner().invoke(main, ["ndp", str(tmp_path / "frames"), "--stack",
                                  "han2019-llzo-x10", "--standard-counts", "850", "--host",
                                  "Li6.4La3Zr1.4Ta0.6O12:5.1", "--json", "--plot", str(out)])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["growth"] == "internal deposition"
    assert abs(data["onset_s"] - TIMES[15]) <= 180
    assert out.read_bytes()[:4] == b"\x89PNG"
    r = CliRunner().invoke(main, ["ndp", str(tmp_path / "frames"), "--stack", "nope"])
    assert r.exit_code == 2 and "unknown stack" in r.stderr


def test_cli_current_log_and_background(tmp_path):
    s = synthesize_series(_internal(TIMES[15]), TIMES, CAL, rng=np.random.default_rng(9),
                          standard=STD, background_per_channel=2.0)
    write_spectra(s, tmp_path / "frames")
    bg = synthesize_series(lambda t, d: np.zeros_like(d), [0.0], CAL,
                           rng=np.random.default_rng(10), standard=STD,
                           background_per_channel=2.0)
    write_spectra(bg, tmp_path / "bg", prefix="background")
    t = np.linspace(0, TIMES[-1], 200)
    log = write_table(tmp_path / "log.csv", t, np.full_like(t, 0.1e-3 * 0.5),
                      current_unit="mA")  # 0.1 mA/cm2 on 0.5 cm2
    r = CliRunner().invoke(main, ["ndp", str(tmp_path / "frames"), "--stack",
                                  "han2019-llzo-x10", "--standard-counts", "850",
                                  "--current-log", str(log), "--area", "0.5cm2",
                                  "--background", str(tmp_path / "bg" / "background_0.txt"),
                                  "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["charge_atoms_cm2"] == pytest.approx(0.1e-3 * TIMES[-1] / 1.602176634e-19,
                                                     rel=1e-6)
    assert data["growth"] == "internal deposition"

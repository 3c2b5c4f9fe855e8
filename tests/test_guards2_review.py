"""A review of the guards landed after the earlier reviews (break-it session guards2):
cases where a new guard hid what the old code saw.

The records are drawn here with their own shapes (a log-rising growth plateau, a nucleation
overshoot rising in 4 s and relaxing in 40 s, AR(1) red noise, a 0.1 mV converter step;
NDP series as plain Poisson counts), unlike the project's generators.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from conftest import cycling_measurement

from sescreen.cycling import measure_ccd
from sescreen.io.measurement import Measurement, Technique


def _plating(rng, *, short_at_s=None, residual=0.02, nucleation_v=0.06, asr=150.0,
             densities=(0.1, 0.2, 0.4, 0.8), step_s=1800.0, dt_s=2.0):
    """Li|SE|Cu plating staircase (current negative). The growth plateau j ASR (1 + 0.2
    ln(1 + t/300 s)); in the first step a nucleation overshoot ``nucleation_v`` (1 -
    exp(-t/4 s)) exp(-t/40 s); ``short_at_s`` into the first step the polarization
    collapses (20 s) to ``residual`` of itself and stays so."""
    ts, cur, pol = [], [], []
    t0 = 0.0
    for k, j in enumerate(densities):
        tau = dt_s * np.arange(int(step_s / dt_s))
        p = j * 1e-3 * asr * (1 + 0.2 * np.log1p(tau / 300.0))
        if k == 0:
            p = p + nucleation_v * np.exp(-tau / 40.0) * (1 - np.exp(-tau / 4.0))
            if short_at_s is not None:
                p = np.where(tau >= short_at_s, p * (residual + (1 - residual) * np.exp(
                    -(tau - short_at_s) / 20.0)), p)
        elif short_at_s is not None:
            p = p * residual
        ts.append(t0 + tau)
        cur.append(np.full(tau.size, -j * 1e-3))
        pol.append(p)
        t0 += tau.size * dt_s
    t, i, p = map(np.concatenate, (ts, cur, pol))
    e = rng.normal(0, 2e-4, t.size)
    red = np.zeros(t.size)
    for n in range(1, t.size):
        red[n] = 0.9 * red[n - 1] + 0.3 * e[n]
    v = np.round((-p + red + rng.normal(0, 1e-4, t.size)) / 1e-4) * 1e-4
    data = {"time_s": t, "current_a": i + rng.normal(0, 1e-8, t.size), "voltage_v": v,
            "control_a": i}
    return cycling_measurement(data, name="plating", source="guards2")


@pytest.mark.parametrize("short_at_s", [36.0, 90.0])
def test_a_short_during_the_nucleation_relaxation_on_cu_is_found(short_at_s):
    """A cell that shorts while the Li nucleation overshoot on Cu relaxes (to 2 % of its
    polarization, ~0.3 mV at 0.1 mA/cm2) had its whole fall taken for the relaxation and
    read 'no short, CCD > 0.8 (censored)'; below a tenth of the nucleation peak is no
    growth plateau."""
    r = measure_ccd(_plating(np.random.default_rng(100), short_at_s=short_at_s),
                    protocol="plating")
    assert r.shorted and r.failed_at_ma_cm2 == pytest.approx(0.1), r.statement()


def test_a_healthy_nucleation_overshoot_stays_no_short_and_is_said():
    """The same overshoot (3x the growth plateau) without a short: no short, with a
    warning that a short during the relaxation would look alike."""
    r = measure_ccd(_plating(np.random.default_rng(100)), protocol="plating")
    assert r.outcome == "no_short", r.statement()
    assert any("nucleation peak" in w for w in r.warnings), r.warnings


def test_a_short_to_a_fifth_during_nucleation_is_not_called_held():
    """A softer short (to 20 %, 3 mV at 0.1 mA/cm2, 15x below the nucleation peak) is no
    clean 'no short' either: at most ambiguous."""
    r = measure_ccd(_plating(np.random.default_rng(100), short_at_s=90.0, residual=0.2),
                    protocol="plating")
    assert r.outcome != "no_short", r.statement()


# -- NDP: an onset's own step is no frame-to-frame scatter ------------------------------------
def _ndp_step_series(rng, n=30, step_at=15, rise=0.10):
    """Frames of a flat host spectrum (channels 1500..3300, 30 counts each, Poisson),
    the lithium rising by ``rise`` at once from frame ``step_at`` on (a filament reaching
    the probed depth): counting noise only, exact monitor."""
    from sescreen.ndp.spectra import SpectrumSeries

    counts = np.zeros((n, 4000))
    for k in range(n):
        counts[k, 1500:3300] = rng.poisson(30.0 * (1 + rise * (k > step_at)), 1800)
    return SpectrumSeries(np.arange(4000.0), counts, np.full(n, 171.0), np.full(n, 180.0),
                          np.full(n, 1e9), np.arange(n) * 180.0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_step_onset_does_not_inflate_the_dendrite_error(seed):
    """A 10 % step of the lithium with counting noise alone: its two large second
    differences had made the scatter ratio ~5 ('scatters from frame to frame'), the
    dendrite content's error 2.2x its counting error. The onset is found and the error
    stays the counting one."""
    from sescreen.ndp import Standard, analyse, depth_preset

    a = analyse(_ndp_step_series(np.random.default_rng(seed)), depth_preset("han2019-llzo-x10"),
                standard=Standard(counts_per_monitor=850.0))
    assert a.onset["onset_s"] is not None
    assert not any("scatters from frame to frame" in w for w in a.warnings), a.warnings
    assert not a.onset["scatter_excess"]


# -- dcpol: an area given over EC-Lab's placeholder ------------------------------------------
def test_an_area_given_over_the_ec_lab_placeholder_is_not_contradicted():
    """fit_dcpol(m, area_cm2=...) on a record whose area is EC-Lab's 0.001 cm^2 default had
    kept 'give the real area' beside 'the electrode area given ... overrides the file's
    0.001 cm^2' (read(..., area_cm2=) says neither)."""
    from sescreen.dcpol import fit_dcpol

    rng = np.random.default_rng(0)
    t = np.arange(10.0, 6 * 3600, 10.0)
    i = 1e-9 * (1 + 10 * np.exp(-t / 300)) * (1 + 0.002 * rng.standard_normal(t.size))
    m = Measurement(data=pd.DataFrame({"time_s": t, "current_a": i,
                                       "control_v": np.full(t.size, 0.1)}),
                    format="synthetic", technique=Technique.CONSTANT_VOLTAGE,
                    technique_name="test", applied_voltage_v=0.1, area_cm2=0.001,
                    warnings=["electrode area 0.001 cm^2 is EC-Lab's default placeholder; "
                              "give the real area (area_cm2=, CLI --area)"], source="test")
    r = fit_dcpol(m, thickness_cm=0.1, area_cm2=1.131, accuracy_a=0.0)
    assert r.area_cm2 == 1.131
    assert not any("placeholder" in w or "overrides the file's" in w for w in r.warnings)
    # a real area stated by the file is still said when overridden
    r = fit_dcpol(dataclasses.replace(m, area_cm2=2.0, warnings=[]), thickness_cm=0.1,
                  area_cm2=1.131, accuracy_a=0.0)
    assert any("overrides the file's 2 cm^2" in w for w in r.warnings)


# -- dcpol: an instrument's offset between applying and measuring is no failure to hold -------
def _offset_hold(offset_v, *, v_set=0.05, sag=False, seed=0):
    """A settled hold at ``v_set`` whose measured voltage reads ``offset_v`` off the
    set-point, from the first sample (an offset) or growing linearly to it (``sag``);
    the current is the set-point's (sigma_e 1e-10 S/cm, L 0.1 cm, A 1 cm^2)."""
    rng = np.random.default_rng(seed)
    t = np.arange(30.0, 12 * 3600, 30.0)
    i_ss = 1e-10 * v_set / 0.1
    i = i_ss * (1 + 25 * np.exp(-t / 200) + 2 * np.exp(-t / 2000))
    i = i * (1 + 0.002 * rng.standard_normal(t.size))
    dv = offset_v * (t / t[-1] if sag else np.ones(t.size))
    data = pd.DataFrame({"time_s": t, "current_a": i, "control_v": np.full(t.size, v_set),
                         "voltage_v": v_set + dv + rng.normal(0, 5e-5, t.size)})
    return Measurement(data=data, format="synthetic", technique=Technique.CONSTANT_VOLTAGE,
                       technique_name="test", applied_voltage_v=v_set,
                       applied_voltage_ref="Ref", area_cm2=1.0, source="test")


@pytest.mark.parametrize("offset_v", [-1.5e-3, 1.5e-3])
def test_a_constant_offset_within_the_instruments_accuracy_keeps_the_set_point(offset_v):
    """A 1.5 mV offset on a 50 mV hold (3 %, from the first sample to the last) had been
    called 'not held at its set-point (compliance ...)' and moved sigma_e by 3 %."""
    from sescreen.dcpol import fit_dcpol

    r = fit_dcpol(_offset_hold(offset_v), thickness_cm=0.1, accuracy_a=0.0)
    assert r.voltage_v == 0.05
    assert not any("not held at its set-point" in w for w in r.warnings), r.warnings
    assert any("an offset of" in w for w in r.warnings)


def test_a_sag_of_the_same_size_still_uses_the_measured_voltage():
    from sescreen.dcpol import fit_dcpol

    r = fit_dcpol(_offset_hold(-1.5e-3, sag=True), thickness_cm=0.1, accuracy_a=0.0)
    assert r.voltage_v == pytest.approx(0.05 - 1.5e-3, abs=2e-4)
    assert any("not held at its set-point" in w for w in r.warnings)


def test_the_real_vmp3_offset_at_a_lower_set_point_keeps_it(realdata):
    """ca.mpt (EC-Lab 11.27, VMP3) reads Ewe 1.4 mV below its 0.300 V set-point throughout
    (20 nA at the start, 3.5 nA at the end); moved to a 0.1 V hold (currents / 3) that
    offset is 1.4 %, which had switched sigma_e to the measured 0.0986 V."""
    from sescreen.dcpol import fit_dcpol
    from sescreen.io import read

    m = read(realdata / "biologic" / "ca.mpt")
    d = m.data.copy()
    d["control_v"] = d["control_v"] / 3
    d["voltage_v"] = d["voltage_v"] - 0.2
    d["current_a"] = d["current_a"] / 3
    r = fit_dcpol(dataclasses.replace(m, data=d, applied_voltage_v=0.1), thickness_cm=0.1)
    assert r.voltage_v == 0.1


@pytest.mark.parametrize("seed", range(6))
def test_a_noisy_measured_voltage_does_not_replace_the_set_point(seed):
    """A held 50 mV hold whose measured column scatters 10 mV rms (a reference electrode's
    pickup): its tail median wanders by ~1 mV, beyond the 1 mV tolerance, which had
    replaced the set-point at random (a 0.1 V hold with 20 mV rms: on 14 of 30)."""
    from sescreen.dcpol import fit_dcpol

    m = _offset_hold(0.0, seed=seed)
    rng = np.random.default_rng(50 + seed)
    m.data["voltage_v"] = 0.05 + rng.normal(0, 0.01, len(m.data))
    r = fit_dcpol(m, thickness_cm=0.1, accuracy_a=0.0)
    assert r.voltage_v == 0.05, r.warnings


# -- NDP: decimal numbers in frame names --------------------------------------------------------
def test_frames_named_by_decimal_hours_are_read_in_time_order(tmp_path):
    """t_0.25h .. t_2h without a '# time' header are timed by their order: as digit runs,
    0.5 (5) came before 0.25 (25) and 1.5 before 1.25."""
    from sescreen.ndp import read_spectra

    hours = [0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2]
    folder = tmp_path / "f"
    folder.mkdir()
    for k, h in enumerate(hours):
        rows = "\n".join(f"{ch} {10 + k if 1500 <= ch < 3300 else 0}" for ch in range(4000))
        (folder / f"t_{h:g}h.txt").write_text(
            "# live_time: 171\n# real_time: 180\n# monitor: 1e9\nchannel counts\n"
            + rows + "\n")
    s = read_spectra(folder)
    assert [p.rsplit("/", 1)[-1] for p in s.sources] == [f"t_{h:g}h.txt" for h in hours]
    assert np.all(np.diff(s.counts.sum(axis=1)) > 0)


# -- readers: Ewe beside Ecell of a three-electrode cell ---------------------------------------
def _with_ece(src, dst, ece_v):
    """``src`` (an EC-Lab .mpt with Ewe/V) with ``Ece/V`` = ``ece_v`` and ``Ecell/V`` = Ewe -
    Ece appended to every row, as EC-Lab 11.6x exports a cell with its counter electrode."""
    lines = src.read_bytes().decode("latin-1").split("\n")
    k = next(n for n, line in enumerate(lines) if line.startswith("mode\t"))
    cols = lines[k].rstrip("\t").split("\t")
    at = cols.index("Ewe/V")
    out = [*lines[:k], "\t".join([*cols, "Ece/V", "Ecell/V"]) + "\t"]
    for line in lines[k + 1:]:
        if not line.strip():
            out.append(line)
            continue
        f = line.rstrip("\t").split("\t")
        ewe = float(f[at].replace(",", "."))
        f += [f"{ece_v:.7E}".replace(".", ","), f"{ewe - ece_v:.7E}".replace(".", ",")]
        out.append("\t".join(f) + "\t")
    dst.write_bytes("\n".join(out).encode("latin-1"))
    return dst


@pytest.mark.parametrize("ece_v, warned", [(-0.2, True), (0.0, False)])
def test_ewe_read_beside_a_different_ecell_is_said(realdata, tmp_path, ece_v, warned):
    """A GCPL record of a three-electrode cell (Ece -0.2 V): Ewe (versus the reference) was
    read as the cell voltage without a word, where the cell's is Ecell; with Ece = 0 (a
    two-electrode cell) nothing is said."""
    from sescreen.io import read

    p = _with_ece(realdata / "biologic" / "gcpl.issue_149.mpt", tmp_path / "g.mpt", ece_v)
    m = read(p)
    assert [c.original for c in m.columns if c.name == "voltage_v"] == ["Ewe/V"]
    assert any("three-electrode" in w for w in m.warnings) is warned, m.warnings

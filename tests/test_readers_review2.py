"""Second review of the readers against real files (readers2): what the first left open.

Cycler tables with a preamble (Maccor, Novonix, Basytec), a header-less EC-Lab OCV export,
a degree sign lost to an encoding, EC-Lab's set-point references (Ectrl, Emeas), a Gamry
Temp column stuck at 0.01 deg C, and thousands separators in NDP frame headers. The real
files (PyProBE tests/sample_data, dgbowl/yadg tests/test_x_eclab, maxtenenbaum/GamryParser)
are not copied here: each feature is rebuilt from synthetic text of its own.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest

from sescreen.dcpol import fit_dcpol
from sescreen.errors import FormatError, InputError, SescreenError
from sescreen.io import Technique, read
from sescreen.ndp import read_spectra


# -- 1. tables after a preamble --------------------------------------------------------
def _decay(n, i0=2.0, tau=7.0, floor=0.25):
    t = np.arange(n) * 1.5
    return t, i0 * np.exp(-t / tau) + floor


def test_maccor_like_preamble_is_skipped(tmp_path):
    """Maccor opens with "Today's Date ,date" and "Date of Test:,date" before the header;
    the first line had been taken for the header ("the last row has 3 of 5 fields
    (truncated ...)", a wrong diagnosis)."""
    t, i = _decay(12)
    rows = "\n".join(f"{k + 1},1,1,{tk:.4f},{ik:.5f},{3.6 + 0.001 * k:.4f},"
                     f"12-Mar-25 9:{k:02d}:00 AM"
                     for k, (tk, ik) in enumerate(zip(t, i, strict=True)))
    path = tmp_path / "maccor.csv"
    path.write_text("Today's Date ,14-Mar-25\nDate of Test:,12-Mar-25 9:00:00 AM\n"
                    "Rec,Cycle C,Step,Test Time (sec),Current (mA),Voltage (V),DPT Time\n"
                    + rows + "\n")
    m = read(path)
    np.testing.assert_allclose(m.data["time_s"], t, atol=1e-4)
    np.testing.assert_allclose(m.current_a, 1e-3 * i, atol=1e-8)
    np.testing.assert_allclose(m.data["voltage_v"], 3.6 + 0.001 * np.arange(12), atol=1e-6)
    assert any("preamble of 2 line(s)" in w and "line 3" in w for w in m.warnings)
    assert m.settings["Date of Test"].startswith("12-Mar-25")


def test_bare_cycler_current_is_refused_naming_the_option(tmp_path):
    """Maccor writes a bare 'Current': after the preamble the refusal names what is
    missing (its unit), not a truncated row."""
    path = tmp_path / "bare.csv"
    path.write_text("Today's Date ,14-Mar-25\nRec,Test Time (sec),Current,Voltage\n"
                    + "".join(f"{k},{k}.0,0.5,3.7\n" for k in range(1, 8)))
    with pytest.raises(InputError, match="'Current' looks like the current but has no unit"):
        read(path)
    m = read(path, current_unit="A")
    assert m.current_a.tolist() == [0.5] * 7


def test_sectioned_preamble_with_a_json_line(tmp_path):
    """Novonix: [Summary] key: value lines, a [Protocol] section of one long JSON line
    (full of commas), then [Data] and the header; its run time is 'Run Time (h)'."""
    protocol = '{"Steps":[{"Type":3,"Limits":[1,2,3,4,5,6,7,8]},{"Type":0,"I":"0.5"}]}'
    rows = "".join(f"2025-01-01 10:{k:02d}:00,1,7,{k / 60:.7f},{0.5 - 0.01 * k:.6f},"
                   f"{3.8 + 0.002 * k:.6f},{24.5 + 0.01 * k:.3f}\n" for k in range(9))
    path = tmp_path / "novonix.csv"
    path.write_text("[Summary]\nNovonix-like data file\nChannel: 07\nArea (cm2): 1.000\n"
                    "[End Summary]\n[Protocol]\n" + protocol + "\n[End Protocol]\n[Data]\n"
                    "Date and Time,Cycle Number,Step Type,Run Time (h),Current (A),"
                    "Potential (V),Temperature (\u00b0C)\n" + rows)
    m = read(path)
    np.testing.assert_allclose(m.data["time_s"], 60.0 * np.arange(9), atol=1e-3)
    np.testing.assert_allclose(m.current_a, 0.5 - 0.01 * np.arange(9))
    assert m.temperature_k == pytest.approx(273.15 + 24.54)
    assert m.settings["Channel"] == "07"


def test_tilde_commented_header_after_a_preamble(tmp_path):
    """Basytec: every line before the data starts with '~', the header too; its
    temperature header carries a degree sign lost to U+FFFD."""
    rows = "".join(f"{1.0 * k}\t{3.52 + 1e-4 * k}\t{0.1 * k}\t{25.0 + 0.01 * k}\n"
                   for k in range(10))
    path = tmp_path / "basytec.txt"
    path.write_text("~Resultfile from a test system\n~Date of Data Converting: 01.02.2025\n~\n"
                    "~Name of Test: t\n~Time[s]\tU[V]\tI[A]\tTemperature[\ufffdC]\n" + rows,
                    encoding="utf-8")
    m = read(path)
    np.testing.assert_allclose(m.current_a, 0.1 * np.arange(10))
    np.testing.assert_allclose(m.data["temperature_k"], 298.15 + 0.01 * np.arange(10))


def test_preamble_rule_leaves_broken_tables_refused(tmp_path):
    """A file whose later rows are all numbers has no header to find: a header shorter
    than its rows, and a truncated last row, are refused as before."""
    short = tmp_path / "short.csv"
    short.write_text("time/s,I/mA\n" + "".join(f"{k},{k},{k}\n" for k in range(10)))
    with pytest.raises(FormatError, match="3 data columns for 2 headers"):
        read(short)
    cut = tmp_path / "cut.csv"
    cut.write_text("time/s,I/mA,Ewe/V\n" + "".join(f"{k},1.{k},0.1\n" for k in range(10))
                   + "10,1.0\n")
    with pytest.raises(FormatError, match="truncated"):
        read(cut)


# -- 2. a header-less EC-Lab OCV export --------------------------------------------------
def _ocv_mpt(modes) -> str:
    rows = "".join(f"{md}\t0\t{5.4e4 + 10.0 * k:.15E}\t{1e-4 * np.sin(k):.7E}\n"
                   for k, md in enumerate(modes))
    return "EC-Lab ASCII FILE\nNb header lines : 3\nmode\terror\ttime/s\tEwe/V\t\n" + rows


def test_headerless_ocv_export_reads_as_open_circuit(tmp_path):
    """``Nb header lines : 3`` (no settings block, no technique name), mode 3 in every row
    and no current column: an OCV record (its .mpr twin says so); it had been refused for
    having no current column. dcpol then refuses it for what it is."""
    path = tmp_path / "ocv.mpt"
    path.write_text(_ocv_mpt([3] * 15), encoding="latin-1")
    m = read(path)
    assert m.technique is Technique.OPEN_CIRCUIT and m.technique_inferred
    assert "mode" in m.technique_reason and "rest" in m.technique_reason
    assert "current_a" not in m.data and len(m.data) == 15
    with pytest.raises(SescreenError, match=r"open-circuit .* not a constant-voltage hold"):
        fit_dcpol(m, thickness_cm=0.1, area_cm2=1.0, voltage_v=0.1)


def test_headerless_export_with_control_modes_still_needs_a_current(tmp_path):
    path = tmp_path / "mixed.mpt"
    path.write_text(_ocv_mpt([3] * 5 + [2] * 10), encoding="latin-1")
    with pytest.raises(FormatError, match="no current column"):
        read(path)


def test_all_rest_mode_column_with_a_zero_current_is_open_circuit(tmp_path):
    rows = "".join(f"3\t{10.0 * k}\t0.0000000E+000\t{2.93 + 1e-5 * k:.7E}\n" for k in range(9))
    path = tmp_path / "rest.mpt"
    path.write_text("mode\ttime/s\tI/mA\tEcell/V\n" + rows, encoding="latin-1")
    m = read(path)
    assert m.technique is Technique.OPEN_CIRCUIT and m.technique_inferred


# -- 3. a degree sign lost to an encoding -----------------------------------------------
@pytest.mark.parametrize("unit", ["\ufffdC", "\u00c2\u00b0C", "?C", "\u00baC"])
def test_mangled_degree_sign_is_celsius(tmp_path, unit):
    """BT-Lab 'Temperature/\\ufffdC' (U+FFFD), 'Â°C' (UTF-8 read as cp1252): the column
    had been dropped silently (no temperature)."""
    rows = "".join(f"{k}\t{-0.9:.7E}\t{3.1:.7E}\t{22.5 + 0.05 * k:.7E}\n" for k in range(8))
    path = tmp_path / "btlab.txt"
    path.write_text(f"time/s\tI/mA\tEcell/V\tTemperature/{unit}\n" + rows, encoding="utf-8")
    m = read(path)
    np.testing.assert_allclose(m.data["temperature_k"], 295.65 + 0.05 * np.arange(8))
    assert m.temperature_k == pytest.approx(295.65 + 0.175)


def test_mangled_micro_sign_stays_no_temperature(tmp_path):
    """U+FFFD before C is degrees Celsius only on a temperature column (a charge 'Q/\\ufffdC'
    is no temperature)."""
    path = tmp_path / "q.csv"
    path.write_text("time/s,I/mA,Q/\ufffdC\n" + "".join(f"{k},1,{k}\n" for k in range(6)),
                    encoding="utf-8")
    m = read(path)
    assert "temperature_k" not in m.data and m.temperature_k is None


@pytest.mark.parametrize("unit", ["\ufffdA", "?A"])
def test_current_unit_with_a_lost_prefix_is_refused(tmp_path, unit):
    """'I/\ufffdA' (µA through a wrong encoding, as BT-Lab's 'Capacitance/\ufffdF' in the
    same files): pint skips the lost character and reads ampere, so the current had been
    taken 1e6 too large without a word. Refused; current_unit= reads it."""
    path = tmp_path / "mu.csv"
    path.write_text(f"time/s,I/{unit},Ewe/V\n" + "".join(f"{k},{5 - 0.1 * k},0.1\n"
                                                        for k in range(10)), encoding="utf-8")
    with pytest.raises(InputError, match="lost to an encoding"):
        read(path)
    m = read(path, current_unit="uA")
    np.testing.assert_allclose(m.current_a, 1e-6 * (5 - 0.1 * np.arange(10)))


# -- 4. EC-Lab set-point references ----------------------------------------------------------
def _ca_mpt(ref: str, ei: str, control: float, n=40) -> str:
    head = ["EC-Lab ASCII FILE", "Nb header lines : 12", "",
            "Chronoamperometry / Chronocoulometry", "",
            "Electrode surface area : 0,785 cm\u00b2",
            f"Ei (V)              {ei:<20}",
            f"vs.                 {ref:<20}",
            "ti (h:m:s)          0:10:00,0000        ",
            "dt (s)              1,0000              ", ""]
    t = np.arange(n, dtype=float)
    i = 1e-3 * np.exp(-t / 6) + 2e-5
    rows = "".join(f"2\t{tk:.6E}\t{control:.7E}\t{control + 2e-5:.7E}\t{ik:.7E}\n"
                   .replace(".", ",") for tk, ik in zip(t, i, strict=True))
    return "\n".join(head) + "\nmode\ttime/s\tcontrol/V\tEwe/V\tI/mA\n" + rows


@pytest.mark.parametrize("ref", ["Emeas", "Ectrl"])
def test_setpoint_vs_previous_potential_names_its_reference(tmp_path, ref):
    """Ei = 0 V vs Emeas is a hold at the potential the technique before ended at
    (BioLogic: 'the last voltage value measured ... before the considered technique'), not
    a set-point "probably referred to the open-circuit potential": the warning names the
    stated reference and the absolute potential (control/V); Ei stays the polarization,
    so dcpol refuses the 0 V hold naming the reference, not guessing Eoc."""
    path = tmp_path / "ca.mpt"
    path.write_text(_ca_mpt(ref, "0,000", 1.2345), encoding="latin-1")
    m = read(path)
    assert m.applied_voltage_v == 0.0 and m.applied_voltage_ref == ref
    note = next(w for w in m.warnings if "Ei = 0 V" in w)
    assert f"given vs {ref}" in note and "1.2345 V vs Ref" in note
    assert "probably" not in note
    with pytest.raises(InputError, match=f"0 V \\(set versus {ref}: a hold at the potential"):
        fit_dcpol(m, thickness_cm=0.1, area_cm2=1.0)
    r = fit_dcpol(m, thickness_cm=0.1, area_cm2=1.0, voltage_v=1.2345)
    assert r.voltage_v == pytest.approx(1.2345)


def test_setpoint_vs_eoc_keeps_its_polarization_and_names_eoc(tmp_path):
    """Unchanged for Eoc (the polarization from rest, as the Gamry reader does); the
    warning names the stated reference instead of guessing it."""
    path = tmp_path / "ca_eoc.mpt"
    path.write_text(_ca_mpt("Eoc", "0,100", 0.1105), encoding="latin-1")
    m = read(path)
    assert m.applied_voltage_v == pytest.approx(0.1) and m.applied_voltage_ref == "Eoc"
    note = next(w for w in m.warnings if "differs from the recorded" in w)
    assert "vs Eoc" in note and "probably" not in note


# -- 5. a Gamry Temp column stuck at 0.01 deg C ------------------------------------------
def _cv_dta(temps) -> str:
    n = len(temps)
    head = ["EXPLAIN", "TAG\tCV", "TITLE\tLABEL\tCV\tTest &Identifier",
            "PSTAT\tPSTAT\tREF600-00001\tPotentiostat", "AREA\tQUANT\t1.00000E+000\tArea (cm^2)",
            f"CURVE\tTABLE\t{n}", "\tPt\tT\tVf\tIm\tVu\tSig\tTemp",
            "\t#\ts\tV vs. Ref.\tA\tV\tV\tdeg C"]
    rows = []
    for k, tc in enumerate(temps):
        v = 0.2 * np.sin(np.pi * k / 25)
        rows.append(f"\t{k}\t{0.1 * k:.5g}\t{v:.5E}\t{1e-7 * v:.5E}\t0.00000E+000\t{v:.5E}"
                    f"\t{tc}")
    return "\r\n".join(head + rows) + "\r\n"


def test_gamry_temperature_stuck_at_a_hundredth_of_a_degree_is_no_reading(tmp_path):
    """REF600P file: Temp exactly 0.01 deg C at every point (its OCV curve and the
    instrument's other files: -327.66, no thermocouple): it had been stored as the record's
    273.16 K without a word."""
    path = tmp_path / "cv.DTA"
    path.write_text(_cv_dta(["0.01"] * 60))
    m = read(path)
    assert m.temperature_k is None and "temperature_k" not in m.data
    assert any("0.01 deg C at every one of its 60 points" in w for w in m.warnings)


def test_gamry_temperature_that_moves_is_kept(tmp_path):
    temps = [f"{0.01 * (k % 3):.2f}" for k in range(60)]  # a real 0 deg C bath: noise
    path = tmp_path / "cold.DTA"
    path.write_text(_cv_dta(temps))
    m = read(path)
    assert m.temperature_k == pytest.approx(273.16)
    assert not any("every one of" in w for w in m.warnings)


def test_a_temperature_constant_to_every_digit_is_kept(tmp_path):
    """Any other reader: 200 points at exactly 25.00 deg C are a temperature (a climate
    chamber logged at 0.1 or 0.01 deg C can hold its last digit), with nothing said."""
    path = tmp_path / "flat.csv"
    path.write_text("time/s,I/mA,T/degC\n" + "".join(f"{k},1e-3,25.00\n" for k in range(200)))
    m = read(path)
    assert m.temperature_k == pytest.approx(298.15)
    assert not any("temperature" in w for w in m.warnings)


# -- 6. NDP frame headers with thousands separators ------------------------------------------
def _frames(tmp_path, monitor: str, live: str = "171"):
    for k in range(3):
        rows = "".join(f"{ch} {50 + (ch * 7 + k) % 11}\n" for ch in range(40))
        (tmp_path / f"spec_{k}.txt").write_text(
            f"# live_time: {live}\n# real_time: 180\n# monitor: {monitor}\n# time: {180 * k}\n"
            + rows)
    return sorted(tmp_path.glob("spec_*.txt"))


@pytest.mark.parametrize(("text", "value"), [("12,345", 12345.0), ("1,234,567", 1234567.0),
                                             ("1.234.567", 1234567.0), ("12 345", 12345.0),
                                             ("1.234,5", 1234.5), ("1e9", 1e9)])
def test_monitor_with_thousands_separators(tmp_path, text, value):
    """'# monitor: 12,345' had been read as 12.345 counts (the frame's concentration
    1000x too high): a count is whole, the comma groups thousands."""
    s = read_spectra(_frames(tmp_path, text))
    np.testing.assert_array_equal(s.monitor, [value] * 3)


def test_ambiguous_grouped_time_is_refused(tmp_path):
    with pytest.raises(FormatError, match="ambiguous"):
        read_spectra(_frames(tmp_path, "1e9", live="1,500"))


def test_decimal_comma_in_a_time_still_reads(tmp_path):
    s = read_spectra(_frames(tmp_path, "1e9", live="170,5"))
    np.testing.assert_array_equal(s.live_time_s, [170.5] * 3)


def test_monitor_with_one_dot_before_three_digits_warns(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        s = read_spectra(_frames(tmp_path, "12.345"))
    assert s.monitor[0] == pytest.approx(12.345)
    assert "not a whole count" in caplog.text


def test_monitor_split_by_a_space_is_refused(tmp_path):
    with pytest.raises(FormatError, match="not one number"):
        read_spectra(_frames(tmp_path, "123 4567"))


# -- 7. a pulse voltammogram ------------------------------------------------------------------
def test_square_wave_voltammogram_is_refused_for_what_it_is(tmp_path):
    """Gamry SQUARE_WAVE: currents Ifwd/Irev/Idif, none a DC current; it had been refused
    with "no current column found ... name it" as if a header were missing."""
    head = ["EXPLAIN", "TAG\tSQUARE_WAVE", "CURVE\tTABLE\t12",
            "\tPt\tT\tVfwd\tVrev\tIfwd\tIrev\tIdif", "\t#\ts\tV\tV\tA\tA\tA"]
    rows = [f"\t{k}\t{0.01 * k:.3f}\t{0.02 * k:.4E}\t{0.02 * k - 0.05:.4E}\t{2e-7 * k:.4E}"
            f"\t{-1e-7 * k:.4E}\t{3e-7 * k:.4E}" for k in range(12)]
    path = tmp_path / "swv.DTA"
    path.write_text("\r\n".join(head + rows) + "\r\n")
    with pytest.raises(FormatError, match=r"pulse voltammogram \(SQUARE_WAVE\).*Idif"):
        read(path)
    m = read(path, current_col="Idif")
    assert m.technique is Technique.SWEEP
    np.testing.assert_allclose(m.current_a, 3e-7 * np.arange(12), rtol=1e-4)

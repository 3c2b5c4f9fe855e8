"""Write synthetic files in every supported dialect and read back the same numbers."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from sescreen.io import Technique, read
from sescreen.io.writers import write_dta, write_mpt, write_table

T = np.linspace(0.0, 7200.0, 241)
I_SS = 3.2e-9
CURRENT = I_SS * (1 + 4 * np.exp(-T / 300) + np.exp(-T / 2500))


@pytest.mark.parametrize(("encoding", "newline", "decimal", "header", "block"), list(
    itertools.product(["latin-1", "cp1252", "utf-8"], ["\n", "\r\n"], [".", ","],
                      ["I/mA", "<I>/mA", "I/\u00b5A", "<I>/uA"], [True, False])))
def test_mpt_dialects(tmp_path, encoding, newline, decimal, header, block):
    path = write_mpt(tmp_path / "x.mpt", T, CURRENT, applied_voltage_v=-0.25, area_cm2=0.785,
                     current_header=header, encoding=encoding, newline=newline,
                     decimal=decimal, header_block=block)
    m = read(path)
    assert m.format == "biologic-mpt"
    np.testing.assert_allclose(m.time_s, T, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(m.current_a, CURRENT, rtol=1e-6)
    assert m.technique is Technique.CONSTANT_VOLTAGE
    assert m.applied_voltage_v == pytest.approx(-0.25)
    if block:
        assert m.area_cm2 == pytest.approx(0.785)
        assert m.applied_voltage_ref == "Ref"
    else:
        assert m.area_cm2 is None and m.technique_inferred
    assert ("decimal commas read as decimal points" in m.warnings) == (decimal == ",")


@pytest.mark.parametrize(("decimal", "newline", "encoding", "vs_eoc"), list(
    itertools.product([".", ","], ["\n", "\r\n"], ["cp1252", "utf-8"], [False, True])))
def test_dta_dialects(tmp_path, decimal, newline, encoding, vs_eoc):
    path = write_dta(tmp_path / "x.DTA", T, CURRENT, applied_voltage_v=0.1, area_cm2=2.0,
                     decimal=decimal, newline=newline, encoding=encoding, vs_eoc=vs_eoc)
    m = read(path)
    assert m.format == "gamry-dta"
    np.testing.assert_allclose(m.current_a, CURRENT, rtol=1e-5)
    np.testing.assert_allclose(m.time_s, T, rtol=1e-5)
    assert m.area_cm2 == 2.0 and m.applied_voltage_v == pytest.approx(0.1)
    assert m.applied_voltage_ref == ("Eoc" if vs_eoc else "Ref")
    assert m.temperature_k == pytest.approx(298.15)


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252", "utf-8"])
@pytest.mark.parametrize("writer", [
    lambda p, enc: write_mpt(p / "x.mpt", T, CURRENT, area_cm2=0.785, encoding=enc,
                             current_header="I/\u00b5A"),
    lambda p, enc: write_dta(p / "x.DTA", T, CURRENT, encoding=enc),
    lambda p, enc: write_table(p / "x.csv", T, CURRENT, encoding=enc, current_unit="\u00b5A")])
def test_a_utf8_bom_before_any_encoding_is_no_content(tmp_path, writer, encoding):
    """Review 4, D13: a latin-1 .mpt behind a UTF-8 BOM (an editor's re-save) was refused
    with "line 1: expected a tab-separated column header"."""
    path = writer(tmp_path, encoding)
    plain = read(path)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    m = read(path)
    assert m.format == plain.format and m.area_cm2 == plain.area_cm2
    assert m.applied_voltage_v == plain.applied_voltage_v
    assert [c.original for c in m.columns] == [c.original for c in plain.columns]
    np.testing.assert_allclose(m.current_a, CURRENT, rtol=1e-5)


def test_dta_aborted_run_warns(tmp_path):
    m = read(write_dta(tmp_path / "x.dta", T, CURRENT, announced=5000))
    assert len(m) == len(T)
    assert any("announces 5000 points" in w for w in m.warnings)


TABLE_DIALECTS = [
    (",", ".", "slash", "mA", ("time", "I", "Ewe")),
    (",", ".", "paren", "nA", ("Time", "Current", "Voltage")),
    (",", ".", "bracket", "nA", ("t", "Current", "E")),
    ("\t", ".", "angle", "uA", ("time", "I", "Ewe")),
    (";", ",", "slash", "\u00b5A", ("time", "I", "Ewe")),
    (";", ",", "paren", "pA", ("Time", "I", "U")),
    ("\t", ",", "bracket", "A", ("Time", "Im", "Vf")),
    ("|", ".", "slash", "mA", ("time", "current", "potential")),
]


@pytest.mark.parametrize(("sep", "decimal", "style", "unit", "names"), TABLE_DIALECTS)
@pytest.mark.parametrize("time_unit", ["s", "min", "h"])
def test_table_dialects(tmp_path, sep, decimal, style, unit, names, time_unit):
    voltage = np.full_like(T, 0.05)
    path = write_table(tmp_path / "x.csv", T, CURRENT, voltage_v=voltage, sep=sep,
                       decimal=decimal, style=style, current_unit=unit, time_unit=time_unit,
                       names=names)
    m = read(path)
    assert m.format == "table"
    np.testing.assert_allclose(m.time_s, T, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(m.current_a, CURRENT, rtol=1e-9)
    np.testing.assert_allclose(m.data["voltage_v"], voltage)
    # a flat measured voltage is no evidence of a hold (issue 12): the user says so
    assert m.technique is Technique.UNKNOWN and "does not guess" in m.technique_reason
    m = read(path, technique="constant_voltage")
    assert m.technique is Technique.CONSTANT_VOLTAGE and not m.technique_inferred
    assert m.applied_voltage_v == pytest.approx(0.05)


def test_table_metadata_comments(tmp_path):
    path = write_table(tmp_path / "x.csv", T, CURRENT, current_unit="nA",
                       comments={"area": "0.5 cm2", "voltage": "100 mV",
                                 "temperature": "60 C", "technique": "chronoamperometry",
                                 "operator": "A. N. Other"})
    m = read(path)
    assert m.area_cm2 == pytest.approx(0.5)
    assert m.applied_voltage_v == pytest.approx(0.1)
    assert m.temperature_k == pytest.approx(333.15)
    assert m.technique is Technique.CONSTANT_VOLTAGE and not m.technique_inferred
    assert m.settings["operator"] == "A. N. Other"


def test_bare_header_and_headerless_tables(tmp_path):
    bare = write_table(tmp_path / "bare.csv", T, CURRENT, style="bare", current_unit="uA")
    m = read(bare, current_unit="uA")
    np.testing.assert_allclose(m.current_a, CURRENT, rtol=1e-9)
    none = write_table(tmp_path / "none.txt", T, CURRENT, header=False, current_unit="nA",
                       sep="\t")
    m = read(none, time_col=0, current_col=1, current_unit="nA")
    np.testing.assert_allclose(m.current_a, CURRENT, rtol=1e-9)
    m = read(none, time_col=0, current_col=1, current_unit="nA", time_unit="min")
    np.testing.assert_allclose(m.time_s, T * 60, rtol=1e-9)


def test_unknown_columns_are_kept(tmp_path):
    text = "time/s,I/mA,Ewe/V,cell id,R/Ohm\n0,1,0.1,A1,5\n1,0.5,0.1,A1,6\n2,0.4,0.1,A1,7\n"
    path = tmp_path / "x.csv"
    path.write_text(text)
    m = read(path)
    assert list(m.data.columns) == ["time_s", "current_a", "voltage_v", "cell id", "R/Ohm"]
    assert m.data["cell id"].tolist() == ["A1"] * 3
    assert m.data["R/Ohm"].tolist() == [5, 6, 7]
    info = {c.name: c for c in m.columns}
    assert info["current_a"].original == "I/mA" and info["current_a"].scale == 1e-3
    assert info["R/Ohm"].unit == "Ohm"


def test_negative_polarization_and_temperature_column(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("Time (h);Current [nA];T (C);E (mV)\n0;-5,0;30,0;-100\n0,5;-4,0;30,1;-100\n"
                    "1;-3,5;30,0;-100\n")
    m = read(path, technique="constant_voltage")
    np.testing.assert_allclose(m.time_s, [0, 1800, 3600])
    np.testing.assert_allclose(m.current_a, [-5e-9, -4e-9, -3.5e-9])
    np.testing.assert_allclose(m.data["temperature_k"], [303.15, 303.25, 303.15])
    assert m.temperature_k == pytest.approx(303.15)
    assert m.applied_voltage_v == pytest.approx(-0.1)


def test_input_file_is_never_modified(tmp_path):
    path = write_mpt(tmp_path / "x.mpt", T, CURRENT)
    before = path.read_bytes()
    read(path)
    assert path.read_bytes() == before


def test_multi_step_file_segments(tmp_path):
    steps = [0.05, 0.1, 0.2]
    t = np.arange(0, 300.0, 1.0)
    times, cur, ctrl = [], [], []
    for k, v in enumerate(steps):
        times.append(t + 300 * k)
        cur.append(v * 1e-8 * (1 + np.exp(-t / 20)))
        ctrl.append(np.full_like(t, v))
    path = tmp_path / "steps.csv"
    rows = ["time/s,I/A,control/V"] + [f"{a},{b},{c}" for a, b, c in zip(
        np.concatenate(times), np.concatenate(cur), np.concatenate(ctrl), strict=True)]
    path.write_text("\n".join(rows) + "\n")
    m = read(path, technique="constant_voltage")
    segs = m.segments()
    assert [s.applied_voltage_v for s in segs] == pytest.approx(steps)
    assert [len(s) for s in segs] == [300, 300, 300]
    assert [s.name for s in segs] == ["steps.csv[0]", "steps.csv[1]", "steps.csv[2]"]


@pytest.mark.parametrize(("name", "text"), [
    ("nova.txt", "Index;Time (s);WE(1).Current (A);WE(1).Potential (V)\n1;0,5;1,2E-08;0,1\n"
                 "2;1,0;1,1E-08;0,1\n3;1,5;1,05E-08;0,1\n"),
    ("chi.csv", "Time/sec, Current/A\n0.5, 1.2e-8\n1.0, 1.1e-8\n1.5, 1.05e-8\n"),
    ("maccor.csv", "Test Time (Sec),Current (A),Voltage (V)\n0.5,1.2e-8,0.1\n1,1.1e-8,0.1\n"
                   "1.5,1.05e-8,0.1\n"),
    ("arbin.csv", "Data_Point,Test_Time(s),Current(A),Voltage(V)\n1,0.5,1.2e-8,0.1\n"
                  "2,1,1.1e-8,0.1\n3,1.5,1.05e-8,0.1\n"),
    ("palmsens.csv", "Time (s),Current (\u00b5A)\n0.5,0.012\n1,0.011\n1.5,0.0105\n"),
    ("ivium.txt", "time/s\tI/A\tE/V\n0.5\t1.2e-8\t0.1\n1\t1.1e-8\t0.1\n1.5\t1.05e-8\t0.1\n"),
])
def test_other_instruments_exports(tmp_path, name, text):
    """Headers of Autolab NOVA, CH Instruments, Maccor, Arbin, PalmSens and Ivium exports."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    m = read(path)
    np.testing.assert_allclose(m.time_s, [0.5, 1.0, 1.5])
    np.testing.assert_allclose(m.current_a, [1.2e-8, 1.1e-8, 1.05e-8])


def test_a_comma_table_with_spaces_and_empty_last_cells_is_sniffed_as_commas():
    """Rows whose trailing cells are empty agree with the header (they were counted
    without them, and a table of 'a b,c' cells was then read as whitespace-separated)."""
    from sescreen.io.table import sniff_delimiter

    lines = ["file,material,thickness (mm),area,temperature", "a.csv,LLZO,1,,",
             "b.csv,#3 Li3PS4,0.5,0.5 cm2,25 C", "c.csv,LiPON,2,,", "d.csv,x,1,,"]
    assert sniff_delimiter(lines) == ","
    assert sniff_delimiter(["t;i;", "0;1;", "1;2;"]) == ";"

"""Gamry files with several curves (CV cycles), Gamry VFP600 files, and their refusals
(issue 12: a CV read as CURVE1 only, silently; VFP600 refused as "not a Gamry DTA file")."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sescreen.errors import FormatError
from sescreen.io import Technique, read, sniff_format

DATA = Path(__file__).resolve().parent / "data" / "gamry"


def gamry_cv(n_curves: int = 3, points: int = 40, *, restart_time: bool = False,
             restart_pt: bool = True, announce: bool = True, pstat: str = "REF600-13091",
             decimal: str = ".", drop_last_curve_rows: int = 0) -> str:
    """A Gamry Framework 7 cyclic voltammogram as the instrument writes it: one ``CURVEn``
    table per cycle (triangle 0 -> 0.8 -> 0 V), ``IERange`` switching with the current."""
    head = [
        "EXPLAIN", "TAG\tCV", "TITLE\tLABEL\tCyclic Voltammetry\tTest &Identifier",
        "DATE\tLABEL\t2/14/2024\tDate", "TIME\tLABEL\t09:30:00\tTime",
        "NOTES\tNOTES\t2\t&Notes...", "\tLi | LLZO | Au", "\tsynthetic",
        f"PSTAT\tPSTAT\t{pstat}\tPotentiostat",
        "VINIT\tPOTEN\t0.00000E+000\tF\tInitial &E (V)",
        "VLIMIT1\tPOTEN\t8.00000E-001\tF\tScan Limit &1 (V)",
        "VLIMIT2\tPOTEN\t0.00000E+000\tF\tScan Limit &2 (V)",
        "SCANRATE\tQUANT\t1.00000E+001\tScan Ra&te (mV/s)",
        f"CYCLES\tIQUANT\t{n_curves}\tC&ycles (#)",
        "AREA\tQUANT\t7.85000E-001\tElectrode &Area (cm^2)",
        "PSTATMODEL\tIQUANT\t4\tPstat Model",
        f"PSTATSECTION\tLABEL\t{pstat}\tPstat Section",
        "IERANGEMODE\tTOGGLE\tT\tI/E AutoRange", "IERANGE\tIQUANT\t8\tI/E Range",
        "FRAMEWORKVERSION\tLABEL\t7.10\tFramework Version",
    ]
    half = points // 2
    wave = np.r_[np.linspace(0, 0.8, half, endpoint=False), np.linspace(0.8, 0, points - half)]
    lines = list(head)
    t0, pt0 = 0.0, 0
    for k in range(1, n_curves + 1):
        n = points - (drop_last_curve_rows if k == n_curves else 0)
        t = (np.arange(n) + 1) * 0.1 + (0.0 if restart_time else t0)
        i = 1e-6 * (wave[:n] - 0.4) * k
        ierange = np.where(np.abs(i) < 6e-8, 4, np.where(np.abs(i) < 6e-7, 5, 6))
        lines.append(f"CURVE{k}\tTABLE" + (f"\t{points}" if announce else ""))
        lines.append("\tPt\tT\tVf\tIm\tVu\tSig\tAch\tIERange\tOver\tTemp")
        lines.append("\t#\ts\tV vs. Ref.\tA\tV\tV\tV\t#\tbits\tdeg C")
        for j in range(n):
            pt = j if restart_pt else pt0 + j
            row = (f"\t{pt}\t{t[j]:.4g}\t{wave[j]:.6E}\t{i[j]:.6E}\t0.00000E+000\t"
                   f"{wave[j]:.6E}\t-1.0E-003\t{ierange[j]}\t...........\t25.0")
            lines.append(row.replace(".", ",") if decimal == "," else row)
        t0, pt0 = t[-1], pt0 + n
    text = "\n".join(lines) + "\n"
    return text.replace("...........", "..........,") if decimal == "," else text


def _write(tmp_path, text: str, name: str = "cv.DTA", newline: str = "\r\n") -> Path:
    path = tmp_path / name
    path.write_bytes(text.replace("\n", newline).encode("cp1252"))
    return path


@pytest.mark.parametrize("restart_pt", [True, False])
def test_every_curve_is_read_with_its_number(tmp_path, restart_pt):
    m = read(_write(tmp_path, gamry_cv(4, 40, restart_pt=restart_pt)))
    assert m.technique is Technique.SWEEP
    assert len(m) == 160
    assert m.data["cycle"].tolist() == np.repeat([1, 2, 3, 4], 40).tolist()
    assert (np.diff(m.time_s) > 0).all()
    assert m.settings["curves"] == ["CURVE1", "CURVE2", "CURVE3", "CURVE4"]
    assert [b - a for a, b in m.segment_bounds(by="cycle")] == [40] * 4
    # segments() sees each curve: no segment spans two of them
    cycles = m.data["cycle"].to_numpy()
    assert all(len(set(cycles[a:b])) == 1 for a, b in m.segment_bounds())
    assert m.applied_voltage_v is None  # a CV holds no voltage
    assert any("4 curves joined" in w for w in m.warnings)


def test_curves_whose_clock_restarts_are_made_continuous(tmp_path):
    m = read(_write(tmp_path, gamry_cv(3, 20, restart_time=True)))
    assert len(m) == 60
    assert (np.diff(m.time_s) > 0).all()
    assert m.time_s[20] == pytest.approx(m.time_s[19] + 0.1)
    assert any("restarts in each curve" in w for w in m.warnings)


def test_aborted_cv_keeps_the_complete_curves_and_says_so(tmp_path):
    m = read(_write(tmp_path, gamry_cv(3, 20, drop_last_curve_rows=15)))
    assert len(m) == 45
    assert any("CURVE3 announces 20 points but holds 5" in w for w in m.warnings)


def test_decimal_comma_cv(tmp_path):
    m = read(_write(tmp_path, gamry_cv(2, 20, decimal=","), newline="\n"))
    assert len(m) == 40 and m.data["cycle"].max() == 2
    assert m.current_a.max() == pytest.approx(2 * 1e-6 * 0.4)


def test_reference600_ierange_becomes_the_full_scale(tmp_path):
    m = read(_write(tmp_path, gamry_cv(2, 40)))
    expected = np.select([m.data["IERange"] == 4, m.data["IERange"] == 5],
                         [60e-9, 600e-9], 6e-6)
    np.testing.assert_allclose(m.data["current_range_a"], expected)
    assert (np.abs(m.current_a) <= m.data["current_range_a"]).all()


def test_unknown_model_keeps_the_index_and_warns(tmp_path):
    m = read(_write(tmp_path, gamry_cv(2, 10, pstat="IFC1010-55555").replace(
        "PSTATMODEL\tIQUANT\t4", "PSTATMODEL\tIQUANT\t9")))
    assert "current_range_a" not in m.data and "IERange" in m.data
    assert any("IFC1010-55555" in w and "range table" in w for w in m.warnings)


def test_curves_with_other_columns_stay_side_tables(tmp_path):
    text = gamry_cv(3, 10).replace(
        "CURVE3\tTABLE\t10\n\tPt\tT\tVf\tIm", "CURVE3\tTABLE\t10\n\tPt\tT\tVf\tImx")
    m = read(_write(tmp_path, text))
    assert len(m) == 20 and "CURVE3" in m.tables
    assert any("CURVE3 have other columns" in w for w in m.warnings)


def test_damaged_row_in_a_later_curve_names_its_line(tmp_path):
    text = gamry_cv(3, 10)
    lines = text.split("\n")
    k = lines.index("CURVE2\tTABLE\t10") + 5
    fields = lines[k].split("\t")
    fields[4] = "1.2E-0x7"  # the Im field
    lines[k] = "\t".join(fields)
    with pytest.raises(FormatError, match=rf"line {k + 1}: non-numeric value"):
        read(_write(tmp_path, "\n".join(lines), newline="\n"))


# -- real Gamry files (bcliang/gamry-parser, MIT; tests/data/gamry/README.md) ------------
def test_real_five_curve_cv():
    m = read(DATA / "cv_data.dta")
    assert len(m) == 50 and m.data["cycle"].tolist() == np.repeat(np.arange(1, 6), 10).tolist()
    assert m.time_s[0] == pytest.approx(0.1) and m.time_s[-1] == pytest.approx(601.1)
    assert len(m.segments(by="cycle")) == 5
    assert m.summary()["n_cycles"] == 5


def test_real_reference600_cv_ranges_follow_the_current():
    m = read(DATA / "ocvcurve_data.dta")  # REF600-05069, Framework 6.33, CURVE1 + OCVCURVE
    assert "OCVCURVE" in m.tables and m.data["cycle"].eq(1).all()
    np.testing.assert_allclose(np.unique(m.data["current_range_a"]), [6e-7, 6e-6, 6e-5])
    # each point within its range (autoranging moves up at ~110 % of the full scale)
    assert (np.abs(m.current_a) <= 1.1 * m.data["current_range_a"]).all()


def test_real_vfp600():
    path = DATA / "vfp600_data.dta"
    assert sniff_format(path) == "gamry-dta"
    m = read(path)
    assert m.technique_name == "VFP600" and len(m) == 20
    np.testing.assert_allclose(m.time_s, np.arange(20) / 15.0)
    assert m.current_a[0] == pytest.approx(5.303752e-11)
    assert m.data["voltage_v"][0] == pytest.approx(0.029996)
    assert any("15 Hz" in w for w in m.warnings)


def test_vfp600_without_frequency_is_refused_with_the_fix(tmp_path):
    text = (DATA / "vfp600_data.dta").read_text().replace("FREQ\tQUANT\t1.50000E+1", "X\tY\t1")
    path = tmp_path / "vfp.dta"
    path.write_text(text)
    with pytest.raises(FormatError, match=r"vfp\.dta.*FREQ.*add 'FREQ<TAB>QUANT<TAB><Hz>'"):
        read(path)


def test_neither_explain_nor_vfp600_names_line_one(tmp_path):
    path = tmp_path / "x.dta"
    path.write_text("HELLO\nTAG\tCV\n")
    with pytest.raises(FormatError, match=r"x\.dta, line 1: not a Gamry DTA file: line 1 is "
                                          r"'HELLO'"):
        read(path)

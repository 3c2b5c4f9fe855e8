"""The current range per point (``current_range_a``) and the nominal resolution it implies."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sescreen.io import Measurement, read
from sescreen.io.mpr_columns import I_RANGE_A
from sescreen.io.ranges import (
    ACCURACY_FRACTION,
    RESOLUTION_FRACTION,
    current_accuracy_a,
    current_resolution_a,
    ec_lab_range_a,
)
from sescreen.io.writers import write_dta, write_mpt


def test_ec_lab_codes_and_text():
    got = ec_lab_range_a([23, 21, 15, 999, 2.5, "10 mA", "100 nA", "1 \u00b5A", "Auto",
                          "1,5 mA", None])
    np.testing.assert_allclose(
        got, [100e-9, 10e-6, np.nan, np.nan, np.nan, 10e-3, 100e-9, 1e-6, np.nan, 1.5e-3,
              np.nan])
    assert I_RANGE_A[60] == pytest.approx(1e-12)


def test_mpt_i_range_column_as_codes_and_as_text(tmp_path):
    path = write_mpt(tmp_path / "ca.mpt", np.arange(50.0), np.full(50, 2e-9))
    assert (read(path).data["current_range_a"] == 10e-9).all()  # code 45, as auto-ranging
    lines = path.read_text(encoding="latin-1").split("\n")
    rows = [k for k, ln in enumerate(lines) if "\t45\t" in ln]
    for k in rows:
        lines[k] = lines[k].replace("\t45\t", "\t10 nA\t" if k % 2 else "\t100 nA\t")
    text = tmp_path / "text.mpt"
    text.write_text("\n".join(lines), encoding="latin-1")
    m = read(text)
    assert set(np.unique(m.data["current_range_a"])) == {10e-9, 100e-9}
    assert m.summary()["current_ranges_a"] == [10e-9, 100e-9]


def test_fixed_range_from_the_mpt_setting(tmp_path):
    path = write_mpt(tmp_path / "ca.mpt", np.arange(20.0), np.full(20, 2e-9))
    text = path.read_text(encoding="latin-1").replace(
        "I Range             Auto", "I Range             100 nA").replace("\tI Range\t", "\tIR\t")
    fixed = tmp_path / "fixed.mpt"
    fixed.write_text(text, encoding="latin-1")
    m = read(fixed)
    assert (m.data["current_range_a"] == 100e-9).all()
    assert any(c.name == "current_range_a" and c.original == "I Range (setting)"
               for c in m.columns)
    auto = tmp_path / "auto.mpt"
    auto.write_text(text.replace("100 nA", "Auto"), encoding="latin-1")
    assert "current_range_a" not in read(auto).data


def test_gamry_fixed_range_from_the_header(tmp_path):
    path = write_dta(tmp_path / "ca.dta", np.arange(10.0), np.full(10, 1e-9))
    text = path.read_text(encoding="cp1252").replace(
        "AREA\t", "PSTATMODEL\tIQUANT\t4\tPstat Model\nIERANGEMODE\tTOGGLE\tF\tI/E AutoRange\n"
        "IERANGE\tIQUANT\t3\tI/E Range\nAREA\t", 1)
    path.write_text(text, encoding="cp1252")
    m = read(path)  # PSTAT REF600-12345: k = 3 -> 6 nA
    np.testing.assert_allclose(m.data["current_range_a"], 6e-9)


def test_resolution_and_accuracy_helpers():
    df = pd.DataFrame({"time_s": [0.0, 1.0, 2.0], "current_a": [1e-9] * 3,
                       "current_range_a": [1e-8, 1e-7, np.nan]})
    m = Measurement(data=df, format="table")
    np.testing.assert_allclose(current_resolution_a(m), [1e-8 * RESOLUTION_FRACTION,
                                                         1e-7 * RESOLUTION_FRACTION, np.nan])
    np.testing.assert_allclose(current_resolution_a(m, fraction=1e-4), [1e-12, 1e-11, np.nan])
    np.testing.assert_allclose(current_accuracy_a(m)[:2], [1e-11, 1e-10])
    assert RESOLUTION_FRACTION == pytest.approx(3.05e-5, rel=1e-3)
    assert ACCURACY_FRACTION == 1e-3
    assert current_resolution_a(Measurement(data=df.drop(columns="current_range_a"),
                                            format="table")) is None


@pytest.mark.realdata
def test_real_ec_lab_ranges_agree_between_mpr_and_mpt(realdata):
    mpr = read(realdata / "biologic" / "ca.mpr")
    mpt = read(realdata / "biologic" / "ca.mpt")
    np.testing.assert_array_equal(mpr.data["current_range_a"], mpt.data["current_range_a"])
    assert mpr.summary()["current_ranges_a"] == [1e-8, 1e-7, 1e-5]
    # the 12 h hold ends at ~3 nA on the 10 nA range: a nominal resolution of ~0.3 pA
    late = current_resolution_a(mpr)[-100:]
    assert np.allclose(late, 1e-8 * RESOLUTION_FRACTION)
    # every point after the first (taken on the range switch) sits within its range
    assert (np.abs(mpr.current_a[1:]) <= mpr.data["current_range_a"][1:]).all()


@pytest.mark.realdata
@pytest.mark.parametrize("name", ["cv.issue_149.mpr", "cv.issue_149.mpt",
                                  "gcpl.issue_149.mpr", "gcpl.issue_149.mpt"])
def test_real_ec_lab_files_have_ranges(realdata, name):
    m = read(realdata / "biologic" / name)
    assert np.isfinite(m.data["current_range_a"]).any()


def test_a_range_table_that_does_not_fit_the_currents_is_dropped(tmp_path):
    path = write_mpt(tmp_path / "ca.mpt", np.arange(20.0), np.full(20, 5e-3))  # 5 mA
    lines = path.read_text(encoding="latin-1").replace("\t39\t", "\t41\t")  # on 100 uA
    path.write_text(lines, encoding="latin-1")
    m = read(path)
    assert "current_range_a" not in m.data
    assert any("20 of 20 points exceed 2x" in w for w in m.warnings)

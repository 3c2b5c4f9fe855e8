"""Input-validation holes of an independent review: candidates-table columns dropped
silently, a report written over its input, an unstated temperature assumed silently, and
the curated dataset's duplicate measurements, half ranges and crashing ranges loader."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from sescreen import ccd, literature
from sescreen.cli import main
from sescreen.errors import FormatError, InputError
from sescreen.screening import read_candidates, screen

KB_EV = 8.617333262e-5


def _table(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def _cli_error(args):
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 2, r.output
    assert r.exception is None or isinstance(r.exception, SystemExit)
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert len(lines) == 1, r.output
    return lines[0]


# -- candidates tables: columns -------------------------------------------------------------
@pytest.mark.parametrize(("header", "suggested"), [
    ("sigma_e_err (S/cm)", "sigma_e_stderr (S/cm)"),
    ("thicknes (mm)", "thickness (mm)"),
    ("temperatur (C)", "temperature (C)"),
    ("fracture stres (MPa)", "fracture_stress (MPa)"),
])
def test_unknown_column_is_refused_naming_it_and_the_nearest_name(tmp_path, header, suggested):
    # dropped silently, a misnamed stderr shrank the interval to a point (a false PASS) and
    # a misnamed temperature judged the values at the operating temperature
    c = _table(tmp_path / "c.csv", f"material,sigma_e (S/cm),{header}\nA,1e-11,1\n")
    msg = _cli_error(["screen", str(c), "--quiet"])
    assert "c.csv" in msg and repr(header) in msg and f"did you mean {suggested!r}" in msg
    assert "sigma_e_stderr (S/cm)" in msg and "notes" in msg  # the accepted names
    with pytest.raises(FormatError, match="unknown column"):
        read_candidates(c)


def test_two_columns_for_one_field_are_refused(tmp_path):
    # the second silently replaced the first (1e-5 mS/cm read, 1e-11 S/cm ignored)
    c = _table(tmp_path / "c.csv", "material,sigma_e (S/cm),sigma_e (mS/cm)\nA,1e-11,1e-5\n")
    msg = _cli_error(["screen", str(c), "--quiet"])
    assert "'sigma_e (S/cm)' and 'sigma_e (mS/cm)'" in msg and "keep one" in msg
    c = _table(tmp_path / "d.csv", "material,name,sigma_e (S/cm)\nA,B,1e-11\n")
    with pytest.raises(FormatError, match="both give material"):
        read_candidates(c)


def test_free_text_columns_stay_accepted(tmp_path):
    c = _table(tmp_path / "c.csv", "id,material,formula,sigma_e (S/cm),temperature (C),source,"
               "notes,reference,doi,comment\n1,A,Li3PS4,1e-11,25,lab,a note,Han 2019,"
               "10.1038/x,ok\n")
    t = read_candidates(c)
    assert t.loc[0, "formula"] == "Li3PS4" and t.loc[0, "source"] == "lab"
    assert screen(c).table.loc[0, "outcome_1ma"] == "pass"


def _arrhenius_rows(sigma_at_k, at_k, ea_ev, temps_c):
    return [sigma_at_k * math.exp(-ea_ev / KB_EV * (1 / (t + 273.15) - 1 / at_k))
            for t in temps_c]


def test_temperature_as_t_is_read_not_dropped(tmp_path):
    # truth: sigma_e(60 C) = 3e-10 S/cm, above the 1 mA/cm^2 threshold (a FAIL). Measured
    # at 25-45 C under 'T (C)', the column was dropped and the colder values judged at 60 C
    at_k, truth = 333.15, 3e-10
    temps = (25.0, 35.0, 45.0)
    sig = _arrhenius_rows(truth, at_k, 0.5, temps)
    results = {}
    for header in ("temperature (C)", "T (C)"):
        rows = "".join(f"A,{s:.6g},{0.02 * s:.6g},{t}\n" for s, t in zip(sig, temps,
                                                                          strict=True))
        c = _table(tmp_path / f"{header[0]}.csv",
                   f"material,sigma_e (S/cm),sigma_e_stderr (S/cm),{header}\n{rows}")
        results[header] = screen(c, operating_k=at_k).table.iloc[0]
    for r in results.values():
        assert r["outcome_1ma"] == "fail"
        assert r["sigma_e"] == pytest.approx(truth, rel=0.05)
    assert all("operating temperature" not in r["warnings"] for r in results.values())


@pytest.mark.parametrize(("cell", "fix"), [
    ('"1e-10 S/cm"', "write the number alone (1e-10) and the unit in the header, e.g. "
                     "'sigma_e (S/cm)'"),
    ('"1,5e-10"', "a decimal comma: write '1.5e-10'"),
])
def test_unit_or_decimal_comma_in_a_cell_names_row_column_and_fix(tmp_path, cell, fix):
    c = _table(tmp_path / "c.csv", f"material,sigma_e (S/cm)\nA,1e-11\nB,{cell}\n")
    msg = _cli_error(["screen", str(c), "--quiet"])
    assert "c.csv" in msg and "line 3" in msg and "column 'sigma_e (S/cm)'" in msg
    assert fix in msg


def test_unit_in_a_temperature_cell(tmp_path):
    c = _table(tmp_path / "c.csv", "material,sigma_e (S/cm),temperature (C)\nA,1e-11,25 C\n")
    with pytest.raises(FormatError, match=r"line 2, column 'temperature \(C\)'.*number alone"):
        read_candidates(c)


# -- the report never writes over an input --------------------------------------------------
def test_screening_report_refuses_to_overwrite_its_inputs(tmp_path):
    from sescreen.report import screening_report

    c = _table(tmp_path / "c.csv", "material,sigma_e (S/cm),temperature (C)\nA,1e-11,25\n")
    before = c.read_bytes()
    result = screen(c)
    link = tmp_path / "link.html"
    link.symlink_to(c)
    for out, kwargs in ((c, {}), (tmp_path / "." / "c.csv", {}),
                        (link, {"candidates_path": str(c)})):
        with pytest.raises(InputError, match="never writes over an input"):
            screening_report(result, out, **kwargs)
        assert c.read_bytes() == before
    table = read_candidates(c)  # a table, not a path: the caller names the input
    with pytest.raises(InputError, match="is the input"):
        screening_report(screen(table), c, candidates_path=str(c))
    assert c.read_bytes() == before
    assert screening_report(result, tmp_path / "r.html").is_file()


def test_report_cli_refuses_an_output_that_is_the_candidates_table(tmp_path):
    c = _table(tmp_path / "c.html", "material,sigma_e (S/cm),temperature (C)\nA,1e-11,25\n")
    before = c.read_bytes()
    msg = _cli_error(["report", str(c), "--out", str(c), "--quiet"])
    assert "is the input" in msg and c.read_bytes() == before


# -- an unstated temperature is stated -------------------------------------------------------
def test_table_without_temperature_says_it_is_taken_at_the_operating_temperature(tmp_path):
    c = _table(tmp_path / "c.csv", "material,sigma_e (S/cm)\nA,1e-11\nB,1e-9\n")
    result = screen(c)
    assert len(result.notes) == 1
    assert "no temperature column" in result.notes[0] and "25 C" in result.notes[0]
    r = CliRunner().invoke(main, ["screen", str(c), "--quiet"])
    assert r.exit_code == 0 and "note: the table states no temperature" in r.output
    r = CliRunner().invoke(main, ["screen", str(c), "--quiet", "--json", "--at", "30C"])
    notes = json.loads(r.output)["notes"]
    assert len(notes) == 1 and "30 C" in notes[0]
    d = _table(tmp_path / "d.csv", "material,sigma_e (S/cm),temperature (C)\nA,1e-11,25\n"
               "B,1e-9,\n")
    assert screen(d).notes == ["1 of its 2 sigma_e values state no temperature: this "
                               "sigma_e is taken as measured at the operating temperature, "
                               "25 C; add a 'temperature (C)' column if not"]
    e = _table(tmp_path / "e.csv", "material,sigma_e (S/cm),temperature (C)\nA,1e-11,25\n")
    assert screen(e).notes == []


# -- the curated dataset ---------------------------------------------------------------------
def _dataset(tmp_path, edit, name="bad.csv"):
    df = pd.read_csv(literature.DATASET, dtype=str, keep_default_na=False)
    df = edit(df)
    path = tmp_path / name
    df.to_csv(path, index=False)
    return path


def test_the_same_measurement_under_a_second_id_is_refused(tmp_path):
    # it counted twice: the fit's threshold at 1 mA/cm^2 moved 1.8e-10 -> 5.8e-11 S/cm
    def twice(df):
        row = df[df["id"] == "han2019-llzo"].assign(id="llzo-again", material="LLZO")
        return pd.concat([df, row], ignore_index=True)

    path = _dataset(tmp_path, twice)
    n = len(pd.read_csv(path)) + 1
    with pytest.raises(FormatError) as err:
        literature.load_dataset(path)
    msg = str(err.value)
    assert f"line {n}" in msg and "'llzo-again'" in msg and "'han2019-llzo'" in msg
    assert "line 2" in msg and "\n" not in msg

    def other_value(df):  # the same study's other measurement is a row of its own
        row = df[df["id"] == "han2019-llzo"].assign(id="llzo-b", sigma_e_s_cm="6e-8")
        return pd.concat([df, row], ignore_index=True)

    assert len(literature.load_dataset(_dataset(tmp_path, other_value, "ok.csv"))) == n - 1


@pytest.mark.parametrize(("changes", "match"), [
    ({"sigma_e_hi_s_cm": ""}, "half range: only sigma_e_lo"),
    ({"sigma_e_lo_s_cm": ""}, "half range: only sigma_e_hi"),
    ({"sigma_e_bound": "upper"}, "a sigma_e range .* and a bound"),
])
def test_half_ranges_and_range_with_bound_are_refused(tmp_path, changes, match):
    def edit(df):
        k = df.index[df["id"] == "han2019-lipon"][0]
        for col, v in changes.items():
            df.loc[k, col] = v
        return df

    path = _dataset(tmp_path, edit)
    line = int(np.flatnonzero(pd.read_csv(path)["id"] == "han2019-lipon")[0]) + 2
    with pytest.raises(FormatError, match=match) as err:
        literature.load_dataset(path)
    assert f"line {line}" in str(err.value) and "\n" not in str(err.value)


def _ranges(tmp_path, text=None, edit=None):
    path = tmp_path / "ranges.csv"
    if text is not None:
        path.write_text(text)
        return path
    df = pd.read_csv(literature.RANGES, dtype=str, keep_default_na=False)
    edit(df)
    df.to_csv(path, index=False)
    return path


@pytest.mark.parametrize(("edit", "match"), [
    (lambda df: df.loc.__setitem__((0, "sigma_e_lo_s_cm"), "1e-8 S/cm"),
     "sigma_e_lo_s_cm = '1e-8 S/cm' is not a number"),
    (lambda df: df.loc.__setitem__((0, "temp_c"), "RT"), "temp_c = 'RT' is not a number"),
    (lambda df: df.loc.__setitem__((0, "ccd_hi_ma_cm2"), "5e4"), "outside"),
    (lambda df: df.loc.__setitem__((0, "sigma_e_hi_s_cm"), ""), "half range"),
    (lambda df: df.loc.__setitem__((0, "ccd_censor"), "lower"), "a CCD range .* and a bound"),
    (lambda df: df.loc.__setitem__((2, "ccd_lo_ma_cm2"), ""), "needs ccd_lo"),
    (lambda df: df.loc.__setitem__((0, "ccd_censor"), ">"), "ccd_censor '>'"),
    (lambda df: df.loc.__setitem__((0, "doi"), "x"), "DOI"),
])
def test_load_ranges_refuses_bad_rows_in_one_line(tmp_path, edit, match):
    path = _ranges(tmp_path, edit=edit)
    with pytest.raises(FormatError, match=match) as err:
        literature.load_ranges(path)
    msg = str(err.value)
    assert "ranges.csv" in msg and ("line 2" in msg or "line 4" in msg) and "\n" not in msg


@pytest.mark.parametrize(("text", "match"), [
    ("", "is empty"),
    ("id,doi\nx,10.1/x\n", "missing column"),
    (literature.RANGES.read_text().splitlines()[0] + "\n", "no rows"),
])
def test_load_ranges_refuses_empty_and_incomplete_files(tmp_path, text, match):
    with pytest.raises(FormatError, match=match) as err:
        literature.load_ranges(_ranges(tmp_path, text=text))
    assert "ranges.csv" in str(err.value)


def test_lipon_temperatures_are_not_stated_and_the_fit_says_so():
    # Han 2019 states no temperature for LiPON (han2019_stated.csv), LITERATURE.md none for
    # Yu's sigma_e: the dataset had an unsourced 25 C
    stated = literature.han2019_stated()
    assert all(math.isnan(stated[k]["temp_c"]) for k in
               ("lipon_sigma_e_lo", "lipon_sigma_e_hi", "lipon_ccd_lower"))
    df = literature.load_dataset().set_index("id")
    assert np.isnan(df.loc["han2019-lipon", ["sigma_e_temp_c", "ccd_temp_c"]].astype(float)).all()
    assert np.isnan(df.loc["yu1997-lipon", "sigma_e_temp_c"])
    assert df.loc["yu1997-lipon", "sigma_ion_temp_c"] == 25  # stated in Yu's abstract
    rg = literature.load_ranges().set_index("id")
    assert np.isnan(rg.loc["han2019-lipon-range", "temp_c"])
    line = ccd.fit_ccd(literature.fit_pairs(), n_draws=2000)
    text = " ".join(line.warnings)
    assert "states no temperature" in text and "han2019-lipon" in text
    assert "han2019-llzo (30 C vs 25 C)" in text  # the stated pairs are still checked


# -- sigma(T) tables ---------------------------------------------------------------------------
def test_sigma_table_refuses_an_unknown_column_and_reads_free_text(tmp_path):
    from sescreen.sigma_table import read_sigma_table

    body = "30,1e-8,1e-9\n60,2e-8,1e-9\n90,4e-8,1e-9\n"
    p = _table(tmp_path / "s.csv", "T (C),sigma (S/cm),dsigma (S/cm)\n" + body)
    msg = _cli_error(["arrhenius", str(p), "--at", "25C"])  # the error column was dropped
    assert "s.csv" in msg and "column 'dsigma (S/cm)'" in msg
    assert "did you mean 'sigma (S/cm)'" in msg
    p = _table(tmp_path / "n.csv", "T (C),sigma (S/cm),sigma_stderr (S/cm),notes\n"
               + body.replace("\n", ",x\n"))
    assert read_sigma_table(p)["sigma_stderr"].tolist() == [1e-9] * 3
    p = _table(tmp_path / "m.csv", "material,sample,T (C),sigma (S/cm)\nA,a,30,1e-8\n")
    with pytest.raises(FormatError, match="two material columns"):
        read_sigma_table(p)

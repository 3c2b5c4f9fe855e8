"""Every bad input gives one clear line: the file, the position when known, what is wrong
and how to fix it, as a :class:`~sescreen.errors.SescreenError`, never a traceback.

Real instrument files are read from ``../shared/realdata`` (beside the repository); those
tests skip when that folder is absent.
"""

from __future__ import annotations

import gc
import signal
import warnings
from pathlib import Path

import numpy as np
import pytest

from sescreen.errors import FormatError, InputError, SescreenError, TechniqueError
from sescreen.io import Technique, read
from sescreen.io.biologic import MPR_MAGIC
from sescreen.io.writers import write_dta, write_mpt, write_table

REALDATA = Path(__file__).resolve().parents[1].parent / "shared" / "realdata"
needs_realdata = pytest.mark.skipif(not REALDATA.is_dir(),
                                    reason=f"real instrument files not found in {REALDATA}")

TIME = np.arange(6) * 10.0
CURRENT = np.array([5e-6, 4e-6, 3.5e-6, 3.2e-6, 3.1e-6, 3.05e-6])


def refused(path: Path, *phrases: str, error=SescreenError, line: int | None = None,
            **overrides) -> SescreenError:
    """Read ``path`` expecting ``error``: one line, naming the file, with ``phrases``."""
    with pytest.raises(error) as info:
        read(path, **overrides)
    msg = str(info.value)
    assert "\n" not in msg and "\r" not in msg, msg
    assert path.name in msg, msg
    for phrase in phrases:
        assert phrase.lower() in msg.lower(), f"{phrase!r} not in {msg!r}"
    if line is not None:
        assert info.value.line == line, msg
        assert f"line {line}" in msg, msg
    return info.value


def csv(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# -- empty, binary, not a file ---------------------------------------------------------
@pytest.mark.parametrize("suffix", [".csv", ".mpt", ".dta", ".txt", ".mpr"])
@pytest.mark.parametrize("content", [b"", b"   \n\t\r\n  \n"], ids=["0-bytes", "whitespace"])
def test_empty_file(tmp_path, suffix, content):
    path = tmp_path / f"empty{suffix}"
    path.write_bytes(content)
    refused(path, "empty", error=FormatError)


@pytest.mark.parametrize("suffix", [".csv", ".mpt", ".dta", ".txt"])
@pytest.mark.parametrize("garbage", [bytes(range(256)) * 8, bytes(range(1, 32)) * 40,
                                     b"\x89PNG\r\n\x1a\n" + bytes(500)],
                         ids=["all-bytes", "control-chars", "png"])
def test_binary_garbage(tmp_path, suffix, garbage):
    path = tmp_path / f"garbage{suffix}"
    path.write_bytes(garbage)
    refused(path, "binary", error=FormatError)


def test_text_file_with_mpr_extension(tmp_path):
    path = csv(tmp_path, "time/s,I/mA\n0,1\n1,2\n", name="export.mpr")
    refused(path, "not an EC-Lab binary file", ".mpt", error=FormatError)


def test_missing_file(tmp_path):
    refused(tmp_path / "nowhere.csv", "no such file", error=InputError)


def test_directory(tmp_path):
    folder = tmp_path / "runs.csv"
    folder.mkdir()
    refused(folder, "not a file", error=InputError)


def test_unreadable_file(tmp_path, monkeypatch):
    path = csv(tmp_path, "time/s,I/mA\n0,1\n")

    def denied(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "open", denied)
    refused(path, "cannot read", "permission denied", error=InputError)


# -- truncated last row ----------------------------------------------------------------
@pytest.mark.parametrize("n_rows", [2, 6])
def test_truncated_last_row_csv(tmp_path, n_rows):
    t, i = TIME[:n_rows], CURRENT[:n_rows]
    path = write_table(tmp_path / "cut.csv", t, i, voltage_v=np.full(n_rows, 0.1))
    lines = path.read_text().splitlines()
    lines[-1] = ",".join(lines[-1].split(",")[:2])  # 2 of 3 fields
    path.write_text("\n".join(lines) + "\n")
    refused(path, "truncated", "allow_truncated", error=FormatError, line=n_rows + 1)

    m = read(path, allow_truncated=True)
    assert len(m) == n_rows - 1
    np.testing.assert_allclose(m.current_a, i[:-1], rtol=1e-9)
    assert any("truncated" in w and f"line {n_rows + 1}" in w for w in m.warnings)


def test_truncated_last_row_whitespace_table(tmp_path):
    path = csv(tmp_path, "  time/s  I/mA\n  0  1.5\n  1  2.5\n  2\n", name="cut.txt")
    refused(path, "truncated", "1 of 2 fields", error=FormatError, line=4)
    m = read(path, allow_truncated=True)
    np.testing.assert_allclose(m.current_a, [1.5e-3, 2.5e-3])


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_truncated_last_row_mpt(tmp_path, newline):
    path = write_mpt(tmp_path / "cut.mpt", TIME, CURRENT, newline=newline)
    text = path.read_bytes().decode("latin-1").replace("\r\n", "\n")
    lines = text.rstrip("\n").split("\n")
    lines[-1] = "\t".join(lines[-1].split("\t")[:5])  # cut mid-row while EC-Lab was writing
    path.write_bytes((newline.join(lines)).encode("latin-1"))
    refused(path, "truncated", "allow_truncated", error=FormatError, line=len(lines))

    m = read(path, allow_truncated=True)
    assert len(m) == len(TIME) - 1
    np.testing.assert_allclose(m.current_a, CURRENT[:-1], rtol=1e-6)
    assert any("truncated" in w for w in m.warnings)


def test_truncated_last_row_dta(tmp_path):
    path = write_dta(tmp_path / "cut.dta", TIME, CURRENT, newline="\n")
    lines = path.read_text(encoding="cp1252").rstrip("\n").split("\n")
    lines[-1] = "\t".join(lines[-1].split("\t")[:3])
    path.write_text("\n".join(lines) + "\n", encoding="cp1252")
    refused(path, "truncated", error=FormatError, line=len(lines))
    assert len(read(path, allow_truncated=True)) == len(TIME) - 1


# -- a last row without a line end (review 4, D11: a row cut inside its last number, with
# all its fields, was read as whole: "1.000056e-06" as 1.000056 A) ----------------------
def _cut_in_last_value(path: Path, drop: int) -> None:
    """Cut the last ``drop`` characters of ``path``'s last value, leaving no line end."""
    raw = path.read_bytes().rstrip(b"\r\n")
    path.write_bytes(raw[:len(raw) - drop])


@pytest.mark.parametrize(("writer", "drop"), [
    (lambda p: write_table(p / "x.csv", TIME, CURRENT), 4),  # the current: "5e-06" -> "5"
    (lambda p: write_table(p / "x.txt", TIME, CURRENT, sep=" "), 2),
    (lambda p: write_dta(p / "x.DTA", TIME, CURRENT, newline="\n"), 2)])  # Temp "25.00"
def test_a_last_row_cut_inside_its_last_number_is_dropped(tmp_path, writer, drop):
    path = writer(tmp_path)
    _cut_in_last_value(path, drop)  # every field still there, the last one cut short
    m = read(path)  # with or without allow_truncated: the fields are all there
    assert len(m) == len(TIME) - 1
    np.testing.assert_allclose(m.current_a, CURRENT[:-1], rtol=1e-5)
    assert any("dropped the last row" in w and "no line end" in w for w in m.warnings)
    assert len(read(path, allow_truncated=True)) == len(TIME) - 1


@pytest.mark.parametrize(("writer", "kept"), [
    (lambda p: write_table(p / "x.csv", TIME, CURRENT), False),  # writer unknown: dropped
    (lambda p: write_mpt(p / "x.mpt", TIME, CURRENT), True),  # EC-Lab omits the line end
    (lambda p: write_dta(p / "x.DTA", TIME, CURRENT, newline="\n"), True)])  # so does Gamry
def test_a_whole_last_row_without_a_line_end(tmp_path, writer, kept):
    path = writer(tmp_path)
    path.write_bytes(path.read_bytes().rstrip(b"\r\n"))
    m = read(path)
    assert len(m) == len(TIME) - (not kept)
    assert any("no line end" in w for w in m.warnings) is not kept
    path.write_bytes(path.read_bytes() + b"\n")  # the same file, ended: every row, no word
    m = read(path)
    assert len(m) == len(TIME) and not any("line end" in w for w in m.warnings)


def test_the_only_row_without_a_line_end_is_kept_with_a_warning(tmp_path):
    path = csv(tmp_path, "time/s,I/mA\n0,1.5")
    m = read(path)
    assert len(m) == 1 and any("only row (line 2) has no line end" in w for w in m.warnings)


# Review 4, D16: "1e300 cm²" was read as 1 in the unit "e300" and dropped with "a unit
# sescreen does not know"; the limits that judge an .mpr's and a CSV's area apply.
@pytest.mark.parametrize(("typed", "area"), [("1e300", 1e300), ("NaN", np.nan),
                                             ("1.5E-01", 0.15), ("1,131", 1.131)])
def test_mpt_area_numbers_are_read_whole_and_judged_by_the_limits(tmp_path, typed, area):
    from sescreen.limits import check_file_metadata

    path = write_mpt(tmp_path / "x.mpt", TIME, CURRENT, area_cm2=1.0)
    text = path.read_text(encoding="latin-1")
    path.write_text(text.replace("surface area : 1.000 cm", f"surface area : {typed} cm"),
                    encoding="latin-1")
    m = read(path)
    assert not any("does not know" in w for w in m.warnings)
    np.testing.assert_allclose(m.area_cm2, area, rtol=1e-12)
    if 1e-7 <= area <= 1e3:
        check_file_metadata(m)
    else:
        with pytest.raises(InputError, match=r"x\.mpt: the file's electrode area = .* is "
                                             r"outside the plausible range 1e-7 \.\. 1000"):
            check_file_metadata(m)


# -- bad cells -------------------------------------------------------------------------
@pytest.mark.parametrize("cell", ["abc", "1.2.3", "--", "0x1F"])
def test_non_numeric_current_csv(tmp_path, cell):
    path = csv(tmp_path, f"time/s,I/mA\n0,1\n1,2\n2,{cell}\n3,4\n")
    refused(path, "non-numeric", "I/mA", repr(cell), error=FormatError, line=4)


def test_non_numeric_current_mpt(tmp_path):
    path = write_mpt(tmp_path / "bad.mpt", TIME, CURRENT)
    lines = path.read_text(encoding="latin-1").split("\n")
    row = len(lines) - 3  # 0-based index of the second-to-last data row
    fields = lines[row].split("\t")
    fields[6] = "1,0E-3"  # a decimal comma in a decimal-point export
    lines[row] = "\t".join(fields)
    path.write_text("\n".join(lines), encoding="latin-1")
    refused(path, "non-numeric", "'1,0E-3'", "I/mA", error=FormatError, line=row + 1)


def test_non_numeric_current_dta(tmp_path):
    path = write_dta(tmp_path / "bad.dta", TIME, CURRENT, newline="\n")
    lines = path.read_text(encoding="cp1252").split("\n")
    row = lines.index("\t#\ts\tV vs. Ref.\tA\tV\t\u00b0C") + 3  # the row of point 2
    fields = lines[row].split("\t")
    fields[4] = "overload"
    lines[row] = "\t".join(fields)
    path.write_text("\n".join(lines), encoding="cp1252")
    refused(path, "non-numeric", "'overload'", "Im", error=FormatError, line=row + 1)


@pytest.mark.parametrize("cell, phrase", [("nan", "missing"), ("NaN", "missing"),
                                          ("", "missing"), ("n/a", "missing"),
                                          ("inf", "infinite"),
                                          ("-inf", "infinite")])
def test_nan_and_inf_current(tmp_path, cell, phrase):
    path = csv(tmp_path, f"time/s,I/mA,Ewe/V\n0,1,0.1\n1,{cell},0.1\n2,3,0.1\n")
    refused(path, phrase, "current_a", error=FormatError, line=3)


def test_inf_current_mpt_decimal_comma(tmp_path):
    path = write_mpt(tmp_path / "inf.mpt", TIME, CURRENT, decimal=",")
    lines = path.read_text(encoding="latin-1").split("\n")
    row = len(lines) - 4
    fields = lines[row].split("\t")
    fields[6] = "inf"
    lines[row] = "\t".join(fields)
    path.write_text("\n".join(lines), encoding="latin-1")
    refused(path, "infinite", "current_a", error=FormatError, line=row + 1)


def test_time_goes_backwards(tmp_path):
    path = csv(tmp_path, "time/s,I/mA\n0,1\n10,2\n5,3\n20,4\n")
    refused(path, "backwards", "5 s after 10 s", error=FormatError, line=4)


def test_time_goes_backwards_mpt(tmp_path):
    t = TIME.copy()
    t[3], t[4] = t[4], t[3]
    path = write_mpt(tmp_path / "back.mpt", t, CURRENT)
    n_lines = len(path.read_text(encoding="latin-1").rstrip("\n").split("\n"))
    refused(path, "backwards", error=FormatError, line=n_lines - 1)


# -- columns and units -----------------------------------------------------------------
def test_no_current_column(tmp_path):
    path = csv(tmp_path, "time/s,Ewe/V\n0,0.1\n1,0.1\n")
    refused(path, "no current column", "current_col", error=FormatError)


@pytest.mark.parametrize("header", ["I/V", "Current (V)", "Current [mV]", "<I>/Ohm"])
def test_current_unit_not_a_current(tmp_path, header):
    path = csv(tmp_path, f"time/s,{header}\n0,1\n1,2\n")
    refused(path, repr(header), "not a current", "current_unit", error=InputError)


def test_bare_header_needs_current_unit(tmp_path):
    path = csv(tmp_path, "time,current\n0,1\n1,2\n2,3\n")
    refused(path, "'current'", "no unit", "current_unit", error=InputError)
    m = read(path, current_unit="nA")
    np.testing.assert_allclose(m.current_a, [1e-9, 2e-9, 3e-9])
    assert any("seconds" in w for w in m.warnings)


def test_override_unit_of_the_wrong_dimension(tmp_path):
    path = csv(tmp_path, "time,current\n0,1\n1,2\n")
    refused(path, "current_unit='V'", "not a unit of current", error=InputError,
            current_unit="V")
    refused(path, "time_unit='mA'", "not a unit of time", error=InputError, time_unit="mA",
            current_unit="nA")


# Review 4, D4: a unit option overrode the unit the file states (an .mpr's mA, a Gamry
# units row's A, "Current [nA]") without a word: --current-unit nA turned a Gamry file's
# sigma_e 2e-11 into 2e-20 S/cm, a false PASS.
@pytest.mark.parametrize(("writer", "column"), [
    (lambda p: write_table(p / "x.csv", TIME, CURRENT, current_unit="mA"), "I/mA"),
    (lambda p: write_table(p / "x.csv", TIME, CURRENT, current_unit="nA", style="bracket"),
     "I [nA]"),
    (lambda p: write_mpt(p / "x.mpt", TIME, CURRENT), "I/mA"),
    (lambda p: write_dta(p / "x.DTA", TIME, CURRENT), "Im")])
def test_a_unit_option_never_overrides_a_stated_unit(tmp_path, writer, column):
    path = writer(tmp_path)
    refused(path, repr(column), "states its unit", "current_unit='pA'",
            "does not state", error=InputError, current_unit="pA")
    m = read(path, current_unit="pA", stated_units="keep")  # many files at once
    np.testing.assert_allclose(m.current_a, CURRENT, rtol=1e-5)
    assert any("current_unit='pA' not applied" in w and repr(column) in w
               for w in m.warnings)


def test_a_unit_option_the_file_agrees_with_or_does_not_contradict(tmp_path):
    path = write_table(tmp_path / "x.csv", TIME, CURRENT, current_unit="uA")
    m = read(path, current_unit="\u00b5A", time_unit="s")  # the same units: no conflict
    np.testing.assert_allclose(m.current_a, CURRENT, rtol=1e-9)
    assert not any("unit" in w for w in m.warnings)
    refused(path, "'time/s'", "states its unit 's'", "time_unit='min'", error=InputError,
            time_unit="min")
    path = csv(tmp_path, "time/s,Current (V)\n0,1\n1,2\n", name="mislabelled.csv")
    m = read(path, current_unit="nA")  # "V" is no current: the option names the unit
    np.testing.assert_allclose(m.current_a, [1e-9, 2e-9])
    assert any("not a unit of current" in w for w in m.warnings)


@needs_realdata
def test_current_unit_option_on_a_real_mpr_is_refused():
    with pytest.raises(InputError, match=r"ca\.mpr.*'I/mA' states its unit 'mA'"):
        read(REALDATA / "biologic" / "ca.mpr", current_unit="nA")
    m = read(REALDATA / "biologic" / "ca.mpr", current_unit="mA")
    assert m.current_a[0] == pytest.approx(1.8604061e-05)


def test_headerless_table_needs_columns(tmp_path):
    path = csv(tmp_path, "0,1.5\n1,1.4\n2,1.3\n")
    refused(path, "no header row", "time_col", "current_col", error=InputError)
    m = read(path, time_col=0, current_col=1, current_unit="nA")
    np.testing.assert_allclose(m.current_a, [1.5e-9, 1.4e-9, 1.3e-9])


def test_column_override_that_does_not_exist(tmp_path):
    path = csv(tmp_path, "0,1.5\n1,1.4\n")
    refused(path, "column number 7", error=InputError, time_col=0, current_col=7,
            current_unit="nA")
    path = csv(tmp_path, "time/s,I/mA\n0,1\n", name="named.csv")
    refused(path, "no column named 'Im'", error=InputError, current_col="Im")


@pytest.mark.parametrize("overrides, phrase", [
    ({"area_cm2": -1}, "area_cm2"), ({"area_cm2": "big"}, "not a number"),
    ({"temperature_k": float("nan")}, "temperature_k"),
    ({"applied_voltage_v": 1e6}, "applied_voltage_v"),
    ({"technique": "dance"}, "unknown technique"), ({"format": "excel"}, "unknown format"),
])
def test_bad_overrides_name_the_file(tmp_path, overrides, phrase):
    path = csv(tmp_path, "time/s,I/mA\n0,1\n1,2\n")
    refused(path, phrase, error=InputError, **overrides)


# -- structure -------------------------------------------------------------------------
def test_row_with_extra_fields_small_csv(tmp_path):
    # Too few lines for the delimiter vote to tolerate the bad row: still a CSV.
    path = csv(tmp_path, "time/s,I/mA\n0,1\n1,2,5\n2,3\n")
    refused(path, "3 fields", "rows above have 2", error=FormatError, line=3)


def test_blank_line_after_header(tmp_path):
    path = csv(tmp_path, "time/s,I/mA\n\n0,1\n1,2\n")
    refused(path, "blank line", error=FormatError, line=2)


def test_unclosed_quote(tmp_path):
    path = csv(tmp_path, 'time/s,I/mA\n0,1\n"1,2\n2,3\n')
    refused(path, "quote", error=FormatError, line=3)


def test_mpt_header_count_beyond_the_file(tmp_path):
    path = write_mpt(tmp_path / "cut.mpt", TIME, CURRENT)
    lines = path.read_text(encoding="latin-1").split("\n")
    path.write_text("\n".join(lines[:20]), encoding="latin-1")
    refused(path, "Nb header lines", "cut or damaged", error=FormatError, line=2)


def test_mpt_header_without_data_rows(tmp_path):
    path = write_mpt(tmp_path / "none.mpt", TIME, CURRENT)
    lines = path.read_text(encoding="latin-1").split("\n")
    n_header = int(lines[1].split(":")[1])
    path.write_text("\n".join(lines[:n_header]) + "\n", encoding="latin-1")
    refused(path, "no data rows", error=FormatError)


def test_gamry_negative_notes_count_does_not_hang(tmp_path):
    path = write_dta(tmp_path / "notes.dta", TIME, CURRENT, newline="\n")
    text = path.read_text(encoding="cp1252").replace("NOTES\tNOTES\t1", "NOTES\tNOTES\t-1")
    path.write_text(text, encoding="cp1252")
    if hasattr(signal, "SIGALRM"):
        def _hung(signum, frame):
            raise AssertionError("read() hangs on a negative NOTES count")
        previous = signal.signal(signal.SIGALRM, _hung)
        signal.alarm(10)
    try:
        m = read(path)
    finally:
        if hasattr(signal, "SIGALRM"):
            signal.alarm(0)
            signal.signal(signal.SIGALRM, previous)
    np.testing.assert_allclose(m.current_a, CURRENT, rtol=1e-5)


def test_gamry_without_table(tmp_path):
    path = write_dta(tmp_path / "head.dta", TIME, CURRENT, newline="\n")
    lines = path.read_text(encoding="cp1252").split("\n")
    cut = next(k for k, ln in enumerate(lines) if ln.startswith("CURVE\tTABLE"))
    path.write_text("\n".join(lines[:cut]) + "\n", encoding="cp1252")
    refused(path, "no data TABLE", "CHRONOA", error=FormatError)


def test_whitespace_separated_table_reads(tmp_path):
    path = csv(tmp_path, "time/s   I/nA\n0   1.5\n1   1.4\n2   1.3\n", name="ws.txt")
    np.testing.assert_allclose(read(path).current_a, [1.5e-9, 1.4e-9, 1.3e-9])


@needs_realdata
@pytest.mark.realdata
def test_gamry_side_table_that_cannot_be_mapped_is_kept(tmp_path):
    raw = (REALDATA / "gamry" / "exampleDataGamry.DTA").read_bytes()
    # The OCVCURVE side table gets a current column without a unit; ZCURVE is intact.
    raw = raw.replace(b"\tPt\tT\tVf\tVm\tAch", b"\tPt\tT\tVf\tIm\tAch", 1)
    raw = raw.replace(b"\t#\ts\tV vs. Ref.\tV\tV", b"\t#\ts\tV vs. Ref.\t\tV", 1)
    path = tmp_path / "eis.DTA"
    path.write_bytes(raw)
    m = read(path)
    assert m.technique is Technique.IMPEDANCE
    assert len(m) == 72
    assert "Im" in m.tables["OCVCURVE"]


# -- real files: empty WAIT records, wrong techniques ----------------------------------
@needs_realdata
@pytest.mark.realdata
def test_wait_mpt_has_no_data_rows():
    refused(REALDATA / "biologic" / "wait.mpt", "no data rows", "wait", error=FormatError)


@needs_realdata
@pytest.mark.realdata
def test_wait_mpr_has_no_data_rows():
    refused(REALDATA / "biologic" / "wait.mpr", "no data rows", "wait", error=FormatError)


@pytest.mark.parametrize("name, phrase", [
    ("biologic/peis.issue_149.mpt", "impedance"),
    ("biologic/peis.issue_149.mpr", "impedance"),
    ("biologic/exampleDataBioLogic.mpt", "impedance"),
    ("gamry/exampleDataGamry.DTA", "impedance"),
    ("biologic/cp.issue_149.mpr", "constant-current"),
    ("gamry/ocp_data.dta", "open-circuit"),
])
@needs_realdata
@pytest.mark.realdata
def test_wrong_technique_for_dc_polarization(name, phrase):
    path = REALDATA / name
    m = read(path)
    with pytest.raises(TechniqueError) as info:
        m.require(Technique.CONSTANT_VOLTAGE, purpose="DC polarization")
    msg = str(info.value)
    assert "\n" not in msg
    assert path.name in msg
    assert phrase in msg
    assert "DC polarization needs" in msg


@pytest.mark.parametrize("name", ["biologic/ca.mpt", "biologic/ca.mpr",
                                  "biologic/ca.issue_149.mpr", "gamry/chronoa_data.dta"])
@needs_realdata
@pytest.mark.realdata
def test_constant_voltage_files_pass_require(name):
    m = read(REALDATA / name)
    assert m.require(Technique.CONSTANT_VOLTAGE, purpose="DC polarization") is m


# -- values that must not slip through as numbers --------------------------------------
def test_infinite_setpoint_in_mpt_header_is_ignored(tmp_path):
    path = write_mpt(tmp_path / "ei.mpt", TIME, CURRENT, applied_voltage_v=0.25)
    text = path.read_text(encoding="latin-1")
    assert "Ei (V)              0.250" in text
    path.write_text(text.replace("Ei (V)              0.250", "Ei (V)              1e999"),
                    encoding="latin-1")
    m = read(path)
    assert m.applied_voltage_v == pytest.approx(0.25)  # from the control column instead
    assert any("control column" in w for w in m.warnings)


def test_infinite_temperature_in_table_metadata(tmp_path):
    path = csv(tmp_path, "# temperature: 1e999 C\ntime/s,I/mA\n0,1\n1,2\n")
    refused(path, "temperature", "finite", error=FormatError, line=1)


def test_empty_temperature_column_states_no_temperature(tmp_path):
    path = csv(tmp_path, "time/s,I/mA,Temperature/K\n0,1,\n1,2,\n2,3,\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = read(path)
    assert m.temperature_k is None


def test_damaged_mpr_leaves_no_file_open(tmp_path):
    path = tmp_path / "damaged.mpr"
    path.write_bytes(MPR_MAGIC + b"\x00" * 64 + b"MODULE" + b"\xff" * 40)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        refused(path, "no module starts at byte 52", "damaged", ".mpt", error=FormatError)
        gc.collect()
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]


def test_mixed_decimal_marks(tmp_path):
    path = csv(tmp_path, "time/s;I/mA;E/V\n0;1,5;0.1\n1;2,5;0.1\n")
    refused(path, "'1,5'", "decimal comma among decimal points", error=FormatError, line=2)


def test_quoted_decimal_commas_read(tmp_path):
    path = csv(tmp_path, '"time/s";"I/mA"\n"0";"1,5"\n"1";"2,5"\n')
    np.testing.assert_allclose(read(path).current_a, [1.5e-3, 2.5e-3])


def test_followups_comment_tail_unknown_area_unit_and_timestamps(tmp_path):
    """Trailing comments are not a truncated row; an unknown area unit is not read as cm2;
    absolute time stamps get a hint that points the right way."""
    import numpy as np

    from sescreen.io import read
    from sescreen.io.writers import write_mpt

    p = tmp_path / "tail.csv"
    p.write_text("time/s,I/mA\n0,1\n1,0.5\n2,0.4\n# end of run\n\n")
    assert len(read(p)) == 3
    t = np.arange(0.0, 50.0)
    mpt = write_mpt(tmp_path / "a.mpt", t, 1e-9 * (1 + np.exp(-t / 5)), area_cm2=0.5)
    text = mpt.read_text(encoding="latin-1").replace("0.500 cm\u00b2", "0.500 furlong2")
    mpt.write_text(text, encoding="latin-1")
    m = read(mpt)
    assert m.area_cm2 is None and any("furlong2" in w for w in m.warnings)
    p = tmp_path / "stamps.csv"
    p.write_text("time/s,I/mA\n03/02/2021 16:17:59,1\n03/02/2021 16:18:59,0.5\n")
    with pytest.raises(FormatError, match="absolute time stamps"):
        read(p)

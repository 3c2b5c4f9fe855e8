"""Property tests of the readers: any input gives a Measurement or a one-line SescreenError,
and every text dialect the writers produce reads back to the numbers written.

Real instrument files are read from ``../shared/realdata`` (beside the repository); the
tests that mutate them skip when that folder is absent.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sescreen.errors import SescreenError
from sescreen.io import Measurement, read
from sescreen.io.mpr import MPR_MAGIC
from sescreen.io.writers import write_dta, write_mpt, write_table

REALDATA = Path(__file__).resolve().parents[1].parent / "shared" / "realdata"
SUFFIXES = (".mpt", ".mpr", ".dta", ".csv", ".txt")
TIME_LIMIT_S = 20  # one read() of a few hundred kB takes milliseconds

FUZZ = settings(max_examples=80, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
ROUND_TRIP = settings(max_examples=60, deadline=None,
                      suppress_health_check=[HealthCheck.too_slow])


# -- helpers ---------------------------------------------------------------------------
@contextlib.contextmanager
def _time_limit(seconds: int):
    """Fail (instead of hanging the suite) when the body runs longer than ``seconds``."""
    if not hasattr(signal, "SIGALRM"):  # Windows: no alarm, no hang detection
        yield
        return

    def _hung(signum, frame):
        raise AssertionError(f"read() did not return within {seconds} s (a hang)")

    previous = signal.signal(signal.SIGALRM, _hung)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _read_or_refuse(path: Path, **overrides) -> Measurement | None:
    """read() must return a Measurement or raise a one-line SescreenError naming the file."""
    try:
        with _time_limit(TIME_LIMIT_S):
            m = read(path, **overrides)
    except SescreenError as exc:
        msg = str(exc)
        assert "\n" not in msg and "\r" not in msg, f"multi-line message: {msg!r}"
        assert str(path) in msg, f"message does not name the file: {msg!r}"
        assert len(msg) > len(str(path)) + 10, f"message says nothing: {msg!r}"
        return None
    assert isinstance(m, Measurement)
    assert "time_s" in m.data
    assert np.isfinite(m.time_s).all()
    assert (np.diff(m.time_s) >= 0).all()
    if "current_a" in m.data:
        assert np.isfinite(m.current_a).all()
    return m


def _check_bytes(content: bytes, suffix: str, **overrides) -> Measurement | None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"sample{suffix}"
        path.write_bytes(content)
        return _read_or_refuse(path, **overrides)


# -- arbitrary bytes -------------------------------------------------------------------
_TOKENS = [
    "EC-Lab ASCII FILE\n", "Nb header lines : 3\n", "Nb header lines : 6\n", "EXPLAIN\n",
    "TAG\tCHRONOA\n", "TAG\tCORPOT\n", "CURVE\tTABLE\t3\n", "ZCURVE\tTABLE\n",
    "NOTES\tNOTES\t2\n", "NOTES\tNOTES\t-1\n", "\tPt\tT\tIm\tVf\n", "\t#\ts\tA\tV\n",
    "time/s", "I/mA", "<I>/mA", "Ewe/V", "control/V", "Ns", "mode", "Time (s)",
    "Current [nA]", "I/V", "Temp", "deg C", "\u00b5A", "# area: 1 cm2\n", "# voltage: x\n",
    "Chronoamperometry\n", "Ei (V)              0.100               \n",
    "1", "2.5", "-3e-9", "1,5", "1e400", "nan", "inf", "-", ".", "e", "0x1",
    "\t", "\n", "\r\n", "\r", ",", ";", "|", " ", "  ", '"', "#", "\ufeff",
]
_texts = st.lists(st.sampled_from(_TOKENS), max_size=80).map("".join)
_encoded = st.tuples(_texts, st.sampled_from(["utf-8", "latin-1", "cp1252", "utf-16"])).map(
    lambda te: te[0].encode(te[1], errors="replace"))
_magic = st.sampled_from([b"", MPR_MAGIC, b"EC-Lab ASCII FILE\r\n", b"EXPLAIN\r\n",
                          b"\xef\xbb\xbf"])
_anything = st.one_of(
    st.binary(max_size=3000),
    _encoded,
    st.tuples(_magic, st.binary(max_size=2000)).map(b"".join),
    st.tuples(_magic, _encoded).map(b"".join),
)


@pytest.mark.parametrize("suffix", SUFFIXES)
@FUZZ
@given(content=_anything)
def test_arbitrary_bytes_read_or_refuse(suffix, content):
    _check_bytes(content, suffix)


@FUZZ
@given(content=_encoded, allow_truncated=st.booleans(),
       overrides=st.fixed_dictionaries({}, optional={
           "time_col": st.sampled_from([0, 1, "time/s", "T", "nope"]),
           "current_col": st.sampled_from([1, 2, "I/mA", "Im", "nope", 99]),
           "current_unit": st.sampled_from(["mA", "nA", "V", "furlong"]),
       }))
def test_text_with_overrides_read_or_refuse(content, allow_truncated, overrides):
    _check_bytes(content, ".csv", allow_truncated=allow_truncated, **overrides)


# Lines that make a backtracking regex or a per-slash unit lookup take quadratic (or worse)
# time: (repeated token, file text with {r} where the repeats go, suffix).
_PATHOLOGICAL = {
    "comment_of_blanks": (" ", "# {r}\ntime/s,I/mA\n0,1\n1,2\n", ".csv"),
    "comment_value_of_blanks": (" ", "# temperature: 30{r}x\ntime/s,I/mA\n0,1\n", ".csv"),
    "header_of_slashes": ("a/", "time/s,I/mA,{r}x\n0,1,2\n1,2,3\n", ".csv"),
    "header_of_blanks": (" ", "time/s,I/mA,x/a{r}b\n0,1,2\n1,2,3\n", ".csv"),
    "header_of_blanks_and_bracket": (" ", "time/s,I/mA,x{r}b)\n0,1,2\n1,2,3\n", ".csv"),
    "header_of_brackets": (" (", "time/s,I/mA,x{r})\n0,1,2\n1,2,3\n", ".csv"),
    "mpt_header_of_slashes": ("a/", "time/s\tI/mA\t{r}\n0\t1\t2\n", ".mpt"),
    "dta_unit_of_blanks": (" ", "EXPLAIN\nTAG\tCHRONOA\nCURVE\tTABLE\t1\n\tPt\tT\tIm\n"
                                "\t#\ts\tA{r}b\n\t0\t1\t2\n", ".dta"),
    "metadata_unit_of_slashes": ("c/", "# area: 1 {r}c\ntime/s,I/mA\n0,1\n", ".csv"),
}


def _child_read(path: str) -> None:
    try:
        read(path)
    except SescreenError as exc:
        if "\n" in str(exc):
            os._exit(3)
    os._exit(0)


@pytest.mark.skipif(sys.platform == "win32", reason="needs fork to stop a stuck read")
@pytest.mark.parametrize("case", sorted(_PATHOLOGICAL))
@settings(max_examples=4, deadline=None)
@given(repeat=st.integers(20_000, 60_000))
def test_pathological_lines_are_read_quickly(case, repeat):
    # A regex stuck in C ignores signals: read in a forked child and stop it after 5 s.
    token, template, suffix = _PATHOLOGICAL[case]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"long{suffix}"
        path.write_text(template.replace("{r}", token * repeat), encoding="utf-8")
        child = multiprocessing.get_context("fork").Process(target=_child_read,
                                                            args=(str(path),))
        child.start()
        child.join(5)
        if child.is_alive():
            child.kill()
            child.join()
            pytest.fail(f"read() did not return within 5 s ({case}, {repeat} repeats)")
    assert child.exitcode == 0, f"read() failed with exit code {child.exitcode} ({case})"


# -- mutated real files ----------------------------------------------------------------
_REAL_TEXT = ["biologic/ca.mpt", "biologic/peis.issue_149.mpt",
              "biologic/exampleDataBioLogic.mpt", "gamry/chronoa_data.dta",
              "gamry/exampleDataGamry.DTA", "gamry/ocp_data.dta"]
_REAL_BINARY = ["biologic/ca.mpr", "biologic/ca.issue_149.mpr", "biologic/cp.issue_149.mpr",
                "biologic/peis.issue_149.mpr", "biologic/zir.mpr", "biologic/cv.issue_149.mpr",
                "biologic/gcpl.issue_149.mpr", "biologic/peis.issue_225.no_ece.mpr"]
needs_realdata = pytest.mark.skipif(not REALDATA.is_dir(),
                                    reason=f"real instrument files not found in {REALDATA}")

# A mutation is (kind, where in the file as a fraction, length, payload).
_mutation = st.tuples(
    st.sampled_from(["delete", "duplicate_line", "replace", "truncate", "dot_to_comma",
                     "insert_nul", "crlf", "lf", "reencode", "insert"]),
    st.floats(0, 1),
    st.integers(0, 300),
    st.one_of(st.binary(min_size=1, max_size=16),
              st.sampled_from([b"nan", b"inf", b"-", b"\t", b"\t\t", b"\n", b"\r", b'"',
                               b"1e999", b"abc", b",", b";", b" ", b"\xb5", b"\xff\xfe"])),
)


def _mutate(data: bytes, mutations) -> bytes:
    for kind, where, length, payload in mutations:
        i = int(where * len(data))
        if kind == "delete":
            data = data[:i] + data[i + length:]
        elif kind == "duplicate_line":
            lines = data.split(b"\n")
            k = int(where * (len(lines) - 1))
            lines.insert(k, lines[k])
            data = b"\n".join(lines)
        elif kind == "replace":
            data = data[:i] + payload + data[i + len(payload):]
        elif kind == "truncate":
            data = data[:i]
        elif kind == "dot_to_comma":
            data = data.replace(b".", b",")
        elif kind == "insert_nul":
            data = data[:i] + b"\x00" + data[i:]
        elif kind == "crlf":
            data = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        elif kind == "lf":
            data = data.replace(b"\r\n", b"\n")
        elif kind == "reencode":
            enc = ["utf-8", "utf-8-sig", "utf-16", "cp1252"][length % 4]
            data = data.decode("latin-1").encode(enc, errors="replace")
        elif kind == "insert":
            data = data[:i] + payload + data[i:]
    return data


@pytest.fixture(scope="module")
def real_bytes():
    return {name: (REALDATA / name).read_bytes() for name in _REAL_TEXT + _REAL_BINARY}


@needs_realdata
@pytest.mark.realdata
@pytest.mark.parametrize("name", _REAL_TEXT)
@settings(max_examples=40, deadline=None, suppress_health_check=[
    HealthCheck.too_slow])
@given(mutations=st.lists(_mutation, min_size=1, max_size=4),
       suffix=st.sampled_from([None, ".txt", ".csv"]))
def test_mutated_real_text_files_read_or_refuse(real_bytes, name, mutations, suffix):
    _check_bytes(_mutate(real_bytes[name], mutations), suffix or Path(name).suffix)


@needs_realdata
@pytest.mark.realdata
@pytest.mark.parametrize("name", _REAL_BINARY)
@settings(max_examples=40, deadline=None, suppress_health_check=[
    HealthCheck.too_slow])
@given(mutations=st.lists(_mutation.filter(lambda m: m[0] in {
    "delete", "replace", "truncate", "insert_nul", "insert"}), min_size=1, max_size=3))
def test_mutated_real_mpr_files_read_or_refuse(real_bytes, name, mutations):
    _check_bytes(_mutate(real_bytes[name], mutations), ".mpr")


@needs_realdata
@pytest.mark.realdata
@pytest.mark.parametrize("name", _REAL_TEXT + _REAL_BINARY)
def test_unmutated_real_files_read(name):
    m = _read_or_refuse(REALDATA / name)
    assert m is not None and len(m) > 0


def _decoded(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252")


_BENIGN = {
    "crlf": lambda b: b.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"),
    "lf": lambda b: b.replace(b"\r\n", b"\n"),
    "cr": lambda b: b.replace(b"\r\n", b"\n").replace(b"\n", b"\r"),
    "utf-8": lambda b: _decoded(b).encode("utf-8"),
    "utf-8-bom": lambda b: _decoded(b).encode("utf-8-sig"),
    "trailing_blank_lines": lambda b: b + b"\n\n\n",
    "no_final_newline": lambda b: b.rstrip(b"\r\n"),
}


@needs_realdata
@pytest.mark.realdata
@pytest.mark.parametrize("rewrite", sorted(_BENIGN))
@pytest.mark.parametrize("name", _REAL_TEXT)
def test_benign_rewrites_keep_the_numbers(real_bytes, tmp_path, name, rewrite):
    """Line endings, encoding, a BOM or blank lines at the end change nothing read."""
    reference = read(REALDATA / name)
    path = tmp_path / Path(name).name
    path.write_bytes(_BENIGN[rewrite](real_bytes[name]))
    m = read(path)
    pd.testing.assert_frame_equal(m.data, reference.data)
    for attr in ("technique", "applied_voltage_v", "area_cm2", "temperature_k", "start_time"):
        assert getattr(m, attr) == getattr(reference, attr), attr


# -- round trips -----------------------------------------------------------------------
@st.composite
def _records(draw, min_size=1, max_size=40):
    """Strictly increasing finite times (s) and currents of 1e-12..1e-2 A, either sign."""
    n = draw(st.integers(min_size, max_size))
    t0 = draw(st.one_of(st.just(0.0), st.floats(0, 1e5)))
    steps = draw(st.lists(st.floats(1e-3, 1e4), min_size=n, max_size=n))
    time_s = t0 + np.cumsum(steps) - steps[0]
    assume(np.all(np.diff(time_s) > 0))
    exponents = draw(st.lists(st.floats(-12, -2), min_size=n, max_size=n))
    signs = draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=n, max_size=n))
    current_a = np.array(signs) * 10.0 ** np.array(exponents)
    return time_s, current_a


def _assert_round_trip(m: Measurement, time_s, current_a, rtol: float) -> None:
    assert len(m) == len(time_s)
    # Times keep their absolute precision relative to the largest time written.
    np.testing.assert_allclose(m.time_s, time_s, rtol=rtol, atol=rtol * float(time_s[-1]))
    np.testing.assert_allclose(m.current_a, current_a, rtol=rtol, atol=0)


@ROUND_TRIP
@given(record=_records(),
       encoding=st.sampled_from(["latin-1", "cp1252", "utf-8"]),
       newline=st.sampled_from(["\n", "\r\n"]),
       decimal=st.sampled_from([".", ","]),
       current_header=st.sampled_from(["I/mA", "<I>/mA", "I/\u00b5A", "I/uA"]),
       header_block=st.booleans(),
       suffix=st.sampled_from([".mpt", ".txt"]))
def test_round_trip_mpt(record, encoding, newline, decimal, current_header, header_block,
                        suffix):
    time_s, current_a = record
    with tempfile.TemporaryDirectory() as tmp:
        path = write_mpt(Path(tmp) / f"rt{suffix}", time_s, current_a, encoding=encoding,
                         newline=newline, decimal=decimal, current_header=current_header,
                         header_block=header_block)
        m = _read_or_refuse(path)
        assert m is not None, "a file written by write_mpt was refused"
    # Without the header block only the extension says EC-Lab; a .txt is read as a table.
    assert m.format == ("biologic-mpt" if header_block or suffix == ".mpt" else "table")
    _assert_round_trip(m, time_s, current_a, rtol=1e-6)
    if header_block:
        assert m.applied_voltage_v == pytest.approx(0.1)
        assert m.area_cm2 == pytest.approx(1.0)
        assert m.technique.value == "constant_voltage"


@ROUND_TRIP
@given(record=_records(),
       encoding=st.sampled_from(["latin-1", "cp1252", "utf-8"]),
       newline=st.sampled_from(["\n", "\r\n"]),
       decimal=st.sampled_from([".", ","]),
       suffix=st.sampled_from([".dta", ".DTA", ".txt"]),
       applied=st.floats(-5, 5))
def test_round_trip_dta(record, encoding, newline, decimal, suffix, applied):
    time_s, current_a = record
    with tempfile.TemporaryDirectory() as tmp:
        path = write_dta(Path(tmp) / f"rt{suffix}", time_s, current_a, encoding=encoding,
                         newline=newline, decimal=decimal, applied_voltage_v=applied)
        m = _read_or_refuse(path)
        assert m is not None, "a file written by write_dta was refused"
    assert m.format == "gamry-dta"
    _assert_round_trip(m, time_s, current_a, rtol=1e-5)
    assert m.applied_voltage_v == pytest.approx(applied, rel=1e-5, abs=1e-9)
    assert m.technique.value == "constant_voltage"


_TABLE_DIALECTS = st.one_of(
    st.tuples(st.just(","), st.just(".")),
    st.tuples(st.just(";"), st.just(",")),
    st.tuples(st.just(";"), st.just(".")),
    st.tuples(st.just("\t"), st.sampled_from([".", ","])),
)


@ROUND_TRIP
@given(record=_records(),
       dialect=_TABLE_DIALECTS,
       style=st.sampled_from(["slash", "paren", "bracket", "angle"]),
       current_unit=st.sampled_from(["A", "mA", "uA", "\u00b5A", "nA", "pA"]),
       time_unit=st.sampled_from(["s", "min", "h", "ms"]),
       names=st.sampled_from([("time", "I", "Ewe"), ("Time", "Current", "Voltage"),
                              ("t", "Im", "E"), ("Elapsed Time", "Cell Current", "Ewe")]),
       with_voltage=st.booleans(),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "latin-1"]),
       newline=st.sampled_from(["\n", "\r\n"]),
       suffix=st.sampled_from([".csv", ".txt", ".tsv", ".dat"]))
def test_round_trip_table(record, dialect, style, current_unit, time_unit, names,
                          with_voltage, encoding, newline, suffix):
    time_s, current_a = record
    sep, decimal = dialect
    voltage = np.full(len(time_s), 0.25) if with_voltage else None
    with tempfile.TemporaryDirectory() as tmp:
        path = write_table(Path(tmp) / f"rt{suffix}", time_s, current_a, voltage_v=voltage,
                           sep=sep, decimal=decimal, style=style, current_unit=current_unit,
                           time_unit=time_unit, names=names, encoding=encoding,
                           newline=newline)
        m = _read_or_refuse(path)
        assert m is not None, "a file written by write_table was refused"
    assert m.format == "table"
    _assert_round_trip(m, time_s, current_a, rtol=1e-9)
    if with_voltage:
        np.testing.assert_allclose(m.data["voltage_v"], 0.25)


@ROUND_TRIP
@given(record=_records(),
       current_unit=st.sampled_from(["mA", "uA", "nA"]),
       style=st.sampled_from(["slash", "angle"]))
def test_round_trip_whitespace_table(record, current_unit, style):
    time_s, current_a = record
    with tempfile.TemporaryDirectory() as tmp:
        path = write_table(Path(tmp) / "rt.txt", time_s, current_a, sep="  ", style=style,
                           current_unit=current_unit)
        m = _read_or_refuse(path)
        assert m is not None, "a whitespace-separated table was refused"
    _assert_round_trip(m, time_s, current_a, rtol=1e-9)


@ROUND_TRIP
@given(record=_records(), sep=st.sampled_from([",", ";", "\t"]),
       current_unit=st.sampled_from(["A", "mA", "nA", "pA"]))
def test_round_trip_headerless_table(record, sep, current_unit):
    time_s, current_a = record
    with tempfile.TemporaryDirectory() as tmp:
        path = write_table(Path(tmp) / "rt.csv", time_s, current_a, sep=sep,
                           current_unit=current_unit, header=False)
        m = _read_or_refuse(path, time_col=0, current_col=1, current_unit=current_unit)
        assert m is not None, "a headerless table with explicit columns was refused"
    _assert_round_trip(m, time_s, current_a, rtol=1e-9)


@ROUND_TRIP
@given(record=_records(min_size=2, max_size=30),
       writer=st.sampled_from(["mpt", "dta", "csv", "semicolon", "tab", "blank"]),
       newline=st.sampled_from(["\n", "\r\n"]),
       keep=st.floats(0, 1, exclude_max=True))
def test_truncated_last_row(record, writer, newline, keep):
    """A last row cut at a field boundary is refused at its line, or dropped on request."""
    time_s, current_a = record
    with tempfile.TemporaryDirectory() as tmp:
        if writer == "mpt":
            path = write_mpt(Path(tmp) / "cut.mpt", time_s, current_a)
            sep, lead, rtol = "\t", "", 1e-6
        elif writer == "dta":
            path = write_dta(Path(tmp) / "cut.dta", time_s, current_a, newline="\n")
            sep, lead, rtol = "\t", "\t", 1e-5
        else:
            sep, decimal = {"csv": (",", "."), "semicolon": (";", ","), "tab": ("\t", "."),
                            "blank": (" ", ".")}[writer]
            path = write_table(Path(tmp) / "cut.txt", time_s, current_a, sep=sep,
                               decimal=decimal, voltage_v=np.full(len(time_s), 0.5))
            lead, rtol = "", 1e-9
        raw = path.read_bytes().decode("latin-1").replace("\r\n", "\n")
        lines = raw.rstrip("\n").split("\n")
        fields = lines[-1][len(lead):].rstrip(sep).split(sep)
        n_keep = 1 + int(keep * (len(fields) - 1))  # 1 .. all but one field
        lines[-1] = lead + sep.join(fields[:n_keep])
        path.write_bytes((newline.join(lines) + newline).encode("latin-1"))
        with pytest.raises(SescreenError) as info:
            read(path)
        assert "truncated" in str(info.value)
        assert info.value.line == len(lines)
        m = _read_or_refuse(path, allow_truncated=True)
    assert m is not None
    _assert_round_trip(m, time_s[:-1], current_a[:-1], rtol=rtol)
    assert any("truncated" in w for w in m.warnings)


# A file cut anywhere inside its last row (copied while the instrument was writing) gives
# the rows above it exactly, or every row when only a trailing delimiter was lost; never a
# value cut short (review 4, D11: "1.000056e-06" read as 1.000056 A).
_CUT_WRITERS = {
    "csv": lambda p, t, i: write_table(p / "x.csv", t, i),
    "tsv_nA": lambda p, t, i: write_table(p / "x.tsv", t, i, sep="\t", current_unit="nA"),
    "mpt": lambda p, t, i: write_mpt(p / "x.mpt", t, i),
    "mpt_comma": lambda p, t, i: write_mpt(p / "x.mpt", t, i, decimal=","),
    "dta": lambda p, t, i: write_dta(p / "x.DTA", t, i, newline="\n"),
}


@ROUND_TRIP
@given(writer=st.sampled_from(sorted(_CUT_WRITERS)), n=st.integers(2, 30),
       seed=st.integers(0, 2**16), data=st.data())
def test_a_file_cut_inside_its_last_row_never_reads_a_cut_value(writer, n, seed, data):
    rng = np.random.default_rng(seed)
    t = np.arange(n) * 5.0
    i = rng.uniform(1e-7, 9e-6, n) * rng.choice([-1, 1], n)
    with tempfile.TemporaryDirectory() as tmp:
        path = _CUT_WRITERS[writer](Path(tmp), t, i)
        raw = path.read_bytes().rstrip(b"\r\n")
        last = max(raw.rfind(b"\n"), raw.rfind(b"\r")) + 1
        path.write_bytes(raw[:data.draw(st.integers(last + 1, len(raw)), label="cut")])
        m = _read_or_refuse(path, allow_truncated=True)
    assert m is not None and len(m) >= n - 1
    np.testing.assert_allclose(m.current_a, i[:len(m)], rtol=1e-5)
    np.testing.assert_allclose(m.time_s, t[:len(m)], rtol=1e-9)

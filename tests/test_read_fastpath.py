"""The file path of the text readers (head sniffed, body parsed in C straight from the file)
gives the same Measurement, or the same error, as the in-memory path (the whole file decoded,
split into lines and the rows parsed from a string: the readers before issue 15).

The tables are written here by hand, not by ``sescreen.io.writers``: Python's ``csv``
module or string building with odd spacing, quotes, trailing delimiters, CRLF or CR line
ends, BOMs, metadata and comment lines, blank lines, decimal commas, several encodings,
text columns, and a last row cut anywhere by a running instrument. The head and tail
windows are made small so that small files take every branch a large one takes (growing
the head, searching the tail backwards, the guarded streaming body).
"""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import sescreen.io
import sescreen.io.rows as rows
import sescreen.io.textfile as textfile
from sescreen.errors import SescreenError
from sescreen.io import read
from sescreen.io.rows import decode_text
from sescreen.io.textfile import TextLines

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _in_memory(path, fh, head, size, encoding=None):
    fh.seek(0)
    return TextLines(path, decode_text(fh.read(), path))


def _outcome(path: Path, **kw):
    try:
        m = read(path, **kw)
    except SescreenError as exc:
        return ("error", type(exc).__name__, str(exc))
    return m


def _same(path: Path, head: int, tail: int, chunk_rows: int = 0, parallel: bool = False,
          **kw) -> None:
    mp = pytest.MonkeyPatch()
    try:
        if chunk_rows:  # the large-body path: rows gathered column by column, in chunks
            mp.setattr(textfile, "STREAM_BYTES", 0)
            mp.setattr(rows, "CHUNK_ROWS", chunk_rows)
        if parallel:  # a UTF-8 body to the end of the file: pandas reads the path itself
            mp.setattr(textfile, "PARALLEL_BYTES", 0)
        mp.setattr(textfile, "HEAD_BYTES", head)
        mp.setattr(sescreen.io, "HEAD_BYTES", head)
        mp.setattr(textfile, "TAIL_BYTES", tail)
        fast = _outcome(path, **kw)
        mp.setattr(sescreen.io, "TextFile", _in_memory)
        slow = _outcome(path, **kw)
    finally:
        mp.undo()
    if isinstance(slow, tuple) or isinstance(fast, tuple):
        assert fast == slow
        return
    pd.testing.assert_frame_equal(fast.data, slow.data)
    for attr in ("format", "technique", "technique_name", "applied_voltage_v", "area_cm2",
                 "temperature_k", "start_time", "instrument", "software_version", "columns",
                 "settings", "warnings"):
        assert getattr(fast, attr) == getattr(slow, attr), attr


# -- generated tables ----------------------------------------------------------------------
_NUMBER_FORMATS = ["{:.10g}", "{:.3e}", "{:.6f}", "{:.15E}", "{:g}"]
_HEADERS = [("time/s", "I/mA", "Ewe/V"), ("Time (s)", "Current (\u00b5A)", "Voltage (V)"),
            ("t [s]", "Current [nA]", "E [V]"), ("<time>/s", "<I>/mA", "<Ewe>/V"),
            ("time", "I", "Ewe")]


@st.composite
def tables(draw):
    n = draw(st.integers(1, 70))
    sep = draw(st.sampled_from([",", ";", "\t", "|", " ", "   "]))
    decimal = draw(st.sampled_from([".", ","])) if sep not in {","} else "."
    fmt = draw(st.sampled_from(_NUMBER_FORMATS))
    t = np.cumsum(draw(st.lists(st.floats(1e-3, 1e3), min_size=n, max_size=n)))
    i = draw(st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=n, max_size=n))
    cols = [[fmt.format(x) for x in t], [fmt.format(x) for x in i]]
    heads = list(draw(st.sampled_from(_HEADERS))[:2])
    if draw(st.booleans()):
        cols.append([fmt.format(0.1 + 1e-3 * k) for k in range(n)])
        heads.append(draw(st.sampled_from(_HEADERS))[2])
    if draw(st.booleans()):  # a text column (a note, with a non-ASCII character)
        cols.append([draw(st.sampled_from(["ok", "r\u00e9f", "note 1", ""])) for _ in range(n)])
        heads.append("comment")
    if decimal == ",":
        cols = [[c.replace(".", ",") for c in col] for col in cols]
    rows = [list(r) for r in zip(*cols, strict=True)]
    pad = draw(st.sampled_from(["", " ", "  "])) if sep.strip() else ""
    how = draw(st.sampled_from(["join", "csv"] if sep.strip() else ["join"]))
    header = draw(st.booleans())
    lines: list[str] = []
    for _ in range(draw(st.integers(0, 3))):
        lines.append(draw(st.sampled_from(["# area: 0.785 cm2", "# voltage = 0.1 V",
                                           "% temperature: 30 C", "#", "",
                                           "# technique: chronoamperometry",
                                           "# operator: J\u00fcrgen"])))
    if how == "csv":
        buf = io.StringIO()
        quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL,
                                        csv.QUOTE_NONNUMERIC]))
        w = csv.writer(buf, delimiter=sep, quoting=quoting, lineterminator="\n")
        if header:
            w.writerow(heads)
        w.writerows(rows)
        lines += buf.getvalue().rstrip("\n").split("\n")
    else:
        trailing = draw(st.sampled_from(["", sep])) if sep.strip() else ""
        glue = pad + sep + pad if sep.strip() else sep
        if header:
            lines.append(glue.join(heads) + trailing)
        lines += [glue.join(r) + trailing for r in rows]
    if draw(st.booleans()) and len(lines) > 1:  # cut the last row: a running instrument
        last = lines[-1]
        lines[-1] = last[:draw(st.integers(0, max(0, len(last) - 1)))]
    lines += draw(st.lists(st.sampled_from(["", "# end of run", "  ", "% stop"]),
                           max_size=3))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = newline.join(lines) + draw(st.sampled_from(["", newline]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "cp1252"]))
    data = text.encode(encoding, errors="replace")
    kw = {}
    if not header:
        kw = dict(time_col=0, current_col=1, current_unit="mA")
    if draw(st.booleans()):
        kw["allow_truncated"] = True
    return data, kw


@SETTINGS
@given(table=tables(), head=st.sampled_from([64, 300, 4096, 1 << 18]),
       tail=st.sampled_from([8, 100, 1 << 16]), suffix=st.sampled_from([".csv", ".txt"]),
       chunk_rows=st.sampled_from([0, 0, 1, 7]), parallel=st.booleans())
def test_tables_read_the_same_from_the_file_and_from_memory(table, head, tail, suffix,
                                                            chunk_rows, parallel):
    data, kw = table
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"t{suffix}"
        path.write_bytes(data)
        _same(path, head, tail, chunk_rows, parallel, **kw)


@st.composite
def mpts(draw):
    n = draw(st.integers(1, 70))
    decimal = draw(st.sampled_from([".", ","]))
    t = np.cumsum(draw(st.lists(st.floats(1e-2, 1e3), min_size=n, max_size=n)))
    heads = ["mode", "ox/red", "error", "time/s", "control/V", "Ewe/V",
             draw(st.sampled_from(["I/mA", "<I>/mA", "I/\u00b5A"])), "cycle number"]
    rows = [["2", "1", "0", f"{x:.15E}", "1.0000000E-001", "1.0001000E-001",
             f"{1e-3 * (1 + k % 7):.7E}", "0.000000000000000E+000"] for k, x in enumerate(t)]
    if decimal == ",":
        rows = [[c.replace(".", ",") for c in r] for r in rows]
    table = ["\t".join(heads) + "\t"] + ["\t".join(r) + "\t" for r in rows]
    if draw(st.booleans()):
        table[-1] = table[-1][:draw(st.integers(0, len(table[-1]) - 1))]
    header = ["", "Chronoamperometry / Chronocoulometry", "",
              "Acquisition started on : 04/29/2019 15:43:07.000", "Device : VMP3",
              f"Electrode surface area : 0{decimal}785 cm\u00b2",
              "Ei (V)              0.100               ", "vs.                 Ref",
              *draw(st.lists(st.sampled_from(["Comments : \u00b5 test", "User : ", ""]),
                             max_size=40))]
    if draw(st.booleans()):
        lines = ["EC-Lab ASCII FILE", f"Nb header lines : {len(header) + 3}", *header, *table]
    else:
        lines = table
    lines += draw(st.lists(st.sampled_from(["", "  "]), max_size=2))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    encoding = draw(st.sampled_from(["latin-1", "cp1252", "utf-8", "utf-8-sig"]))
    return (newline.join(lines) + newline).encode(encoding, errors="replace"), \
        {"allow_truncated": draw(st.booleans())}


@SETTINGS
@given(mpt=mpts(), head=st.sampled_from([64, 300, 4096, 1 << 18]),
       tail=st.sampled_from([8, 100, 1 << 16]), chunk_rows=st.sampled_from([0, 0, 3]))
def test_mpt_read_the_same_from_the_file_and_from_memory(mpt, head, tail, chunk_rows):
    data, kw = mpt
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.mpt"
        path.write_bytes(data)
        _same(path, head, tail, chunk_rows, **kw)


@st.composite
def dtas(draw):
    """A Gamry DTA file: header (notes, non-ASCII descriptions), perhaps an open-circuit
    table first, the CURVE table, and what may follow it (blank lines, a header line,
    another table, a blank line inside it, a row cut short)."""
    n = draw(st.integers(1, 60))
    decimal = draw(st.sampled_from([".", ","]))
    notes = draw(st.lists(st.sampled_from(["cell 3", "\tindented note", "r\u00e9f", ""]),
                          max_size=3))
    head = ["EXPLAIN", "TAG\tCHRONOA", "TITLE\tLABEL\tLLZO 30 \u00b0C\tTest &Identifier",
            "DATE\tLABEL\t3/10/2019\tDate", "TIME\tLABEL\t12:00:00\tTime",
            f"NOTES\tNOTES\t{len(notes)}\t&Notes...", *notes,
            "VSTEP1\tPOTEN\t5.00000E-001\tF\tStep 1 Voltage (V)",
            f"AREA\tQUANT\t{'0,785' if decimal == ',' else '0.785'}\tArea (cm^2)",
            "PSTAT\tPSTAT\tREF600-12345\tPotentiostat"]
    head += draw(st.lists(st.sampled_from(["IRANGE\tQUANT\t1.0E-003\t&Max Current (mA)",
                                           "", "EOC\tQUANT\t0\tOpen Circuit (V)"]),
                          max_size=30))

    def number(x: float, fmt: str = "{:.5E}") -> str:
        text = fmt.format(x)
        return text.replace(".", ",") if decimal == "," else text

    lines = list(head)
    if draw(st.booleans()):
        lines += ["OCVCURVE\tTABLE\t3", "\tPt\tT\tVf\tVm\tAch\tOver",
                  "\t#\ts\tV vs. Ref.\tV\tV\tbits"]
        lines += [f"\t{k}\t{number(k * 0.5, '{:g}')}\t{number(0.01)}\t{number(0.01)}"
                  f"\t{number(0.0)}\t..........." for k in range(3)]
    lines += [f"CURVE\tTABLE\t{n + draw(st.integers(0, 2))}",
              "\tPt\tT\tVf\tIm\tVu\tSig\tAch\tIERange\tOver",
              "\t#\ts\tV vs. Ref.\tA\tV\tV\tV\t#\tbits"]
    rows = [f"\t{k}\t{number(0.2 * k, '{:g}')}\t{number(0.5 + 1e-5 * (k % 3))}"
            f"\t{number(1e-9 * (1 + 5 / (k + 1)))}\t{number(0.0)}\t{number(0.5)}"
            f"\t{number(-6.65e-4)}\t6\t{draw(st.sampled_from(['...........', '..b........']))}"
            for k in range(n)]
    if draw(st.integers(0, 3)) == 0 and n > 2:  # a blank line inside the table
        rows.insert(draw(st.integers(1, n - 1)), "")
    if draw(st.booleans()):
        rows[-1] = rows[-1][:draw(st.integers(1, len(rows[-1])))]
    lines += rows
    lines += draw(st.lists(st.sampled_from(
        ["", "", "", "EXPERIMENTABORTED\tTOGGLE\tT\tExperiment Aborted",
         "CURVE2\tTABLE\t1\n\tPt\tT\tIm\n\t#\ts\tA\n\t0\t1\t2"]), max_size=2))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    encoding = draw(st.sampled_from(["latin-1", "cp1252", "utf-8"]))
    text = newline.join(ln.replace("\n", newline) for ln in lines) + newline
    return text.encode(encoding, errors="replace"), {"allow_truncated": draw(st.booleans())}


@SETTINGS
@given(dta=dtas(), head=st.floats(0.0, 1.2), tail=st.sampled_from([8, 100, 1 << 16]),
       chunk_rows=st.sampled_from([0, 0, 3]), parallel=st.booleans())
def test_dta_read_the_same_from_the_file_and_from_memory(dta, head, tail, chunk_rows,
                                                         parallel):
    """A DTA file larger than its head (a fraction of the file): the last table streamed
    from the file when its rows run to the end, else the whole file in memory; the same
    Measurement or error either way."""
    data, kw = dta
    head = max(64, int(head * len(data)))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.DTA"
        path.write_bytes(data)
        _same(path, head, tail, chunk_rows, parallel, **kw)


def test_a_large_dta_streams_its_curve(tmp_path, monkeypatch):
    """The CURVE table of a large DTA is parsed from the file, not from a decoded copy."""
    import sescreen.io.gamry_layout as layout

    rows = "".join(f"\t{k}\t{0.2 * k:g}\t5.0E-01\t{1e-9 * (1 + 1 / (k + 1)):.5E}\t6\t..b\n"
                   for k in range(20_000))
    path = tmp_path / "big.DTA"
    path.write_text("EXPLAIN\nTAG\tCHRONOA\nVSTEP1\tPOTEN\t5.0E-01\tF\tStep (V)\n"
                    "CURVE\tTABLE\t20000\n\tPt\tT\tVf\tIm\tIERange\tOver\n"
                    "\t#\ts\tV vs. Ref.\tA\t#\tbits\n" + rows, encoding="latin-1")
    assert path.stat().st_size > 2 * textfile.HEAD_BYTES
    monkeypatch.setattr(layout, "read_table", None)  # the in-memory table parser
    m = read(path)
    assert len(m) == 20_000 and m.data["current_a"].iloc[-1] == pytest.approx(1.00005e-9)


_TOKENS = ["time/s", "I/mA", "Ewe/V", ",", ";", "\t", " ", "\n", "\r\n", "\r", "1", "2.5",
           "-3e-9", "1,5", "nan", "inf", '"', "#", "% x", "\ufeff", "\u00b5", "\xff", "", "e",
           "# area: 1 cm2\n", "EC-Lab ASCII FILE\n", "Nb header lines : 4\n"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tokens=st.lists(st.sampled_from(_TOKENS), max_size=120),
       encoding=st.sampled_from(["utf-8", "latin-1"]),
       head=st.sampled_from([16, 64, 1 << 18]), tail=st.sampled_from([4, 64, 1 << 16]),
       suffix=st.sampled_from([".csv", ".mpt"]), allow=st.booleans(),
       chunk_rows=st.sampled_from([0, 2]), parallel=st.booleans())
@example(tokens=['"', "time/s", "\r\n", '"', "1,5", "\n"], encoding="utf-8", head=16, tail=4,
         suffix=".csv", allow=False, chunk_rows=0, parallel=False)  # a quoted CRLF (CI)
def test_token_soup_reads_or_fails_the_same(tokens, encoding, head, tail, suffix, allow,
                                            chunk_rows, parallel):
    text = "time/s,I/mA\n" + "".join(tokens)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"s{suffix}"
        path.write_bytes(text.encode(encoding, errors="replace"))
        _same(path, head, tail, chunk_rows, parallel, allow_truncated=allow)


def test_a_long_line_in_the_body_is_refused_while_streaming(tmp_path):
    path = tmp_path / "long.csv"
    with open(path, "w") as fh:
        fh.write("time/s,I/mA\n")
        fh.writelines(f"{k},1\n" for k in range(50_000))
        fh.write(",1" * 2_000_000 + "\n")
        fh.writelines(f"{k},1\n" for k in range(50_000, 60_000))
    with pytest.raises(SescreenError, match="line 50002 is longer than 1 MB"):
        read(path)


def test_a_large_body_from_the_path_reads_as_the_streamed_one(tmp_path, monkeypatch):
    """A UTF-8 body of more than PARALLEL_BYTES to the end of the file goes to pandas as the
    path (threads): the same frame as the guarded stream, and a bad row deep in it named
    by its own line."""
    path = tmp_path / "big.csv"
    t = np.arange(400_000) * 0.1
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("# operator: J\u00fcrgen\n\n# area: 0.785 cm2\ntime/s,I/mA,Ewe/V\n")
        fh.writelines(f"{x:.6f},{1e-3 * (1 + x % 7):.7E},0.1\n" for x in t)
    assert path.stat().st_size > textfile.PARALLEL_BYTES
    parallel = read(path)
    monkeypatch.setattr(textfile, "PARALLEL_BYTES", 1 << 62)
    streamed = read(path)
    pd.testing.assert_frame_equal(parallel.data, streamed.data)
    assert parallel.area_cm2 == streamed.area_cm2 == pytest.approx(0.785)
    monkeypatch.undo()
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("1,2,3,4\n" + "".join(f"{k},1,0.1\n" for k in range(10)))
    with pytest.raises(SescreenError, match=r"line 400005: the row has 4 fields") as fast:
        read(path)
    monkeypatch.setattr(textfile, "PARALLEL_BYTES", 1 << 62)
    with pytest.raises(SescreenError) as slow:
        read(path)
    assert str(fast.value) == str(slow.value)


def test_a_text_column_in_a_large_body_falls_back_to_one_piece(tmp_path, monkeypatch):
    """A body gathered in chunks that turns out to hold text is parsed again in one piece,
    from its own start (the head read in between must not move it)."""
    path = tmp_path / "notes.csv"
    notes = ["r\u00e9f", "ok", "ok"]
    body = "".join(f"{k},{k + 1}e-3,{notes[k % 3]}\n" for k in range(500))
    path.write_text("time/s,I/mA,note\n" + body, encoding="utf-8")
    reference = read(path)
    monkeypatch.setattr(textfile, "STREAM_BYTES", 0)
    monkeypatch.setattr(rows, "CHUNK_ROWS", 7)
    monkeypatch.setattr(textfile, "HEAD_BYTES", 64)
    monkeypatch.setattr(sescreen.io, "HEAD_BYTES", 64)
    m = read(path)
    pd.testing.assert_frame_equal(m.data, reference.data)
    assert list(m.data["note"][:3]) == ["r\u00e9f", "ok", "ok"]


def test_whitespace_table_with_decimal_commas_and_exponents(tmp_path):
    """Runs of blanks between fields and decimal commas in exponent notation: the C parser
    reads what the old whitespace path (pandas' Python engine) refused as text."""
    path = tmp_path / "blank.txt"
    path.write_text("time/s   I/mA\n1,000e+00   7,642e-01\n2,000e+00   7,500e-01\n",
                    encoding="latin-1")
    m = read(path)
    np.testing.assert_allclose(m.time_s, [1.0, 2.0])
    np.testing.assert_allclose(m.current_a, [7.642e-4, 7.5e-4])
    assert "decimal commas read as decimal points" in m.warnings


def _big_dta(rows: list[str]) -> str:
    return ("EXPLAIN\nTAG\tCHRONOA\nVSTEP1\tPOTEN\t0.5\tF\tStep (V)\nCURVE\tTABLE\t"
            f"{len(rows)}\n\tPt\tT\tVf\tIm\tVu\tIERange\tOver\n\t#\ts\tV\tA\tV\t#\tbits\n"
            + "\n".join(rows) + "\n")


def _dta_rows(n: int, over=lambda k: "..."):
    return [f"\t{k}\t{0.2 * k:g}\t0.5\t{1e-9 * (1 + 5 / (k + 1)):.5E}\t0\t6\t{over(k)}"
            for k in range(n)]


@pytest.mark.parametrize("case", ["space_first", "bare_cr", "mixed_column"])
def test_dta_rows_the_c_parser_would_read_otherwise_go_in_memory(tmp_path, case):
    """Found by a review of the streamed DTA path: a first row led by a space (the
    in-memory parser drops its first character, the C parser would shift its fields), a
    bare CR line end past the head (a line the scan for rows would not see), a column of
    numbers that turns to text after 65536 rows (typed per chunk, by a chunk size that
    depends on the number of columns): each file reads as the in-memory path reads it."""
    n = 140_000 if case == "mixed_column" else 8000
    rows = _dta_rows(n, (lambda k: "0" if k < 100_000 else "..b") if case == "mixed_column"
                     else (lambda k: "..."))
    if case == "space_first":
        rows[0] = " " + rows[0][1:]
    text = _big_dta(rows)
    if case == "bare_cr":
        j = text.index("\n", 20_000)
        text = text[:j] + "\rNA\t1\t2\t3\t4\t5\t6\t7" + text[j:]
    path = tmp_path / "x.DTA"
    path.write_text(text, encoding="latin-1")
    _same(path, 1 << 18 if case != "bare_cr" else 3000, 1 << 16)


def test_a_file_growing_while_parsed_reads_as_opened(tmp_path, monkeypatch):
    """The threaded parse reads the path to its end; a row appended meanwhile by a running
    instrument (here half a row) is not part of the file as it was opened."""
    path = tmp_path / "run.csv"
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("time/s,I/mA,Ewe/V\n")
        fh.writelines(f"{k * 0.1:.6f},{1e-3 * (1 + k % 7):.7E},0.1\n" for k in range(400))
    monkeypatch.setattr(textfile, "PARALLEL_BYTES", 0)
    monkeypatch.setattr(textfile, "HEAD_BYTES", 1024)
    monkeypatch.setattr(sescreen.io, "HEAD_BYTES", 1024)
    real = rows.parse_rows

    def growing(source, **kw):
        if isinstance(source, (str, Path)):
            with open(path, "a", encoding="utf-8") as fh:
                fh.write("40.0,1.0")
        return real(source, **kw)

    monkeypatch.setattr(textfile, "parse_rows", growing)
    m = read(path)
    assert len(m) == 400 and m.data["current_a"].notna().all()

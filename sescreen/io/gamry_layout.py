"""The layout of a Gamry ``.DTA`` / VFP600 file: header fields and data tables.

See :mod:`sescreen.io.gamry` for the format; this module splits the text into header
fields and tables and parses each table's rows with pandas' C parser.

A file larger than the first bytes a reader sniffs (:data:`sescreen.io.textfile.HEAD_BYTES`)
is mostly its last table: the header and any earlier tables are split from the head, and
the last table's rows, from where they start to the end of the file, go to the C parser
straight from the file (:meth:`~sescreen.io.textfile.TextFile.read_body`), so the file is
never held as a string. Every row of a table starts with a tab, which the parser reads as
an empty first field: when one does not (a header line or a blank line after the table),
the rows were not one table to the end, and the file is read in memory instead, line by
line as a small one is.
"""

from __future__ import annotations

from typing import NamedTuple

import pandas as pd

from sescreen.errors import FormatError
from sescreen.io.rows import detect_decimal, read_block

_SAMPLE_ROWS = 50  # rows the decimal mark is judged on
#: Gamry may end a file without a line end: a last row written like the one above is whole
#: (review 4, D11: :func:`sescreen.io.rows.keep_open_row`).
UNTERMINATED = "check"

__all__ = ["Table", "read_table", "read_tables", "structure"]


class Table(NamedTuple):
    """One parsed ``TABLE`` of a DTA file."""

    raw: pd.DataFrame  #: data rows, columns by position
    cols: list[str]  #: column names (header row)
    units: list[str | None]  #: units row (None for ``#``, ``bits`` or blank)
    first_line: int  #: 1-based line of the first data row
    warnings: list[str]  #: from the row parser (a dropped truncated row)
    announced: int | None  #: rows the ``TABLE`` line announces
    decimal_comma: bool  #: the rows use decimal commas


def structure(lines: list[str]) -> tuple[dict[str, list[str]],
                                         dict[str, tuple[int, int, int | None]]]:
    """Split the lines of a DTA file into header fields and table positions.

    Parameters
    ----------
    lines : list of str
        The file's lines (``\\n`` split); line 1 (``EXPLAIN``/``VFP600``) is skipped.

    Returns
    -------
    header : dict
        Key -> the fields after it (``"AREA" -> ["QUANT", "1.0E+000", "Area (cm^2)"]``).
    tables : dict
        Table name -> (0-based line of its header row, end line, announced rows or None).
    """
    header: dict[str, list[str]] = {}
    tables: dict[str, tuple[int, int, int | None]] = {}
    i = 1
    while i < len(lines):
        fields = lines[i].split("\t")
        key = fields[0].strip()
        if not key:
            i += 1
            continue
        kind = fields[1].strip() if len(fields) > 1 else ""
        if kind == "NOTES":
            n = max(0, _int(fields[2] if len(fields) > 2 else "0"))  # damaged count: no notes
            header[key] = ["\n".join(x.strip() for x in lines[i + 1:i + 1 + n])]
            i += 1 + n
            continue
        if kind == "TABLE":
            announced = _int(fields[2]) if len(fields) > 2 and fields[2].strip() else None
            start = j = i + 1
            while j < len(lines) and (lines[j].startswith("\t") or lines[j].startswith(" ")):
                j += 1
            tables[key] = (start, j, announced)
            i = j
            continue
        header[key] = [f.strip() for f in fields[1:]]
        i += 1
    return header, tables


def read_tables(src, *, path, allow_truncated: bool
                ) -> tuple[list[str], dict[str, list[str]], dict[str, Table], int]:
    """Header fields and parsed tables of a DTA file.

    Parameters
    ----------
    src : TextFile or TextLines
        The open file (:mod:`sescreen.io.textfile`).
    path : path-like
        For messages.
    allow_truncated : bool
        Drop a truncated last row with a warning instead of refusing the file.

    Returns
    -------
    (lines, header, tables, n_lines)
        The lines split in memory (the head only when the last table was streamed), the
        header fields and tables of :func:`structure` (tables parsed), and the file's
        number of lines when it was split whole (else 0).
    """
    lines, whole = src.head_lines()
    if not whole:
        header, where = structure(lines)
        streamed = _stream_last(src, lines, where, path=path, allow_truncated=allow_truncated)
        if streamed is not None:
            last = next(reversed(where))
            frames = {name: (streamed if name == last else
                             read_table(lines, name, *span, path=path,
                                        allow_truncated=allow_truncated))
                      for name, span in where.items()}
            return lines, header, frames, 0
        lines = src.text().split("\n")
    header, where = structure(lines)
    frames = {name: read_table(lines, name, *span, path=path, allow_truncated=allow_truncated)
              for name, span in where.items()}
    return lines, header, frames, len(lines)


def _stream_last(src, lines: list[str], where: dict, *, path,
                 allow_truncated: bool) -> Table | None:
    """The last table parsed from the file, when its rows run on past the head and are
    rows to the end of the file; None otherwise (the caller reads the file in memory)."""
    if not where:
        return None
    start, stop, announced = where[next(reversed(where))]
    if stop != len(lines) or stop - start < 3:  # ends in the head, or no row in it
        return None
    first = start + 2
    # every row led by a tab (a row led by a space, which the in-memory parser also takes,
    # would shift the fields of the C parser) to the end: else a header or blank line follows
    if not lines[first].startswith("\t") or not src.lines_lead_with(first, b"\t"):
        return None
    sample = [ln[1:] for ln in src.body_sample(first, _SAMPLE_ROWS)]
    decimal = detect_decimal(sample, "\t")
    tw: list[str] = []
    df = src.read_body(first, sep="\t", decimal=decimal, allow_truncated=allow_truncated,
                       warnings=tw, lead=1, unterminated=UNTERMINATED)
    if df.shape[1] < 2 or df.iloc[:, 0].notna().any() or df.iloc[:, 1].isna().any():
        return None  # a line that is no row of the table (or a blank one) inside
    if any(pd.api.types.is_object_dtype(dt) for dt in df.dtypes):
        return None  # a column of numbers and text: typed by chunks that depend on the width
    raw = df.iloc[:, 1:].set_axis(range(df.shape[1] - 1), axis=1)
    return _table(raw, lines[start], lines[start + 1], first + 1, tw, announced, decimal)


def read_table(lines: list[str], name: str, start: int, stop: int, announced: int | None, *,
               path, allow_truncated: bool) -> Table:
    """Parse one table: its header row, units row and data rows ``lines[start:stop]``.

    Raises
    ------
    FormatError
        No header and units rows, or rows the parser refuses (with their line).
    """
    if stop - start < 2:
        raise FormatError(f"table {name} has no header and units rows; the file is cut or "
                          "damaged: export it again from Gamry", path=path, line=start + 1)
    body = [ln[1:] for ln in lines[start + 2:stop]]
    decimal = detect_decimal(body, "\t")
    tw: list[str] = []
    raw = read_block(body, sep="\t", decimal=decimal, path=path, first_line=start + 3,
                     allow_truncated=allow_truncated, warnings=tw,
                     open_end=stop == len(lines), unterminated=UNTERMINATED)
    return _table(raw, lines[start], lines[start + 1], start + 3, tw, announced, decimal)


def _table(raw: pd.DataFrame, head_row: str, units_row: str, first_line: int,
           warnings: list[str], announced: int | None, decimal: str) -> Table:
    """A parsed table with its column names and units (columns beyond the names cut)."""
    cols = head_row.split("\t")[1:]
    units = units_row.split("\t")[1:]
    units += [""] * (len(cols) - len(units))
    raw = raw.iloc[:, :len(cols)]
    cols = cols[:raw.shape[1]] if len(raw) else cols
    return Table(raw, cols, [_unit(u) for u in units[:len(cols)]], first_line, warnings,
                 announced, decimal == ",")


def _int(text: str) -> int:
    """An integer count from a header field; 0 when it is not a finite number."""
    try:
        return int(float(text.strip().replace(",", ".")))
    except (ValueError, OverflowError):
        return 0


def _unit(u: str) -> str | None:
    u = u.strip()
    return None if u in {"", "#", "bits"} else u.replace("\u00b0", "deg ").strip()

"""The layout of a Gamry ``.DTA`` / VFP600 file: header fields and data tables.

See :mod:`sescreen.io.gamry` for the format; this module splits the text into header
fields and tables and parses each table's rows with pandas' C parser.
"""

from __future__ import annotations

from typing import NamedTuple

import pandas as pd

from sescreen.errors import FormatError
from sescreen.io.rows import detect_decimal, read_block

__all__ = ["Table", "read_table", "structure"]


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
    cols = lines[start].split("\t")[1:]
    units = lines[start + 1].split("\t")[1:]
    units += [""] * (len(cols) - len(units))
    body = [ln[1:] for ln in lines[start + 2:stop]]
    decimal = detect_decimal(body, "\t")
    tw: list[str] = []
    raw = read_block(body, sep="\t", decimal=decimal, path=path, first_line=start + 3,
                     allow_truncated=allow_truncated, warnings=tw)
    raw = raw.iloc[:, :len(cols)]
    cols = cols[:raw.shape[1]] if len(raw) else cols
    return Table(raw, cols, [_unit(u) for u in units[:len(cols)]], start + 3, tw, announced,
                 decimal == ",")


def _int(text: str) -> int:
    """An integer count from a header field; 0 when it is not a finite number."""
    try:
        return int(float(text.strip().replace(",", ".")))
    except (ValueError, OverflowError):
        return 0


def _unit(u: str) -> str | None:
    u = u.strip()
    return None if u in {"", "#", "bits"} else u.replace("\u00b0", "deg ").strip()

"""Data rows to a DataFrame with pandas' C parser, and the text-level checks shared by the
file path (:class:`sescreen.io.textfile.TextFile`) and the in-memory path (:func:`read_block`):
decoding, binary content, decimal marks, truncated last rows, parser errors as one-line
messages naming the line.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from sescreen.errors import FormatError

__all__ = ["check_binary", "decode_text", "detect_decimal", "is_truncated", "parse_rows",
           "read_block", "truncated_row"]

_CONTROL_WINDOW = 65536  # characters checked for binary content
_CONTROL_CHARS = dict.fromkeys(c for c in range(32) if chr(c) not in "\t\r\n\f")


def check_binary(head: bytes, text: str, total_chars: int, path) -> None:
    """Refuse bytes that are no text export (NUL bytes, many control characters)."""
    if b"\x00" in head[:_CONTROL_WINDOW]:
        at = head.index(b"\x00")
        raise FormatError(
            f"binary data (NUL byte at offset {at}) in what should be a text file; "
            "check the file type or re-export it as text", path=path)
    window = text[:_CONTROL_WINDOW]
    control = len(window) - len(window.translate(_CONTROL_CHARS))
    if control > max(8, 0.01 * min(total_chars, _CONTROL_WINDOW)):
        raise FormatError(
            "binary data (control characters) in what should be a text file; "
            "check the file type or re-export it as text", path=path)


def decode_text(raw: bytes, path) -> str:
    """Decode instrument text: UTF-8 (with or without BOM), else cp1252, else latin-1.

    Returns the text with ``\\n`` line ends.

    Raises
    ------
    FormatError
        When the bytes are binary (NUL bytes or many control characters): the file is not
        a text export whatever its extension says.
    """
    if not raw.strip():
        raise FormatError("the file is empty", path=path)
    if b"\x00" in raw[:_CONTROL_WINDOW]:
        check_binary(raw, "", 0, path)
    for enc in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            text = raw.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    check_binary(raw, text, len(text), path)
    return text.replace("\r\n", "\n").replace("\r", "\n")


# A number alone in its field (quoted or not) written with a decimal comma / point.
_COMMA_DECIMAL = re.compile(r"(^|[\s;\"])[-+]?\d+,\d+([eE][-+]?\d+)?($|[\s;\"])")
_DOT_DECIMAL = re.compile(r"(^|[\s;,\"])[-+]?\d*\.\d+([eE][-+]?\d+)?($|[\s;,\"])")


def detect_decimal(lines: Sequence[str], sep: str) -> str:
    """Return ``","`` for decimal-comma exports (German/French locales), else ``"."``.

    Judged on the first 50 of ``lines`` (data rows).
    """
    if sep == ",":
        return "."
    sample = "\n".join(lines[:50])
    if _COMMA_DECIMAL.search(sample) and not _DOT_DECIMAL.search(sample):
        return ","
    return "."


# -- rows -> DataFrame (shared by the file and the in-memory paths) ------------------------
def _n_fields(row: str, sep: str) -> int:
    return len(row.split()) if sep == r"\s+" else len(row.split(sep))


def is_truncated(first: str, last: str, sep: str) -> tuple[bool, int, int]:
    """Whether the last row has fewer fields than the first: (truncated, fields, expected).

    A last row ending in the delimiter with all its fields (a trailing delimiter) is whole.
    """
    blank = sep == r"\s+"
    ncol = len(first.split()) if blank else len(first.rstrip(sep).split(sep))
    n_last = _n_fields(last, sep)
    trailing = not blank and last.endswith(sep) and n_last - 1 >= ncol
    return (not trailing and n_last < ncol), n_last, ncol


def truncated_row(where: int, n_last: int, ncol: int, *, path, allow: bool,
                   warnings: list[str]) -> None:
    """Refuse the truncated last row at line ``where``, or note that it is dropped."""
    if not allow:
        raise FormatError(
            f"the last row has {n_last} of {ncol} fields (truncated: was the file copied "
            "while the run was still writing?); complete or delete that row, or read with "
            "allow_truncated=True (CLI: --allow-truncated) to drop it", path=path, line=where)
    warnings.append(f"dropped the truncated last row (line {where}, {n_last} of {ncol} "
                    "fields)")


#: Rows per chunk when the rows are gathered column by column (:func:`parse_rows`).
CHUNK_ROWS = 1 << 19


def parse_rows(source, *, sep: str, decimal: str, encoding: str | None, path,
               first_line: int, rows_hint: int | None = None) -> pd.DataFrame | None:
    """``pandas.read_csv`` (C engine) of data rows, its errors as one-line FormatErrors.

    Parameters
    ----------
    source : file-like
        Binary (``encoding`` given) or text rows, nothing else.
    sep, decimal, encoding : str
        Dialect (``sep=r"\\s+"``: runs of whitespace).
    path : path-like
        For messages.
    first_line : int
        1-based line of the first row, for messages.
    rows_hint : int, optional
        About how many rows there are. Given, the rows are parsed in chunks and gathered
        into one array per column, grown in place (the peak memory is the data itself and
        a chunk, not twice the data); None is returned when a chunk holds anything but
        numbers, for the caller to parse the rows again in one piece.
    """
    kw = dict(sep=sep, decimal=decimal, header=None, index_col=False,
              skip_blank_lines=False, engine="c", encoding=encoding)
    try:
        if rows_hint is None:
            return pd.read_csv(source, **kw)
        return _gathered(pd.read_csv(source, chunksize=CHUNK_ROWS, **kw), rows_hint)
    except pd.errors.ParserError as exc:
        text = " ".join(str(exc).split())
        m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", text)
        if m:
            raise FormatError(
                f"the row has {m[3]} fields where the rows above have {m[1]}; check the "
                "delimiter or repair the row", path=path,
                line=first_line + int(m[2]) - 1) from None
        m = re.search(r"EOF inside string starting at row (\d+)", text)  # 0-based row
        if m:
            raise FormatError("a quote (\") opens a field that is never closed; remove the "
                              "stray quote", path=path, line=first_line + int(m[1])) from None
        raise FormatError(f"cannot split the rows into fields ({text[:200]}); check the "
                          "delimiter and the quotes", path=path) from None
    except UnicodeDecodeError:
        raise
    except (ValueError, OverflowError) as exc:
        raise FormatError(f"cannot parse the data rows: {exc}", path=path) from None


def _gathered(chunks, capacity: int) -> pd.DataFrame | None:
    """The chunks' columns in one owned array each; None when a chunk is not all numbers
    or changes its number of columns."""
    out: list[np.ndarray] | None = None
    n = 0
    for chunk in chunks:
        dtypes = list(chunk.dtypes)
        if not all(dt.kind in "if" for dt in dtypes) or (out is not None
                                                         and len(out) != len(dtypes)):
            return None
        m = len(chunk)
        if out is None:
            out = [np.empty(max(capacity, m), dtype=dt) for dt in dtypes]
        for j, a in enumerate(out):
            col = chunk.iloc[:, j].to_numpy()
            kind = np.result_type(a.dtype, col.dtype)
            if kind != a.dtype:  # an integer column with a decimal further down
                a = out[j] = a.astype(kind)
            if n + m > len(a):
                a.resize(max(n + m, int(len(a) * 1.25)), refcheck=False)
            a[n:n + m] = col
        n += m
    if out is None:
        return pd.DataFrame()
    for a in out:
        a.resize(n, refcheck=False)  # gives back what the estimate gave too much
    return pd.DataFrame(dict(enumerate(out)), copy=False)


def read_block(lines: Sequence[str], *, sep: str, decimal: str, path, first_line: int,
               allow_truncated: bool = False, warnings: list[str]) -> pd.DataFrame:
    """Parse data rows held as strings (a Gamry table) with pandas' C parser.

    Parameters
    ----------
    lines : sequence of str
        Data rows only, without the header.
    sep, decimal : str
        Field separator (``r"\\s+"`` for runs of whitespace) and decimal mark.
    path : path-like
        For messages.
    first_line : int
        1-based line number of ``lines[0]`` in the file, for messages.
    allow_truncated : bool
        Drop a last row with missing fields (a file copied while still being written)
        with a warning, instead of refusing the file.
    warnings : list of str
        Appended to.

    Returns
    -------
    DataFrame
        Columns by position; a blank row inside the block is a row of NaN.
    """
    rows = list(lines)
    while rows and not rows[-1].strip():
        rows.pop()
    if not rows:
        return pd.DataFrame()
    if not rows[0].strip():
        raise FormatError("blank line where the data rows should start; delete it",
                          path=path, line=first_line)
    cut, n_last, ncol = is_truncated(rows[0], rows[-1], sep)
    if cut:
        truncated_row(first_line + len(rows) - 1, n_last, ncol, path=path,
                       allow=allow_truncated, warnings=warnings)
        rows.pop()
        if not rows:
            return pd.DataFrame()
    return parse_rows(io.StringIO("\n".join(rows)), sep=sep, decimal=decimal, encoding=None,
                  path=path, first_line=first_line)

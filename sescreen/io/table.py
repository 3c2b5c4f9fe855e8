"""Delimited tables: CSV, TSV, semicolon-separated (with decimal commas), whitespace.

The delimiter is detected from the header and the first rows; units are read from the
headers (``time/s``, ``I/mA``, ``<I>/uA``, ``Time (s)``, ``Current [nA]``, ``t [s]``).
Leading comment lines (``#`` or ``%``) may carry metadata as ``key: value`` or
``key = value``: ``voltage``/``applied_voltage``, ``area``, ``temperature``, ``technique``,
each with a unit (``# area: 0.785 cm2``). Bare headers (no units) and files without a
header row are read with explicit column choices (:class:`~sescreen.io.columns.ColumnSpec`).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd

from sescreen.errors import EmptyRecordError, FormatError, InputError
from sescreen.io.biologic import technique_from_name
from sescreen.io.columns import canonical_frame
from sescreen.io.headers import ColumnSpec
from sescreen.io.measurement import Measurement
from sescreen.io.rows import decode_text, detect_decimal
from sescreen.io.textfile import TextFile
from sescreen.units import parse_quantity

__all__ = ["read_table", "read_text_table", "sniff_delimiter"]

_DELIMITERS = ("\t", ";", ",", "|")
_NUMBER = re.compile(r"^\s*[-+]?(\d+([.,]\d*)?|[.,]\d+)([eE][-+]?\d+)?\s*$")
_META_KEYS = {
    "voltage": "applied_voltage_v", "applied voltage": "applied_voltage_v",
    "applied_voltage": "applied_voltage_v", "bias": "applied_voltage_v",
    "area": "area_cm2", "electrode area": "area_cm2", "electrode_area": "area_cm2",
    "temperature": "temperature_k", "technique": "technique_name",
}


def sniff_delimiter(lines: list[str]) -> str:
    """The delimiter that splits the header and the first rows into the same >1 fields.

    Falls back to whitespace (``\\s+``) when it splits them consistently, else to the
    character that splits the first line into most fields (a short file with one broken
    row), else to whitespace.
    """
    sample = [ln for ln in lines[:30] if ln.strip()]
    best, best_score = None, 0
    widest, widest_count = None, 1
    for d in _DELIMITERS:
        # a row agrees with the header with or without trailing delimiters (empty last
        # cells, or a trailing delimiter on every row)
        full = [len(ln.rstrip("\r\n").split(d)) for ln in sample]
        counts = [len(ln.rstrip("\r\n").rstrip(d).split(d)) for ln in sample]
        if not counts or counts[0] < 2:
            continue
        if counts[0] > widest_count:
            widest, widest_count = d, counts[0]
        agree = sum(c in (counts[0], full[0]) or f in (counts[0], full[0])
                    for c, f in zip(counts, full, strict=True))
        score = agree * 10 + counts[0]
        if agree >= 0.8 * len(counts) and score > best_score:
            best, best_score = d, score
    if best is None and widest is not None:
        counts = [len(ln.split()) for ln in sample]
        if counts[0] < 2 or sum(c == counts[0] for c in counts) < 0.8 * len(counts):
            best = widest
    return best or r"\s+"


def read_text_table(path: str | Path, *, what: str = "table"):
    """A small delimited table of text cells (candidates, sigma(T) tables, manifests).

    Blank lines are skipped, the delimiter is sniffed, every cell stays a string (so names
    such as "NA" survive) and empty cells are NaN. Comment lines (``#``) are skipped before
    the header; after it, a ``#`` line is a comment only when it holds no delimiter (a
    whitespace table: when ``#`` is followed by a space), so a row whose first cell starts
    with ``#`` (a material named ``#3``) is read, never silently dropped.

    Raises
    ------
    InputError, FormatError
        A missing file; an empty or unparseable table, naming the file.
    """
    import io

    path = Path(path)
    if not path.is_file():
        raise InputError("no such file", path=path)
    text = decode_text(path.read_bytes(), path)
    lines = _table_lines(text)
    if not lines:
        raise FormatError(f"the {what} is empty", path=path)
    import warnings

    try:
        with warnings.catch_warnings():
            # more cells than headers: pandas would take the first column as the index
            warnings.simplefilter("error", pd.errors.ParserWarning)
            df = pd.read_csv(io.StringIO("\n".join(lines)), sep=sniff_delimiter(lines),
                             engine="python", skipinitialspace=True, dtype=str,
                             keep_default_na=False, index_col=False)
    except pd.errors.ParserWarning:
        raise FormatError(f"a row of the {what} has more cells than the header: quote "
                          "cells that hold the delimiter, or fix the row", path=path) from None
    except (pd.errors.ParserError, ValueError, csv.Error) as exc:
        raise FormatError(f"cannot parse the {what} ({exc})", path=path) from None
    df = df.apply(lambda col: col.str.strip())
    return df.mask(df == "")


def _table_lines(text: str) -> list[str]:
    """The non-blank lines of a text table without its comment lines (see read_text_table)."""
    lines: list[str] = []
    sep = None
    for ln in text.split("\n"):
        if not ln.strip():
            continue
        stripped = ln.lstrip()
        if stripped.startswith("#"):
            if not lines:
                continue  # a comment before the header
            if sep is None:  # the header's delimiter
                sep = max(_DELIMITERS, key=lines[0].count)
                sep = sep if sep in lines[0] else r"\s+"
            if sep == r"\s+":
                if stripped == "#" or stripped[1:2].isspace():
                    continue
            elif sep not in stripped:
                continue
        lines.append(ln)
    return lines


def read_table(path: Path, src: TextFile, *, spec: ColumnSpec | None = None,
               allow_truncated: bool = False, delimiter: str | None = None,
               decimal: str | None = None) -> Measurement:
    """Read a delimited table into a Measurement.

    Parameters
    ----------
    path : Path
        The file (for messages and provenance).
    src : TextFile
        The open file (:class:`~sescreen.io.textfile.TextFile`; ``TextLines`` for text
        held in memory).
    spec : ColumnSpec, optional
        Column choices and units when headers are bare or absent.
    allow_truncated : bool
        Drop a truncated last row with a warning instead of refusing the file.
    delimiter, decimal : str, optional
        Force the field separator or the decimal mark instead of detecting them.
    """
    meta: dict = {}
    warnings: list[str] = []
    i = 0
    while (ln := src.line(i)) is not None and (not ln.strip() or ln.lstrip()[:1] in {"#", "%"}):
        _comment_meta(ln, meta, path, i + 1)
        i += 1
    if ln is None:
        raise FormatError("no table found (only comments or blank lines)", path=path)
    sep = delimiter or sniff_delimiter(src.lines(i, i + 30))
    found = _after_preamble(src, i, sep, delimiter)
    if found is not None:
        pre = [x.strip() for x in src.lines(i, found[0]) if x.strip()]
        i, sep = found
        ln = src.line(i)
        meta.setdefault("settings", {}).update(_preamble_settings(pre))
        warnings.append(
            f"skipped a preamble of {len(pre)} line(s) before the header on line {i + 1} "
            f"({pre[0][:40]!r} ...): lines that do not split into the table's fields")
    split = (lambda s: s.split()) if sep == r"\s+" else (lambda s: s.split(sep))
    first = [f.strip().strip('"') for f in split(ln)]
    if found is not None and first and first[0].startswith("~"):
        first[0] = first[0][1:]  # Basytec comments its header like its preamble: "~Time[s]"
    has_header = not all(_NUMBER.match(f) for f in first if f)
    spec = spec or ColumnSpec()
    if has_header:
        headers, data_start = first, i + 1
        while headers and not headers[-1]:
            headers.pop()
    else:
        headers, data_start = [str(k) for k in range(len(first))], i
        if spec.time is None or spec.current is None:
            raise InputError("the table has no header row; name the columns by position "
                             "(time_col=0, current_col=1, current_unit='nA'; CLI: "
                             "--time-col 0 --current-col 1 --current-unit nA)", path=path)
    # trailing comment or blank lines (a "# end of run" note) are not a truncated row
    dec = decimal or detect_decimal(src.body_sample(data_start, 50, comments=True), sep)
    raw = src.read_body(data_start, sep=sep, decimal=dec, allow_truncated=allow_truncated,
                        warnings=warnings, comments=True)
    if len(raw) == 0:
        raise EmptyRecordError("the table has a header but no data rows", path=path)
    while raw.shape[1] > len(headers) and raw.iloc[:, -1].isna().all():
        raw = raw.iloc[:, :-1]
    if raw.shape[1] != len(headers):
        raise FormatError(f"{raw.shape[1]} data columns for {len(headers)} headers; check the "
                          "delimiter (or pass delimiter=)", path=path, line=data_start + 1)
    raw = _strip_text_cells(raw)
    data, columns, w = canonical_frame(raw, headers, path=path, first_line=data_start + 1,
                                       spec=spec)
    if dec == "," and sep != ",":
        warnings.append("decimal commas read as decimal points")
    return Measurement(
        data=data,
        format="table",
        technique=technique_from_name(meta.get("technique_name")),
        source=str(path),
        columns=columns,
        warnings=warnings + w,
        settings=meta.pop("settings", {}),
        **meta,
    )


#: Lines searched for the header after a preamble (Novonix's [Data] section starts near 20).
_PREAMBLE_LINES = 200
#: Rows after a header that must split into its number of fields.
_HEADER_ROWS = 5


def _fields(line: str, sep: str) -> list[str]:
    parts = line.split() if sep == r"\s+" else line.rstrip().rstrip(sep).split(sep)
    return [f.strip().strip('"') for f in parts]


def _heads_table(src, k: int, sep: str) -> bool:
    """Whether line ``k`` is a header: at least two fields, text where the next rows hold
    numbers, and each of the next :data:`_HEADER_ROWS` non-blank rows (as many as there
    are, at least one) splits into the same number of fields."""
    head = _fields(src.line(k) or "", sep)
    if len(head) < 2 or sum(bool(_NUMBER.match(f)) for f in head if f) > 0:
        return False
    rows = [r for r in src.lines(k + 1, k + 1 + 3 * _HEADER_ROWS) if r.strip()][:_HEADER_ROWS]
    if not rows:
        return False
    for r in rows:
        cells = _fields(r, sep)
        if len(cells) != len(head) or not any(_NUMBER.match(c) for c in cells if c):
            return False
    return True


def _after_preamble(src, i: int, sep: str, delimiter: str | None) -> tuple[int, str] | None:
    """The header line and delimiter of a table that follows a preamble, or None.

    Cycler exports open with lines that are no part of the table: Maccor's ``Today's Date
    ,28-Nov-23`` / ``Date of Test:,...``, Novonix's ``[Summary]`` ... ``[End Summary]``,
    ``[Protocol]`` (a JSON line) and ``[Data]`` sections, Basytec's ``~`` lines (its header
    too: ``~Time[s]``). The rule: when line ``i`` (the first after any ``#``/``%``
    comments) does not head a table (:func:`_heads_table`: at least two fields of text
    over at least :data:`_HEADER_ROWS` rows of its own width that hold numbers), the header
    is the first line below it, within :data:`_PREAMBLE_LINES`, that does, with the
    delimiter sniffed from there, and into whose fields line ``i`` does not split (so a
    units row under a header is never taken for the header). A file whose first line heads
    its rows is never searched, and one where no later line heads a table is left to the
    usual checks (a header shorter than its rows, a truncated row: refused as before).
    """
    if src.line(i) is None or _heads_table(src, i, sep):
        return None
    for k in range(i + 1, i + _PREAMBLE_LINES):
        ln = src.line(k)
        if ln is None:
            return None
        if not ln.strip():
            continue
        s = delimiter or sniff_delimiter(src.lines(k, k + 30))
        if _heads_table(src, k, s) and len(_fields(src.line(i), s)) != len(_fields(ln, s)):
            return k, s
    return None


def _preamble_settings(lines: list[str]) -> dict[str, str]:
    """``key: value`` / ``key,value`` pairs of preamble lines, as written (settings)."""
    out: dict[str, str] = {}
    for ln in lines:
        m = re.match(r"^\s*([^:,;\t=\[\]{}]{1,60}?)\s*[:,;\t=]\s*(.*)$", ln)
        value = m[2].strip().lstrip(":,;\t=").strip().rstrip(",").strip() if m else ""
        if value:
            out.setdefault(m[1].strip().rstrip(":"), value)
    return out


def _strip_cell(v):
    return v.strip().strip('"') if isinstance(v, str) else v


def _strip_text_cells(raw: pd.DataFrame) -> pd.DataFrame:
    """Blanks and stray quotes around the text cells (numeric columns have none): only the
    columns the C parser could not read as numbers are visited, cell by cell."""
    text = [j for j, dt in enumerate(raw.dtypes)
            if pd.api.types.is_object_dtype(dt) or pd.api.types.is_string_dtype(dt)]
    if text:
        raw = raw.copy()
        for j in text:
            raw.isetitem(j, raw.iloc[:, j].map(_strip_cell))
    return raw


def _comment_meta(line: str, meta: dict, path, lineno: int) -> None:
    """Pick ``# key: value`` metadata out of a comment line."""
    # Split by hand: a regex with optional spaces on both sides of the key backtracks
    # for minutes on a comment line of a few thousand spaces.
    text = line.strip().lstrip("#%")
    colon = re.search(r"[:=]", text)
    if colon is None:
        return
    name, value = text[:colon.start()].strip(), text[colon.end():].strip()
    if not value or not re.fullmatch(r"[A-Za-z_ ]+", name):
        return
    key = name.lower()
    meta.setdefault("settings", {})[name] = value
    target = _META_KEYS.get(key)
    if target is None:
        return
    try:
        if target == "applied_voltage_v":
            meta[target] = parse_quantity(value, "voltage", default_unit="V", name=key)
        elif target == "area_cm2":
            meta[target] = parse_quantity(value, "area", default_unit="cm**2", name=key) * 1e4
        elif target == "temperature_k":
            meta[target] = parse_quantity(value, "temperature", name=key)
        else:
            meta[target] = value
    except InputError as exc:
        raise FormatError(f"metadata line: {exc.message}", path=path, line=lineno) from None

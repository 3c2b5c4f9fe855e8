"""Shared machinery of the readers: decoding text, splitting headers into name and unit,
mapping columns to canonical SI names, and validating the numbers.

Every reader (EC-Lab text and binary, Gamry, tables) ends in :func:`canonical_frame`, so a
column called ``<I>/uA`` in one file and ``Current [nA]`` in another become the same
``current_a`` in amperes, checked the same way.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sescreen.errors import FormatError, InputError
from sescreen.io.measurement import ColumnInfo
from sescreen.units import column_unit

__all__ = [
    "ColumnSpec",
    "absolute_time",
    "canonical_frame",
    "decode_text",
    "detect_decimal",
    "read_block",
    "split_header",
]

# Lower-case header names (without unit, "<>" and surrounding spaces) for each canonical
# quantity, with the dimension the unit must have.
_ALIASES: dict[str, tuple[str, set[str]]] = {
    "time_s": ("time", {"time", "t", "elapsed time", "time elapsed", "elapsed", "test time",
                        "time_s", "total time", "relative time"}),
    "current_a": ("current", {"i", "current", "im", "idc", "cell current", "i_cell",
                              "current_a", "iwe", "i we"}),
    "voltage_v": ("voltage", {"ewe", "e", "v", "vf", "voltage", "potential", "ecell", "u",
                              "cell potential", "cell voltage", "e_we", "voltage_v", "ewe-ece",
                              "working electrode potential"}),
    "control_v": ("voltage", {"control", "sig", "setpoint", "set point", "control_v"}),
    "control_a": ("current", {"control", "sig", "setpoint", "set point", "control_a"}),
    "temperature_k": ("temperature", {"temperature", "temp", "t", "temperature_k",
                                      "cell temperature"}),
    "cycle": ("dimensionless", {"cycle number", "cycle", "cycle index", "cycle_number"}),
    "step": ("dimensionless", {"ns", "step", "step index", "step number", "sequence"}),
}
_EXAMPLE_UNITS = {"time": "'s', 'min', 'h'", "current": "'A', 'mA', 'uA', 'nA'",
                  "voltage": "'V', 'mV'"}
_REQUIRED_FINITE = ("time_s", "current_a", "voltage_v", "control_v", "control_a")

_MAX_UNIT_LEN = 32  # longest unit tried after a slash ("mS/cm", "mA.h", "V/mA")
# No "\s*" between the name and the bracket (the name is stripped instead): with it, a
# header of many spaces ending in ")" backtracks quadratically.
_BRACKET = re.compile(r"^(?P<name>.*?)[\(\[](?P<unit>[^\(\)\[\]]*)[\)\]]$")


def split_header(header: str) -> tuple[str, str | None]:
    """Split a column header into its name and unit.

    Handles ``time/s``, ``<I>/mA``, ``Q charge/discharge/mA.h`` (the unit follows the last
    slash), ``Time (s)``, ``Current [nA]`` and ``t [s]``. A header without a unit gives
    ``(header, None)``.
    """
    h = header.strip()
    if h.startswith("<") and h.endswith(">") and "/" in h:  # "<Ewe/V>" is "<Ewe>/V"
        name, _, unit = h[1:-1].rpartition("/")
        if name and _known(unit):
            return f"<{name.strip()}>", unit.strip()
    m = _BRACKET.match(h)
    if m and m["name"].strip() and (_known(m["unit"]) or re.search(r"\s[\(\[]", h)):
        return m["name"].strip(), m["unit"].strip()
    # name/unit: the leftmost slash whose right side is a unit ("|Conductivity|/mS/cm"),
    # else the last slash ("Q charge/discharge/mA.h", "ox/red" has no unit). Units are
    # short: only the slashes near the end are tried (a header of many slashes is garbage).
    found = None
    start = len(h)
    while (slash := h.rfind("/", 0, start)) > 0 and len(h) - slash <= _MAX_UNIT_LEN:
        name, unit = h[:slash].strip(), h[slash + 1:].strip()
        if name and _known(unit):
            found = (name, unit)
        start = slash
    return found or (h, None)


def _known(unit: str) -> bool:
    return column_unit(unit)[0] != "unknown"


# Channel prefixes of multi-channel instruments: Autolab NOVA "WE(1).Current",
# "WE2.Potential", "Ch1 Current", "Channel 2 Voltage".
_CHANNEL_PREFIX = re.compile(r"^(?:we\(\d+\)|we\d*|ch(?:annel)?\s*\d+)[._ ]+")


def _key(name: str) -> str:
    key = " ".join(name.strip().strip("<>").lower().replace("_", " ").split())
    return _CHANNEL_PREFIX.sub("", key).strip("<> ")


@dataclass(frozen=True)
class ColumnSpec:
    """Explicit column choices that override header recognition (for bare headers).

    Attributes
    ----------
    time, current, voltage : str or int, optional
        Header name (as in the file) or 0-based position of that column.
    time_unit, current_unit, voltage_unit : str, optional
        Unit of that column when the header does not say (or says wrongly).
    """

    time: str | int | None = None
    current: str | int | None = None
    voltage: str | int | None = None
    time_unit: str | None = None
    current_unit: str | None = None
    voltage_unit: str | None = None


def decode_text(raw: bytes, path) -> str:
    """Decode instrument text: UTF-8 (with or without BOM), else cp1252, else latin-1.

    Raises
    ------
    FormatError
        When the bytes are binary (NUL bytes or many control characters): the file is not
        a text export whatever its extension says.
    """
    if not raw.strip():
        raise FormatError("the file is empty", path=path)
    head = raw[:65536]
    if b"\x00" in head:
        at = head.index(b"\x00")
        raise FormatError(
            f"binary data (NUL byte at offset {at}) in what should be a text file; "
            "check the file type or re-export it as text", path=path)
    for enc in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            text = raw.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    control = sum(1 for ch in text[:65536] if ord(ch) < 32 and ch not in "\t\r\n\f")
    if control > max(8, 0.01 * min(len(text), 65536)):
        raise FormatError(
            "binary data (control characters) in what should be a text file; "
            "check the file type or re-export it as text", path=path)
    return text.replace("\r\n", "\n").replace("\r", "\n")


# A number alone in its field (quoted or not) written with a decimal comma / point.
_COMMA_DECIMAL = re.compile(r"(^|[\s;\"])[-+]?\d+,\d+([eE][-+]?\d+)?($|[\s;\"])")
_DOT_DECIMAL = re.compile(r"(^|[\s;,\"])[-+]?\d*\.\d+([eE][-+]?\d+)?($|[\s;,\"])")


def detect_decimal(lines: Sequence[str], sep: str) -> str:
    """Return ``","`` for decimal-comma exports (German/French locales), else ``"."``."""
    if sep == ",":
        return "."
    sample = "\n".join(lines[:50])
    if _COMMA_DECIMAL.search(sample) and not _DOT_DECIMAL.search(sample):
        return ","
    return "."


def read_block(
    lines: Sequence[str],
    *,
    sep: str,
    decimal: str,
    header: Sequence[str] | None,
    path,
    first_line: int,
    allow_truncated: bool = False,
    warnings: list[str],
) -> pd.DataFrame:
    """Parse data rows (all strings) into a DataFrame with pandas' C parser.

    Parameters
    ----------
    lines : sequence of str
        Data rows only, without the header.
    sep, decimal : str
        Field separator and decimal mark.
    header : sequence of str or None
        Column names; None names them by position.
    path : path-like
        For messages.
    first_line : int
        1-based line number of ``lines[0]`` in the file, for messages.
    allow_truncated : bool
        Drop a last row with missing fields (a file copied while still being written)
        with a warning, instead of refusing the file.
    warnings : list of str
        Appended to.
    """
    rows = list(lines)
    while rows and not rows[-1].strip():
        rows.pop()
    if not rows:
        return pd.DataFrame(columns=list(header) if header else [])
    if not rows[0].strip():
        raise FormatError("blank line where the data rows should start; delete it",
                          path=path, line=first_line)
    blank = sep == r"\s+"  # a regex: split on runs of whitespace, not on the string
    if header is not None:
        ncol = len(header)
    else:
        ncol = len(rows[0].split()) if blank else len(rows[0].rstrip(sep).split(sep))
    last = rows[-1].rstrip("\n")
    n_last = len(last.split()) if blank else len(last.split(sep))
    trailing = not blank and last.endswith(sep) and n_last - 1 >= ncol
    if not trailing and n_last < ncol:
        where = first_line + len(rows) - 1
        if not allow_truncated:
            raise FormatError(
                f"the last row has {n_last} of {ncol} fields (truncated: was the file copied "
                "while the run was still writing?); complete or delete that row, or read with "
                "allow_truncated=True (CLI: --allow-truncated) to drop it",
                path=path, line=where)
        warnings.append(f"dropped the truncated last row (line {where}, {n_last} of {ncol} "
                        "fields)")
        rows.pop()
        if not rows:
            return pd.DataFrame(columns=list(header) if header else [])
    names = list(header) if header is not None else None
    # The python engine (whitespace) refuses low_memory: every whitespace table failed.
    engine = {"engine": "python"} if blank else {"engine": "c", "low_memory": False}
    try:
        df = pd.read_csv(
            io.StringIO("\n".join(rows)),
            sep=sep,
            decimal=decimal,
            header=None,
            names=names,
            index_col=False,
            skip_blank_lines=False,
            **engine,
        )
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
        raise FormatError(f"cannot split the rows into fields ({text}); check the delimiter "
                          "and the quotes", path=path) from None
    except (ValueError, OverflowError) as exc:
        raise FormatError(f"cannot parse the data rows: {exc}", path=path) from None
    return df


def _resolve(spec_value, headers: list[str], path) -> int | None:
    if spec_value is None:
        return None
    if isinstance(spec_value, int) or (isinstance(spec_value, str) and spec_value.isdigit()
                                        and spec_value not in headers):
        idx = int(spec_value)
        if not 0 <= idx < len(headers):
            raise InputError(f"column number {idx} does not exist (the file has "
                             f"{len(headers)} columns, numbered from 0)", path=path)
        return idx
    if spec_value in headers:
        return headers.index(spec_value)
    stripped = [split_header(h)[0] for h in headers]
    if spec_value in stripped:
        return stripped.index(spec_value)
    raise InputError(f"no column named {spec_value!r}; the columns are {headers}", path=path)


def canonical_frame(
    raw: pd.DataFrame,
    headers: Sequence[str],
    *,
    path,
    first_line: int | None,
    spec: ColumnSpec | None = None,
    units: Sequence[str | None] | None = None,
    require_current: bool = True,
) -> tuple[pd.DataFrame, list[ColumnInfo], list[str]]:
    """Map raw columns to canonical SI columns and validate them.

    Parameters
    ----------
    raw : DataFrame
        Columns in file order, same length as ``headers``.
    headers : sequence of str
        Headers as written in the file (name and unit together, e.g. ``I/mA``).
    path : path-like
        For messages.
    first_line : int or None
        1-based file line of the first data row (None for binary files: rows are then
        numbered from 1).
    spec : ColumnSpec, optional
        Explicit column choices and units.
    units : sequence of (str or None), optional
        Units given separately from the headers (Gamry's units row); overrides the unit
        found in the header.
    require_current : bool
        Refuse a record without a current column (False for open-circuit records).

    Returns
    -------
    data : DataFrame
    columns : list of ColumnInfo
    warnings : list of str
    """
    spec = spec or ColumnSpec()
    headers = [str(h) for h in headers]
    warnings: list[str] = []
    for canon, given in (("time_s", spec.time_unit), ("current_a", spec.current_unit),
                         ("voltage_v", spec.voltage_unit)):
        want = _ALIASES[canon][0]
        if given is not None and column_unit(given)[0] != want:
            raise InputError(f"{canon.split('_')[0]}_unit={given!r} is not a unit of {want} "
                             f"(e.g. {_EXAMPLE_UNITS[want]})", path=path)
    forced = {
        "time_s": (_resolve(spec.time, headers, path), spec.time_unit),
        "current_a": (_resolve(spec.current, headers, path), spec.current_unit),
        "voltage_v": (_resolve(spec.voltage, headers, path), spec.voltage_unit),
    }
    assigned: dict[int, tuple[str, str | None, tuple[str, float, float]]] = {}
    for canon, (idx, unit) in forced.items():
        if idx is None:
            continue
        name, hunit = split_header(headers[idx])
        unit = unit or (units[idx] if units else None) or hunit
        if unit is None and canon == "time_s":
            unit = "s"
            warnings.append(f"column {headers[idx]!r} has no unit: taken as seconds")
        info = _checked_unit(canon, headers[idx], unit, path)
        assigned[idx] = (canon, unit, info)
    taken = {c for c, _, _ in assigned.values()}
    unit_override = {"time_s": spec.time_unit, "current_a": spec.current_unit,
                     "voltage_v": spec.voltage_unit}

    for idx, header in enumerate(headers):
        if idx in assigned:
            continue
        name, file_unit = split_header(header)
        if units and units[idx]:
            file_unit = units[idx]
        key = _key(name)
        for canon, (want, aliases) in _ALIASES.items():
            if canon in taken or key not in aliases:
                continue
            unit = unit_override.get(canon) or file_unit
            # A bare "C" after a temperature means degrees Celsius, not coulomb.
            celsius = canon == "temperature_k" and unit is not None and unit.strip() == "C"
            dim, scale, offset = column_unit("degC" if celsius else unit)
            if want == "dimensionless":
                if unit is None or dim == "dimensionless":
                    assigned[idx] = (canon, unit, (dim, 1.0, 0.0))
                    taken.add(canon)
                break
            if unit is None:
                if canon == "time_s" and key in {"time", "elapsed time", "test time"}:
                    assigned[idx] = (canon, None, ("time", 1.0, 0.0))
                    taken.add(canon)
                    warnings.append(f"column {header!r} has no unit: taken as seconds")
                    break
                if canon == "current_a":
                    raise InputError(
                        f"column {header!r} looks like the current but has no unit; name it in "
                        "the header (e.g. 'I/mA') or pass current_unit= (CLI: --current-unit)",
                        path=path)
                continue
            if dim == want:
                assigned[idx] = (canon, unit, (dim, scale, offset))
                taken.add(canon)
                break
            if canon == "current_a":
                raise InputError(
                    f"column {header!r} looks like the current but its unit {unit!r} is not a "
                    "current (A, mA, uA, nA, pA); fix the header or pass current_unit= "
                    "(CLI: --current-unit)", path=path)
    if require_current and "current_a" not in taken:
        raise FormatError(
            f"no current column found among {headers}; name it (e.g. 'I/mA', 'Current [nA]') "
            "or pass current_col= and current_unit= (CLI: --current-col, --current-unit)",
            path=path)
    if "time_s" not in taken:
        raise FormatError(
            f"no time column found among {headers}; name it (e.g. 'time/s', 'Time (s)') "
            "or pass time_col= (CLI: --time-col)", path=path)

    data: dict[str, pd.Series] = {}
    infos: list[ColumnInfo] = []
    order = sorted(assigned.items(), key=lambda kv: _CANON_ORDER.index(kv[1][0]))
    for idx, (canon, unit, (_dim, scale, offset)) in order:
        values = _numeric(raw.iloc[:, idx], headers[idx], path, first_line)
        data[canon] = values * scale + offset if (scale != 1.0 or offset != 0.0) else values
        infos.append(ColumnInfo(headers[idx], canon, unit, scale, offset))
    used = set(assigned)
    for idx, header in enumerate(headers):
        if idx in used:
            continue
        col = raw.iloc[:, idx]
        if not header.strip():
            if col.isna().all():
                continue  # trailing delimiter
            header = f"column_{idx}"
        name = header if header not in data else f"{header}_{idx}"
        converted = pd.to_numeric(col, errors="coerce")
        data[name] = converted if converted.notna().sum() == col.notna().sum() else col
        _, unit = split_header(header)
        if units and units[idx]:
            unit = units[idx]
        infos.append(ColumnInfo(header, name, unit))
    df = pd.DataFrame(data)
    _validate(df, path, first_line)
    return df.reset_index(drop=True), infos, warnings


_CANON_ORDER = list(_ALIASES)


def _checked_unit(canon: str, header: str, unit: str | None, path) -> tuple[str, float, float]:
    want = _ALIASES[canon][0]
    if unit is None:
        raise InputError(f"column {header!r} has no unit; pass {canon.split('_')[0]}_unit=",
                         path=path)
    dim, scale, offset = column_unit(unit)
    if dim != want:
        raise InputError(f"unit {unit!r} of column {header!r} is not a unit of {want}",
                         path=path)
    return dim, scale, offset


def _row_label(first_line: int | None, i: int) -> dict:
    return {"line": first_line + i} if first_line is not None else {}


_COMMA_NUMBER = re.compile(r"^[-+]?\d+,\d+([eE][-+]?\d+)?$")
_DATE = re.compile(r"^\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?$")


def _numeric(col: pd.Series, header: str, path, first_line: int | None) -> pd.Series:
    """Convert a canonical column to float, refusing text cells with their position."""
    if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
        return col.astype(float)
    values = pd.to_numeric(col, errors="coerce")
    bad = values.isna() & col.notna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        where = _row_label(first_line, i) or {}
        row = "" if where else f" (row {i + 1})"
        cell = str(col.iloc[i])
        if _COMMA_NUMBER.match(cell.strip()):
            hint = ("a decimal comma among decimal points: write every number with the same "
                    "decimal mark")
        elif _DATE.match(cell.strip()):
            hint = ("absolute time stamps: export elapsed time instead (EC-Lab: Time format "
                    "'Elapsed'), or name another column with time_col=")
        else:
            hint = "fix or delete that cell"
        raise FormatError(f"non-numeric value {cell[:30]!r} in column {header!r}{row}; {hint}",
                          path=path, **where)
    return values.astype(float)


def _validate(df: pd.DataFrame, path, first_line: int | None) -> None:
    """Finite numbers in the canonical columns, and time that never runs backwards."""
    for name in _REQUIRED_FINITE:
        if name not in df:
            continue
        v = df[name].to_numpy(dtype=float)
        bad = ~np.isfinite(v)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            what = "missing" if np.isnan(v[i]) else "infinite"
            where = _row_label(first_line, i)
            row = "" if where else f" (row {i + 1})"
            raise FormatError(
                f"{what} value (NaN/inf or empty cell) in {name}{row}; remove or repair that "
                "row", path=path, **where)
    if "time_s" in df and len(df) > 1:
        dt = np.diff(df["time_s"].to_numpy(dtype=float))
        back = np.flatnonzero(dt < 0)
        if back.size:
            i = int(back[0]) + 1
            t = df["time_s"].to_numpy()
            where = _row_label(first_line, i)
            row = "" if where else f" (row {i + 1})"
            raise FormatError(
                f"time goes backwards{row}: {t[i]:.6g} s after {t[i - 1]:.6g} s; the file "
                "may join several runs: split or sort it", path=path, **where)


# EC-Lab's "Time format : Absolute ..." export option -> strptime format of its stamps.
_ABSOLUTE_FORMATS = {"mmddyyyy": "%m/%d/%Y %H:%M:%S.%f", "ddmmyyyy": "%d/%m/%Y %H:%M:%S.%f",
                     "yyyymmdd": "%Y/%m/%d %H:%M:%S.%f"}


def absolute_time(raw: pd.DataFrame, headers: Sequence[str], settings: dict, *, path,
                  warnings: list[str]) -> tuple[pd.DataFrame, str | None]:
    """Turn a time column of date-time stamps into seconds from its first point.

    Parameters
    ----------
    raw : DataFrame
        Columns in file order (not modified).
    headers : sequence of str
        Their headers; the time column is the first whose name is ``time``.
    settings : dict
        Header settings; ``Time format`` (``Absolute MMDDYYYY``) names the date order,
        else month first (EC-Lab's default) is tried, then day first.
    path : path-like
        For messages.
    warnings : list of str
        Appended to.

    Returns
    -------
    (DataFrame, str or None)
        The frame with the time column in seconds, and the first stamp (ISO 8601) as the
        start time; ``(raw, None)`` when the time column holds numbers.
    """
    idx = next((k for k, h in enumerate(headers) if _key(split_header(h)[0]) == "time"), None)
    if idx is None or pd.api.types.is_numeric_dtype(raw.iloc[:, idx]) or not len(raw):
        return raw, None
    col = raw.iloc[:, idx].astype(str).str.strip()
    if not _DATE.match(col.iloc[0]):
        return raw, None
    order = str(settings.get("Time format", "")).lower().replace("absolute", "").strip()
    formats = [_ABSOLUTE_FORMATS[order]] if order in _ABSOLUTE_FORMATS else [
        _ABSOLUTE_FORMATS["mmddyyyy"], _ABSOLUTE_FORMATS["ddmmyyyy"]]
    col = col.where(col.str.contains(r"\."), col + ".0")
    for fmt in formats:
        stamps = pd.to_datetime(col.str.replace("-", "/"), format=fmt, errors="coerce")
        if stamps.notna().all():
            break
    else:
        bad = int(np.flatnonzero(stamps.isna().to_numpy())[0])
        raise FormatError(f"time stamp {col.iloc[bad]!r} (row {bad + 1}) does not read as a date "
                          "and time; export elapsed time instead (EC-Lab: Time format "
                          "'Elapsed')", path=path)
    out = raw.copy()
    seconds = (stamps - stamps.iloc[0]).dt.total_seconds().to_numpy()
    out.isetitem(idx, seconds)
    start = stamps.iloc[0].isoformat()
    warnings.append(f"absolute time stamps converted to seconds from the first point "
                    f"({start})")
    return out, start

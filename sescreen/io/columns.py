"""Column choice and validation shared by every reader: raw columns in file order become
canonical SI columns (:func:`canonical_frame`), checked the same way for every format.

Every reader (EC-Lab text and binary, Gamry, tables) ends in :func:`canonical_frame`, so a
column called ``<I>/uA`` in one file and ``Current [nA]`` in another become the same
``current_a`` in amperes, checked the same way.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from sescreen.errors import FormatError, InputError
from sescreen.io.headers import ALIASES, ColumnSpec, header_key, mangled_unit, split_header
from sescreen.io.measurement import ColumnInfo
from sescreen.units import column_unit

__all__ = ["absolute_time", "canonical_frame"]

_EXAMPLE_UNITS = {"time": "'s', 'min', 'h'", "current": "'A', 'mA', 'uA', 'nA'",
                  "voltage": "'V', 'mV'"}
_REQUIRED_FINITE = ("time_s", "current_a", "voltage_v", "control_v", "control_a")

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
        want = ALIASES[canon][0]
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
        unit = _unit_given(canon, headers[idx], (units[idx] if units else None) or hunit,
                           unit, spec, path, warnings)
        if unit is None and canon == "time_s":
            unit = "s"
            warnings.append(f"column {headers[idx]!r} has no unit: taken as seconds")
        info = _checked_unit(canon, headers[idx], unit, path)
        assigned[idx] = (canon, unit, info)
    taken = {c for c, _, _ in assigned.values()}
    unit_override = {"time_s": spec.time_unit, "current_a": spec.current_unit,
                     "voltage_v": spec.voltage_unit}
    recognised: dict[str, tuple[int, str]] = {}  # canon -> (column, name) found by its header

    for idx, header in enumerate(headers):
        if idx in assigned:
            continue
        name, file_unit = split_header(header)
        if units and units[idx]:
            file_unit = units[idx]
        key = header_key(name)
        for canon, (want, aliases) in ALIASES.items():
            if canon in recognised and key in aliases:
                _refuse_rival(canon, recognised[canon], (idx, name), headers, file_unit,
                              unit_override.get(canon), path)
            if canon in taken or key not in aliases:
                continue
            unit = _unit_given(canon, header, file_unit, unit_override.get(canon), spec,
                               path, warnings)
            # A bare "C" after a temperature means degrees Celsius, not coulomb; so does a
            # degree sign lost to a wrong encoding on the way ("\ufffdC", "Â°C").
            celsius = canon == "temperature_k" and unit is not None and _celsius(unit)
            dim, scale, offset = column_unit("degC" if celsius else unit)
            if want == "dimensionless":
                if unit is None or dim == "dimensionless":
                    assigned[idx] = (canon, unit, (dim, 1.0, 0.0))
                    taken.add(canon)
                break
            if unit is None:
                if canon == "time_s" and key in _UNITLESS_TIME:
                    assigned[idx] = (canon, None, ("time", 1.0, 0.0))
                    taken.add(canon)
                    recognised[canon] = (idx, name)
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
                recognised[canon] = (idx, name)
                break
            if canon == "current_a" and mangled_unit(unit):
                raise InputError(
                    f"column {header!r} looks like the current but a character of its unit "
                    f"{unit!r} was lost to an encoding (U+FFFD or '?', most often the prefix "
                    "µ): sescreen does not guess a current's scale; fix the header (e.g. "
                    "'I/uA') or pass current_unit= (CLI: --current-unit)", path=path)
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
        data[canon] = _to_si(values, scale, offset)
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
        data[name] = _numbers_or_kept(col)
        _, unit = split_header(header)
        if units and units[idx]:
            unit = units[idx]
        infos.append(ColumnInfo(header, name, unit))
    df = pd.DataFrame(data, copy=False)  # no consolidating copy of the columns
    _validate(df, path, first_line)
    return df.reset_index(drop=True), infos, warnings


_CANON_ORDER = list(ALIASES)
#: A temperature's unit that means degrees Celsius though no unit parser would say so: a
#: bare "C" (coulomb elsewhere), or a degree sign an encoding lost: U+FFFD (an undecodable
#: byte: BT-Lab's "Temperature/\ufffdC", Basytec's "T1[\ufffdC]") or "?" (a lossy ASCII
#: export). Only on a temperature column: elsewhere "\ufffdC" may as well be a lost "µC".
#: ("Â°C", "ºC" are degrees Celsius anywhere: :func:`sescreen.units.column_unit`.)
_CELSIUS = re.compile("^(?:\ufffd{1,2}|\\?|)C$")


def _celsius(unit: str) -> bool:
    """Whether a temperature column's unit means degrees Celsius (see :data:`_CELSIUS`)."""
    return bool(_CELSIUS.match(unit.strip()))


_UNITLESS_TIME = {"time", "elapsed time", "test time"}  # taken as seconds without a unit
#: Columns of which a record has one: a second header that qualifies is ambiguous.
_ONE_EACH = {"time_s": "time_col", "current_a": "current_col", "voltage_v": "voltage_col"}
#: Header names that yield to another of the same quantity (EC-Lab's cell voltage with the
#: counter electrode recorded, beside the working electrode's potential).
_SECONDARY = {"ewe-ece"}


def _refuse_rival(canon: str, first: tuple[int, str], other: tuple[int, str],
                  headers: Sequence[str], stated: str | None, given: str | None,
                  path) -> None:
    """Refuse a second column that qualifies as the time, current or voltage as well as
    the one found first, naming both and the option that picks one.

    Not rivals: a column that would not be taken for the quantity (no unit of it), an
    EC-Lab averaged twin (``<I>/mA`` beside ``I/mA``, the first is taken), and a
    secondary name (``Ewe-Ece`` beside ``Ewe``). Review 4, D6: an ``.mpt`` whose ``Ewe/V``
    header read ``I/mA`` gave sigma_e from the volts "at steady state"; ``I/A`` beside
    ``Current/nA`` took the first, silently.

    Raises
    ------
    InputError
        Naming both columns (header and 0-based number) and ``current_col=`` (etc.).
    """
    if canon not in _ONE_EACH:
        return
    want = ALIASES[canon][0]
    key = header_key(other[1])
    usable = stated is not None and column_unit(stated)[0] == want
    unit = stated if usable or given is None else given
    if unit is None:
        if not (canon == "time_s" and key in _UNITLESS_TIME):
            return
    elif column_unit(unit)[0] != want:
        return
    a, b = first[1].strip(), other[1].strip()
    twins = a != b and a.strip("<>").strip() == b.strip("<>").strip()
    if twins or (header_key(a) in _SECONDARY) != (key in _SECONDARY):
        return
    option = _ONE_EACH[canon]
    raise InputError(
        f"two columns qualify as the {want}: {headers[first[0]]!r} (column {first[0]}) and "
        f"{headers[other[0]]!r} (column {other[0]}); pick one by its header or 0-based "
        f"number with {option}= (CLI: --{option.replace('_', '-')})", path=path)


def _unit_given(canon: str, header: str, stated: str | None, given: str | None,
                spec: ColumnSpec, path, warnings: list[str]) -> str | None:
    """The unit of a column: the one the file states, else the unit option's.

    A unit option is for a column whose unit the file does not state (a bare header), or
    states as no unit of the quantity (``Current (V)``). One that disagrees with a stated
    unit of the quantity is refused (``spec.stated_units == "refuse"``: an InputError
    naming the column), or left unapplied with a warning (``"keep"``: an option meant for
    many files). Review 4, D4: ``--current-unit nA`` rescaled an ``.mpr``'s mA and, batch-wide,
    a Gamry file's A by 1e-9 without a word (sigma_e 2e-11 -> 2e-20 S/cm, a false PASS).

    Parameters
    ----------
    canon : str
        The canonical column (``"current_a"``).
    header : str
        The column's header as written, for messages.
    stated, given : str or None
        The unit the file states, and the unit option's.
    spec : ColumnSpec
        Its ``stated_units`` decides a disagreement.
    path : path-like
        For messages.
    warnings : list of str
        Appended to.

    Returns
    -------
    str or None
    """
    if given is None or stated is None:
        return stated if given is None else given
    want = ALIASES[canon][0]
    option = f"{canon.split('_')[0]}_unit={given!r}"
    dim, scale, offset = column_unit(stated)
    if dim != want:  # the file's "unit" is none of this quantity: the option names it
        warnings.append(f"column {header!r} states {stated!r}, not a unit of {want}: read in "
                        f"{given!r} as {option} says")
        return given
    if column_unit(given)[1:] == (scale, offset):
        return stated
    if spec.stated_units == "keep":
        warnings.append(f"{option} not applied to column {header!r}: the file states its "
                        f"unit ({stated!r}); the option applies to columns without one")
        return stated
    raise InputError(f"column {header!r} states its unit {stated!r}, which {option} would "
                     "override; the option is for columns whose unit the file does not "
                     "state: leave it out (fix the header if the file is wrong)", path=path)


def _checked_unit(canon: str, header: str, unit: str | None, path) -> tuple[str, float, float]:
    want = ALIASES[canon][0]
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


_PROBE_CELLS = 64  # cells of a text column tried as numbers before the whole column


def _numbers_or_kept(col: pd.Series) -> pd.Series:
    """A column of numbers as numbers, any other as it is (a column with a text cell is
    kept whole; a text column is known as one from its first cells, which saves a slow
    failed conversion of a million notes)."""
    if pd.api.types.is_numeric_dtype(col):
        return col
    probe = col.iloc[:_PROBE_CELLS]
    if (pd.to_numeric(probe, errors="coerce").notna() != probe.notna()).any():
        return col
    converted = pd.to_numeric(col, errors="coerce")
    return converted if converted.notna().sum() == col.notna().sum() else col


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
        # a quoted cell keeps the file's line end in pandas' parser and "\n" in the
        # streamed one: the message shows it one way (the fast path must say the same)
        cell = str(col.iloc[i]).replace("\r\n", "\n")
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


def _to_si(values: pd.Series, scale: float, offset: float) -> pd.Series:
    """``values * scale + offset`` in numpy (pandas would hand a long column to numexpr,
    whose threads are slow on a busy machine), without a copy when there is nothing to do."""
    if scale == 1.0 and offset == 0.0:
        return values
    v = values.to_numpy(dtype=float) * scale
    if offset != 0.0:
        v += offset
    return pd.Series(v, index=values.index, name=values.name, copy=False)


def _validate(df: pd.DataFrame, path, first_line: int | None) -> None:
    """Finite numbers in the canonical columns, and time that never runs backwards."""
    for name in _REQUIRED_FINITE:
        if name not in df:
            continue
        v = df[name].to_numpy(dtype=float)
        if np.isfinite(np.add.reduce(v)):  # one pass; an overflowing sum checks cell by cell
            continue
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
        t = df["time_s"].to_numpy(dtype=float)
        back = np.flatnonzero(t[1:] < t[:-1])
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
    idx = next((k for k, h in enumerate(headers) if header_key(split_header(h)[0]) == "time"), None)
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

"""Read potentiostat files into one data model, :class:`Measurement`.

>>> from sescreen.io import read
>>> m = read("ca.mpr")                       # doctest: +SKIP
>>> m.technique, m.applied_voltage_v, m.area_cm2, m.data[["time_s", "current_a"]]

Formats, sniffed from the content first and the extension second:

- EC-Lab ``.mpt`` text exports (:mod:`sescreen.io.biologic`)
- EC-Lab ``.mpr`` binary files, sescreen's own reader (:mod:`sescreen.io.mpr`)
- Gamry ``.DTA``, every curve, and Gamry VFP600 files (:mod:`sescreen.io.gamry`)
- CSV / TSV / semicolon / whitespace tables (:mod:`sescreen.io.table`)
"""

from __future__ import annotations

import csv
import os
import struct
from pathlib import Path

import numpy as np
import pandas as pd

from sescreen.errors import FormatError, InputError, SescreenError
from sescreen.io.biologic import (
    MPT_MAGICS,
    first_setpoint_v,
    read_mpr,
    read_mpt,
    technique_from_name,
)
from sescreen.io.gamry import read_dta
from sescreen.io.headers import ColumnSpec
from sescreen.io.measurement import (
    CANONICAL_COLUMNS,
    ColumnInfo,
    Measurement,
    Technique,
    with_given,
)
from sescreen.io.mpr import MPR_MAGIC
from sescreen.io.ranges import current_accuracy_a, current_resolution_a
from sescreen.io.table import read_table
from sescreen.io.technique import classify
from sescreen.io.textfile import ENCODINGS, HEAD_BYTES, Reencode, TextFile
from sescreen.limits import refuse_pathological_lines

__all__ = [
    "CANONICAL_COLUMNS",
    "FORMATS",
    "ColumnInfo",
    "ColumnSpec",
    "Measurement",
    "Technique",
    "current_accuracy_a",
    "current_resolution_a",
    "read",
    "sniff_format",
]

FORMATS = ("biologic-mpt", "biologic-mpr", "gamry-dta", "table")
SUFFIXES = (".mpt", ".mpr", ".dta", ".csv", ".tsv", ".txt", ".dat")

# Parse-level exceptions of pandas/numpy/struct/csv that mean "this file is malformed".
_PARSE_ERRORS = (ValueError, IndexError, KeyError, OverflowError, UnicodeError, struct.error,
                 csv.Error, pd.errors.ParserError, pd.errors.EmptyDataError)


def sniff_format(path: str | Path, head: bytes | None = None) -> str:
    """Name the reader for a file from its first bytes, then its extension."""
    path = Path(path)
    if head is None:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    if head.startswith(MPR_MAGIC):
        return "biologic-mpr"
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if text.startswith(tuple(m.encode() for m in MPT_MAGICS)):
        return "biologic-mpt"
    if text.startswith((b"EXPLAIN", b"VFP600")):
        return "gamry-dta"
    suffix = path.suffix.lower()
    return {".mpr": "biologic-mpr", ".mpt": "biologic-mpt", ".dta": "gamry-dta"}.get(
        suffix, "table")


def read(
    path: str | Path,
    *,
    format: str | None = None,
    time_col: str | int | None = None,
    current_col: str | int | None = None,
    voltage_col: str | int | None = None,
    time_unit: str | None = None,
    current_unit: str | None = None,
    voltage_unit: str | None = None,
    applied_voltage_v: float | None = None,
    area_cm2: float | None = None,
    temperature_k: float | None = None,
    technique: str | Technique | None = None,
    allow_truncated: bool = False,
    delimiter: str | None = None,
    decimal: str | None = None,
    stated_units: str = "refuse",
) -> Measurement:
    """Read any supported potentiostat file into a :class:`Measurement` (SI units).

    Parameters
    ----------
    path : str or Path
        The file. It is only read, never modified.
    format : {"biologic-mpt", "biologic-mpr", "gamry-dta", "table"}, optional
        Skip format detection.
    time_col, current_col, voltage_col : str or int, optional
        Header (as written) or 0-based position of a column, for bare or odd headers.
    time_unit, current_unit, voltage_unit : str, optional
        Unit of that column when the file does not state it (a bare header: ``"s"``,
        ``"nA"``, ``"mV"``). A unit the file states (``I/mA``, a Gamry units row, an
        ``.mpr``'s fixed units) is never overridden: see ``stated_units``.
    applied_voltage_v : float, optional
        Polarization voltage, V; overrides the file.
    area_cm2 : float, optional
        Electrode area, cm^2; overrides the file.
    temperature_k : float, optional
        Temperature, K; overrides the file.
    technique : str or Technique, optional
        What the record is (``"constant_voltage"``, or an instrument name such as
        ``"chronoamperometry"``) when the file does not say.
    allow_truncated : bool
        Drop a truncated last row (file copied mid-run) with a warning instead of failing.
    delimiter, decimal : str, optional
        Field separator and decimal mark of a table (detected when not given).
    stated_units : {"refuse", "keep"}
        A unit option that disagrees with the unit the file states for that column:
        ``"refuse"`` (an InputError naming the file and the column), or ``"keep"`` the
        file's unit with a warning (options given for many files at once, as ``sescreen
        batch`` does).

    Returns
    -------
    Measurement

    Raises
    ------
    FormatError
        The file cannot be read; the message names the file, the line and the fix.
    InputError
        An override is invalid.
    """
    path = Path(path)
    if not path.exists():
        raise InputError("no such file", path=path)
    if not path.is_file():
        raise InputError("not a file (a folder? use 'sescreen batch' for folders)", path=path)
    if format is not None and format not in FORMATS:
        raise InputError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}",
                         path=path)
    if stated_units not in ("refuse", "keep"):
        raise InputError(f"stated_units={stated_units!r}: use 'refuse' or 'keep'", path=path)
    spec = ColumnSpec(time_col, current_col, voltage_col, time_unit, current_unit,
                      voltage_unit, stated_units)
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise InputError(f"cannot read the file ({exc.strerror or type(exc).__name__}); check "
                         "that it is readable", path=path) from None
    with fh:
        try:
            head = fh.read(HEAD_BYTES)
            size = max(os.fstat(fh.fileno()).st_size, len(head))
            if not head.strip() and size > len(head):  # a text of blanks only, or not?
                head += fh.read()
        except OSError as exc:
            raise InputError(f"cannot read the file ({exc.strerror or type(exc).__name__}); "
                             "check that it is readable", path=path) from None
        if not head.strip():
            raise FormatError("the file is empty (" + ("only blank space)" if head
                                                       else "0 bytes)"), path=path)
        fmt = format or sniff_format(path, head[:4096])
        try:
            m = _read_format(path, fh, head, size, fmt, spec, allow_truncated=allow_truncated,
                             delimiter=delimiter, decimal=decimal)
        except SescreenError as exc:
            if exc.path is None:
                exc.path = path
                exc.args = (exc._format(),)
            raise
        except _PARSE_ERRORS as exc:
            raise FormatError(f"cannot parse this {fmt} file ({type(exc).__name__}: "
                              f"{str(exc)[:200]}); check it or re-export it",
                              path=path) from None
    return _apply_overrides(m, applied_voltage_v=applied_voltage_v, area_cm2=area_cm2,
                            temperature_k=temperature_k, technique=technique, path=path)


def _read_format(path: Path, fh, head: bytes, size: int, fmt: str, spec: ColumnSpec, *,
                 allow_truncated: bool, delimiter: str | None,
                 decimal: str | None) -> Measurement:
    """Read an open file in the format ``fmt`` (``head``: its first bytes)."""
    if fmt == "biologic-mpr":
        if not head.startswith(MPR_MAGIC):
            raise FormatError(
                "not an EC-Lab binary file (no 'BIO-LOGIC MODULAR FILE' signature); if it "
                "is a text export, rename it to .mpt", path=path)
        return read_mpr(path, spec=spec, data=head + fh.read())
    if fmt == "gamry-dta":
        refuse_pathological_lines(path)
    encoding = None
    for _ in ENCODINGS:  # one more try per encoding the file turns out not to be in
        try:
            src = TextFile(path, fh, head, size, encoding)
            if fmt == "biologic-mpt":
                return read_mpt(path, src, spec=spec, allow_truncated=allow_truncated)
            if fmt == "gamry-dta":
                return read_dta(path, src, spec=spec, allow_truncated=allow_truncated)
            return read_table(path, src, spec=spec, allow_truncated=allow_truncated,
                              delimiter=delimiter, decimal=decimal)
        except Reencode as again:
            encoding = again.encoding
    raise AssertionError("latin-1 decodes any bytes")  # pragma: no cover


def _apply_overrides(m: Measurement, *, applied_voltage_v, area_cm2, temperature_k,
                     technique, path: Path | None = None) -> Measurement:
    if technique is not None:
        try:
            tech = Technique(technique)
        except ValueError:
            tech = technique_from_name(str(technique))
            if tech is Technique.UNKNOWN:
                raise InputError(
                    f"unknown technique {technique!r}; use one of "
                    f"{', '.join(t.value for t in Technique)}", path=path) from None
        m.technique, m.technique_inferred = tech, False
        m.technique_reason = f"given by the user (technique={technique!r})"
    for name, value, low, high in [("applied_voltage_v", applied_voltage_v, -100, 100),
                                   ("area_cm2", area_cm2, 0, 1e4),
                                   ("temperature_k", temperature_k, 0, 3000)]:
        if value is None:
            continue
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise InputError(f"{name} = {value!r} is not a number", path=path) from None
        if not (np.isfinite(value) and low <= value <= high) or (name != "applied_voltage_v"
                                                                  and value <= 0):
            raise InputError(f"{name} = {value!r} is outside the sensible range "
                             f"({low}..{high})", path=path)
        m.warnings = with_given(m.warnings, name, value, getattr(m, name))
        setattr(m, name, value)
    if m.temperature_k is None and "temperature_k" in m.data:
        temps = m.data["temperature_k"].to_numpy(dtype=float)
        temps = temps[np.isfinite(temps)]
        if temps.size:  # an empty or all-NaN column states no temperature
            m.temperature_k = float(np.median(temps))
    if m.technique is Technique.CONSTANT_VOLTAGE and m.applied_voltage_v is None and len(m.data) \
            and m.applied_voltage_ref != "Eoc":
        # a hold stated (by the file or the user) without its voltage: the set-point column,
        # else the measured voltage when it is flat (not for a set-point versus Eoc the
        # reader could not resolve: its signal column may be versus Eoc too; review 4, D3)
        col = "control_v" if "control_v" in m.data else "voltage_v" if "voltage_v" in m.data \
            else None
        if col == "control_v":  # the first hold's set-point (several holds: segments())
            m.applied_voltage_v = first_setpoint_v(m.data)
        elif col is not None:
            v = m.data[col].to_numpy(dtype=float)
            lo, hi = np.percentile(v, [2.5, 97.5])
            if hi - lo <= max(2e-3, 0.01 * abs(np.median(v))):
                m.applied_voltage_v = float(np.median(v))
        if m.applied_voltage_v is not None:
            what = "control" if col == "control_v" else "measured voltage"
            m.warnings.append(f"applied voltage taken from the {what} column: "
                              f"{m.applied_voltage_v:.6g} V")
    classify(m)
    return m

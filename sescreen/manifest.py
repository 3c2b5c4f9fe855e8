"""Manifests: one row per measurement file with what the file itself does not say.

A manifest is a small delimited table (read by :func:`sescreen.io.table.read_text_table`)
with a ``file`` column, paths relative to the manifest. Every other column is optional and
overrides, for its row, what the file states or the command line gives:

==================  =======================================================================
column              value
==================  =======================================================================
material            the material's name (a column of the batch table)
thickness           electrolyte thickness, with a unit in the cell (``1 mm``) or the header
                    (``thickness (mm)``, ``thickness_mm``)
area                electrode area (``0.785 cm2``)
temperature         measurement temperature (``30 C``, ``303 K``)
voltage             applied voltage (``100 mV``)
skip                time to ignore at the start of each hold (``10 s``)
segment             which hold of a multi-hold record (0-based whole number)
model               the transient model (:data:`sescreen.dcpol.MODEL_CHOICES`)
format              skip format detection (``biologic-mpt``, ``biologic-mpr``, ``gamry-dta``,
                    ``table``)
time_col, ...       reader options of :func:`sescreen.io.read`: ``time_col``, ``current_col``,
                    ``voltage_col``, ``time_unit``, ``current_unit``, ``voltage_unit``,
                    ``technique``, ``allow_truncated`` (yes/no)
==================  =======================================================================

An empty cell means "not given here". A column the manifest does not know is refused (a
misspelt ``thicknes`` must not silently fall back to the default); so is any value outside
a lab's range (:mod:`sescreen.limits`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sescreen.errors import FormatError, InputError

__all__ = ["ManifestRow", "read_measurement_manifest"]

#: column -> (dimension for sescreen.units, keyword of fit_dcpol, factor SI -> its unit,
#: plausibility kind of sescreen.limits)
_QUANTITIES = {
    "thickness": ("length", "thickness_cm", 100.0, "thickness_cm"),
    "area": ("area", "area_cm2", 1e4, "area_cm2"),
    "temperature": ("temperature", "temperature_k", 1.0, "temperature_k"),
    "voltage": ("voltage", "voltage_v", 1.0, "voltage_v"),
    "skip": ("time", "skip_s", 1.0, None),
}
_READER_TEXT = ("format", "time_col", "current_col", "voltage_col", "time_unit",
                "current_unit", "voltage_unit", "technique")
_KNOWN = ("file", "material", *_QUANTITIES, "segment", "model", *_READER_TEXT,
          "allow_truncated")
_NUMBER = re.compile(r"^[-+]?(\d+([.,]\d*)?|[.,]\d+)([eE][-+]?\d+)?$")
_YES = {"yes": True, "y": True, "true": True, "1": True, "no": False, "n": False,
        "false": False, "0": False}


@dataclass(frozen=True)
class ManifestRow:
    """One measurement file and the options its manifest row gives.

    Attributes
    ----------
    file : Path
        The file, resolved against the manifest's folder.
    row : int
        1-based data row of the manifest (for messages).
    material : str or None
    fit : dict
        Keywords of :func:`sescreen.dcpol.fit_dcpol` (``thickness_cm``, ``area_cm2``,
        ``temperature_k``, ``voltage_v``, ``skip_s``, ``model``), only those given.
    read : dict
        Keywords of :func:`sescreen.io.read` (``format``, ``time_col``, ...), only those given.
    segment : int or None
        The hold of a multi-hold record.
    """

    file: Path
    row: int
    material: str | None = None
    fit: dict[str, Any] = field(default_factory=dict)
    read: dict[str, Any] = field(default_factory=dict)
    segment: int | None = None


def _name_unit(header: str) -> tuple[str, str | None]:
    """'thickness (mm)' -> ('thickness', 'mm'); 'thickness_mm' -> ('thickness', 'mm')."""
    from sescreen.io.columns import split_header

    name, unit = split_header(header)
    key = "_".join(name.strip().lower().split())
    if unit is None and key not in _KNOWN:
        m = re.match(r"^(thickness|area|temperature|voltage|skip)_(.+)$", key)
        if m:
            key, unit = m.group(1), {"c": "C", "k": "K", "degc": "C"}.get(m.group(2),
                                                                          m.group(2))
    return key, unit


def _quantity(raw: str, unit: str | None, key: str, row: int, path: Path) -> tuple[str, float]:
    from sescreen.limits import check_range
    from sescreen.units import parse_quantity

    dim, kw, scale, kind = _QUANTITIES[key]
    # a bare number (1e-3 and 0,5 too) takes the header's unit; a cell with a unit keeps it
    text = f"{raw} {unit}" if unit is not None and _NUMBER.match(raw) else raw
    where = f"{key} of row {row}"
    try:
        value = parse_quantity(text, dim, name=where)
    except InputError as exc:
        msg = exc.message if where in exc.message else f"{where}: {exc.message}"
        raise InputError(msg, path=path) from None
    value *= scale
    if kind is not None:
        check_range(value, kind, f"{where} ({raw!r})", path=path)
    elif value < 0:
        raise InputError(f"{where} ({raw!r}) must not be negative", path=path)
    return kw, value


def read_measurement_manifest(path: str | Path, *,
                              required: tuple[str, ...] = ()) -> list[ManifestRow]:
    """The rows of a measurement manifest.

    Parameters
    ----------
    path : path-like
        The manifest (CSV, TSV, semicolon-separated).
    required : tuple of str
        Columns every row must fill (e.g. ``("temperature", "thickness", "area")`` for an
        Arrhenius series).

    Raises
    ------
    FormatError, InputError
        No ``file`` column, an unknown or duplicated column, an empty required cell, a value
        that is not a quantity of its kind or outside a lab's range: naming the manifest,
        the row and the column.
    """
    from sescreen.dcpol import MODEL_CHOICES
    from sescreen.io.table import read_text_table

    path = Path(path)
    df = read_text_table(path, what="manifest")
    columns: dict[str, tuple[Any, str | None]] = {}
    for pos, h in enumerate(list(df.columns)):
        if re.fullmatch(r"Unnamed: \d+", str(h)):  # pandas' name for an empty header
            if df[h].notna().any():
                raise FormatError(f"column {pos + 1} of the manifest has values but no "
                                  "header: name it (e.g. material) or delete it", path=path)
            df = df.drop(columns=h)  # a spreadsheet's trailing empty columns
            continue
        dup = re.fullmatch(r"(.+)\.\d+", str(h))  # pandas' name for a repeated header
        key, unit = _name_unit(dup.group(1) if dup and dup.group(1) in df.columns
                               else str(h))
        if key not in _KNOWN:
            raise FormatError(f"unknown manifest column {str(h)!r}: the columns are "
                              f"{', '.join(_KNOWN)}", path=path)
        if key in columns:
            raise FormatError(f"two manifest columns mean {key!r}: keep one", path=path)
        columns[key] = (h, unit)
    if "file" not in columns:
        raise FormatError("a manifest needs a 'file' column (paths relative to the manifest)",
                          path=path)
    for key in required:
        if key not in columns:
            raise FormatError(f"a manifest needs a {key!r} column (with units)", path=path)
    rows = []
    for n, (_, rec) in enumerate(df.iterrows(), 1):
        cells = {}
        for key, (h, unit) in columns.items():
            v = rec[h]
            if isinstance(v, str) and v.strip():
                cells[key] = (v.strip(), unit)
        if "file" not in cells:
            raise InputError(f"row {n} of the manifest has no file", path=path)
        for key in required:
            if key not in cells:
                raise InputError(f"row {n} of the manifest has no {key}", path=path)
        fit: dict[str, Any] = {}
        read: dict[str, Any] = {}
        for key, (raw, unit) in cells.items():
            if key in _QUANTITIES:
                kw, value = _quantity(raw, unit, key, n, path)
                fit[kw] = value
            elif key in _READER_TEXT:
                read[key] = int(raw) if key.endswith("_col") and raw.isdigit() else raw
            elif key == "allow_truncated":
                if raw.lower() not in _YES:
                    raise InputError(f"allow_truncated of row {n} ({raw!r}): write yes or no",
                                     path=path)
                read[key] = _YES[raw.lower()]
            elif key == "model":
                if raw not in MODEL_CHOICES:
                    raise InputError(f"model of row {n} ({raw!r}): choose one of "
                                     f"{', '.join(MODEL_CHOICES)}", path=path)
                fit["model"] = raw
        segment = None
        if "segment" in cells:
            raw = cells["segment"][0]
            if not raw.isdigit():
                raise InputError(f"segment of row {n} ({raw!r}): write a whole number >= 0",
                                 path=path)
            segment = int(raw)
        rows.append(ManifestRow(file=path.parent / cells["file"][0], row=n,
                                material=cells["material"][0] if "material" in cells else None,
                                fit=fit, read=read, segment=segment))
    if not rows:
        raise InputError("the manifest lists no files", path=path)
    return rows

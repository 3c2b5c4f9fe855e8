"""Candidates tables, the input of :func:`sescreen.screening.screen`: a CSV of one row per
measurement or value of a material, read into field-unit columns and checked against what a
laboratory can reach (:mod:`sescreen.limits`) before anything is analysed.

Columns (headers with units as shown; all but ``material`` optional):

==========================  ===============================================================
``material``                name; rows with the same name are one material
``formula``                 composition (pymatgen-readable)
``file``                    a DC-polarization measurement (path relative to the table)
``sigma_e (S/cm)``          a known electronic conductivity instead of a file
``sigma_e_stderr (S/cm)``   its standard error
``temperature (C)``         temperature of the file or value (or ``temperature (K)``)
``thickness (mm)``          electrolyte thickness, for files
``area (cm2)``              electrode area, for files (default: the file's)
``fracture_stress (MPa)``   for the critical overpotential (METHODS eq. 3)
``ndp``                     an NDP series (folder or wide table) of this material
``ndp_stack``               its depth calibration (preset name or stack TOML)
``ndp_standard_counts``     C_10B, counts per monitor (eq. 4)
``ndp_current (mA/cm2)``    plating current of the NDP series
``host_density (g/cm3)``    electrolyte density, for the dendrite fraction of host Li
``sigma_e_bound``           ``upper`` where ``sigma_e`` is only an upper bound (a literature
                            "sigma_e < 1e-8 S/cm"): it can pass, never fail
``ccd_file``                a step-current cycling record of this material (the lab's own
                            CCD, :func:`sescreen.cycling.measure_ccd`; ``area (cm2)`` and
                            ``temperature`` of the row apply to it)
``source``                  free text, carried into the verdict table
``notes``, ``reference``    free text, read and ignored (also ``note``, ``comment``,
                            ``doi``, ``id``)
==========================  ===============================================================

``name`` is read as ``material``, and ``T`` or ``temp`` as ``temperature``. Any other
column, or two columns for one field (``sigma_e (S/cm)`` beside ``sigma_e (mS/cm)``), is
refused naming the column and the nearest accepted name: a dropped column changed the
verdicts silently (a temperature column named otherwise was judged at the operating
temperature; an unrecognised standard-error column shrank the interval to a point). Numeric
cells hold a number alone (the unit goes in the header) with a decimal point. A table
without temperatures is judged as measured at the operating temperature, and the
screening result says so (:attr:`sescreen.screening.ScreeningResult.notes`).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from sescreen.errors import FormatError, InputError

__all__ = ["read_candidates"]

_COLUMNS = {  # normalized header -> (key, unit kind)
    "material": ("material", None), "name": ("material", None),
    "formula": ("formula", None), "file": ("file", None), "sigma_e": ("sigma_e", "S/cm"),
    "sigma_e_stderr": ("sigma_e_stderr", "S/cm"), "temperature": ("temperature", "T"),
    "thickness": ("thickness", "length"), "area": ("area", "area"),
    "fracture_stress": ("fracture_stress", "pressure"), "ndp": ("ndp", None),
    "ndp_stack": ("ndp_stack", None), "ndp_standard_counts": ("ndp_standard_counts", None),
    "ndp_current": ("ndp_current", "current_density"),
    "host_density": ("host_density", None), "source": ("source", None),
    "ccd_file": ("ccd_file", None), "sigma_e_bound": ("sigma_e_bound", None),
    "t": ("temperature", "T"), "temp": ("temperature", "T"),
}
#: The headers named in an error, as a table writes them (units as in the module docstring).
_ACCEPTED = ("material", "formula", "file", "sigma_e (S/cm)", "sigma_e_stderr (S/cm)",
             "sigma_e_bound", "temperature (C)", "thickness (mm)", "area (cm2)",
             "fracture_stress (MPa)", "ndp", "ndp_stack", "ndp_standard_counts",
             "ndp_current (mA/cm2)", "host_density (g/cm3)", "ccd_file", "source")
_NUMBER_UNIT = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([^\W\d_]|[°%/]).*$")
_DECIMAL_COMMA = re.compile(r"^\s*[-+]?\d*,\d+(?:[eE][-+]?\d+)?\s*$")
#: ``sigma_e_bound`` cells that make a tabulated sigma_e an upper bound (the curated
#: dataset's ``upper``)
_UPPER = ("upper", "<")


def read_candidates(path: str | Path) -> pd.DataFrame:
    """Read a candidates table into SI-free, field-unit columns.

    Returns
    -------
    DataFrame
        ``material``, ``formula``, ``file`` (absolute path or None), ``sigma_e`` (S/cm),
        ``sigma_e_stderr`` (S/cm), ``temperature_k``, ``thickness_cm``, ``area_cm2``,
        ``fracture_stress_pa``, ``ndp`` (path), ``ndp_stack``, ``ndp_standard_counts``,
        ``ndp_current_ma_cm2``, ``host_density_g_cm3``, ``source``, ``sigma_e_bound``
        (True: ``sigma_e`` is an upper bound).
    """
    from sescreen.io.headers import FREE_TEXT, split_header
    from sescreen.io.table import read_text_table
    from sescreen.units import factor, parse_temperature

    path = Path(path)
    raw = read_text_table(path, what="candidates table")
    out = pd.DataFrame(index=raw.index)
    units: dict[str, str | None] = {}
    headers: dict[str, str] = {}  # field -> the header it was read from
    for header in raw.columns:
        name, unit = split_header(str(header))
        key = re.sub(r"\s+", "_", name.strip().lower())
        if key in FREE_TEXT:
            continue
        if key not in _COLUMNS:
            raise _unknown_column(str(header), key, path)
        target, _ = _COLUMNS[key]
        if target in headers:
            raise FormatError(f"columns {headers[target]!r} and {str(header)!r} both give "
                              f"{target}: keep one", path=path, line=1, column=str(header))
        headers[target] = str(header)
        out[target] = raw[header]
        units[target] = unit
    if "material" not in out:
        raise FormatError("a candidates table needs a 'material' column", path=path, line=1)
    if len(out) == 0:
        raise FormatError("the candidates table has a header but no rows: add one row per "
                          "measurement or value", path=path)
    if not all(isinstance(v, str) and v for v in out["material"]):
        row = int(np.flatnonzero([not (isinstance(v, str) and v) for v in out["material"]])[0]) + 2
        raise FormatError("a row without a material name", path=path, line=row)

    def numbers(key, scale=1.0):
        if key not in out:
            return pd.Series(np.nan, index=out.index)
        cells = pd.Series(text(key), index=out.index, dtype=object)
        vals = pd.to_numeric(cells, errors="coerce")
        bad = vals.isna() & cells.notna()
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise _not_a_number(cells.iloc[row], headers[key], path, row + 2)
        return vals * scale

    def text(key):
        col = out[key] if key in out else pd.Series(None, index=out.index, dtype=object)
        return [v if isinstance(v, str) and v else None for v in col]

    def resolved(key):
        return [None if v is None else str((path.parent / v).resolve()) for v in text(key)]

    result = pd.DataFrame({"material": out["material"]})
    result["formula"] = text("formula")
    result["file"] = resolved("file")
    result["ndp"] = resolved("ndp")
    result["ccd_file"] = resolved("ccd_file")
    sig_k = factor(units.get("sigma_e") or "S/cm", "S/cm") if "sigma_e" in out else 1.0
    result["sigma_e"] = numbers("sigma_e", sig_k)
    result["sigma_e_stderr"] = numbers(
        "sigma_e_stderr", factor(units.get("sigma_e_stderr") or "S/cm", "S/cm")
        if "sigma_e_stderr" in out else 1.0)
    # a literature "sigma_e < 1e-8" is a bound, not a value (read as a value it failed at
    # 1 mA/cm^2, which it says nothing about: an independent review)
    bounds = []
    for k, v in enumerate(text("sigma_e_bound")):
        if v is not None and v.strip().lower() not in _UPPER:
            raise FormatError(f"sigma_e_bound {v!r}: write upper (sigma_e < value) or leave "
                              "it empty (a value)", path=path, line=k + 2)
        bounds.append(v is not None)
    result["sigma_e_bound"] = bounds
    if "temperature" in out:
        t_unit = (units.get("temperature") or "").strip()
        if not t_unit:
            raise FormatError("the temperature column needs a unit: 'temperature (C)' or "
                              "'temperature (K)'", path=path, line=1)
        temps = []
        for k, v in enumerate(text("temperature")):
            if v is not None and pd.isna(pd.to_numeric(v, errors="coerce")):
                raise _not_a_number(v, headers["temperature"], path, k + 2)
            try:
                temps.append(np.nan if v is None else parse_temperature(f"{v} {t_unit}"))
            except InputError as exc:
                raise FormatError(exc.message, path=path, line=k + 2) from None
        result["temperature_k"] = temps
    else:
        result["temperature_k"] = np.nan
    result["thickness_cm"] = numbers("thickness", factor(units.get("thickness") or "mm", "cm")
                                     if "thickness" in out else 1.0)
    result["area_cm2"] = numbers("area", factor(units.get("area") or "cm**2", "cm**2")
                                 if "area" in out else 1.0)
    result["fracture_stress_pa"] = numbers(
        "fracture_stress", factor(units.get("fracture_stress") or "MPa", "Pa")
        if "fracture_stress" in out else 1.0)
    result["ndp_stack"] = text("ndp_stack")
    result["ndp_standard_counts"] = numbers("ndp_standard_counts")
    result["ndp_current_ma_cm2"] = numbers(
        "ndp_current", factor(units.get("ndp_current") or "mA/cm**2", "mA/cm**2")
        if "ndp_current" in out else 1.0)
    result["host_density_g_cm3"] = numbers("host_density")
    result["source"] = text("source")
    _check_plausible(result, path)
    for k, row in result.iterrows():
        has_file = isinstance(row["file"], str)
        if not has_file and not np.isfinite(row["sigma_e"]) and not isinstance(
                row["ccd_file"], str):
            raise FormatError(f"material {row['material']!r}: give a file or a sigma_e (or "
                              "a ccd_file)",
                              path=path, line=int(k) + 2)
        if has_file and not np.isfinite(row["thickness_cm"]):
            raise FormatError(f"material {row['material']!r}: a measurement file needs its "
                              "thickness", path=path, line=int(k) + 2)
    return result


def _unknown_column(header: str, key: str, path: Path) -> FormatError:
    """The error for a column the candidates table does not read: its nearest accepted
    name (difflib) and the accepted ones."""
    from sescreen.io.headers import FREE_TEXT, did_you_mean

    names = {re.sub(r"\s+", "_", n.split(" (")[0]): n for n in _ACCEPTED}
    names.update({k: "temperature (C)" for k in ("t", "temp")}, **{k: k for k in FREE_TEXT})
    return FormatError(f"unknown column: {did_you_mean(key, names)}a candidates table reads "
                       f"{', '.join(_ACCEPTED)} (units in the header may differ) and the free "
                       f"text {', '.join(FREE_TEXT)}; rename or remove the column",
                       path=path, line=1, column=header)


def _not_a_number(cell: str, header: str, path: Path, line: int) -> FormatError:
    """The error for a numeric cell that is not a number, with the fix: a unit belongs in
    the header, a decimal comma becomes a point."""
    from sescreen.io.headers import split_header

    if _DECIMAL_COMMA.match(cell):
        fix = (f"a decimal comma: write {cell.strip().replace(',', '.')!r} (a decimal point; "
               "a comma separates cells)")
    elif m := _NUMBER_UNIT.match(cell):
        name = split_header(header)[0]
        fix = (f"a unit in the cell: write the number alone ({m.group(1)}) and the unit in "
               f"the header, e.g. '{name} ({cell[m.end(1):].strip()})'")
    else:
        fix = "write a number (the unit goes in the header, e.g. 'thickness (mm)')"
    return FormatError(f"{cell!r} is not a number: {fix}", path=path, line=line,
                       column=header)


def _check_plausible(result: pd.DataFrame, path: Path) -> None:
    """Every stated number of a candidates table finite and physically plausible
    (:mod:`sescreen.limits`), refused with the row and the range."""
    from sescreen.limits import RANGES, check_range

    def bad(k, text):
        raise FormatError(f"material {result.at[k, 'material']!r}: {text}", path=path,
                          line=int(k) + 2)

    for k, r in result.iterrows():
        sig, err = r["sigma_e"], r["sigma_e_stderr"]
        low, high, _, span = RANGES["conductivity_s_cm"]
        if not np.isnan(sig) and not (np.isfinite(sig) and low <= sig <= high):
            bad(k, f"sigma_e = {sig!r} S/cm is outside the plausible range {span}")
        if not np.isnan(err):
            top = 10 * sig if np.isfinite(sig) and sig > 0 else 1e3
            if not (np.isfinite(err) and 0 <= err <= top):
                bad(k, f"sigma_e_stderr = {err!r} S/cm must be finite, >= 0 and at most "
                       f"{top:.3g} S/cm (10 times sigma_e)")
        where = dict(path=path, line=int(k) + 2)
        for col, kind, name, scale in (
                ("temperature_k", "temperature_k", "temperature", 1.0),
                ("thickness_cm", "thickness_cm", "thickness", 1.0),
                ("area_cm2", "area_cm2", "area", 1.0),
                ("ndp_current_ma_cm2", "current_density_ma_cm2", "ndp_current", 1.0),
                ("fracture_stress_pa", "fracture_stress_mpa", "fracture_stress", 1e-6)):
            if not np.isnan(r[col]):
                check_range(r[col] * scale, kind, name, **where)
        for col, lo, hi, name in (("ndp_standard_counts", 1e-12, 1e12, "ndp_standard_counts"),
                                  ("host_density_g_cm3", 0.1, 25.0, "host_density (g/cm3)")):
            v = r[col]
            if not np.isnan(v) and not (np.isfinite(v) and lo <= v <= hi):
                bad(k, f"{name} = {v!r} is outside {lo:g} .. {hi:g}")


#: Column of :attr:`ScreeningResult.table` -> its name in a CSV file, with the unit
#: (S/cm, eV, mA/cm^2); the other numeric columns carry theirs already (``phi_c_mv``,
#: ``ndp_onset_s``, ``measured_ccd_ma_cm2``, ...).

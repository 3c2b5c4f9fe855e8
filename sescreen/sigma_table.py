"""Conductivity-vs-temperature inputs: sigma(T) tables and manifests of DC-polarization files.

A **table** has a temperature column (unit in the header: ``T (C)``, ``T (K)``, ``T/C``,
``T/K``, ``temperature_c``, ``temperature_k``), a conductivity column (``sigma (S/cm)``,
``sigma/S cm-1``, ``sigma_e (mS/cm)``, ``conductivity (S/m)``), optionally its standard
error (``sigma_stderr (S/cm)``) and a ``material`` column for several materials at once.
Free text (``notes``, ``reference``, ...: :data:`sescreen.io.headers.FREE_TEXT`) is read
and ignored; any other column is refused naming the nearest accepted name (an error column
named otherwise, ``dsigma (S/cm)``, had been dropped silently).

A **manifest** (:mod:`sescreen.manifest`) has a ``file`` column (paths relative to the
manifest) and per-file ``temperature``, ``thickness`` and ``area`` (values with units, or
units in the header: ``temperature (C)``, ``thickness (mm)``, ``area (cm2)``), optionally
``voltage``, ``material``, ``segment``, ``model`` and reader options. Every file runs
through the DC-polarization analysis first
(:func:`sescreen.dcpol.fit_dcpol`); its sigma_e and standard error become one point.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from sescreen.errors import FormatError, InputError, SescreenError
from sescreen.io.headers import FREE_TEXT, did_you_mean, split_header
from sescreen.io.table import read_text_table
from sescreen.limits import check_file_metadata, check_range
from sescreen.units import factor

__all__ = ["points_from_measurements", "read_manifest", "read_sigma_table", "sigma_points"]

_T_NAMES = {"t", "temp", "temperature"}
_SIGMA_NAMES = {"sigma", "sigma_e", "sigma e", "sigma_ion", "conductivity", "sigma_el",
                "electronic conductivity", "ionic conductivity", "s"}
_ELECTRONIC = {"sigma_e", "sigma e", "sigma_el"}
_ERR_HINTS = ("stderr", "std err", "error", "err", "uncertainty", "sd", "sigma_err")
_MATERIAL_NAMES = {"material", "sample", "name", "electrolyte", "compound"}


def _name_unit(header: str) -> tuple[str, str | None]:
    name, unit = split_header(header)
    key = " ".join(name.strip().lower().split())
    m = re.match(r"^(.*?)[_ ](k|c|degc|s_cm|ms_cm)$", key)
    if unit is None and m:
        key, unit = m.group(1), {"k": "K", "c": "C", "degc": "C", "s_cm": "S/cm",
                                 "ms_cm": "mS/cm"}[m.group(2)]
    return key, unit


def _temperature_to_k(values: pd.Series, unit: str | None, header: str, path) -> np.ndarray:
    if unit is None:
        raise InputError(f"temperature column {header!r} has no unit: name it 'T (C)' or "
                         "'T (K)'", path=path)
    u = unit.strip().replace("\u00b0", "").lower()
    offset = {"k": 0.0, "kelvin": 0.0, "c": 273.15, "degc": 273.15, "celsius": 273.15}.get(u)
    if offset is None:
        raise InputError(f"temperature unit {unit!r} of column {header!r}: use K or C",
                         path=path)
    return _numbers(values, header, path) + offset


def _numbers(values: pd.Series, header: str, path) -> np.ndarray:
    out = pd.to_numeric(values.str.strip().str.replace(",", ".", regex=False), errors="coerce")
    bad = out.isna() & values.notna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise FormatError(f"non-numeric value {values.iloc[i]!r} in column {header!r} "
                          f"(data row {i + 1})", path=path)
    return out.to_numpy(dtype=float)


def read_sigma_table(path: str | Path) -> pd.DataFrame:
    """Read a sigma(T) table.

    Returns
    -------
    DataFrame
        Columns ``material`` (None when absent), ``temperature_k``, ``sigma`` (S/cm),
        ``sigma_stderr`` (S/cm or NaN), in file order.
    """
    df = read_text_table(path)
    cols = {"t": None, "sigma": None, "err": None, "material": None}
    units = {}
    found: dict[str, list[tuple[str, str, str | None]]] = {"t": [], "sigma": [], "err": []}
    unknown = []
    for header in df.columns:
        key, unit = _name_unit(str(header))
        if key in FREE_TEXT:
            continue
        if key in _MATERIAL_NAMES:
            if cols["material"] is not None:
                raise FormatError(f"two material columns, {cols['material']!r} and "
                                  f"{header!r}: keep one", path=path, line=1,
                                  column=str(header))
            cols["material"] = header
        elif key in _T_NAMES or key.startswith("temperature"):
            found["t"].append((header, key, unit))
        elif any(h in key for h in _ERR_HINTS) and ("sigma" in key or "cond" in key
                                                   or key in _ERR_HINTS):
            found["err"].append((header, key, unit))
        elif key in _SIGMA_NAMES or key.startswith("sigma") or "conductivity" in key:
            found["sigma"].append((header, key, unit))
        else:
            unknown.append((str(header), key))
    # a second candidate column is never dropped silently (a review: 'sigma_ion' before
    # 'sigma_e' fitted the ionic conductivity, 'T (C)' beside 'T (K)' took the first)
    if len(found["t"]) > 1:
        raise FormatError("two temperature columns, " + " and ".join(
            repr(h) for h, _, _ in found["t"]) + ": keep one", path=path)
    sig = found["sigma"]
    if len(sig) > 1:
        sig = [c for c in sig if c[1] in _ELECTRONIC or "electronic" in c[1]]
        if len(sig) != 1:
            raise FormatError("more than one conductivity column (" + ", ".join(
                repr(h) for h, _, _ in found["sigma"]) + "): keep only the one to fit, or "
                "name the electronic one sigma_e", path=path)
    if found["t"]:
        cols["t"], _, units["t"] = found["t"][0]
    if sig:
        cols["sigma"], sig_key, units["sigma"] = sig[0]
        errs = found["err"]
        if len(errs) > 1 or len(found["sigma"]) > 1:  # the error of that conductivity
            errs = [c for c in errs if c[1].startswith((sig_key + "_", sig_key + " "))]
        if len(errs) > 1:
            raise FormatError("more than one error column for " + repr(cols["sigma"]) + " ("
                              + ", ".join(repr(h) for h, _, _ in errs) + "): keep one",
                              path=path)
        if errs:
            cols["err"], _, units["err"] = errs[0]
    if cols["t"] is None or cols["sigma"] is None:
        raise FormatError(f"need a temperature column ('T (C)', 'T (K)', 'temperature_c') and "
                          f"a conductivity column ('sigma (S/cm)'); found {list(df.columns)}",
                          path=path)
    if unknown:
        header, key = unknown[0]
        names = {"t": "T (C)", "temperature": "temperature (C)", "sigma": "sigma (S/cm)",
                 "sigma_stderr": "sigma_stderr (S/cm)", "sigma_e": "sigma_e (S/cm)",
                 "sigma_e_stderr": "sigma_e_stderr (S/cm)", "material": "material",
                 **{k: k for k in FREE_TEXT}}
        raise FormatError(f"unknown column: {did_you_mean(key, names)}a sigma(T) table reads "
                          "a temperature (T (C), T (K)), a conductivity (sigma (S/cm)), its "
                          "standard error (sigma_stderr (S/cm)), material and the free text "
                          f"{', '.join(FREE_TEXT)}; rename or remove the column", path=path,
                          line=1, column=header)
    t = _temperature_to_k(df[cols["t"]], units["t"], cols["t"], path)
    sig_unit = units["sigma"] or "S/cm"
    try:
        k = factor(sig_unit, "S/cm")
    except InputError:
        raise InputError(f"unit {sig_unit!r} of column {cols['sigma']!r} is not a "
                         "conductivity (S/cm, mS/cm, S/m)", path=path) from None
    out = pd.DataFrame({
        "material": df[cols["material"]].str.strip() if cols["material"] else None,
        "temperature_k": t,
        "sigma": _numbers(df[cols["sigma"]], cols["sigma"], path) * k,
        "sigma_stderr": (_numbers(df[cols["err"]], cols["err"], path)
                         * factor(units["err"] or sig_unit, "S/cm")) if cols["err"]
        else np.nan,
    })
    _check_points(out, path)
    return out


def _check_points(out: pd.DataFrame, path) -> None:
    """Plausible sigma(T) points: finite temperatures in a cell's range, sigma in the
    range of :data:`sescreen.limits.RANGES` (1e-300 S/cm overflowed the prefactor), stated
    errors finite, >= 0 and at most 10 times the value."""
    if len(out) == 0:
        raise FormatError("the table has a header but no rows", path=path)
    for i, (t, sig, err) in enumerate(zip(out["temperature_k"], out["sigma"],
                                          out["sigma_stderr"], strict=True), 1):
        if not np.isnan(t):
            check_range(t, "temperature_k", f"temperature (data row {i})", path=path)
        check_range(sig, "conductivity_s_cm", f"sigma (data row {i})", path=path)
        if not np.isnan(err) and not (np.isfinite(err) and 0 <= err <= 10 * sig):
            raise FormatError(f"stated error {err!r} S/cm (data row {i}) must be finite, "
                              f">= 0 and at most 10 times sigma ({sig:.3g} S/cm)", path=path)


def read_manifest(path: str | Path, *, model: str = "auto",
                  errors: list[str] | None = None) -> pd.DataFrame:
    """Run every DC-polarization file of a manifest and return one point per file.

    Parameters
    ----------
    path : path-like
        The manifest (:mod:`sescreen.manifest`); ``temperature``, ``thickness`` and
        ``area`` are required in every row.
    model : str
        Transient model for :func:`~sescreen.dcpol.fit_dcpol` (a ``model`` column wins).
    errors : list, optional
        When given, a file that fails is appended here as ``"file: message"`` and the rest
        go on; otherwise the first failure raises.

    Returns
    -------
    DataFrame
        As :func:`read_sigma_table`, plus ``file``, ``steady_state_reached`` and
        ``warnings``.
    """
    from sescreen.manifest import read_measurement_manifest

    rows = []
    for entry in read_measurement_manifest(path, required=("temperature", "thickness",
                                                            "area")):
        row = _point(entry.file, errors, material=entry.material, read_kwargs=entry.read,
                     segment=entry.segment, **{"model": model, **entry.fit})
        if row is not None:
            rows.append(row)
    if not rows:
        reasons = "; ".join(errors) if errors else ""
        raise InputError("no file of the manifest could be analysed"
                         + (f": {reasons}" if reasons else ""), path=path)
    return pd.DataFrame(rows)


def _point(file: Path, errors: list[str] | None, *, material: str | None,
           read_kwargs: dict | None = None, segment: int | None = None, **fit_kwargs):
    """One sigma(T) point from one DC-polarization file (None when it failed and errors
    are collected); ``segment`` picks one hold of a multi-hold record."""
    from sescreen.dcpol import fit_dcpol, select_hold
    from sescreen.io import read

    try:
        if not file.is_file():
            raise InputError("no such file (paths in a manifest are relative to it)",
                             path=file)
        m = read(file, **(read_kwargs or {}))
        check_file_metadata(m, temperature_given=fit_kwargs.get("temperature_k") is not None,
                            area_given=fit_kwargs.get("area_cm2") is not None,
                            voltage_given=fit_kwargs.get("voltage_v") is not None)
        res = fit_dcpol(select_hold(m, segment), **fit_kwargs)
        if res.temperature_k is None:
            raise InputError("the temperature is unknown: give it (manifest column, or "
                             "--temperatures)", path=file)
    except SescreenError as exc:
        if errors is None:
            raise
        errors.append(str(exc) if str(file) in str(exc) else f"{file}: {exc}")
        return None
    return {"material": material, "temperature_k": res.temperature_k, "sigma": res.sigma_e,
            "sigma_stderr": res.sigma_e_stderr, "file": str(file),
            "steady_state_reached": res.steady_state_reached,
            "warnings": "; ".join(res.warnings)}


def points_from_measurements(paths, *, thickness_cm: float, area_cm2: float | None = None,
                             temperatures_k=None, model: str = "auto",
                             material: str | None = None,
                             errors: list[str] | None = None) -> pd.DataFrame:
    """sigma(T) points from DC-polarization files of one cell at several temperatures.

    Parameters
    ----------
    paths : sequence of path-like
        One constant-voltage hold per temperature.
    thickness_cm : float
        Electrolyte thickness, cm.
    area_cm2 : float, optional
        Electrode area, cm^2 (default: each file's).
    temperatures_k : sequence of float, optional
        One per file, K; default: each file's own temperature (metadata or column).
    model : str
        Transient model.
    material : str, optional
        Name for every point.
    errors : list, optional
        Collect failures here instead of raising on the first.
    """
    paths = [Path(p) for p in paths]
    if temperatures_k is not None and len(temperatures_k) != len(paths):
        raise InputError(f"{len(temperatures_k)} temperatures for {len(paths)} files")
    rows = []
    seen = len(errors) if errors is not None else 0
    for k, file in enumerate(paths):
        row = _point(file, errors, material=material, thickness_cm=thickness_cm,
                     area_cm2=area_cm2, model=model,
                     temperature_k=None if temperatures_k is None else temperatures_k[k])
        if row is not None:
            rows.append(row)
    if not rows:
        reasons = "; ".join(errors[seen:]) if errors is not None else ""
        raise InputError(f"none of the {len(paths)} files could be analysed"
                         + (f": {reasons}" if reasons else ""))
    return pd.DataFrame(rows)


def sigma_points(df: pd.DataFrame) -> dict[str | None, pd.DataFrame]:
    """Split a points table by material (None when there is no material column)."""
    if df["material"].isna().all():
        return {None: df}
    return {name: part for name, part in df.groupby("material", sort=False)}

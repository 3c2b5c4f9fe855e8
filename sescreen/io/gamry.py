"""Gamry Framework ``.DTA`` files (own parser).

Layout: ``EXPLAIN``, ``TAG <technique>``, then header lines ``KEY<TAB>TYPE<TAB>VALUE...
<TAB>description`` (types LABEL, QUANT, IQUANT, POTEN, TOGGLE, SELECTOR, TWOPARAM, PSTAT,
NOTES, TABLE). ``NOTES n`` is followed by n note lines; ``NAME TABLE [n]`` by a header row,
a units row and data rows, all starting with a tab. A run that was aborted announces more
rows than it holds; Gamry writes ``-327.6x deg C`` in ``Temp`` when no thermocouple is
connected; German/French installations write decimal commas.
"""

from __future__ import annotations

import datetime as _dt
import re
from pathlib import Path

import numpy as np

from sescreen.errors import FormatError, SescreenError
from sescreen.io.columns import ColumnSpec, canonical_frame, detect_decimal, read_block
from sescreen.io.measurement import Measurement, Technique

__all__ = ["read_dta"]

_TAGS: dict[str, Technique] = {
    "CHRONOA": Technique.CONSTANT_VOLTAGE,
    "PSTAT": Technique.CONSTANT_VOLTAGE,
    "POTENTIOSTATIC": Technique.CONSTANT_VOLTAGE,
    "CHRONOP": Technique.CONSTANT_CURRENT,
    "GSTAT": Technique.CONSTANT_CURRENT,
    "GALVANOSTATIC": Technique.CONSTANT_CURRENT,
    "CORPOT": Technique.OPEN_CIRCUIT,
    "EISPOT": Technique.IMPEDANCE,
    "EISGALV": Technique.IMPEDANCE,
    "EISMON": Technique.IMPEDANCE,
    "CV": Technique.SWEEP,
    "LSV": Technique.SWEEP,
    "POTDYN": Technique.SWEEP,
}
# Main table preference: the first of these present is the Measurement's data.
_MAIN_TABLES = ("CURVE", "ZCURVE", "CURVE1")
# Header keys holding the potential set-point, in order of preference.
_SETPOINT_KEYS = ("VSTEP1", "VDC", "VSTEP", "VINIT", "VPRESTEP")


def read_dta(path: Path, text: str, *, spec: ColumnSpec | None = None,
             allow_truncated: bool = False) -> Measurement:
    """Read a Gamry ``.DTA`` file.

    Parameters
    ----------
    path : Path
        The file (for messages and provenance).
    text : str
        Decoded content with ``\\n`` line ends.
    spec : ColumnSpec, optional
        Column overrides.
    allow_truncated : bool
        Drop a truncated last row with a warning instead of refusing the file.
    """
    lines = text.split("\n")
    if lines[0].strip() != "EXPLAIN":
        raise FormatError("not a Gamry DTA file: it does not start with 'EXPLAIN'",
                          path=path, line=1)
    header: dict[str, list[str]] = {}
    tables: dict[str, tuple[int, int, int | None]] = {}  # name -> (start, stop, announced)
    decimal_comma = False
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
            start = i + 1
            j = start
            while j < len(lines) and (lines[j].startswith("\t") or lines[j].startswith(" ")):
                j += 1
            tables[key] = (start, j, announced)
            i = j
            continue
        header[key] = [f.strip() for f in fields[1:]]
        i += 1
    tag = (header.get("TAG") or [""])[0].upper()
    technique = _TAGS.get(tag, Technique.UNKNOWN)
    if not tables:
        raise FormatError(f"the Gamry file ({tag or 'no TAG'}) holds no data TABLE", path=path)
    main = next((t for t in _MAIN_TABLES if t in tables), next(iter(tables)))
    warnings: list[str] = []
    frames = {}
    for name, (start, stop, announced) in tables.items():
        if stop - start < 2:
            raise FormatError(f"table {name} has no header and units rows", path=path,
                              line=start + 1)
        cols = lines[start].split("\t")[1:]
        units = lines[start + 1].split("\t")[1:]
        units += [""] * (len(cols) - len(units))
        body = [ln[1:] for ln in lines[start + 2:stop]]
        decimal = detect_decimal(body, "\t")
        decimal_comma |= decimal == ","
        tw: list[str] = []
        raw = read_block(body, sep="\t", decimal=decimal, header=None, path=path,
                         first_line=start + 3, allow_truncated=allow_truncated, warnings=tw)
        raw = raw.iloc[:, :len(cols)]
        if raw.shape[1] < len(cols):
            cols = cols[:raw.shape[1]]
        n = len(raw)
        if announced is not None and n < announced and name == main:
            warnings.append(f"table {name} announces {announced} points but holds {n}: the "
                            "run was aborted or the file cut short; reading what is there")
        frames[name] = (raw, cols, [_unit(u) for u in units[:len(cols)]], start + 3, tw)
    raw, cols, units, first_line, tw = frames[main]
    warnings += tw
    if len(raw) == 0:
        raise FormatError(f"table {main} holds no data rows", path=path)
    data, columns, w = canonical_frame(
        raw, cols, path=path, first_line=first_line, spec=spec, units=units,
        require_current=technique is not Technique.OPEN_CIRCUIT)
    warnings += w
    if "temperature_k" in data and (data["temperature_k"] <= 0).all():
        bad = data["temperature_k"].iloc[0] - 273.15
        data = data.drop(columns="temperature_k")
        columns = [c for c in columns if c.name != "temperature_k"]
        warnings.append(f"temperature column reads {bad:.2f} deg C (Gamry's value when no "
                        "thermocouple is connected): ignored")
    others = {}
    for name, (traw, tcols, tunits, tfirst, _) in frames.items():
        if name == main or len(traw) == 0:
            continue
        try:
            others[name] = canonical_frame(traw, tcols, path=path, first_line=tfirst,
                                           units=tunits, require_current=False)[0]
        except SescreenError:  # a side table that cannot be mapped is kept as it is
            others[name] = traw.set_axis(tcols, axis=1)
    if decimal_comma:
        warnings.append("decimal commas read as decimal points")
    applied, ref = _setpoint(header)
    settings = {k: (v[0] if len(v) == 1 else v) for k, v in header.items()}
    settings["tables"] = {k: len(v[0]) for k, v in frames.items()}
    m = Measurement(
        data=data,
        format="gamry-dta",
        technique=technique,
        technique_name=tag or None,
        applied_voltage_v=applied if technique is not Technique.CONSTANT_CURRENT else None,
        applied_voltage_ref=ref,
        area_cm2=_quant(header.get("AREA")),
        start_time=_gamry_time(header.get("DATE"), header.get("TIME")),
        instrument=("Gamry " + header["PSTAT"][1]) if len(header.get("PSTAT", [])) > 1
        else "Gamry",
        software_version=("Gamry Framework " + header["FRAMEWORKVERSION"][1])
        if len(header.get("FRAMEWORKVERSION", [])) > 1 else None,
        source=str(path),
        columns=columns,
        settings=settings,
        warnings=warnings,
        tables=others,
    )
    if m.area_cm2 is not None and m.area_cm2 <= 0:
        m.area_cm2 = None
    return m


def _int(text: str) -> int:
    """An integer count from a header field; 0 when it is not a finite number."""
    try:
        return int(float(text.strip().replace(",", ".")))
    except (ValueError, OverflowError):
        return 0


def _unit(u: str) -> str | None:
    u = u.strip()
    return None if u in {"", "#", "bits"} else u.replace("\u00b0", "deg ").strip()


def _quant(fields: list[str] | None) -> float | None:
    """Value of a QUANT/POTEN header line (``["QUANT", "1.0E+000", "description"]``)."""
    if not fields or len(fields) < 2:
        return None
    try:
        value = float(fields[1].replace(",", "."))
    except ValueError:
        return None
    return value if np.isfinite(value) else None


def _setpoint(header: dict[str, list[str]]) -> tuple[float | None, str | None]:
    for key in _SETPOINT_KEYS:
        fields = header.get(key)
        value = _quant(fields)
        if value is None:
            continue
        # POTEN lines carry a toggle after the value: T = versus open circuit.
        vs_eoc = len(fields) > 2 and fields[0] == "POTEN" and fields[2] in {"T", "F"}
        ref = ("Eoc" if fields[2] == "T" else "Ref") if vs_eoc else None
        return value, ref
    return None, None


def _gamry_time(date: list[str] | None, time: list[str] | None) -> str | None:
    if not date or len(date) < 2:
        return None
    d = date[1]
    t = time[1] if time and len(time) > 1 else "00:00:00"
    for fmt in ("%m/%d/%Y %H:%M:%S", "%m-%d-%Y %H:%M:%S", "%d.%m.%Y %H:%M:%S",
                "%Y-%m-%d %H:%M:%S"):
        try:
            return _dt.datetime.strptime(f"{d} {t}", fmt).isoformat()
        except ValueError:
            continue
    return re.sub(r"\s+", " ", f"{d} {t}").strip()

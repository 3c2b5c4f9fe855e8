"""Gamry Framework ``.DTA`` files and Gamry VFP600 files (own parser).

Layout: ``EXPLAIN`` (``VFP600`` for the VFP600 front end), ``TAG <technique>``, then header
lines ``KEY<TAB>TYPE<TAB>VALUE...<TAB>description`` (types LABEL, QUANT, IQUANT, POTEN, TOGGLE,
SELECTOR, TWOPARAM, PSTAT, NOTES, TABLE). ``NOTES n`` is followed by n note lines; ``NAME
TABLE [n]`` by a header row, a units row and data rows, all starting with a tab.

The data are the ``CURVE`` table (``ZCURVE`` for impedance, ``VFPCURVE`` for VFP600), or the
numbered curves ``CURVE1``, ``CURVE2``, ... of a cyclic voltammogram or a multi-curve run,
joined in curve order with their number in a ``cycle`` column (time kept as the file gives
it; a clock restarting in each curve is shifted to follow the curve before). A VFP600 table
has no time column: its points are ``1 / FREQ`` apart (``FREQ``, Hz, in the header). A run
that was aborted announces more rows than it holds, or says ``EXPERIMENTABORTED``; Gamry
writes ``-327.6x deg C`` in ``Temp`` when no thermocouple is connected (an Interface
1000/1010 1460-1490 deg C); German/French installations write decimal commas. The
``IERange`` column (the I/E range index) becomes ``current_range_a`` for the potentiostat
models :mod:`sescreen.io.ranges` knows.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import re
from pathlib import Path

import numpy as np
import pandas as pd

from sescreen.errors import EmptyRecordError, FormatError, SescreenError
from sescreen.io.columns import canonical_frame
from sescreen.io.gamry_layout import read_tables
from sescreen.io.headers import ColumnSpec, split_header
from sescreen.io.measurement import ColumnInfo, Measurement, Technique
from sescreen.io.ranges import add_current_range
from sescreen.limits import RANGES

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
    "SQUARE_WAVE": Technique.SWEEP,
}
# Pulse voltammetry (square wave, differential pulse) samples its current per pulse: no
# column is the current of a DC record.
_PULSE_CURRENTS = ("Ifwd", "Irev", "Idif")
# Main table preference: the first of these present is the Measurement's data; else the
# numbered curves CURVE1, CURVE2, ... (a CV's cycles) joined.
_MAIN_TABLES = ("CURVE", "ZCURVE", "VFPCURVE")
_CURVE_N = re.compile(r"CURVE(\d+)")
_MAGICS = ("EXPLAIN", "VFP600")
_TIME_NAMES = {"t", "time"}
# Header keys holding the potential set-point, in order of preference.
_SETPOINT_KEYS = ("VSTEP1", "VDC", "VSTEP", "VINIT", "VPRESTEP")


def read_dta(path: Path, src, *, spec: ColumnSpec | None = None,
             allow_truncated: bool = False) -> Measurement:
    """Read a Gamry ``.DTA`` file (Framework ``EXPLAIN`` or ``VFP600``).

    Parameters
    ----------
    path : Path
        The file (for messages and provenance).
    src : TextFile or TextLines
        The open file (:mod:`sescreen.io.textfile`).
    spec : ColumnSpec, optional
        Column overrides.
    allow_truncated : bool
        Drop a truncated last row with a warning instead of refusing the file.
    """
    kind = (src.line(0) or "").strip()
    if kind not in _MAGICS:
        raise FormatError(f"not a Gamry DTA file: line 1 is {kind[:30]!r}, not 'EXPLAIN' or "
                          "'VFP600'; if the file is a table, read it with format='table'",
                          path=path, line=1)
    lines, header, frames, n_lines = read_tables(src, path=path,
                                                 allow_truncated=allow_truncated)
    tag = (header.get("TAG") or [""])[0].upper()
    technique = _TAGS.get(tag, Technique.UNKNOWN)
    if not frames:
        last = n_lines - (not lines[-1].strip())
        raise FormatError(f"the Gamry file ({tag or 'no TAG'}) holds no data TABLE: its header "
                          f"runs to the end (line {last}); the run recorded nothing or the "
                          "file is cut short: copy or export it again", path=path, line=last)
    warnings: list[str] = []
    main = _main_tables(frames, warnings, path)
    tables_in = []
    for name in main:
        raw, cols, units, first_line, tw, announced, _ = frames[name]
        warnings += tw
        if announced is not None and len(raw) < announced:
            warnings.append(f"table {name} announces {announced} points but holds {len(raw)}: "
                            "the run was aborted or the file cut short; reading what is there")
        if kind == "VFP600" and not any(
                split_header(c)[0].strip().lower() in _TIME_NAMES for c in cols):
            raw, cols, units = _vfp_time(raw, cols, units, header, path, warnings)
        tables_in.append((raw, cols, units, first_line))
    try:
        parts = _canonical_curves(tables_in, path=path, spec=spec,
                                  require_current=technique is not Technique.OPEN_CIRCUIT)
    except FormatError as exc:
        pulse = [c for c in tables_in[0][1] if c in _PULSE_CURRENTS]
        if not pulse or not str(exc).count("no current column"):
            raise
        raise FormatError(
            f"a pulse voltammogram ({tag or 'no TAG'}): its currents are sampled per pulse "
            f"({', '.join(pulse)}: forward, reverse, difference), none is the current of a DC "
            "hold, which sescreen analyses; to read it anyway, name one (current_col="
            f"{pulse[-1]!r}; CLI: --current-col {pulse[-1]})", path=path) from None
    data, columns, w = _join_curves(main, parts)
    warnings += w
    why = _no_sensor(data["temperature_k"]) if "temperature_k" in data else None
    if why is not None:
        data = data.drop(columns="temperature_k")
        columns = [c for c in columns if c.name != "temperature_k"]
        warnings.append(why)
    others = {}
    for name, (traw, tcols, tunits, tfirst, *_) in frames.items():
        if name in main or len(traw) == 0:
            continue
        try:
            others[name] = canonical_frame(traw, tcols, path=path, first_line=tfirst,
                                           units=tunits, require_current=False)[0]
        except SescreenError:  # a side table that cannot be mapped is kept as it is
            others[name] = traw.set_axis(tcols, axis=1)
    if any(f.decimal_comma for f in frames.values()):
        warnings.append("decimal commas read as decimal points")
    if (header.get("EXPERIMENTABORTED") or ["", ""])[1:2] == ["T"]:
        warnings.append("the file says the experiment was aborted (EXPERIMENTABORTED)")
    applied, ref = _setpoint(header)
    settings = {k: (v[0] if len(v) == 1 else v) for k, v in header.items()}
    settings["tables"] = {k: len(v[0]) for k, v in frames.items()}
    if len(main) > 1 or main[0] not in {"CURVE", "ZCURVE", "VFPCURVE"}:
        settings["curves"] = list(main)
    m = Measurement(
        data=data,
        format="gamry-dta",
        technique=technique,
        technique_name=tag or None,
        applied_voltage_v=None if technique in {Technique.CONSTANT_CURRENT, Technique.SWEEP}
        else applied,
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
    if technique is Technique.CONSTANT_VOLTAGE and ref == "Eoc" and applied is not None:
        _cell_voltage(m, applied, _quant(header.get("EOC")))
    add_current_range(m, header)
    return m


def _main_tables(frames: dict, warnings: list[str], path) -> list[str]:
    """The table(s) that are the Measurement's data: ``CURVE``, ``ZCURVE`` or ``VFPCURVE``,
    else every non-empty ``CURVEn`` with the first one's columns (in curve order), else the
    first table."""
    curves = sorted((int(m[1]), n) for n in frames if (m := _CURVE_N.fullmatch(n)))
    curves = [n for _, n in curves if len(frames[n].raw)]
    if not curves or any(n in frames for n in _MAIN_TABLES):
        name = next((n for n in _MAIN_TABLES if n in frames), next(iter(frames)))
        if not len(frames[name].raw):
            raise EmptyRecordError(f"table {name} holds no data rows: nothing was recorded",
                              path=path)
        return [name]
    first = frames[curves[0]].cols
    same = [n for n in curves if frames[n].cols == first]
    if len(same) < len(curves):
        odd = [n for n in curves if n not in same]
        warnings.append(f"{', '.join(odd)} have other columns than {curves[0]}: kept as side "
                        "tables (Measurement.tables), not joined")
    return same


def _no_sensor(temp_k) -> str | None:
    """The warning for a ``Temp`` column that is no reading (it is then dropped), or None:
    Gamry's -327.6x deg C with no thermocouple, an Interface 1000/1010's 1460-1490 deg C
    (above ``_NO_SENSOR_ABOVE_K`` at every point), or one value at 0 deg C throughout."""
    if (temp_k <= 0).all():
        return (f"temperature column reads {temp_k.iloc[0] - 273.15:.2f} deg C (Gamry's value "
                "when no thermocouple is connected): ignored")
    if (temp_k > _NO_SENSOR_ABOVE_K).all():
        lo, hi = (temp_k.agg(["min", "max"]) - 273.15).tolist()
        return (f"temperature column reads {lo:.2f} .. {hi:.2f} deg C, above any cell a "
                "potentiostat measures (a Gamry Interface 1000/1010 without a thermocouple "
                "writes 1460-1490 deg C): ignored; give the temperature (temperature_k=, CLI "
                "--temperature)")
    if _no_reading_at_zero(temp_k):
        return (f"temperature column reads {temp_k.iloc[0] - 273.15:.2f} deg C at every one of "
                f"its {len(temp_k)} points (a whole record at the freezing point without a "
                "digit moving is what an input without a sensor reads; with no thermocouple "
                "Gamry writes -327.66): ignored; give the temperature (temperature_k=, CLI "
                "--temperature)")
    return None


#: A Temp column above this at every point (K; the upper end of the plausible range,
#: :data:`sescreen.limits.RANGES`) is no reading. Review readers2: 43 real files of three
#: Interface 1010 units (Framework 7.10, two labs: nomad-hzb/nomad-chemical-energy
#: tests/data, miloszewiczek/gamry_post_processing_ input/) and the side curves of an
#: Interface 1000 read 1467-1490 deg C with no thermocouple, drifting in the last digits;
#: the record's median had been taken as its temperature and the file refused.
_NO_SENSOR_ABOVE_K = RANGES["temperature_k"][1]

#: Points a Temp column must hold, all at one value within 0.01 deg C of 0 deg C, to be taken
#: as no reading (:func:`_no_reading_at_zero`).
_ZERO_READING_POINTS = 20


def _no_reading_at_zero(temps_k) -> bool:
    """Whether a Gamry ``Temp`` column is no reading though not the -327.66 value: one value,
    the same to every written digit (0.01 deg C) at every point, within 0.01 deg C of
    0 deg C, over at least :data:`_ZERO_READING_POINTS` points.

    Review readers-N1 (Reference 600+, Framework 7.8.4): the CV curves of a file read
    exactly 0.01 deg C at all 1121 points while its OCVCURVE, seconds earlier on the same
    channel, read -327.66 (no thermocouple), as did the sibling files of that instrument; a
    thermocouple at 0 deg C would move in its last digit. 0.01 deg C is one count of the
    column's resolution above zero. Gamry does not document this value, so it is taken as
    no reading with a warning (it had been stored as the record's 273.16 K, silently, and
    carried into sigma_e(T) results), not as a sentinel.
    """
    t = np.asarray(temps_k, dtype=float)
    return (t.size >= _ZERO_READING_POINTS and bool(np.all(t == t[0]))
            and abs(t[0] - 273.15) <= 0.0101)


def _canonical_curves(tables_in, **kw) -> list[tuple]:
    """``canonical_frame`` of each curve: in one pass over the curves joined (fast for
    hundreds of curves), else (an error, a clock restarting per curve) curve by curve, so
    that a refusal names the curve's own line."""
    if len(tables_in) > 1:
        raws, cols, units, _ = zip(*tables_in, strict=True)
        try:
            data, columns, w = canonical_frame(pd.concat(raws, ignore_index=True), cols[0],
                                               first_line=None, units=units[0], **kw)
        except SescreenError:
            pass
        else:
            edges = np.cumsum([0, *(len(r) for r in raws)])
            return [(data.iloc[a:b].reset_index(drop=True), columns, w)
                    for a, b in itertools.pairwise(edges.tolist())]
    return [canonical_frame(raw, cols, first_line=first, units=units, **kw)
            for raw, cols, units, first in tables_in]


def _join_curves(names, parts):
    """Join the canonical frames of several curves; add ``cycle`` = the curve number."""
    numbered = [_CURVE_N.fullmatch(n) for n in names]
    data, columns, warnings = parts[0][0], list(parts[0][1]), list(parts[0][2])
    if not all(numbered):
        return data, columns, warnings
    datas = [p[0].copy() for p in parts]
    for k in range(1, len(datas)):
        prev, cur = datas[k - 1]["time_s"].to_numpy(), datas[k]["time_s"].to_numpy()
        if cur[0] < prev[-1]:  # the curve's clock restarts: follow the curve before
            step = float(np.median(np.diff(prev))) if len(prev) > 1 else 0.0
            datas[k]["time_s"] = cur + (prev[-1] + step - cur[0])
            if k == 1:
                warnings.append("the time restarts in each curve: each curve's time shifted "
                                "to follow the curve before")
    if "cycle" not in data:
        for d, m in zip(datas, numbered, strict=True):
            d["cycle"] = int(m[1])
        columns.append(ColumnInfo("CURVEn (table number)", "cycle", None))
    for p in parts[1:]:
        warnings += [w for w in p[2] if w not in warnings]
    if len(datas) > 1:
        warnings.append(f"{len(datas)} curves joined ({names[0]} .. {names[-1]}, "
                        f"{sum(len(d) for d in datas)} points); column 'cycle' numbers them")
    return pd.concat(datas, ignore_index=True), columns, warnings


def _vfp_time(raw, cols, units, header, path, warnings):
    """A VFP600 table has no time column: the points are 1 / FREQ apart."""
    freq = _quant(header.get("FREQ"))
    period = 1.0 / freq if freq is not None and freq > 0 else _quant(header.get("SAMPLETIME"))
    if period is None or not period > 0 or not np.isfinite(period):
        raise FormatError("VFP600 file without a positive FREQ (acquisition frequency) or "
                          "SAMPLETIME header line: the time of the points is unknown; add "
                          "'FREQ<TAB>QUANT<TAB><Hz>' to the header", path=path)
    warnings.append(f"time from the acquisition frequency ({1 / period:.6g} Hz): VFP600 files "
                    "store no time column")
    raw = raw.copy()
    raw.insert(0, "T (from FREQ)", np.arange(len(raw)) * period)
    return raw, ["T (from FREQ)", *cols], ["s", *units]


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


_AGREE_V = 5e-3  # a set-point and a measured voltage this close are the same voltage


def _cell_voltage(m: Measurement, setpoint: float, eoc: float | None) -> None:
    """Say where a hold whose set-point is referred to the open-circuit potential sat.

    A ``POTEN`` set-point with the toggle ``T`` is versus Eoc: the cell is held at ``EOC +
    setpoint`` against the reference. sigma_e keeps the set-point, the polarization from
    rest: an ion-blocking cell carries no current at its rest potential, so the current
    answers the departure from it (EC-Lab's reader keeps its ``Ei`` versus Eoc the same
    way). Where the open-circuit potential is not 0 (``EOC`` or the measured ``Vf`` off the
    set-point by more than 5 mV) a warning gives both voltages, since the cell is then no
    symmetric blocking cell and the voltage across the electrolyte is the user's to say
    (review 4, D3: ``0.5 V vs Eoc`` with ``EOC -0.3 V`` and ``Vf`` 0.2 V was judged with no
    word that the cell sat at 0.2 V).

    Parameters
    ----------
    m : Measurement
        A constant-voltage hold read from a Gamry file; ``warnings`` is extended.
    setpoint : float
        The set-point as the header states it, V versus Eoc.
    eoc : float or None
        The header's ``EOC`` (open-circuit potential, V versus the reference), if stated.
    """
    measured = _hold_voltage(m, setpoint, eoc)
    off = [v for v in (None if eoc is None else setpoint + eoc, measured)
           if v is not None and abs(v - setpoint) > _AGREE_V]
    if not off:
        return  # Eoc is 0: the set-point is the cell voltage too
    said = [] if eoc is None else [f"EOC is {eoc:.6g} V, so the cell sat at "
                                   f"{setpoint + eoc:.6g} V against the reference"]
    if measured is not None:
        said.append(f"the measured Vf is {measured:.6g} V")
    m.warnings.append(f"the set-point {setpoint:.6g} V is referred to the open-circuit "
                      f"potential (vs Eoc): {'; '.join(said)}. sigma_e uses the "
                      f"polarization {setpoint:.6g} V from rest, where a blocking cell "
                      "carries no current; give --voltage if the voltage across the "
                      "electrolyte is meant otherwise")


def _hold_voltage(m: Measurement, setpoint: float, eoc: float | None) -> float | None:
    """The median measured voltage (``Vf``) over the hold, or None without a flat one.

    The hold's rows are those whose signal column (``Sig``) reads the set-point, as given
    or plus ``EOC``; without such rows (or a signal column), every row.
    """
    if "voltage_v" not in m.data or not len(m.data):
        return None
    v = m.data["voltage_v"].to_numpy(dtype=float)
    if "control_v" in m.data:
        control = m.data["control_v"].to_numpy(dtype=float)
        for target in [setpoint] + ([] if eoc is None else [setpoint + eoc]):
            rows = np.abs(control - target) <= 1e-3
            if rows.any():
                v = v[rows]
                break
    lo, mid, hi = np.percentile(v, [2.5, 50, 97.5])
    return float(mid) if hi - lo <= max(2e-3, 0.01 * abs(mid)) else None


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

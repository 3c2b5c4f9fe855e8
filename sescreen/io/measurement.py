"""The one data model every reader produces: a :class:`Measurement`.

A Measurement is a pandas DataFrame in SI units with canonical column names plus the
metadata the analysis needs (technique, applied voltage, electrode area, temperature) and
the provenance a report needs (format, instrument, software version, source, the original
column names and units). Columns a reader does not recognise are kept under their original
names.

Canonical columns (SI):

========================  ==================================================
``time_s``                time since the start of the record's clock, s
``current_a``             cell current, A
``voltage_v``             measured working-electrode potential, V
``control_v``             potential set-point of a potentiostatic technique, V
``control_a``             current set-point of a galvanostatic technique, A
``temperature_k``         temperature, K
``cycle``, ``step``       cycle number (a Gamry curve number), sequence/step index
``current_range_a``       full scale of the instrument's current range at the point, A
                          (NaN where the file names no fixed range; see
                          :mod:`sescreen.io.ranges` for the nominal resolution it implies)
========================  ==================================================
"""

from __future__ import annotations

import dataclasses
import enum
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sescreen.errors import TechniqueError
from sescreen.serialize import json_safe

#: The readers' note when the set-point comes from the control column (sescreen.io.biologic)
_FROM_CONTROL = "applied voltage taken from the control column: "


def _segment_warnings(warnings: list[str], applied: float | None) -> list[str]:
    """The record's warnings for one of its segments: the note on the set-point taken from
    the control column states the segment's own value (not the first hold's)."""
    if applied is None:
        return list(warnings)
    return [f"{_FROM_CONTROL}{applied:.6g} V" if w.startswith(_FROM_CONTROL) else w
            for w in warnings]

__all__ = [
    "CANONICAL_COLUMNS",
    "ColumnInfo",
    "Measurement",
    "Technique",
]

CANONICAL_COLUMNS = (
    "time_s", "current_a", "voltage_v", "control_v", "control_a", "temperature_k",
    "cycle", "step", "current_range_a",
)


class Technique(str, enum.Enum):
    """What the instrument did, as far as the analysis is concerned."""

    CONSTANT_VOLTAGE = "constant_voltage"  # chronoamperometry, DC polarization
    CONSTANT_CURRENT = "constant_current"  # chronopotentiometry, galvanostatic cycling
    IMPEDANCE = "impedance"  # PEIS, GEIS, ZIR, EISPOT
    OPEN_CIRCUIT = "open_circuit"  # OCV, WAIT/rest, CORPOT
    SWEEP = "sweep"  # CV, LSV
    UNKNOWN = "unknown"

    def describe(self) -> str:
        return {
            "constant_voltage": "a constant-voltage hold (chronoamperometry)",
            "constant_current": "a constant-current record (chronopotentiometry)",
            "impedance": "an impedance spectrum",
            "open_circuit": "an open-circuit (rest) record",
            "sweep": "a potential sweep (CV/LSV)",
            "unknown": "a record of unknown technique",
        }[self.value]


@dataclass(frozen=True)
class ColumnInfo:
    """How one column of the file became one column of the DataFrame."""

    original: str  #: header as written in the file
    name: str  #: column name in the DataFrame (canonical, or the original when unknown)
    unit: str | None  #: unit as written in the file
    scale: float = 1.0  #: SI value = file value * scale + offset
    offset: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class Measurement:
    """A record read from an instrument file, in SI units.

    Attributes
    ----------
    data : pandas.DataFrame
        Canonical SI columns (see module docstring) and any other columns of the file.
    format : str
        Reader that produced it (``"biologic-mpt"``, ``"biologic-mpr"``, ``"gamry-dta"``,
        ``"table"``).
    technique : Technique
        What the instrument did.
    technique_name : str or None
        The technique as the file names it (``"Chronoamperometry / Chronocoulometry"``).
    technique_inferred : bool
        True when the technique was deduced from the data, not stated by the file.
    technique_reason : str or None
        Why the record is classified so (what the file states, or the evidence).
    applied_voltage_v : float or None
        Potential set-point of a constant-voltage hold, V (first step when several).
    applied_voltage_ref : str or None
        What the set-point is referred to (``"Ref"``, ``"Eoc"``), when the file says.
    area_cm2 : float or None
        Electrode area, cm^2 (the field's unit; everything else is SI).
    temperature_k : float or None
        Temperature of the record, K, when the file states one.
    start_time : str or None
        ISO 8601 start of acquisition.
    instrument, software_version : str or None
        Potentiostat and acquisition software.
    source : str or None
        Path of the file read.
    columns : list of ColumnInfo
        Original header, unit and conversion of every column kept.
    settings : dict
        Technique settings from the file header, keys as in the file.
    warnings : list of str
        Things the reader noticed that a user should know.
    segment : int or None
        Index of this segment when split from a multi-step record (:meth:`segments`).
    tables : dict of str to DataFrame
        Further tables of the file (e.g. Gamry's ``OCVCURVE`` before an ``ZCURVE``).
    step_techniques : dict of int to Technique
        Each step's own technique, by ``step`` number, when the file records it (EC-Lab and
        BT-Lab Modulo Bat ``ctrl_type``); :meth:`segments` gives each segment its own.
    step_voltages_v, step_references : dict
        Set-point (V) and its reference of the constant-voltage steps, by ``step`` number.
    """

    data: pd.DataFrame
    format: str
    technique: Technique = Technique.UNKNOWN
    technique_name: str | None = None
    technique_inferred: bool = False
    technique_reason: str | None = None
    applied_voltage_v: float | None = None
    applied_voltage_ref: str | None = None
    area_cm2: float | None = None
    temperature_k: float | None = None
    start_time: str | None = None
    instrument: str | None = None
    software_version: str | None = None
    source: str | None = None
    columns: list[ColumnInfo] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    segment: int | None = None
    tables: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    step_techniques: dict[int, Technique] = field(default_factory=dict)
    step_voltages_v: dict[int, float] = field(default_factory=dict)
    step_references: dict[int, str] = field(default_factory=dict)

    # -- convenience accessors -------------------------------------------------------
    def __len__(self) -> int:
        return len(self.data)

    @property
    def time_s(self) -> np.ndarray:
        return self.data["time_s"].to_numpy(dtype=float)

    @property
    def current_a(self) -> np.ndarray:
        if "current_a" not in self.data:
            raise TechniqueError(f"{self.technique.describe()} has no current column",
                                 path=self.source)
        return self.data["current_a"].to_numpy(dtype=float)

    @property
    def time_span_s(self) -> float:
        t = self.data["time_s"]
        return float(t.iloc[-1] - t.iloc[0]) if len(t) else 0.0

    @property
    def name(self) -> str:
        from pathlib import Path

        base = Path(self.source).name if self.source else "<measurement>"
        return base if self.segment is None else f"{base}[{self.segment}]"

    # -- checks ----------------------------------------------------------------------
    def require(self, *techniques: Technique, purpose: str = "this analysis") -> Measurement:
        """Return self if the technique is one of ``techniques``, else raise a clear error.

        Raises
        ------
        TechniqueError
            Naming the file, what it is, and what ``purpose`` needs.
        """
        if self.technique in techniques:
            return self
        name = self.technique_name
        known = (self.technique.describe().lower(), self.technique.value)
        # the file's own name for it, unless the description already says it
        stated = f" ({name})" if name and not any(name.lower() in k for k in known) else ""
        wanted = " or ".join(t.describe() for t in techniques)
        if self.technique is Technique.UNKNOWN:
            first = techniques[0].value if techniques else "constant_voltage"
            why = f": {self.technique_reason}" if self.technique_reason else ""
            raise TechniqueError(
                f"sescreen cannot tell what this record is{stated}{why}; {purpose} needs "
                f"{wanted}: if it is one, say so with technique={first!r} (CLI: --technique "
                f"{first}) and give the voltage (--voltage)", path=self.source)
        raise TechniqueError(
            f"this is {self.technique.describe()}{stated}, not {wanted}; {purpose} needs "
            f"{wanted}",
            path=self.source,
        )

    # -- structure -------------------------------------------------------------------
    def segments(self, by: str | None = None, *, tolerance_v: float = 1e-3) -> list[Measurement]:
        """Split a multi-step record into one Measurement per step.

        Steps are defined by the program: the ``step`` column (EC-Lab ``Ns``) when it
        changes, else the set-point (``control_v``, or ``control_a``) and the ``cycle``
        column (a Gamry curve, an EC-Lab cycle). A sweep (the set-point moving sample by
        sample, or in a staircase of at least five equal steps) is one segment per
        direction, not one per sample. Linear in the number of points.

        Parameters
        ----------
        by : {"step", "control", "cycle", None}
            ``"step"`` splits where ``step`` changes; ``"control"`` where the set-point
            changes by more than ``tolerance_v``; ``"cycle"`` where ``cycle`` changes (one
            segment per Gamry curve or cycle); None picks ``step`` when it changes, else
            ``control`` and ``cycle`` together.
        tolerance_v : float
            Set-point change (V, or A for ``control_a``) that starts a new segment.

        Returns
        -------
        list of Measurement
            In time order; a record without steps gives ``[self]``. Each segment carries its
            step's own technique and set-point when the file records them
            (:attr:`step_techniques`), else the median set-point of its rows.
        """
        bounds = self.segment_bounds(by, tolerance_v=tolerance_v)
        if len(bounds) == 1:
            return [self]
        df = self.data
        steps = df["step"].to_numpy() if "step" in df else None
        use_control = False
        if "control_v" in df and self.technique is Technique.CONSTANT_VOLTAGE:
            control = df["control_v"].to_numpy(dtype=float)
            medians = [float(np.median(control[a:b])) for a, b in bounds]
            # a set-point given versus the open-circuit potential keeps the header's value
            use_control = self.applied_voltage_v is None or any(
                abs(v - self.applied_voltage_v) < 5e-3 for v in medians)
        out = []
        for k, (a, b) in enumerate(bounds):
            technique, applied, ref = self.technique, self.applied_voltage_v, \
                self.applied_voltage_ref
            step = int(steps[a]) if steps is not None else None
            if step is not None and step in self.step_techniques:
                technique = self.step_techniques[step]
                applied = self.step_voltages_v.get(step)
                ref = self.step_references.get(step)
            elif use_control:
                applied = medians[k]
            out.append(dataclasses.replace(
                self, data=df.iloc[a:b].reset_index(drop=True), segment=k, technique=technique,
                applied_voltage_v=applied, applied_voltage_ref=ref,
                warnings=_segment_warnings(self.warnings, applied)))
        return out

    def segment_bounds(self, by: str | None = None, *,
                       tolerance_v: float = 1e-3) -> list[tuple[int, int]]:
        """Row ranges ``[(start, stop), ...]`` of :meth:`segments`, without copying data
        (:func:`sescreen.io.segments.segment_bounds`)."""
        from sescreen.io.segments import segment_bounds

        return segment_bounds(self.data, by, tolerance_v=tolerance_v)

    # -- reporting -------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """JSON-safe description (what ``sescreen inspect --json`` prints)."""
        cur = self.data["current_a"] if "current_a" in self.data else None
        has_current = cur is not None and len(cur) > 0
        return json_safe({
            "source": self.source,
            "format": self.format,
            "technique": self.technique.value,
            "technique_name": self.technique_name,
            "technique_inferred": self.technique_inferred,
            "n_points": len(self.data),
            "time_span_s": self.time_span_s,
            "current_min_a": cur.min() if has_current else None,
            "current_max_a": cur.max() if has_current else None,
            "applied_voltage_v": self.applied_voltage_v,
            "applied_voltage_ref": self.applied_voltage_ref,
            "area_cm2": self.area_cm2,
            "temperature_k": self.temperature_k,
            "start_time": self.start_time,
            "instrument": self.instrument,
            "software_version": self.software_version,
            "columns": list(self.data.columns),
            "units": {c.name: c.unit for c in self.columns},
            "original_columns": {c.name: c.original for c in self.columns},
            "technique_reason": self.technique_reason,
            "n_segments": len(self.segment_bounds()),
            "n_cycles": int(self.data["cycle"].nunique()) if "cycle" in self.data else None,
            "current_ranges_a": _unique_finite(self.data.get("current_range_a")),
            "warnings": list(self.warnings),
        })

    def __str__(self) -> str:
        s = self.summary()
        lines = [
            f"{self.name}: {s['format']}, {self.technique.describe()}"
            + (f" [{s['technique_name']}]" if s["technique_name"] else "")
            + (" (inferred from the data)" if self.technique_inferred else ""),
            *([f"  why: {self.technique_reason}"] if self.technique_reason else []),
            f"  points: {s['n_points']}, time span: {s['time_span_s']:.6g} s",
        ]
        if s["current_min_a"] is not None:
            lines.append(f"  current: {s['current_min_a']:.4g} .. {s['current_max_a']:.4g} A")
        for key, label, unit in [
            ("applied_voltage_v", "applied voltage", "V"),
            ("area_cm2", "electrode area", "cm^2"),
            ("temperature_k", "temperature", "K"),
        ]:
            if s[key] is not None:
                ref = f" vs {s['applied_voltage_ref']}" if key == "applied_voltage_v" and s[
                    "applied_voltage_ref"] else ""
                lines.append(f"  {label}: {s[key]:.6g} {unit}{ref}")
        for key in ("start_time", "instrument", "software_version"):
            if s[key]:
                lines.append(f"  {key.replace('_', ' ')}: {s[key]}")
        if s["n_segments"] > 1:
            lines.append(f"  segments: {s['n_segments']}")
        if s["n_cycles"] is not None and s["n_cycles"] > 1:
            lines.append(f"  cycles: {s['n_cycles']}")
        if s["current_ranges_a"]:
            lines.append("  current ranges: " + ", ".join(f"{r:.3g}" for r in
                                                          s["current_ranges_a"]) + " A")
        lines.append("  columns:")
        for c in self.columns:
            # the unit in brackets only when the header does not already show it
            unit = f" [{c.unit}]" if c.unit and c.unit not in c.original else ""
            arrow = f" <- {c.original}{unit}" if c.original != c.name or c.unit else ""
            lines.append(f"    {c.name}{arrow}")
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)


def _unique_finite(col: pd.Series | None) -> list[float] | None:
    """Sorted distinct finite values of a column (None without the column or values)."""
    if col is None:
        return None
    v = np.unique(col.to_numpy(dtype=float))
    return v[np.isfinite(v)].tolist() or None


#: A given value differing from the file's by more than this fraction is said (warning).
OVERRIDE_REL_TOL = 0.01
_OVERRIDDEN = {"applied_voltage_v": ("the applied voltage", "V"),
               "area_cm2": ("the electrode area", "cm^2"),
               "temperature_k": ("the temperature", "K")}


def override_warning(name: str, given: float, stated: float | None) -> str | None:
    """The warning for a value given by the user over a different one the file states
    (``name`` a :class:`Measurement` attribute: ``applied_voltage_v``, ``area_cm2`` or
    ``temperature_k``), None when the file states none or they agree within
    :data:`OVERRIDE_REL_TOL`.

    The given value wins, but never silently: a voltage or an area changes sigma_e by
    their ratio, a temperature the side it is judged from (a criteria review: ``--voltage
    1V`` on a 0.1 V file made sigma_e 10x lower without a word).
    """
    if stated is None or not math.isfinite(stated) or abs(given - stated) <= \
            OVERRIDE_REL_TOL * max(abs(stated), abs(given)):
        return None
    what, unit = _OVERRIDDEN[name]
    return f"{what} given, {given:.6g} {unit}, overrides the file's {stated:.6g} {unit}"


#: The words of a reader's warning that the stated electrode area is a default placeholder
#: (EC-Lab's 0.001 cm^2, :mod:`sescreen.io.biologic`), not the cell's.
PLACEHOLDER_AREA = "default placeholder"


def with_given(warnings: list[str], name: str, given: float, stated: float | None
               ) -> list[str]:
    """``warnings`` as they stand once ``given`` replaces the file's ``stated`` value of
    ``name`` (:func:`override_warning`): with the override said, or, for an area given over
    a placeholder (:data:`PLACEHOLDER_AREA`), without the placeholder's note and nothing
    more (the given area is the real one)."""
    if name == "area_cm2" and any(PLACEHOLDER_AREA in w for w in warnings):
        return [w for w in warnings if PLACEHOLDER_AREA not in w]
    note = override_warning(name, given, stated)
    return [*warnings, note] if note else list(warnings)
